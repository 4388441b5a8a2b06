"""SqlStore round trips on every backend: trainees, scenario versions, sessions and turns."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.app.ports import (
    ConflictError,
    DuplicateInputError,
    SessionRecord,
    SessionStore,
    StoreError,
    StoreUnavailableError,
    TurnRecord,
)
from bot.engine.state import SessionState
from storage import SqlStore
from storage import store as store_module
from storage.ops import state_json
from tests.storage.conftest import Backend
from tests.storage.helpers import HASH, SOURCE, new_session, state, turn


async def test_it_implements_the_port(store: SqlStore) -> None:
    port: SessionStore = store  # mypy checks the signatures
    wanted = {name for name in vars(SessionStore) if not name.startswith("_")}
    assert wanted and all(callable(getattr(port, name)) for name in wanted)


async def test_a_trainee_is_created_once_per_identity_with_a_stable_alias(store: SqlStore) -> None:
    first = await store.trainee("telegram", "42", language="pl")
    again = await store.trainee("telegram", "42", language="en")
    other = await store.trainee("matrix", "42")
    assert first == again and first.language == "pl"  # the language is only a first default
    assert (first.platform, first.external_id) == ("telegram", "42")
    assert first.alias.startswith("trainee-") and len(first.alias) == len("trainee-") + 8
    assert other.id != first.id and other.alias != first.alias
    await store.set_trainee_language(first.id, "en")
    assert (await store.trainee("telegram", "42")).language == "en"


async def test_concurrent_first_messages_create_one_trainee(store: SqlStore) -> None:
    found = await asyncio.gather(*(store.trainee("telegram", "7") for _ in range(20)))
    assert len({t.id for t in found}) == 1 and len({t.alias for t in found}) == 1


async def test_scenario_versions_are_kept_once(backend: Backend, store: SqlStore) -> None:
    await asyncio.gather(*(store.save_scenario_version("s", HASH, SOURCE) for _ in range(5)))
    assert await store.scenario_source(HASH) == SOURCE
    assert await store.scenario_source("b" * 64) is None
    other = await backend.open(migrate=False)  # another process, without our memory of it
    try:
        await other.save_scenario_version("s", HASH, SOURCE)
        assert await other.scenario_source(HASH) == SOURCE
    finally:
        await other.close()


async def test_a_session_round_trips(store: SqlStore) -> None:
    created = await new_session(store, "s1", key="m0")
    loaded = await store.get_session("s1")
    assert loaded == created
    assert loaded.created_at.tzinfo is not None and loaded.created_at.utcoffset() == timedelta(0)
    assert loaded.status == "active"
    (first,) = await store.turns("s1")
    assert first == TurnRecord("s1", 0, "start", "s", "m0", created.created_at, {"seed": 1})
    assert await store.get_session("nope") is None
    assert await store.turns("nope") == []


async def test_turns_come_back_in_order_and_the_snapshot_is_the_last_state(
    store: SqlStore,
) -> None:
    await new_session(store, "s1")
    appended = [turn("s1", seq, f"m{seq}", said=[f"line {seq}"]) for seq in range(1, 6)]
    for t in appended:
        await store.append_turn(t, state(f"n{t.seq}", turn=t.seq))
    log = await store.turns("s1")
    assert [t.seq for t in log] == [0, 1, 2, 3, 4, 5]
    assert list(log[1:]) == appended  # every field, payload and timestamps included
    loaded = await store.get_session("s1")
    assert loaded is not None
    assert loaded.state == state("n5", turn=5) and loaded.last_seq == 5
    assert loaded.updated_at == appended[-1].at
    assert await store.input_seen("s1", "m3")
    assert not await store.input_seen("s1", "m9") and not await store.input_seen("s2", "m3")


async def test_a_local_time_is_stored_as_the_same_instant_in_utc(store: SqlStore) -> None:
    warsaw = datetime(2024, 5, 1, 14, 0, tzinfo=ZoneInfo("Europe/Warsaw"))
    await new_session(store, "s1", at=warsaw)
    loaded = await store.get_session("s1")
    assert loaded is not None and loaded.created_at == warsaw
    assert loaded.created_at.tzinfo == UTC


async def test_naive_times_and_unstorable_payloads_fail_only_their_call(store: SqlStore) -> None:
    await new_session(store, "s1")
    naive = TurnRecord("s1", 1, "text", "hi", None, datetime(2024, 1, 1), {})
    with pytest.raises(ValueError, match="naive"):
        await store.append_turn(naive, state("b"))
    with pytest.raises(TypeError):
        await store.append_turn(turn("s1", 1, when=datetime.now(UTC)), state("b"))
    await store.append_turn(turn("s1", 1), state("b"))
    assert [t.seq for t in await store.turns("s1")] == [0, 1]


async def test_active_session_and_history(store: SqlStore) -> None:
    hour_ago = datetime.now(UTC) - timedelta(hours=1)
    old = await new_session(store, "old", at=hour_ago)
    await store.append_turn(turn("old", 1, kind="quit"), state(status="quit"))
    assert await store.active_session(old.trainee_id) is None
    await new_session(store, "paused", at=hour_ago + timedelta(minutes=1))
    await store.append_turn(turn("paused", 1, kind="pause"), state(status="paused"))
    await new_session(store, "new", at=hour_ago + timedelta(minutes=2))
    active = await store.active_session(old.trainee_id)
    assert active is not None and active.id == "paused"  # the most recently updated
    history = await store.sessions_of(old.trainee_id)
    assert [s.id for s in history] == ["old", "paused", "new"]
    assert [s.status for s in history] == ["quit", "paused", "active"]
    assert await store.sessions_of("nobody") == []
    assert await store.active_session("nobody") is None


async def test_a_duplicate_input_is_refused_and_changes_nothing(store: SqlStore) -> None:
    await new_session(store, "s1")
    await store.append_turn(turn("s1", 1, "update-9"), state("b"))
    before = await store.get_session("s1")
    with pytest.raises(DuplicateInputError):
        await store.append_turn(turn("s1", 2, "update-9"), state("c"))
    with pytest.raises(DuplicateInputError):  # the same delivery, same seq: still a duplicate
        await store.append_turn(turn("s1", 1, "update-9"), state("c"))
    assert await store.get_session("s1") == before
    assert [t.seq for t in await store.turns("s1")] == [0, 1]
    await store.append_turn(turn("s1", 2, None), state("c"))  # NULL keys never collide
    await store.append_turn(turn("s1", 3, None), state("d"))


async def test_a_stale_writer_cannot_overwrite_a_newer_turn(store: SqlStore) -> None:
    await new_session(store, "s1")
    await store.append_turn(turn("s1", 1, "a"), state("b"))
    with pytest.raises(ConflictError):
        await store.append_turn(turn("s1", 1, "stale"), state("stale"))
    loaded = await store.get_session("s1")
    assert loaded is not None and loaded.state.node == "b" and loaded.last_seq == 1
    assert [t.input_key for t in await store.turns("s1")] == [None, "a"]


async def test_sessions_and_turns_need_what_they_refer_to(store: SqlStore) -> None:
    record = await new_session(store, "s1")
    now = record.created_at
    with pytest.raises(ConflictError):  # the same id again
        await store.create_session(record, TurnRecord("s1", 0, "start", "s", None, now, {}))
    stranger = SessionRecord("s2", "no-trainee", "s", HASH, state(), 0, now, now)
    with pytest.raises(StoreError) as refused:
        await store.create_session(stranger, TurnRecord("s2", 0, "start", "s", None, now))
    assert type(refused.value) is StoreError
    with pytest.raises(StoreError, match="no session"):
        await store.append_turn(turn("nope", 1), state())
    with pytest.raises(ValueError):
        await store.create_session(record, TurnRecord("other", 0, "start", "s", None, now))


async def test_everything_survives_a_restart(backend: Backend) -> None:
    first = await backend.open()
    trainee = (await first.trainee("telegram", "1")).alias
    await new_session(first, "s1", user="1")
    await first.append_turn(turn("s1", 1, "m"), state("b", turn=1))
    await first.close()
    with pytest.raises(StoreUnavailableError):
        await first.append_turn(turn("s1", 2), state("c"))
    second = await backend.open()
    try:
        assert (await second.trainee("telegram", "1")).alias == trainee
        loaded = await second.get_session("s1")
        assert loaded is not None and loaded.state == state("b", turn=1)
        with pytest.raises(DuplicateInputError):
            await second.append_turn(turn("s1", 2, "m"), state("c"))
        await second.append_turn(turn("s1", 2, "n"), state("c"))
        assert [t.seq for t in await second.turns("s1")] == [0, 1, 2]
    finally:
        await second.close()


def test_the_stored_state_is_exactly_to_dict() -> None:
    # storage builds the JSON without dataclasses.asdict (much faster): it must stay equal.
    rich = replace(
        state("n9", status="ended", turn=9),
        noticed=("IND.DEBT",),
        missed=("IND.X",),
        critical=("C1",),
        outcome="referred",
        hints=2,
        misses=1,
    )
    assert json.loads(state_json(rich)) == json.loads(json.dumps(rich.to_dict()))
    assert SessionState.from_dict(json.loads(state_json(rich))) == rich


async def test_a_language_change_by_another_process_is_seen_after_the_cache_time(
    backend: Backend, store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    me = await store.trainee("telegram", "5", language="pl")
    other = await backend.open(migrate=False)
    try:
        await other.set_trainee_language(me.id, "en")
        assert (await store.trainee("telegram", "5")).language == "pl"  # cached
        monkeypatch.setattr(store_module, "TRAINEE_CACHE_SECONDS", 0.0)
        await store.set_trainee_language(me.id, "pl")  # drops our entry...
        assert (await store.trainee("telegram", "5")).language == "pl"
        await other.set_trainee_language(me.id, "en")  # ...and nothing is kept for long
        assert (await store.trainee("telegram", "5")).language == "en"
    finally:
        await other.close()


@pytest.mark.parametrize(
    "url",
    ["sqlite+aiosqlite://", "sqlite+aiosqlite:///:memory:", "sqlite:///x.db", "mysql://h/db"],
)
async def test_unusable_urls_are_refused_clearly(url: str) -> None:
    with pytest.raises(ValueError, match=r"in-memory|unsupported"):
        await SqlStore.open(url)
