"""SqlStore against real databases: round trips, dedupe, fencing, group commit, restarts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.app.ports import ConflictError, DuplicateInputError, SessionRecord, TurnRecord
from bot.engine.state import SessionState
from storage import SqlStore, migrate

HASH = "a" * 64


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[SqlStore]:
    opened = await SqlStore.open(database_url)
    try:
        yield opened
    finally:
        await opened.close()


def state(node: str = "a", *, status: str = "active", turn: int = 0) -> SessionState:
    return SessionState(
        scenario_id="s",
        scenario_hash=HASH,
        language="pl",
        mode="coach",
        seed=1,
        node=node,
        values=(1, True),
        scores=(0,) * 8,
        status=status,  # type: ignore[arg-type]
        turn=turn,
        revealed=(("IND.DECEPTION", 0),),
        referrals=(("REF.KCIK", "right"),),
    )


async def new_session(
    store: SqlStore, session_id: str, user: str = "u", at: datetime | None = None
) -> SessionRecord:
    trainee = await store.trainee("test", user)
    await store.save_scenario_version("s", HASH, "id: s")
    now = at or datetime.now(UTC)
    record = SessionRecord(session_id, trainee.id, "s", HASH, state(), 0, now, now)
    await store.create_session(
        record, TurnRecord(session_id, 0, "start", "s", None, now, {"seed": 1})
    )
    return record


def turn(session_id: str, seq: int, key: str | None = None, **payload: object) -> TurnRecord:
    return TurnRecord(session_id, seq, "choice", f"c{seq}", key, datetime.now(UTC), dict(payload))


async def test_trainee_is_created_once_with_a_stable_alias(store: SqlStore) -> None:
    first = await store.trainee("telegram", "42", language="pl")
    again = await store.trainee("telegram", "42", language="en")
    other = await store.trainee("matrix", "42")
    assert first == again and first.language == "pl"
    assert first.alias.startswith("trainee-") and first.alias != other.alias
    await store.set_trainee_language(first.id, "en")
    assert (await store.trainee("telegram", "42")).language == "en"


async def test_concurrent_first_messages_create_one_trainee(store: SqlStore) -> None:
    found = await asyncio.gather(*(store.trainee("telegram", "7") for _ in range(20)))
    assert len({t.id for t in found}) == 1


async def test_scenario_versions_are_kept_once(store: SqlStore) -> None:
    await asyncio.gather(*(store.save_scenario_version("s", HASH, "id: s") for _ in range(5)))
    assert await store.scenario_source(HASH) == "id: s"
    assert await store.scenario_source("b" * 64) is None


async def test_session_round_trip_and_turn_log(store: SqlStore) -> None:
    record = await new_session(store, "s1")
    final = state("b", turn=2)
    await store.append_turn(turn("s1", 1, "m1", said=["hola"]), state("b", turn=1))
    await store.append_turn(turn("s1", 2, "m2"), final)
    loaded = await store.get_session("s1")
    assert loaded is not None and loaded.state == final and loaded.last_seq == 2
    assert loaded.created_at == record.created_at.replace(microsecond=loaded.created_at.microsecond)
    log = await store.turns("s1")
    assert [t.seq for t in log] == [0, 1, 2]
    assert log[1].payload == {"said": ["hola"]} and log[1].input_key == "m1"
    assert await store.input_seen("s1", "m1") and not await store.input_seen("s1", "nope")


async def test_duplicate_input_is_refused_and_changes_nothing(store: SqlStore) -> None:
    await new_session(store, "s1")
    await store.append_turn(turn("s1", 1, "update-9"), state("b"))
    with pytest.raises(DuplicateInputError):
        await store.append_turn(turn("s1", 2, "update-9"), state("c"))
    loaded = await store.get_session("s1")
    assert loaded is not None and loaded.state.node == "b" and loaded.last_seq == 1
    assert len(await store.turns("s1")) == 2


async def test_a_stale_writer_cannot_overwrite_a_newer_turn(store: SqlStore) -> None:
    await new_session(store, "s1")
    await store.append_turn(turn("s1", 1), state("b"))
    with pytest.raises(ConflictError):
        await store.append_turn(turn("s1", 1), state("stale"))
    loaded = await store.get_session("s1")
    assert loaded is not None and loaded.state.node == "b"


async def test_one_bad_operation_does_not_fail_its_batch(store: SqlStore) -> None:
    await new_session(store, "s1")
    await new_session(store, "s2", user="v")
    await store.append_turn(turn("s1", 1, "k"), state("b"))
    results = await asyncio.gather(
        store.append_turn(turn("s1", 2, "k"), state("x")),  # duplicate key
        store.append_turn(turn("s2", 1, "k"), state("y")),  # same key, other session: fine
        store.append_turn(turn("s1", 2, "k2"), state("z")),
        return_exceptions=True,
    )
    assert isinstance(results[0], DuplicateInputError)
    assert results[1] is None and results[2] is None
    assert [t.seq for t in await store.turns("s1")] == [0, 1, 2]


async def test_many_concurrent_turns_are_group_committed_in_order(store: SqlStore) -> None:
    ids = [f"s{i}" for i in range(100)]
    for i, sid in enumerate(ids):
        await new_session(store, sid, user=f"u{i}")
    before = store.writer.batches, store.writer.operations

    async def play(sid: str) -> None:
        for seq in range(1, 6):
            await store.append_turn(turn(sid, seq, f"{sid}-{seq}"), state(f"n{seq}", turn=seq))

    await asyncio.gather(*(play(sid) for sid in ids))
    batches = store.writer.batches - before[0]
    operations = store.writer.operations - before[1]
    assert operations == 500
    assert batches < operations / 5, f"{batches} batches for {operations} turns"
    for sid in ids:
        assert [t.seq for t in await store.turns(sid)] == [0, 1, 2, 3, 4, 5]
        loaded = await store.get_session(sid)
        assert loaded is not None and loaded.state.node == "n5" and loaded.last_seq == 5


async def test_active_session_and_history(store: SqlStore) -> None:
    old = await new_session(store, "old", at=datetime.now(UTC) - timedelta(hours=1))
    await store.append_turn(turn("old", 1), state(status="ended"))
    assert await store.active_session(old.trainee_id) is None
    await new_session(store, "new")
    await store.append_turn(turn("new", 1), state(status="paused"))
    active = await store.active_session(old.trainee_id)
    assert active is not None and active.id == "new"
    assert [s.id for s in await store.sessions_of(old.trainee_id)] == ["old", "new"]


async def test_everything_survives_a_restart(database_url: str) -> None:
    first = await SqlStore.open(database_url)
    await new_session(first, "s1")
    await first.append_turn(turn("s1", 1, "m"), state("b"))
    await first.close()
    second = await SqlStore.open(database_url)
    try:
        loaded = await second.get_session("s1")
        assert loaded is not None and loaded.state.node == "b"
        with pytest.raises(DuplicateInputError):
            await second.append_turn(turn("s1", 2, "m"), state("c"))
    finally:
        await second.close()


async def test_migrations_go_down_and_up(database_url: str) -> None:
    await asyncio.to_thread(migrate.upgrade, database_url)
    assert await asyncio.to_thread(migrate.current, database_url) == "0001"
    await asyncio.to_thread(migrate.downgrade, database_url, "base")
    assert await asyncio.to_thread(migrate.current, database_url) is None
    await asyncio.to_thread(migrate.upgrade, database_url)
    assert await asyncio.to_thread(migrate.current, database_url) == "0001"
