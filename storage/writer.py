"""The single writer: group commit of every queued write in one short transaction.

Callers queue an operation and await its future. One task owns one connection; it takes
everything queued (up to `max_batch`), applies it in one transaction, commits, and only then
resolves the futures, so a caller learns of success only once its write is durable. While a
batch commits, the next one queues up: the busier the store, the larger the batches and the
fewer the commits (and fsyncs) per turn. Nothing else is awaited while a transaction is open.

If a batch fails because of the data of some operation (a duplicate input key, a reused seq),
it is rolled back and its operations re-run one by one, each in its own transaction, so only
the offending ones fail. If the database fails (gone, disk full, locked past the timeout),
every operation of the batch gets `StoreUnavailableError` (the caller decides whether to
retry), the connection is dropped, and the next batch connects afresh.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from bot.app.ports import StoreError, StoreUnavailableError
from storage.engines import is_bad_operation, is_unavailable

log = logging.getLogger(__name__)

Op = TypeVar("Op")
Op_contra = TypeVar("Op_contra", contravariant=True)


class Driver(Protocol[Op_contra]):
    """The writer's connection (storage.drivers)."""

    async def open(self) -> None: ...

    async def write(self, ops: Sequence[Op_contra]) -> list[Any]:
        """Apply `ops` in one transaction and commit; one result per operation. On error the
        transaction is rolled back and the error raised."""
        ...

    async def explain(self, op: Op_contra, error: Exception) -> StoreError:
        """Why `op` alone was refused (it may query the database)."""
        ...

    async def reset(self) -> None:
        """Drop the connection (it may be broken); the next write connects afresh."""
        ...

    async def close(self) -> None: ...


_STOP = object()


@dataclass(slots=True)
class WriterStats:
    """Counters for tests and metrics."""

    #: transactions committed (a batch, or one operation of a batch re-run one by one)
    commits: int = 0
    #: operations committed
    operations: int = 0
    #: batches that broke a constraint and were re-run one by one
    retried_batches: int = 0
    #: operations that ended in an error
    failed: int = 0
    #: the largest batch seen
    largest_batch: int = 0


class Writer(Generic[Op]):
    def __init__(self, driver: Driver[Op], *, max_batch: int = 512) -> None:
        self._driver = driver
        self._max_batch = max_batch
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self.stats = WriterStats()

    async def start(self) -> None:
        """Connect now, so that a database that is not there fails `open`, not the first turn."""
        await self._driver.open()
        self._task = asyncio.create_task(self._run(), name="signpost-storage-writer")

    async def submit(self, op: Op) -> Any:
        """Queue `op`; return its result once the batch holding it has committed."""
        if self._closing or self._task is None or self._task.done():
            raise StoreUnavailableError("the store is closed")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((op, future))
        return await future

    async def close(self) -> None:
        """Write everything queued so far, then stop and release the connection."""
        if self._closing:
            return
        self._closing = True
        if self._task is not None:
            self._queue.put_nowait(_STOP)
            with suppress(asyncio.CancelledError):
                await self._task
        await self._driver.close()

    # -- the loop ---------------------------------------------------------------------------

    async def _run(self) -> None:
        queue = self._queue
        batch: list[tuple[Op, asyncio.Future[Any]]] = []
        try:
            stop = False
            while not stop:
                item = await queue.get()
                while True:
                    if item is _STOP:
                        stop = True
                        break
                    batch.append(item)
                    if len(batch) >= self._max_batch or queue.empty():
                        break
                    item = queue.get_nowait()
                if batch:
                    await self._write(batch)
                    batch = []
        finally:
            # Cancelled (the loop is shutting down without close()): nobody is left waiting.
            while not queue.empty():
                item = queue.get_nowait()
                if item is not _STOP:
                    batch.append(item)
            self._fail(batch, lambda: StoreUnavailableError("the store was shut down"))

    async def _write(self, batch: list[tuple[Op, asyncio.Future[Any]]]) -> None:
        self.stats.largest_batch = max(self.stats.largest_batch, len(batch))
        try:
            results = await self._driver.write([op for op, _ in batch])
        except Exception as error:
            if is_bad_operation(error):
                await self._one_by_one(batch)
            else:
                await self._failed_database(batch, error)
            return
        self.stats.commits += 1
        self.stats.operations += len(batch)
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():  # the caller may have been cancelled meanwhile
                future.set_result(result)

    async def _one_by_one(self, batch: list[tuple[Op, asyncio.Future[Any]]]) -> None:
        self.stats.retried_batches += 1
        for index, (op, future) in enumerate(batch):
            try:
                (result,) = await self._driver.write([op])
            except Exception as error:
                if not is_bad_operation(error):
                    await self._failed_database(batch[index:], error)
                    return
                failure = await self._explained(op, error)
                self.stats.failed += 1
                if not future.done():
                    future.set_exception(failure)
                continue
            self.stats.commits += 1
            self.stats.operations += 1
            if not future.done():
                future.set_result(result)

    async def _explained(self, op: Op, error: Exception) -> StoreError:
        try:
            return await self._driver.explain(op, error)
        except Exception as failure:  # explaining is best effort; the op failed regardless
            log.warning("could not explain a refused write: %r", failure)
            return StoreError(f"the database refused the write: {_short(error)}")

    async def _failed_database(
        self, batch: list[tuple[Op, asyncio.Future[Any]]], error: Exception
    ) -> None:
        if is_unavailable(error):
            log.warning("a write of %d operations failed: %s", len(batch), _short(error))
            message = f"the database is unavailable ({_short(error)}); the write may be retried"
            self._fail(batch, lambda: StoreUnavailableError(message))
        else:  # a bug, not the database: say so loudly, but keep the writer alive
            log.exception("unexpected error in the storage writer", exc_info=error)
            self._fail(batch, lambda: StoreError(f"unexpected storage error: {_short(error)}"))
        # The connection may be broken or mid-transaction: start the next batch on a new one.
        with suppress(Exception):
            await self._driver.reset()

    # -- helpers ----------------------------------------------------------------------------

    def _fail(
        self, batch: list[tuple[Op, asyncio.Future[Any]]], error: Callable[[], StoreError]
    ) -> None:
        # A fresh exception per caller: one instance raised in many tasks would share (and
        # keep growing) one traceback.
        for _, future in batch:
            self.stats.failed += 1
            if not future.done():
                future.set_exception(error())


def _short(error: BaseException) -> str:
    detail = str(getattr(error, "orig", None) or error)
    first = detail.splitlines()[0] if detail else ""
    return f"{type(error).__name__}: {first[:200]}"
