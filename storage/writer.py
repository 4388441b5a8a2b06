"""The single writer: group commit of every queued write in one short transaction.

Writers queue operations and await them; one task drains the queue, applies everything queued
(up to `max_batch`) in one transaction, commits, and only then resolves the waiting futures, so
a caller learns of success only once its write is durable. Nothing else is awaited while the
transaction is open. On SQLite the transaction is `BEGIN IMMEDIATE`, so the writer takes the
write lock up front instead of failing half-way with "database is locked".

If a batch breaks a constraint, it is rolled back and its operations are re-run one by one, so
only the offending ones fail. If the database itself fails, every operation of the batch gets
`StoreUnavailableError` and the writer goes on with the next batch.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.app.ports import StoreError, StoreUnavailableError

log = logging.getLogger(__name__)

Apply = Callable[[AsyncConnection, Sequence["Operation"]], Awaitable[None]]


@dataclass(eq=False)
class Operation:
    """One write. Operations of the same `kind` in a batch are applied together, in order."""

    kind: str
    params: dict[str, Any]
    future: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class Writer:
    def __init__(
        self,
        engine: AsyncEngine,
        apply: Apply,
        classify: Callable[[Operation, sa_exc.IntegrityError], StoreError],
        *,
        max_batch: int = 512,
    ) -> None:
        self._engine = engine
        self._apply = apply
        self._classify = classify
        self._max_batch = max_batch
        self._queue: asyncio.Queue[Operation | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._sqlite = engine.dialect.name == "sqlite"
        #: batches committed and operations written, for tests and metrics
        self.batches = 0
        self.operations = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="signpost-writer")

    async def submit(self, kind: str, **params: Any) -> None:
        if self._task is None or self._task.done():
            raise StoreUnavailableError("the store is closed")
        op = Operation(kind, params)
        await self._queue.put(op)
        await op.future

    async def close(self) -> None:
        if self._task is not None and not self._task.done():
            await self._queue.put(None)
            await self._task

    async def _run(self) -> None:
        stopping = False
        while not stopping:
            first = await self._queue.get()
            if first is None:
                break
            batch = [first]
            while len(batch) < self._max_batch and not self._queue.empty():
                op = self._queue.get_nowait()
                if op is None:
                    stopping = True
                    break
                batch.append(op)
            await self._write(batch)

    async def _write(self, batch: list[Operation]) -> None:
        try:
            async with self._engine.connect() as conn:
                try:
                    async with self._transaction(conn):
                        await self._apply(conn, batch)
                except sa_exc.IntegrityError:
                    await self._one_by_one(conn, batch)
                    return
        except (sa_exc.SQLAlchemyError, OSError) as error:
            log.warning("write of %d operations failed: %s", len(batch), type(error).__name__)
            self._fail(
                batch, StoreUnavailableError(f"the database is unavailable: {type(error).__name__}")
            )
            return
        except Exception as error:  # never let one bad batch stop the writer
            log.exception("unexpected error writing a batch")
            self._fail(
                batch, StoreUnavailableError(f"unexpected storage error: {type(error).__name__}")
            )
            return
        self.batches += 1
        self.operations += len(batch)
        for op in batch:
            if not op.future.done():
                op.future.set_result(None)

    async def _one_by_one(self, conn: AsyncConnection, batch: list[Operation]) -> None:
        for op in batch:
            try:
                async with self._transaction(conn):
                    await self._apply(conn, [op])
            except sa_exc.IntegrityError as error:
                if not op.future.done():
                    op.future.set_exception(self._classify(op, error))
                continue
            self.batches += 1
            self.operations += 1
            if not op.future.done():
                op.future.set_result(None)

    @asynccontextmanager
    async def _transaction(self, conn: AsyncConnection) -> AsyncIterator[None]:
        if not self._sqlite:
            async with conn.begin():
                yield
            return
        # The connection runs in AUTOCOMMIT mode so that this BEGIN is the only one.
        await conn.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            await conn.exec_driver_sql("ROLLBACK")
            raise
        await conn.exec_driver_sql("COMMIT")

    @staticmethod
    def _fail(batch: list[Operation], error: StoreError) -> None:
        for op in batch:
            if not op.future.done():
                op.future.set_exception(error)
