"""The group-commit writer: batching, isolation of bad operations, failures, draining."""

from __future__ import annotations

import asyncio
import random
import sqlite3
import sys
from pathlib import Path

import asyncpg
import pytest

from bot.app.ports import ConflictError, DuplicateInputError, StoreUnavailableError
from storage import SqlStore, engines
from tests.storage.conftest import Backend, asyncpg_dsn
from tests.storage.helpers import new_session, state, turn


async def test_500_concurrent_turns_are_group_committed(store: SqlStore) -> None:
    ids = [f"s{i}" for i in range(100)]
    for i, sid in enumerate(ids):
        await new_session(store, sid, user=f"u{i}")
    calls = [(sid, seq) for sid in ids for seq in range(1, 6)]
    random.Random(7).shuffle(calls)  # later turns may well be queued before earlier ones
    before = store.stats.commits, store.stats.operations

    await asyncio.gather(
        *(
            store.append_turn(turn(sid, seq, f"{sid}-{seq}"), state(f"n{seq}", turn=seq))
            for sid, seq in calls
        )
    )

    commits = store.stats.commits - before[0]
    operations = store.stats.operations - before[1]
    assert operations == 500
    assert commits <= 50, f"{commits} commits for {operations} turns: not batched"
    for sid in ids:
        log = await store.turns(sid)
        assert [t.seq for t in log] == [0, 1, 2, 3, 4, 5]
        assert [t.input_key for t in log[1:]] == [f"{sid}-{seq}" for seq in range(1, 6)]
        loaded = await store.get_session(sid)
        # the snapshot is the newest turn's, whatever order the turns were queued in
        assert loaded is not None and loaded.state == state("n5", turn=5) and loaded.last_seq == 5


async def test_one_bad_operation_does_not_fail_its_batch(store: SqlStore) -> None:
    await new_session(store, "s1")
    await new_session(store, "s2", user="v")
    await store.append_turn(turn("s1", 1, "k"), state("b"))
    retried = store.stats.retried_batches

    results = await asyncio.gather(
        store.append_turn(turn("s1", 2, "k"), state("x")),  # duplicate key
        store.append_turn(turn("s2", 1, "k"), state("y")),  # same key, other session: fine
        store.append_turn(turn("s1", 1, "k9"), state("z")),  # seq 1 is taken: a stale writer
        store.append_turn(turn("s1", 2, "k2"), state("c")),
        store.trainee("telegram", "new"),
        store.set_trainee_language("nobody", "en"),
        return_exceptions=True,
    )

    assert isinstance(results[0], DuplicateInputError)
    assert isinstance(results[2], ConflictError)
    assert results[1] is None and results[3] is None and results[5] is None
    assert store.stats.retried_batches == retried + 1  # one batch, re-run op by op
    assert [t.input_key for t in await store.turns("s1")] == [None, "k", "k2"]
    assert [t.input_key for t in await store.turns("s2")] == [None, "k"]
    s1 = await store.get_session("s1")
    assert s1 is not None and s1.state.node == "c" and s1.last_seq == 2
    assert (await store.trainee("telegram", "new")) == results[4]


async def test_a_failing_database_fails_the_batch_and_the_writer_goes_on(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engines, "SQLITE_BUSY_TIMEOUT_MS", 200)
    store = await backend.open()
    try:
        await new_session(store, "s1")
        async with _database_breaks(backend):
            with pytest.raises(StoreUnavailableError):
                await store.append_turn(turn("s1", 1, "m1"), state("b"))
        await store.append_turn(turn("s1", 1, "m1"), state("b"))  # the caller retries: fine
        assert [t.seq for t in await store.turns("s1")] == [0, 1]
        assert store.stats.failed >= 1
    finally:
        await store.close()


class _database_breaks:  # noqa: N801 - reads as a phrase at the call site
    """SQLite: another process holds the write lock past busy_timeout. PostgreSQL: the
    server ends the store's connections (as a restart or failover would)."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.lock: sqlite3.Connection | None = None

    async def __aenter__(self) -> None:
        if self.backend.name == "sqlite":
            path = self.backend.url.split("///", 1)[1]
            self.lock = sqlite3.connect(path, isolation_level=None)
            self.lock.execute("BEGIN EXCLUSIVE")
            return
        admin = await asyncpg.connect(asyncpg_dsn(self.backend.url))
        try:
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = $1",
                self.backend.schema,
            )
        finally:
            await admin.close()

    async def __aexit__(self, *_: object) -> None:
        if self.lock is not None:
            self.lock.execute("ROLLBACK")
            self.lock.close()


async def test_readers_read_while_the_writer_is_blocked(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    if backend.name != "sqlite":
        pytest.skip("about SQLite's WAL mode")
    monkeypatch.setattr(engines, "SQLITE_BUSY_TIMEOUT_MS", 2000)
    store = await backend.open()
    try:
        await new_session(store, "s1")
        async with _database_breaks(backend):
            pending = asyncio.create_task(store.append_turn(turn("s1", 1), state("b")))
            await asyncio.sleep(0.05)
            loaded = await store.get_session("s1")  # not blocked by the waiting writer
            assert loaded is not None and loaded.last_seq == 0 and not pending.done()
        await pending  # the lock went away within busy_timeout: committed
        assert [t.seq for t in await store.turns("s1")] == [0, 1]
    finally:
        await store.close()


async def test_close_commits_everything_already_queued(backend: Backend) -> None:
    store = await backend.open()
    for i in range(20):
        await new_session(store, f"s{i}", user=f"u{i}")
    tasks = [
        asyncio.create_task(store.append_turn(turn(f"s{i}", 1, "k"), state("b"))) for i in range(20)
    ]
    await asyncio.sleep(0)  # every task has queued its turn
    await store.close()
    assert all(t.done() and t.exception() is None for t in tasks)
    with pytest.raises(StoreUnavailableError, match="closed"):
        await store.get_session("s0")
    reopened = await backend.open(migrate=False)
    try:
        for i in range(20):
            loaded = await reopened.get_session(f"s{i}")
            assert loaded is not None and loaded.last_seq == 1
    finally:
        await reopened.close()


async def test_a_cancelled_caller_does_not_disturb_the_writer(store: SqlStore) -> None:
    await new_session(store, "s1")
    task = asyncio.create_task(store.append_turn(turn("s1", 1, "a"), state("b")))
    await asyncio.sleep(0)
    task.cancel()
    await store.append_turn(turn("s1", 2, "b"), state("c"))
    # queued before it was cancelled, so it was written: the caller retrying gets a duplicate
    with pytest.raises(DuplicateInputError):
        await store.append_turn(turn("s1", 1, "a"), state("b"))
    assert [t.seq for t in await store.turns("s1")] == [0, 1, 2]


ROOT = Path(__file__).resolve().parents[2]
CRASHER = """
import asyncio, sys
from datetime import UTC, datetime
from bot.app.ports import TurnRecord
from storage import SqlStore
from tests.storage.helpers import new_session, state

async def main():
    store = await SqlStore.open(sys.argv[1])
    await new_session(store, "s1")
    for seq in range(1, 100_000):
        turn = TurnRecord("s1", seq, "text", "hi", str(seq), datetime.now(UTC), {"n": seq})
        await store.append_turn(turn, state(f"n{seq}", turn=seq))
        print(seq, flush=True)  # the reply goes out only now

asyncio.run(main())
"""


async def test_a_killed_process_loses_no_committed_turn(backend: Backend) -> None:
    if backend.name != "sqlite":
        pytest.skip("the server keeps PostgreSQL's commits")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CRASHER, backend.url, cwd=ROOT, stdout=asyncio.subprocess.PIPE
    )
    assert proc.stdout is not None
    acknowledged = 0
    while acknowledged < 200:
        line = await asyncio.wait_for(proc.stdout.readline(), timeout=30)
        assert line, "the writer process died on its own"
        acknowledged = int(line)
    proc.kill()  # SIGKILL: no close(), no flush, mid-batch
    await proc.wait()
    store = await backend.open()
    try:
        log = await store.turns("s1")
        assert len(log) >= acknowledged + 1  # turn 0 and every acknowledged one, maybe more
        assert [t.seq for t in log] == list(range(len(log)))
        loaded = await store.get_session("s1")
        assert loaded is not None and loaded.last_seq == log[-1].seq
    finally:
        await store.close()
