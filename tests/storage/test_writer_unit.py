"""The group-commit writer on its own, against a scripted driver: no database needed."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import exc as sa_exc

from bot.app.ports import ConflictError, StoreError, StoreUnavailableError
from storage.writer import Writer


class Driver:
    """Writes ints; refuses negatives (a constraint), and fails when told to (the database)."""

    def __init__(self) -> None:
        self.calls: list[list[int]] = []
        self.committed: list[int] = []
        self.down: Exception | None = None
        self.resets = 0
        self.closed = False

    async def open(self) -> None: ...

    async def write(self, ops: Sequence[int]) -> list[Any]:
        self.calls.append(list(ops))
        await asyncio.sleep(0.001)  # the commit; meanwhile more operations queue up
        if self.down is not None:
            raise self.down
        if any(op < 0 for op in ops):
            raise sa_exc.IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed"))
        self.committed += ops
        return [op * 10 for op in ops]

    async def explain(self, op: int, error: Exception) -> StoreError:
        return ConflictError(f"{op} is taken")

    async def reset(self) -> None:
        self.resets += 1

    async def close(self) -> None:
        self.closed = True


@pytest.fixture
async def driver() -> Driver:
    return Driver()


async def started(driver: Driver, max_batch: int = 512) -> Writer[int]:
    writer = Writer[int](driver, max_batch=max_batch)
    await writer.start()
    return writer


async def test_what_queues_together_commits_together(driver: Driver) -> None:
    writer = await started(driver)
    results = await asyncio.gather(*(writer.submit(n) for n in range(1, 101)))
    assert results == [n * 10 for n in range(1, 101)]
    assert driver.committed == list(range(1, 101))  # in queue order
    assert len(driver.calls) == 1 and writer.stats.commits == 1
    await writer.close()
    assert driver.closed


async def test_batches_are_capped(driver: Driver) -> None:
    writer = await started(driver, max_batch=16)
    await asyncio.gather(*(writer.submit(n) for n in range(100)))
    assert max(len(call) for call in driver.calls) == 16
    assert writer.stats.largest_batch == 16 and writer.stats.operations == 100
    await writer.close()


async def test_a_refused_operation_fails_alone(driver: Driver) -> None:
    writer = await started(driver)
    results = await asyncio.gather(
        *(writer.submit(n) for n in (1, 2, -3, 4)), return_exceptions=True
    )
    assert results[:2] == [10, 20] and results[3] == 40
    assert isinstance(results[2], ConflictError) and "-3 is taken" in str(results[2])
    assert driver.calls == [[1, 2, -3, 4], [1], [2], [-3], [4]]
    assert driver.committed == [1, 2, 4]
    assert writer.stats.retried_batches == 1 and writer.stats.failed == 1
    await writer.close()


async def test_a_database_failure_fails_the_batch_and_the_next_batch_works(
    driver: Driver,
) -> None:
    writer = await started(driver)
    driver.down = sa_exc.OperationalError("COMMIT", {}, Exception("disk I/O error"))
    results = await asyncio.gather(*(writer.submit(n) for n in (1, 2)), return_exceptions=True)
    assert all(isinstance(r, StoreUnavailableError) for r in results)
    assert results[0] is not results[1]  # one exception object per caller
    assert "disk I/O error" in str(results[0]) and driver.resets == 1
    driver.down = None
    assert await writer.submit(3) == 30
    await writer.close()


async def test_a_bug_is_a_store_error_and_the_writer_survives(driver: Driver) -> None:
    writer = await started(driver)
    driver.down = RuntimeError("a bug")
    with pytest.raises(StoreError) as raised:
        await writer.submit(1)
    assert not isinstance(raised.value, StoreUnavailableError)
    driver.down = None
    assert await writer.submit(2) == 20
    await writer.close()


async def test_close_writes_what_is_queued_then_refuses(driver: Driver) -> None:
    writer = await started(driver)
    pending = [asyncio.create_task(writer.submit(n)) for n in range(5)]
    await asyncio.sleep(0)
    await writer.close()
    assert [t.result() for t in pending] == [0, 10, 20, 30, 40]
    with pytest.raises(StoreUnavailableError, match="closed"):
        await writer.submit(9)
    await writer.close()  # twice is fine


async def test_a_writer_cancelled_by_a_dying_loop_leaves_nobody_waiting(driver: Driver) -> None:
    writer = await started(driver)
    pending = [asyncio.create_task(writer.submit(n)) for n in range(3)]
    await asyncio.sleep(0)
    assert writer._task is not None
    writer._task.cancel()
    results = await asyncio.gather(*pending, return_exceptions=True)
    assert all(isinstance(r, StoreUnavailableError) for r in results)
