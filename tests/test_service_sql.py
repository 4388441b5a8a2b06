"""The use cases over the real store: restart and resume, replay of the log, duplicates."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import journal
from bot.app.library import ScenarioLibrary
from bot.app.messages import ButtonsOut, DebriefOut, Incoming, Outgoing, TextOut
from bot.app.ports import StoreUnavailableError
from bot.app.service import TrainingService
from bot.scenario.loader import Catalogue, LoadedScenario, load_catalogue, load_scenario_text
from storage import SqlStore


def service_for(store: SqlStore, *scenarios: LoadedScenario) -> TrainingService:
    catalogue = Catalogue()
    for loaded in scenarios:
        catalogue.scenarios[loaded.id] = loaded
    return TrainingService(ScenarioLibrary(catalogue, store), store)


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[SqlStore]:
    opened = await SqlStore.open(database_url)
    try:
        yield opened
    finally:
        await opened.close()


def msg(text: str | None = None, *, button: str | None = None, key: str | None = None) -> Incoming:
    return Incoming("test", "trainee-1", text=text, button=button, key=key, language="en")


def first_button(replies: list[Outgoing]) -> str:
    return next(r for r in reversed(replies) if isinstance(r, ButtonsOut)).buttons[0].data


async def test_restart_mid_scenario_loses_and_doubles_nothing(
    database_url: str, mini: LoadedScenario
) -> None:
    store = await SqlStore.open(database_url)
    service = service_for(store, mini)
    replies = await service.handle(msg("/start mini", key="1"))
    replies = await service.handle(msg(button=first_button(replies), key="2"))
    await store.close()  # the process stops

    store = await SqlStore.open(database_url)
    try:
        service = service_for(store, mini)
        # the messenger delivers the last update again after the restart: applied once
        again = await service.handle(msg(button="c:0:0", key="2"))
        assert "earlier turn" in " ".join(r.text for r in again if isinstance(r, TextOut))
        replies = await service.handle(msg("Tell me about your trip, in your own words", key="3"))
        assert any(isinstance(r, TextOut) and "A man paid" in r.text for r in replies)
        trainee = await store.trainee("test", "trainee-1")
        (session,) = await store.sessions_of(trainee.id)
        log = await store.turns(session.id)
        assert [t.seq for t in log] == [0, 1, 2]
        assert [t.kind for t in log] == ["start", "choice", "text"]
        assert log[2].payload["question"]["code"] == "Q+OPEN"
    finally:
        await store.close()


async def test_the_log_replays_to_exactly_the_stored_state(
    store: SqlStore, mini: LoadedScenario
) -> None:
    service = service_for(store, mini)
    replies = await service.handle(msg("/start mini"))
    replies = await service.handle(msg(button=first_button(replies)))
    await service.handle(msg("do you like football"))
    await service.handle(msg("/hint"))
    await service.handle(msg("/pause"))
    await service.handle(msg("/resume"))
    replies = await service.handle(msg("A man paid your ticket, didn't he?"))
    replies = await service.handle(msg(button=first_button(replies)))
    trainee = await store.trainee("test", "trainee-1")
    (session,) = await store.sessions_of(trainee.id)
    version = await service.library.version(session.scenario_hash, session.scenario_id)
    rebuilt = journal.replay(version.interview, await store.turns(session.id))
    assert rebuilt == session.state


async def test_a_session_continues_on_the_version_it_started(
    store: SqlStore, mini: LoadedScenario, mini_source: str
) -> None:
    replies = await service_for(store, mini).handle(msg("/start mini"))
    data = first_button(replies)
    edited_source = mini_source.replace("I can translate for her, officer.", "Let me translate.")
    edited = load_scenario_text(edited_source, "mini-v2", folder=mini.folder)
    assert edited.content_hash != mini.content_hash
    service = service_for(store, edited)  # restarted with the edited file
    replies = await service.handle(msg(button=data))
    assert any(isinstance(r, TextOut) and r.speaker == "Interpreter" for r in replies)
    trainee = await store.trainee("test", "trainee-1")
    (session,) = await store.sessions_of(trainee.id)
    assert session.scenario_hash == mini.content_hash
    replies = await service.handle(msg("/restart"))
    assert any(isinstance(r, TextOut) and r.text == "Let me translate." for r in replies)


async def test_whole_session_to_debrief(store: SqlStore, mini: LoadedScenario) -> None:
    service = service_for(store, mini)
    replies = await service.handle(msg("/start mini"))
    for _ in range(4):
        replies = await service.handle(msg(button=first_button(replies)))
    assert any(isinstance(r, DebriefOut) and r.debrief.passed for r in replies)
    again = await service.handle(msg("/debrief"))
    assert isinstance(again[0], DebriefOut)


async def test_an_unreachable_database_is_a_clear_error() -> None:
    with pytest.raises(StoreUnavailableError, match="cannot prepare the database"):
        await SqlStore.open("postgresql+asyncpg://nobody@127.0.0.1:1/none")


async def test_a_scenario_whose_file_breaks_keeps_its_last_good_version(
    store: SqlStore, mini: LoadedScenario, mini_source: str, tmp_path: Path
) -> None:
    await service_for(store, mini).handle(msg("/start mini"))  # stores the good version
    folder = tmp_path / "dialogues" / "mini"
    folder.mkdir(parents=True)
    (folder / "scenario.yaml").write_text(mini_source.replace("nodes:", "nodez:"), "utf-8")
    catalogue = load_catalogue([tmp_path / "dialogues"])
    assert catalogue.get("mini") is None and catalogue.failures  # the edit broke it
    library = ScenarioLibrary(catalogue, store)
    [line] = await library.keep_serving_last_good()
    assert line.startswith("mini: ") and mini.content_hash[:12] in line
    service = TrainingService(library, store)
    replies = await service.handle(Incoming("test", "trainee-2", text="/start mini"))
    assert any(isinstance(r, ButtonsOut) for r in replies)
    person = await store.trainee("test", "trainee-2")
    [session] = await store.sessions_of(person.id)
    assert session.scenario_hash == mini.content_hash
