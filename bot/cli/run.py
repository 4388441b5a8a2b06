"""`signpost run telegram|matrix`: the bot in a messenger, until Ctrl-C or SIGTERM."""

from __future__ import annotations

import signal
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

if TYPE_CHECKING:  # the stack is loaded only when a bot is started
    import asyncio

    from bot.bootstrap import Runtime
    from bot.config import Settings

err = Console(stderr=True)
run_app = typer.Typer(help="Run the bot in a messenger.", no_args_is_help=True)


def _settings() -> Settings:
    from bot.cli.main import settings

    return settings()


def _logging(config: Settings) -> None:
    import logging

    handler = logging.StreamHandler()
    if config.log_format == "json":
        from bot.ops import JsonFormatter

        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=config.log_level, handlers=[handler], force=True)


def _serve(config: Settings, start: Callable[[Runtime, asyncio.Event], Awaitable[None]]) -> None:
    import asyncio

    _logging(config)
    from bot.app.service import TrainingService
    from bot.bootstrap import runtime

    service_class: type[TrainingService] = TrainingService
    if config.ops_port is not None:
        from bot.ops import MeasuredService

        service_class = MeasuredService

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        async with runtime(config, service_class=service_class) as rt:
            for failure in rt.catalogue.failures:
                err.print(f"[yellow]skipped a scenario that does not load:[/]\n{failure}")
            ops = await _start_ops(config, rt)
            try:
                await start(rt, stop)
            finally:
                if ops is not None:
                    await ops.cleanup()

    asyncio.run(main())


async def _start_ops(config: Settings, rt: Runtime) -> Any:
    """/metrics, /healthz and /readyz beside the bot, when SIGNPOST_OPS_PORT is set."""
    if config.ops_port is None:
        return None
    from bot.ops import MeasuredService, Metrics, serve_ops

    metrics = Metrics()
    if isinstance(rt.service, MeasuredService):
        rt.service.measure(metrics)

    async def ready() -> bool:
        await rt.store.cursor("ops:ready")  # a read: raises when the database is gone
        return True

    return await serve_ops(config.ops_host, config.ops_port, metrics, ready)


@run_app.command()
def telegram(
    webhook: Annotated[
        str | None,
        typer.Option(help="Public HTTPS URL Telegram should post updates to (else long polling)."),
    ] = None,
) -> None:
    """Run the Telegram bot (SIGNPOST_TELEGRAM_TOKEN), by long polling or behind a webhook."""
    config = _settings()
    if config.telegram_token is None:
        err.print("[red]SIGNPOST_TELEGRAM_TOKEN is not set[/]: create a bot with @BotFather")
        raise typer.Exit(2)
    if webhook is not None and config.telegram_webhook_secret is None:
        err.print("[red]--webhook needs SIGNPOST_TELEGRAM_WEBHOOK_SECRET[/] (any long random text)")
        raise typer.Exit(2)
    from adapters.telegram.runner import serve

    async def start(rt: Runtime, stop: asyncio.Event) -> None:
        assert config.telegram_token is not None
        secret = config.telegram_webhook_secret
        await serve(
            rt.service,
            rt.store,
            token=config.telegram_token.get_secret_value(),
            api_url=config.telegram_api_url,
            webhook_url=webhook,
            webhook_secret=secret.get_secret_value() if secret else None,
            host=config.telegram_webhook_host,
            port=config.telegram_webhook_port,
            stop=stop,
            # several workers share Telegram's limits for the token, as they share the gate
            redis_url=config.redis_url.get_secret_value() if config.redis_url else None,
        )

    _serve(config, start)


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
            crypto_store=config.matrix_store,
        )

    _serve(config, start)
