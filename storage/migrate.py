"""Alembic, programmatically: `upgrade`, `downgrade`, `current` and `head` for a database URL.

No alembic.ini: the configuration is built here, pointing at this package's `migrations/`.
The functions are synchronous (a CLI calls them). The migration environment runs the async
drivers in an event loop of its own, so from async code call them through
`asyncio.to_thread` (as `SqlStore.open` does); called directly inside a running loop they run
in a helper thread instead, blocking that loop meanwhile.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

MIGRATIONS = Path(__file__).with_name("migrations")

T = TypeVar("T")


def config(url: str, connect_args: Mapping[str, Any] | None = None) -> Config:
    """An Alembic configuration; env.py takes the URL and driver arguments from `attributes`
    (objects, not ini text, so no '%' escaping and any connect_args value works)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    cfg.set_main_option("path_separator", "os")
    cfg.attributes["url"] = url
    cfg.attributes["connect_args"] = dict(connect_args or {})
    return cfg


def upgrade(
    url: str, revision: str = "head", *, connect_args: Mapping[str, Any] | None = None
) -> None:
    _off_loop(command.upgrade, config(url, connect_args), revision)


def downgrade(url: str, revision: str, *, connect_args: Mapping[str, Any] | None = None) -> None:
    _off_loop(command.downgrade, config(url, connect_args), revision)


def current(url: str, *, connect_args: Mapping[str, Any] | None = None) -> str | None:
    """The database's revision, or None for an empty database."""

    async def read() -> str | None:
        engine = create_async_engine(url, poolclass=NullPool, connect_args=dict(connect_args or {}))
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(_revision)
        finally:
            await engine.dispose()

    return _off_loop(lambda: asyncio.run(read()))


def head() -> str | None:
    """The newest revision in this package."""
    return ScriptDirectory.from_config(config("")).get_current_head()


def _revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _off_loop(fn: Callable[..., T], *args: Any) -> T:
    try:
        asyncio.get_running_loop()
    except RuntimeError:  # the usual case: a CLI, or a worker thread
        return fn(*args)
    # A loop runs in this thread and asyncio.run() cannot nest in it: use a thread of our own.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="signpost-migrate") as pool:
        return pool.submit(fn, *args).result()
