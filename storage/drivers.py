"""The connections: the writer's one dedicated connection, and the readers' pool, per backend.

A batch is applied by the same synchronous SQLAlchemy Core code (`ops.Batches`) on both:

- PostgreSQL (`AsyncDriver`, `AsyncReader`): asyncpg, the Core code bridged with `run_sync`.
  Every statement is a network round trip anyway; asyncpg adds nothing to it.
- SQLite (`ThreadDriver`, `ThreadReader`): sqlite3 connections used from threads of our own,
  a whole batch (BEGIN IMMEDIATE, the inserts, the updates, COMMIT) or a whole read in ONE
  hand-off to a thread. aiosqlite hands every DBAPI call (cursor, execute, fetch, close,
  commit...) to its thread and back; one hand-off costs ~270 µs on this machine. Measured:
  a lone trainee's append took ~4.5 ms through the async engine (~200 turns/s) against
  ~0.7 ms (~1,200 turns/s, fsync included) in one hand-off; a read ~1.3 ms and at most ~800
  reads/s on 12 aiosqlite connections, against ~0.37 ms and ~3,000 reads/s here. (Alembic
  still runs through aiosqlite: the URL stays `sqlite+aiosqlite://`.)
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from typing import Any, TypeVar

from sqlalchemy.engine import Connection, Engine, Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql import Executable

from bot.app.ports import StoreError
from storage.ops import Batches, Operation

T = TypeVar("T")


class AsyncDriver:
    def __init__(self, engine: AsyncEngine, batches: Batches) -> None:
        self._engine = engine
        self._batches = batches
        self._conn: AsyncConnection | None = None

    async def open(self) -> None:
        await self._connection()

    async def write(self, ops: Sequence[Operation]) -> list[Any]:
        conn = await self._connection()
        async with conn.begin():
            return await conn.run_sync(self._batches.apply, ops)

    async def explain(self, op: Operation, error: Exception) -> StoreError:
        conn = await self._connection()
        async with conn.begin():
            return await conn.run_sync(self._batches.explain, op, error)

    async def reset(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with suppress(Exception):
                await conn.invalidate()
            with suppress(Exception):
                await conn.close()

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with suppress(Exception):
                await conn.close()
        await self._engine.dispose()

    async def _connection(self) -> AsyncConnection:
        if self._conn is None or self._conn.closed or self._conn.invalidated:
            self._conn = None
            self._conn = await self._engine.connect()
        return self._conn


class ThreadDriver:
    """A sync engine used only from its own thread (sqlite3 connections stay in the thread
    that made them)."""

    def __init__(self, engine: Engine, batches: Batches) -> None:
        self._engine = engine
        self._batches = batches
        self._conn: Connection | None = None
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="signpost-writer")

    async def open(self) -> None:
        await self._call(self._connection)

    async def write(self, ops: Sequence[Operation]) -> list[Any]:
        return await self._call(self._write, ops)

    async def explain(self, op: Operation, error: Exception) -> StoreError:
        return await self._call(self._explain, op, error)

    async def reset(self) -> None:
        await self._call(self._reset)

    async def close(self) -> None:
        try:
            await self._call(self._close)
        finally:
            self._thread.shutdown(wait=True)

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._thread, fn, *args)

    # -- in the writer thread ---------------------------------------------------------------

    def _write(self, ops: Sequence[Operation]) -> list[Any]:
        conn = self._connection()
        with conn.begin():  # BEGIN IMMEDIATE (engines.py); COMMIT or ROLLBACK on the way out
            return self._batches.apply(conn, ops)

    def _explain(self, op: Operation, error: Exception) -> StoreError:
        conn = self._connection()
        with conn.begin():
            return self._batches.explain(conn, op, error)

    def _connection(self) -> Connection:
        if self._conn is None or self._conn.closed or self._conn.invalidated:
            self._conn = None
            self._conn = self._engine.connect()
        return self._conn

    def _reset(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with suppress(Exception):
                conn.invalidate()
            with suppress(Exception):
                conn.close()

    def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with suppress(Exception):
                conn.close()
        self._engine.dispose()


class AsyncReader:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def rows(self, statement: Executable, params: dict[str, Any]) -> Sequence[Row[Any]]:
        async with self._engine.connect() as conn:
            return (await conn.execute(statement, params)).all()

    async def close(self) -> None:
        await self._engine.dispose()


class ThreadReader:
    """One thread per pooled connection: reads run side by side, and beside the writer."""

    def __init__(self, engine: Engine, threads: int) -> None:
        self._engine = engine
        self._threads = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="signpost-read")

    async def rows(self, statement: Executable, params: dict[str, Any]) -> Sequence[Row[Any]]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._threads, self._rows, statement, params)

    def _rows(self, statement: Executable, params: dict[str, Any]) -> Sequence[Row[Any]]:
        with self._engine.connect() as conn:
            return conn.execute(statement, params).all()

    async def close(self) -> None:
        await asyncio.to_thread(self._threads.shutdown, wait=True)
        self._engine.dispose()
