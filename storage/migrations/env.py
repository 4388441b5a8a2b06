"""Alembic environment: runs migrations over the app's async drivers (aiosqlite, asyncpg).

Started by `storage.migrate`, which passes the URL and driver arguments in
`config.attributes`. The migration runs on a sync facade of an async connection
(`connection.run_sync`), in an event loop of its own (`asyncio.run`).
"""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import context
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from storage.tables import metadata

config = context.config
URL: str = config.attributes.get("url") or config.get_main_option("sqlalchemy.url") or ""
CONNECT_ARGS: dict[str, Any] = dict(config.attributes.get("connect_args") or {})
#: any constant: one migrator at a time per PostgreSQL database
_PG_LOCK = 0x5161_6E70


def _migrate(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite cannot ALTER most things in place; batch mode rebuilds tables instead.
        render_as_batch=sqlite,
        compare_type=True,
    )
    with context.begin_transaction():
        if not sqlite:
            # Two processes starting at once must not both run the same migration. (On SQLite
            # the BEGIN IMMEDIATE below serialises them.)
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_LOCK})")
        context.run_migrations()


async def _run_online() -> None:
    engine = create_async_engine(URL, poolclass=NullPool, connect_args=CONNECT_ARGS)
    if engine.dialect.name == "sqlite":
        # The sqlite3 driver does not put DDL in a transaction: take over BEGIN ourselves, so
        # a failed migration rolls back whole and concurrent migrators wait for each other.
        @event.listens_for(engine.sync_engine, "connect")
        def _connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None

        @event.listens_for(engine.sync_engine, "begin")
        def _begin(connection: Connection) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    try:
        async with engine.connect() as connection:
            await connection.run_sync(_migrate)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    context.configure(url=URL, target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_online())
