"""The use cases over the in-memory store: ordering, dedupe, commands, bad input, resume."""

from __future__ import annotations

import asyncio

import pytest

from bot.app.library import ScenarioLibrary
from bot.app.messages import ButtonsOut, DebriefOut, Incoming, MediaOut, Outgoing, TextOut
from bot.app.service import TrainingService
from bot.scenario.loader import Catalogue, LoadedScenario
from tests.fakes import MemoryStore


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def service(mini: LoadedScenario, store: MemoryStore) -> TrainingService:
    catalogue = Catalogue()
    catalogue.scenarios[mini.id] = mini
    return TrainingService(ScenarioLibrary(catalogue, store), store, seeds=lambda: 7)


def msg(
    text: str | None = None, *, button: str | None = None, key: str | None = None, user: str = "u1"
) -> Incoming:
    return Incoming("test", user, text=text, button=button, key=key, language="en")


def buttons_of(replies: list[Outgoing]) -> ButtonsOut:
    return next(r for r in reversed(replies) if isinstance(r, ButtonsOut))


def texts(replies: list[Outgoing]) -> str:
    return "\n".join(r.text for r in replies if isinstance(r, TextOut))


async def test_start_lists_scenarios_and_a_button_starts_one(service: TrainingService) -> None:
    replies = await service.handle(msg("/start"))
    assert "fiction" in texts(replies) and "/forget" in texts(replies)
    assert [b.data for b in buttons_of(replies).buttons] == ["l:en", "l:pl"]
    replies = await service.handle(msg(button="l:pl"))
    assert "Język: polski." in texts(replies)
    replies = await service.handle(msg(button="l:en"))
    menu = buttons_of(replies)
    assert menu.buttons[0].data == "s:mini"
    replies = await service.handle(msg(button="s:mini"))
    assert "Content warning" in texts(replies)
    assert buttons_of(replies).buttons[0].label.startswith("We speak to each traveller")


async def test_a_whole_session_to_the_debrief(service: TrainingService, store: MemoryStore) -> None:
    replies = await service.handle(msg("/start mini"))
    for label in (
        "We speak",
        "Tell me about your trip",
        "You said you must",
        "Call the coordinator",
    ):
        button = next(b for b in buttons_of(replies).buttons if b.label.startswith(label))
        replies = await service.handle(msg(button=button.data))
    debrief = next(r for r in replies if isinstance(r, DebriefOut))
    assert debrief.debrief.passed and "PASSED" in debrief.text
    (session,) = store.sessions.values()
    assert session.state.status == "ended"
    assert [t.kind for t in store.log[session.id]] == [
        "start",
        "choice",
        "choice",
        "choice",
        "choice",
    ]


async def test_coach_feedback_and_exam_silence(service: TrainingService) -> None:
    replies = await service.handle(msg("/start mini"))
    replies = await service.handle(msg(button=buttons_of(replies).buttons[0].data))
    assert any(isinstance(r, TextOut) and r.kind == "feedback" for r in replies)
    service.default_mode = "exam"
    replies = await service.handle(msg("/restart"))  # a restart keeps the session's mode
    replies = await service.handle(msg(button=buttons_of(replies).buttons[0].data))
    assert any(isinstance(r, TextOut) and r.kind == "feedback" for r in replies)
    replies = await service.handle(msg("/start mini"))  # a new session takes the default
    replies = await service.handle(msg(button=buttons_of(replies).buttons[0].data))
    assert not any(isinstance(r, TextOut) and r.kind == "feedback" for r in replies)


async def test_the_same_message_is_applied_once(
    service: TrainingService, store: MemoryStore
) -> None:
    replies = await service.handle(msg("/start mini"))
    data = buttons_of(replies).buttons[0].data
    await service.handle(msg(button=data, key="update-1"))
    again = await service.handle(msg(button=data, key="update-1"))
    assert "nothing was changed" in texts(again)
    (session,) = store.sessions.values()
    assert len(store.log[session.id]) == 2


async def test_stale_and_forged_buttons_change_nothing(
    service: TrainingService, store: MemoryStore
) -> None:
    replies = await service.handle(msg("/start mini"))
    first = buttons_of(replies).buttons[0].data
    await service.handle(msg(button=first))
    (session,) = store.sessions.values()
    before = len(store.log[session.id])
    for data in (first, "c:1:99", "c:x:y", "s:", "", "c:1:0:0", "x" * 500, "c:-1:0"):
        replies = await service.handle(msg(button=data))
        assert "nothing was changed" in texts(replies) or "no scenario" in texts(replies).lower()
    assert len(store.log[session.id]) == before


async def test_bad_text_gets_a_clear_reply(service: TrainingService) -> None:
    assert "too long" in texts(await service.handle(msg("x" * 5000)))
    assert "type a question" in texts(await service.handle(msg("   ")))
    assert "Unknown command" in texts(await service.handle(msg("/frobnicate")))
    assert "no session" in texts(await service.handle(msg("hello")))


async def test_pause_resume_quit(service: TrainingService, store: MemoryStore) -> None:
    await service.handle(msg("/start mini"))
    assert "Paused" in texts(await service.handle(msg("/pause")))
    assert "paused" in texts(await service.handle(msg("where are you going?")))
    resumed = await service.handle(msg("/resume"))
    assert "Resuming" in texts(resumed) and buttons_of(resumed).buttons
    assert "left the session" in texts(await service.handle(msg("/quit")))
    assert "no session" in texts(await service.handle(msg("hello")))
    (session,) = store.sessions.values()
    assert [t.kind for t in store.log[session.id]] == ["start", "pause", "resume", "quit"]


async def test_nothing_is_answered_for_a_turn_that_was_not_stored(
    service: TrainingService, store: MemoryStore
) -> None:
    replies = await service.handle(msg("/start mini"))
    data = buttons_of(replies).buttons[0].data
    store.down = True
    failed = await service.handle(msg(button=data))
    assert "could not be saved" in texts(failed)
    assert not any(isinstance(r, ButtonsOut | MediaOut) for r in failed)
    store.down = False
    replies = await service.handle(msg(button=data))
    assert "Interpreter" in [r.speaker for r in replies if isinstance(r, TextOut)]


async def test_a_restarted_service_resumes_from_the_store(
    mini: LoadedScenario, store: MemoryStore
) -> None:
    def fresh() -> TrainingService:
        catalogue = Catalogue()
        catalogue.scenarios[mini.id] = mini
        return TrainingService(ScenarioLibrary(catalogue, store), store, seeds=lambda: 7)

    first = fresh()
    replies = await first.handle(msg("/start mini"))
    replies = await first.handle(msg(button=buttons_of(replies).buttons[0].data))
    second = fresh()  # a new process: nothing in memory
    replies = await second.handle(msg("Tell me about your trip, in your own words"))
    assert "A man paid the ticket" in "\n".join(r.text for r in replies if isinstance(r, TextOut))


async def test_one_trainee_in_order_many_at_once(
    service: TrainingService, store: MemoryStore
) -> None:
    users = [f"u{i}" for i in range(20)]
    starts = await asyncio.gather(*(service.handle(msg("/start mini", user=u)) for u in users))
    datas = [buttons_of(r).buttons[0].data for r in starts]
    # the same trainee presses twice at once: exactly one press is applied
    results = await asyncio.gather(
        *(service.handle(msg(button=d, user=u)) for u, d in zip(users, datas, strict=True)),
        *(service.handle(msg(button=d, user=u)) for u, d in zip(users, datas, strict=True)),
    )
    assert sum("earlier turn" in texts(r) for r in results) == len(users)
    for session in store.sessions.values():
        assert [t.seq for t in store.log[session.id]] == [0, 1]


async def test_language_switch_and_polish_ui(service: TrainingService) -> None:
    assert "Język: polski" in texts(await service.handle(msg("/language pl")))
    replies = await service.handle(msg("/start mini"))
    assert "Ostrzeżenie o treści" in texts(replies)
    assert buttons_of(replies).buttons[0].label.startswith("Rozmawiamy")


async def test_forget_asks_first_then_deletes_everything(
    service: TrainingService, store: MemoryStore
) -> None:
    await service.handle(msg("/start mini"))
    await service.handle(
        msg(button=buttons_of(await service.handle(msg("/resume"))).buttons[0].data)
    )
    assert store.sessions
    replies = await service.handle(msg("/forget"))
    yes, no = (b.data for b in buttons_of(replies).buttons)
    assert yes.startswith("f:yes:") and no == "f:no"
    assert "Nothing was deleted." in texts(await service.handle(msg(button=no)))
    assert "not valid" in texts(await service.handle(msg(button=yes)))  # used up by "no"
    assert "not valid" in texts(await service.handle(msg(button="f:yes:forged")))
    assert store.sessions
    yes = buttons_of(await service.handle(msg("/forget"))).buttons[0].data
    replies = await service.handle(msg(button=yes))
    assert "your data has been deleted" in texts(replies)
    assert not store.sessions and not store.log and not store.trainees
    assert "no session" in texts(await service.handle(msg("/hint"))).lower()
