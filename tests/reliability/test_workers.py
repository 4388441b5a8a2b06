"""Several bot processes over one PostgreSQL and one Redis: a trainee's inputs may reach any
worker, in any order of arrival, and the session stays one ordered log without gaps or
doubles; a worker whose cache is stale reloads instead of writing over a newer turn."""

from __future__ import annotations

import asyncio
import random
import secrets
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from bot.app import journal
from bot.app.i18n import t
from bot.app.library import ScenarioLibrary
from bot.app.messages import ButtonsOut, Incoming, Outgoing, TextOut
from bot.app.service import TrainingService
from bot.scenario.loader import load_catalogue
from storage import SqlStore
from storage.redis_gate import RedisGate
from tests.conftest import DIALOGUES, REPORT
from tests.databases import REDIS_URL, answering
from tests.telegram.harness import free_port

WORKERS = 3
TRAINEES = 12


@pytest.fixture
async def workers(database_url: str) -> AsyncIterator[list[TrainingService]]:
    if not database_url.startswith("postgresql"):
        pytest.skip("several workers share PostgreSQL")
    redis = await answering(Redis.from_url(REDIS_URL))
    prefix = f"w{secrets.token_hex(4)}"
    catalogue = load_catalogue([DIALOGUES])
    stores = [await SqlStore.open(database_url) for _ in range(WORKERS)]
    services = [
        TrainingService(
            ScenarioLibrary(catalogue, store),
            store,
            gate=RedisGate(redis, worker=f"worker{n}", prefix=prefix),
        )
        for n, store in enumerate(stores)
    ]
    yield services
    for store in stores:
        await store.close()
    await redis.aclose()


def buttons(replies: list[Outgoing]) -> list[str]:
    menus = [r for r in replies if isinstance(r, ButtonsOut)]
    return [b.data for b in menus[-1].buttons] if menus else []


async def test_inputs_spread_over_workers_make_one_ordered_log(
    workers: list[TrainingService],
) -> None:
    rng = random.Random(7)
    sent = 0

    async def trainee(n: int) -> None:
        nonlocal sent
        user = f"t{n}"
        replies = await rng.choice(workers).handle(Incoming("lb", user, text="/start air-01"))
        for step in range(25):
            options = buttons(replies)
            if not options:
                break
            worker = rng.choice(workers)  # the load balancer sends each input anywhere
            incoming = Incoming("lb", user, button=options[0], key=f"{user}:{step}")
            replies = await worker.handle(incoming)
            if [r.kind for r in replies if isinstance(r, TextOut)] == ["warning"]:
                replies = await worker.handle(Incoming("lb", user, text="/resume"))
            sent += 1

    await asyncio.gather(*(trainee(n) for n in range(TRAINEES)))
    store = workers[0].store
    checked = 0
    for n in range(TRAINEES):
        person = await store.trainee("lb", f"t{n}")
        [session] = await store.sessions_of(person.id)
        log = list(await store.turns(session.id))
        assert [t.seq for t in log] == list(range(len(log)))
        keys = [t.input_key for t in log if t.input_key]
        assert len(keys) == len(set(keys))
        version = await workers[0].library.version(session.scenario_hash, session.scenario_id)
        assert journal.replay(version.interview, log) == session.state
        checked += len(log)
    REPORT.append(
        f"several workers: {WORKERS} workers, {TRAINEES} trainees, {sent} inputs spread at "
        f"random, {checked} turns in order without gaps or doubles"
    )


async def test_a_worker_with_a_stale_cache_reloads_instead_of_conflicting(
    workers: list[TrainingService],
) -> None:
    first, second = workers[0], workers[1]
    replies = await first.handle(Incoming("lb", "u", text="/start air-01"))
    replies = await first.handle(Incoming("lb", "u", button=buttons(replies)[0], key="k1"))
    replies = await second.handle(Incoming("lb", "u", button=buttons(replies)[0], key="k2"))
    # `first` still holds the session at turn 1 in memory; the trainee is at turn 2
    replies = await first.handle(Incoming("lb", "u", button=buttons(replies)[0], key="k3"))
    assert buttons(replies), replies  # answered as a normal turn, not a conflict
    person = await first.store.trainee("lb", "u")
    [session] = await first.store.sessions_of(person.id)
    log = await first.store.turns(session.id)
    assert [t.input_key for t in log] == [None, "k1", "k2", "k3"]


async def test_an_input_met_by_a_redis_outage_is_refused_not_lost(
    workers: list[TrainingService],
) -> None:
    """Redis goes away between two inputs: the second is answered "try again shortly" and
    stores nothing; sent again once Redis is back, it is applied once."""
    worker = workers[0]
    replies = await worker.handle(Incoming("lb", "outage", text="/start air-01"))
    choice = buttons(replies)[0]
    working = worker.gate
    worker.gate = RedisGate.from_url(f"redis://127.0.0.1:{free_port()}/0")  # nobody listens
    try:
        refused = await worker.handle(Incoming("lb", "outage", button=choice, key="k1"))
    finally:
        await worker.gate.close()  # type: ignore[attr-defined]
        worker.gate = working
    assert [(r.kind, r.text) for r in refused if isinstance(r, TextOut)] == [
        ("error", t("en", "storage_unavailable"))
    ]
    person = await worker.store.trainee("lb", "outage")
    [session] = await worker.store.sessions_of(person.id)
    assert [x.input_key for x in await worker.store.turns(session.id)] == [None]
    replies = await worker.handle(Incoming("lb", "outage", button=choice, key="k1"))
    assert buttons(replies), replies
    assert [x.input_key for x in await worker.store.turns(session.id)] == [None, "k1"]


async def test_a_start_handled_by_two_workers_starts_one_session(
    workers: list[TrainingService],
) -> None:
    """The same press of a scenario's button reaches a second worker (it took the update over
    from the first): the session the first started goes on; it is not quit and restarted."""
    first, second = workers[0], workers[1]
    await first.handle(Incoming("lb", "twice", text="/start"))
    press = Incoming("lb", "twice", button="s:air-01", key="start-1")
    started = await first.handle(press)
    again = await second.handle(press)
    assert buttons(started) and not buttons(again)
    assert [(r.kind, r.text) for r in again if isinstance(r, TextOut)] == [
        ("info", t("en", "duplicate"))
    ]
    person = await first.store.trainee("lb", "twice")
    [session] = await first.store.sessions_of(person.id)
    assert session.state.status == "active"
