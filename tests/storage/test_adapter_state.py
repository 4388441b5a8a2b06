"""What the messenger adapters keep, on every backend: the inbox, cursors, media, forgetting."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.app.ports import AdapterStore
from storage import SqlStore
from tests.storage.conftest import Backend
from tests.storage.helpers import new_session, turn


async def test_it_implements_the_port(store: SqlStore) -> None:
    port: AdapterStore = store  # mypy checks the signatures
    wanted = {name for name in vars(AdapterStore) if not name.startswith("_")}
    assert wanted and all(callable(getattr(port, name)) for name in wanted)


async def test_an_update_is_recorded_once_and_pending_until_processed(store: SqlStore) -> None:
    assert await store.record_update("telegram", "1001", {"text": "hi"}) is True
    assert await store.record_update("telegram", "1001", {"text": "again"}) is False
    assert await store.record_update("telegram", "1002", {"text": "second"}) is True
    assert await store.record_update("matrix", "1001", {"body": "elsewhere"}) is True
    assert await store.pending_updates("telegram") == [
        ("1001", {"text": "hi"}),
        ("1002", {"text": "second"}),
    ]
    await store.mark_processed("telegram", "1001")
    assert await store.pending_updates("telegram") == [("1002", {"text": "second"})]
    assert await store.record_update("telegram", "1001", {"text": "late duplicate"}) is False


async def test_concurrent_duplicates_are_kept_once(store: SqlStore) -> None:
    results = await asyncio.gather(
        *(store.record_update("telegram", "7", {"n": n}) for n in range(20))
    )
    assert sorted(results) == [False] * 19 + [True]
    assert len(await store.pending_updates("telegram")) == 1


async def test_processed_updates_are_pruned_by_age(store: SqlStore) -> None:
    await store.record_update("telegram", "1", {})
    await store.record_update("telegram", "2", {})
    await store.mark_processed("telegram", "1")
    later = datetime.now(UTC) + timedelta(minutes=1)
    assert await store.prune_updates("telegram", later) == 1
    assert await store.pending_updates("telegram") == [("2", {})]
    assert await store.record_update("telegram", "1", {}) is True  # forgotten: new again


async def test_cursors_are_saved_and_replaced(backend: Backend) -> None:
    store = await backend.open()
    assert await store.cursor("matrix:@bot:localhost") is None
    await store.set_cursor("matrix:@bot:localhost", "s1_2_3")
    await store.set_cursor("matrix:@bot:localhost", "s4_5_6")
    await store.close()
    reopened = await backend.open()
    try:
        assert await reopened.cursor("matrix:@bot:localhost") == "s4_5_6"
    finally:
        await reopened.close()


async def test_media_refs_per_platform(store: SqlStore) -> None:
    digest = "a" * 64
    assert await store.media_ref("telegram", digest) is None
    await store.save_media_ref("telegram", digest, "AgACAgQAAxkBAAI")
    await store.save_media_ref("matrix", digest, "mxc://localhost/abc")
    await store.save_media_ref("telegram", digest, "AgACAgQAAxkBAAJ")  # re-uploaded
    assert await store.media_ref("telegram", digest) == "AgACAgQAAxkBAAJ"
    assert await store.media_ref("matrix", digest) == "mxc://localhost/abc"


async def test_forgetting_a_trainee_removes_every_trace(store: SqlStore) -> None:
    record = await new_session(store, "s1", "42")
    await store.append_turn(turn(record.id, 1), record.state)
    other = await new_session(store, "s2", "43")
    await store.forget_trainee(record.trainee_id)
    assert await store.get_session(record.id) is None
    assert await store.turns(record.id) == []
    assert await store.sessions_of(record.trainee_id) == []
    assert await store.get_session(other.id) is not None
    fresh = await store.trainee("test", "42")
    assert fresh.id != record.trainee_id  # a new, unrelated pseudonym
