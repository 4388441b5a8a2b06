"""A world for the coordinator tests: a real store, the mini scenario, a clock that ticks, and
a trainee who plays one fixed session (typed questions with a name and a phone number in them,
a hint, a referral)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.app.library import ScenarioLibrary
from bot.app.messages import ButtonsOut, DocumentOut, Incoming, Outgoing, TextOut
from bot.app.ports import AuditEntry, Role, Trainee
from bot.app.service import TrainingService
from bot.reports import Renderer
from bot.scenario.loader import Catalogue, LoadedScenario
from storage import SqlStore

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PLATFORM = "test"
#: what the trainee does in the played session, in order (None: press the first button)
SCRIPT: tuple[str | None, ...] = (
    None,  # separate, as a routine
    "Tell me about your trip, in your own words. My name is Jan Kowalski, call +48 600 123 456.",
    "/hint",
    "You said you must pay back money. Tell me more about that.",
    None,  # call the coordinator, KCIK
)


@dataclass
class Clock:
    """Every reading is 5 seconds after the last: turns get distinct, predictable times."""

    now: datetime = START
    step: timedelta = field(default=timedelta(seconds=5))

    def __call__(self) -> datetime:
        self.now += self.step
        return self.now


def make_service(store: SqlStore, mini: LoadedScenario, clock: Clock) -> TrainingService:
    catalogue = Catalogue()
    catalogue.scenarios[mini.id] = mini
    return TrainingService(
        ScenarioLibrary(catalogue, store),
        store,
        clock=clock,
        seeds=lambda: 7,
        renderer=Renderer(clock=clock),
    )


def msg(user: str, text: str | None = None, *, button: str | None = None) -> Incoming:
    return Incoming(PLATFORM, user, text=text, button=button, language="en")


def texts(replies: list[Outgoing]) -> str:
    return "\n".join(r.text for r in replies if isinstance(r, TextOut))


def documents(replies: list[Outgoing]) -> list[DocumentOut]:
    return [r for r in replies if isinstance(r, DocumentOut)]


async def play(service: TrainingService, user: str) -> list[Outgoing]:
    replies = await service.handle(msg(user, "/start mini"))
    for step in SCRIPT:
        if step is None:
            menu = next(r for r in reversed(replies) if isinstance(r, ButtonsOut))
            replies = await service.handle(msg(user, button=menu.buttons[0].data))
        else:
            replies = await service.handle(msg(user, step))
    return replies


async def person(store: SqlStore, user: str) -> Trainee:
    return await store.trainee(PLATFORM, user, language="en")


async def grant(store: SqlStore, user: str, role: Role) -> Trainee:
    who = await person(store, user)
    await store.set_role(who.id, role, AuditEntry(START, "test", "role.grant", who.alias, "done"))
    return who
