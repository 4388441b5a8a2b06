"""Forgetting a person and the retention period, on SQLite and PostgreSQL, checked in the
database's own tables: nothing of the person is left, and the audit log keeps its entries."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from bot.app.access import Actor
from bot.app.exports import Selection
from bot.app.messages import ButtonsOut
from bot.app.service import TrainingService
from bot.scenario.loader import LoadedScenario
from storage import SqlStore
from storage.directory import REMOVED
from storage.tables import (
    audit_log,
    cohort_members,
    cohorts,
    sessions,
    trainee_identities,
    trainees,
    turns,
    user_roles,
)
from tests.coordination.helpers import Clock, grant, make_service, msg, person, play, texts


@dataclass
class World:
    url: str
    store: SqlStore
    service: TrainingService
    clock: Clock
    admin: Actor


@pytest.fixture
async def world(database_url: str, mini: LoadedScenario) -> AsyncIterator[World]:
    store = await SqlStore.open(database_url)
    clock = Clock()
    try:
        service = make_service(store, mini, clock)
        yield World(database_url, store, service, clock, service.coordination.operator("test"))
    finally:
        await store.close()


async def count(url: str, table: Any, *where: Any) -> int:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            query = select(func.count()).select_from(table)
            for clause in where:
                query = query.where(clause)
            return int((await conn.execute(query)).scalar_one())
    finally:
        await engine.dispose()


async def rows(url: str, sql: str, **params: Any) -> list[Any]:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            return list((await conn.execute(text(sql), params)).all())
    finally:
        await engine.dispose()


async def everything_of(url: str, trainee_id: str) -> dict[str, int]:
    mine = select(sessions.c.id).where(sessions.c.trainee_id == trainee_id)
    return {
        "trainees": await count(url, trainees, trainees.c.id == trainee_id),
        "identities": await count(
            url, trainee_identities, trainee_identities.c.trainee_id == trainee_id
        ),
        "sessions": await count(url, sessions, sessions.c.trainee_id == trainee_id),
        "turns": await count(url, turns, turns.c.session_id.in_(mine)),
        "roles": await count(url, user_roles, user_roles.c.trainee_id == trainee_id),
        "memberships": await count(url, cohort_members, cohort_members.c.trainee_id == trainee_id),
        "coordinating": await count(url, cohorts, cohorts.c.coordinator_id == trainee_id),
    }


async def test_forget_deletes_everywhere_and_keeps_the_audit(world: World) -> None:
    w = world
    c = w.service.coordination
    cora = await grant(w.store, "cora", "coordinator")
    tina = await grant(w.store, "tina", "trainer")
    await play(w.service, "tina")
    await play(w.service, "tina")
    await c.create_cohort(w.admin, "Group A", coordinator=cora.alias)
    await c.add(w.admin, "Group A", [tina.alias])
    await c.transcripts(w.admin, Selection(trainee=tina.alias))  # audited reads of hers
    before = await everything_of(w.url, tina.id)
    assert before == {
        "trainees": 1,
        "identities": 1,
        "sessions": 2,
        "turns": 12,
        "roles": 1,
        "memberships": 1,
        "coordinating": 0,
    }
    audited = await count(w.url, audit_log)

    forgotten, deleted = await c.forget(w.admin, "test:tina")
    assert (forgotten.alias, deleted) == (tina.alias, 2)
    assert set((await everything_of(w.url, tina.id)).values()) == {0}
    # the audit log lost nothing and says who forgot whom
    assert await count(w.url, audit_log) == audited + 1
    last = (await w.store.audit_log(limit=1))[0]
    assert (last.actor, last.action, last.subject, last.detail) == (
        "cli:test",
        "user.forget",
        tina.alias,
        {"sessions": 2},
    )
    assert len(await w.store.audit_log(subject=tina.alias)) >= 2
    # the person is new to the bot if they come back
    again = await person(w.store, "tina")
    assert again.id != tina.id and again.alias != tina.alias

    # forgetting a coordinator keeps their cohort, without a coordinator
    await c.forget(w.admin, cora.alias)
    assert set((await everything_of(w.url, cora.id)).values()) == {0}
    cohort = await w.store.cohort("Group A")
    assert cohort is not None and cohort.coordinator_id is None


async def test_forget_in_the_chat_asks_then_deletes(world: World) -> None:
    w = world
    await play(w.service, "tina")
    tina = await person(w.store, "tina")
    replies = await w.service.handle(msg("tina", "/forget"))
    menu = next(r for r in replies if isinstance(r, ButtonsOut))
    yes, no = (b.data for b in menu.buttons)
    assert yes.startswith("f:yes:") and no == "f:no"
    replies = await w.service.handle(msg("tina", button=yes))
    assert "deleted" in texts(replies)
    assert set((await everything_of(w.url, tina.id)).values()) == {0}
    (entry,) = await w.store.audit_log(subject=tina.alias)
    assert (entry.actor, entry.action, entry.detail) == (
        tina.alias,
        "user.forget",
        {"sessions": 1, "by": "self"},
    )


async def test_retention_reports_first_then_anonymises(world: World) -> None:
    w = world
    c = w.service.coordination
    await play(w.service, "old")
    old = await person(w.store, "old")
    (stale,) = await w.store.sessions_of(old.id)
    scores = stale.state.scores
    w.clock.now += timedelta(days=400)
    await play(w.service, "new")
    new = await person(w.store, "new")

    plan = await c.retention(w.admin, days=365, action="anonymise", execute=False)
    assert [s.id for s in plan.sessions] == [stale.id] and not plan.executed
    assert plan.turns == 6
    assert await count(w.url, sessions, sessions.c.trainee_id == old.id) == 1  # a dry run

    plan = await c.retention(w.admin, days=365, action="anonymise", execute=True)
    assert [s.id for s in plan.sessions] == [stale.id] and plan.executed
    assert await count(w.url, sessions, sessions.c.trainee_id == old.id) == 0
    (kept,) = await rows(
        w.url,
        "SELECT s.id, t.alias FROM sessions s JOIN trainees t ON t.id = s.trainee_id "
        "WHERE s.id = :id",
        id=stale.id,
    )
    assert kept.alias.startswith("anon-")
    assert (
        await count(
            w.url,
            trainee_identities,
            trainee_identities.c.trainee_id.in_(
                select(sessions.c.trainee_id).where(sessions.c.id == stale.id)
            ),
        )
        == 0
    )
    typed = await rows(
        w.url,
        "SELECT input, input_key FROM turns WHERE session_id = :id AND kind = 'text'",
        id=stale.id,
    )
    assert typed and {(r.input, r.input_key) for r in typed} == {(REMOVED, None)}
    record = await w.store.get_session(stale.id)
    assert record is not None and record.state.scores == scores  # the statistics stay
    (transcript,) = await c.transcripts(w.admin, Selection(sessions=(stale.id,)))
    assert transcript.replayed and transcript.debrief is not None
    assert [t.words for t in transcript.turns if t.kind == "text"] == [REMOVED, REMOVED]
    # the recent session is untouched, and a second run has nothing left to do
    assert await count(w.url, sessions, sessions.c.trainee_id == new.id) == 1
    assert (await c.retention(w.admin, days=365, action="anonymise", execute=True)).sessions == ()
    runs = [e.detail for e in await w.store.audit_log() if e.action == "retention.anonymise"]
    assert runs == [{"sessions": 0, "days": 365}, {"sessions": 1, "days": 365}]  # newest first


async def test_retention_deletes(world: World) -> None:
    w = world
    c = w.service.coordination
    await play(w.service, "old")
    old = await person(w.store, "old")
    (stale,) = await w.store.sessions_of(old.id)
    w.clock.now += timedelta(days=40)
    plan = await c.retention(w.admin, days=30, action="delete", execute=True)
    assert [s.id for s in plan.sessions] == [stale.id]
    assert await count(w.url, sessions) == 0
    assert await count(w.url, turns) == 0
    assert await count(w.url, trainees, trainees.c.id == old.id) == 1  # the person stays
    assert any(e.action == "retention.delete" for e in await w.store.audit_log())
