"""`signpost run telegram|matrix`: the bot in a messenger, until Ctrl-C or SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from bot.config import Settings

if TYPE_CHECKING:  # the stack is loaded only when a bot is started
    from bot.bootstrap import Runtime

err = Console(stderr=True)
run_app = typer.Typer(help="Run the bot in a messenger.", no_args_is_help=True)


def _settings() -> Settings:
    from bot.cli.main import settings

    return settings()


def _serve(config: Settings, start: Callable[[Runtime, asyncio.Event], Awaitable[None]]) -> None:
    logging.basicConfig(
        level=config.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )

    from bot.bootstrap import runtime

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        async with runtime(config) as rt:
            for failure in rt.catalogue.failures:
                err.print(f"[yellow]skipped a scenario that does not load:[/]\n{failure}")
            await start(rt, stop)

    asyncio.run(main())


@run_app.command()
def matrix() -> None:
    """Run the Matrix bot (SIGNPOST_MATRIX_HOMESERVER, _USER, and _PASSWORD or _TOKEN)."""
    config = _settings()
    missing = [
        name
        for name, value in (
            ("SIGNPOST_MATRIX_HOMESERVER", config.matrix_homeserver),
            ("SIGNPOST_MATRIX_USER", config.matrix_user),
            (
                "SIGNPOST_MATRIX_PASSWORD or SIGNPOST_MATRIX_TOKEN",
                config.matrix_password or config.matrix_token,
            ),
        )
        if not value
    ]
    if missing:
        err.print(f"[red]not set:[/] {', '.join(missing)}")
        raise typer.Exit(2)
    from adapters.matrix.runner import serve

    async def start(rt: Runtime, stop: asyncio.Event) -> None:
        assert config.matrix_homeserver and config.matrix_user
        await serve(
            rt.service,
            rt.store,
            homeserver=config.matrix_homeserver,
            user=config.matrix_user,
            password=config.matrix_password.get_secret_value() if config.matrix_password else None,
            token=config.matrix_token.get_secret_value() if config.matrix_token else None,
            allow=config.matrix_allow,
            stop=stop,
        )

    _serve(config, start)
