"""Migrations: up, down to nothing and up again on every backend; they build tables.py."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from storage import migrate
from storage.tables import metadata
from tests.storage.conftest import Backend

TABLES = {"trainees", "trainee_identities", "scenario_versions", "sessions", "turns"}


async def _inspect(backend: Backend, look: Any) -> Any:
    engine = create_async_engine(backend.url, poolclass=NullPool, connect_args=backend.connect_args)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(look)
    finally:
        await engine.dispose()


def _tables(conn: Connection) -> set[str]:
    return set(inspect(conn).get_table_names())


def _differences(conn: Connection) -> list[Any]:
    return list(compare_metadata(MigrationContext.configure(conn), metadata))


async def test_upgrade_downgrade_upgrade(backend: Backend) -> None:
    args = backend.connect_args
    head = migrate.head()
    assert head is not None
    assert await asyncio.to_thread(migrate.current, backend.url, connect_args=args) is None
    await asyncio.to_thread(migrate.upgrade, backend.url, connect_args=args)
    assert await asyncio.to_thread(migrate.current, backend.url, connect_args=args) == head
    assert await _inspect(backend, _tables) >= TABLES
    assert await _inspect(backend, _differences) == []  # the migrations build tables.py

    await asyncio.to_thread(migrate.downgrade, backend.url, "base", connect_args=args)
    assert await asyncio.to_thread(migrate.current, backend.url, connect_args=args) is None
    assert not TABLES & await _inspect(backend, _tables)

    await asyncio.to_thread(migrate.upgrade, backend.url, "head", connect_args=args)
    assert await asyncio.to_thread(migrate.current, backend.url, connect_args=args) == head


async def test_the_sync_api_also_works_when_called_inside_a_running_loop(backend: Backend) -> None:
    # A careless caller: blocks this loop meanwhile, but must not fail.
    migrate.upgrade(backend.url, connect_args=backend.connect_args)
    assert migrate.current(backend.url, connect_args=backend.connect_args) == migrate.head()


async def test_open_migrates_and_a_second_open_finds_nothing_to_do(backend: Backend) -> None:
    for _ in range(2):
        store = await backend.open()
        await store.close()
    current = await asyncio.to_thread(
        migrate.current, backend.url, connect_args=backend.connect_args
    )
    assert current == migrate.head()
