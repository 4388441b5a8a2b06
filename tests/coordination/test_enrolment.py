"""Joining a cohort with its code, through the neutral service every adapter calls:
`/start CODE` (Telegram's deep link), `/join CODE` and `!join CODE` (Matrix); the cohort's
scenarios and feedback mode then apply. And the documents coordinators get in the chat."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from rich.console import Console

from adapters.console.console import ConsoleSession
from bot.app.messages import ButtonsOut, DocumentOut, TextOut
from bot.app.service import TrainingService
from bot.scenario.loader import Catalogue, LoadedScenario, load_scenario
from storage import SqlStore
from tests.conftest import DIALOGUES
from tests.coordination.helpers import (
    START,
    Clock,
    documents,
    grant,
    make_service,
    msg,
    person,
    play,
    texts,
)


@dataclass
class World:
    store: SqlStore
    service: TrainingService
    clock: Clock


@pytest.fixture
async def world(tmp_path: Path, mini: LoadedScenario) -> AsyncIterator[World]:
    store = await SqlStore.open(f"sqlite+aiosqlite:///{tmp_path / 'enrol.db'}")
    clock = Clock()
    try:
        service = make_service(store, mini, clock)
        second = load_scenario(DIALOGUES / "air-01" / "scenario.yaml")
        catalogue: Catalogue = service.library.catalogue
        catalogue.scenarios[second.id] = second
        yield World(store, service, clock)
    finally:
        await store.close()


@pytest.mark.parametrize(
    "command",
    [
        "/start {code}",
        "/join {code}",
        "!join {code}",
        "/join {lower}",
        "/start@SignpostBot {dashed}",
    ],
)
async def test_a_code_enrols_the_trainee(world: World, command: str) -> None:
    c = world.service.coordination
    cohort = await c.create_cohort(c.operator("t"), "Group A", scenarios=["mini"], mode="exam")
    code = cohort.code
    text = command.format(code=code, lower=code.lower(), dashed=f"{code[:4]}-{code[4:]}")
    replies = await world.service.handle(msg("tina", text))
    assert "You have joined the training group “Group A”." in texts(replies)
    tina = await person(world.store, "tina")
    assert [(x.name, role) for x, role in await world.store.memberships(tina.id)] == [
        ("Group A", "trainee")
    ]
    if command.startswith("/start"):  # a first contact: consent and language first
        assert "fiction" in texts(replies)
    else:  # the cohort's scenarios only
        menu = next(r for r in replies if isinstance(r, ButtonsOut))
        assert [b.data for b in menu.buttons] == ["s:mini"]
    entry = (await world.store.audit_log(limit=1))[0]
    assert (entry.actor, entry.action, entry.subject) == (tina.alias, "cohort.join", "Group A")


async def test_the_cohorts_mode_and_scenarios_apply(world: World) -> None:
    c = world.service.coordination
    cohort = await c.create_cohort(c.operator("t"), "Exam day", scenarios=["mini"], mode="exam")
    await world.service.handle(msg("tina", f"/join {cohort.code}"))
    replies = await world.service.handle(msg("tina", "/scenarios"))
    menu = next(r for r in replies if isinstance(r, ButtonsOut))
    assert [b.data for b in menu.buttons] == ["s:mini"]
    replies = await world.service.handle(msg("tina", button="s:mini"))
    assert "Exam mode" in texts(replies)
    # someone outside the cohort sees every scenario and plays in the default mode
    replies = await world.service.handle(msg("olga", "/scenarios"))
    menu = next(r for r in replies if isinstance(r, ButtonsOut))
    assert {b.data for b in menu.buttons} == {"s:mini", "s:air-01"}


async def test_bad_and_closed_codes_say_so(world: World) -> None:
    c = world.service.coordination
    yesterday = (START - timedelta(days=1)).date()
    closed = await c.create_cohort(
        c.operator("t"), "Last year", starts_on=date(2025, 1, 1), ends_on=yesterday
    )
    for text in (f"/join {closed.code}", "/join ABCDEFGH", "!join nope", f"/start {closed.code}"):
        replies = await world.service.handle(msg("tina", text))
        assert "No open training group has the code" in texts(replies), text
    replies = await world.service.handle(msg("tina", "/join"))
    assert "Send /join CODE" in texts(replies)
    # /start with a scenario id still starts it
    replies = await world.service.handle(msg("tina", "/start mini"))
    assert "Content warning" in texts(replies)
    tina = await person(world.store, "tina")
    assert await world.store.memberships(tina.id) == []


async def test_coordinator_documents_in_the_chat_and_the_console(
    world: World, tmp_path: Path
) -> None:
    c = world.service.coordination
    await grant(world.store, "cora", "coordinator")
    cohort = await c.create_cohort(c.operator("t"), "Group A", coordinator="test:cora")
    await world.service.handle(msg("tina", f"/join {cohort.code}"))
    await play(world.service, "tina")
    tina = await person(world.store, "tina")
    (session,) = await world.store.sessions_of(tina.id)

    replies = await world.service.handle(msg("cora", "/cohorts"))
    assert f"Group A · code {cohort.code} · 1 trainees" in texts(replies)
    for text, filename, media in (
        ("/report Group A", "cohort-group-a.html", "text/html"),
        (f"/transcript {session.id[:8]}", f"transcript-{session.id[:12]}.html", "text/html"),
        (f"/debrief {tina.alias}", f"debrief-{tina.alias}-{session.id[:12]}.html", "text/html"),
    ):
        replies = await world.service.handle(msg("cora", text))
        (document,) = documents(replies)
        assert (document.filename, document.media_type) == (filename, media), text
        assert document.data.startswith(b"<!DOCTYPE html>") and document.caption
    for text in ("/report", "/transcript"):
        replies = await world.service.handle(msg("cora", text))
        assert "Usage:" in texts(replies)
    replies = await world.service.handle(msg("cora", "/transcript 0123456789"))
    assert "Nothing called" in texts(replies)
    # every read is in the audit log, by the coordinator's alias
    cora = await person(world.store, "cora")
    reads = [e.action for e in await world.store.audit_log(limit=10) if e.actor == cora.alias]
    assert {"report.cohort", "transcript.chat", "transcript.chat_debrief"} <= set(reads)

    # the console adapter saves a document and says where
    console = Console(record=True, width=120)
    session_view = ConsoleSession(world.service, console, "cora", documents=tmp_path / "docs")
    session_view.show(
        [DocumentOut("r.html", "text/html", b"<html></html>", "Cohort report: Group A")]
    )
    assert (tmp_path / "docs" / "r.html").read_bytes() == b"<html></html>"
    assert "Cohort report: Group A" in console.export_text()


async def test_polish_replies(world: World) -> None:
    replies = await world.service.handle(
        msg("piotr", "/report X").__class__("test", "piotr", text="/report X", language="pl")
    )
    assert texts(replies) == "Polecenie /report jest dla koordynatorów."
    replies = await world.service.handle(
        msg("piotr", "/join").__class__("test", "piotr", text="/join ZZZZZZZZ", language="pl")
    )
    assert "Żadna otwarta grupa" in texts(replies)
    assert all(isinstance(r, TextOut) for r in replies)
