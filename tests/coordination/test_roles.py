"""Every command against every role, allowed or denied as docs/coordinators.md says.

One world per role: cohort "Group A" coordinated by cora, with tom as its trainer and tina as
a trainee who played a session; the person acting is the role's user. Mutating commands act on
throwaway targets, so every command of the row runs against the same world.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from bot.app.access import POLICY, AccessDeniedError, Actor
from bot.app.directory import UserError
from bot.app.exports import Selection
from bot.app.messages import ButtonsOut, DebriefOut, DocumentOut
from bot.app.ports import ROLES, Role
from bot.app.service import TrainingService
from bot.scenario.loader import LoadedScenario
from storage import SqlStore
from tests.coordination.helpers import Clock, grant, make_service, msg, person, play, texts

#: who acts for each role (cora coordinates Group A, tom trains it, tina is in it)
ACTING = {"trainee": "tina", "trainer": "tom", "coordinator": "cora", "admin": "ada"}
Y, N = True, False
#: command -> allowed for (trainee, trainer, coordinator, admin); the table in the docs
TABLE: dict[str, tuple[bool, bool, bool, bool]] = {
    # in the messenger
    "/start": (Y, Y, Y, Y),
    "/start CODE": (Y, Y, Y, Y),
    "/join CODE": (Y, Y, Y, Y),
    "!join CODE": (Y, Y, Y, Y),
    "/debrief": (Y, Y, Y, Y),
    "/forget": (Y, Y, Y, Y),
    "/help": (Y, Y, Y, Y),
    "/cohorts": (N, Y, Y, Y),
    "/report COHORT": (N, Y, Y, Y),
    "/transcript SESSION": (N, N, Y, Y),
    "/debrief TRAINEE": (N, N, Y, Y),
    # on the command line (signpost ... --as USER)
    "transcripts export": (Y, N, Y, Y),  # a trainee: their own sessions only
    "report session": (Y, N, Y, Y),
    "report cohort": (N, Y, Y, Y),
    "cohort create": (N, N, Y, Y),
    "cohort list": (N, Y, Y, Y),
    "cohort show": (N, Y, Y, Y),
    "cohort add": (N, N, Y, Y),
    "cohort remove": (N, N, Y, Y),
    "user list": (N, N, N, Y),
    "user grant": (N, N, N, Y),
    "user forget": (N, N, N, Y),
    "retention apply": (N, N, N, Y),
    "audit": (N, N, N, Y),
}
#: the command line's commands and the action each checks (bot.app.access.POLICY)
CLI_ACTIONS = {
    "transcripts export": "transcripts.export",
    "report session": "report.session",
    "report cohort": "report.cohort",
    "cohort create": "cohort.create",
    "cohort list": "cohort.list",
    "cohort show": "cohort.show",
    "cohort add": "cohort.add",
    "cohort remove": "cohort.remove",
    "user list": "user.list",
    "user grant": "user.grant",
    "user forget": "user.forget",
    "retention apply": "retention.apply",
    "audit": "audit.read",
}


def test_the_policy_is_the_documented_table() -> None:
    for command, action in CLI_ACTIONS.items():
        allowed = {role for role, ok in zip(ROLES, TABLE[command], strict=True) if ok}
        assert POLICY[action] == allowed, command  # type: ignore[index]


class World:
    def __init__(self, store: SqlStore, service: TrainingService) -> None:
        self.store = store
        self.service = service
        self.c = service.coordination
        self.code = ""
        self.session = ""
        self.cohort = "Group A"


@pytest.fixture
async def world(tmp_path: Path, mini: LoadedScenario) -> AsyncIterator[World]:
    store = await SqlStore.open(f"sqlite+aiosqlite:///{tmp_path / 'roles.db'}")
    try:
        service = make_service(store, mini, Clock())
        w = World(store, service)
        cora = await grant(store, "cora", "coordinator")
        await grant(store, "tom", "trainer")
        await grant(store, "ada", "admin")
        tina = await person(store, "tina")
        await play(service, "tina")
        admin = w.c.operator("setup")
        cohort = await w.c.create_cohort(admin, w.cohort, coordinator=cora.alias)
        w.code = cohort.code
        await w.c.add(admin, w.cohort, [tina.alias])
        await w.c.add(admin, w.cohort, ["test:tom"], "trainer")
        (record,) = await store.sessions_of(tina.id)
        w.session = record.id
        yield w
    finally:
        await store.close()


async def chat(w: World, user: str, text: str) -> bool:
    """Whether the messenger did what was asked (not the 'for coordinators' refusal)."""
    replies = await w.service.handle(msg(user, text))
    said = texts(replies)
    if "is for coordinators" in said:
        return False
    if text.startswith(("/report", "/transcript", "/debrief ")):
        return any(isinstance(r, DocumentOut) for r in replies)
    if text == "/debrief":
        return any(isinstance(r, DebriefOut) for r in replies) or "no finished" in said
    if text == "/forget":
        return any(isinstance(r, ButtonsOut) for r in replies)
    if "join" in text or text.startswith("/start "):
        return "joined the training group" in said
    return bool(replies) and "Unknown command" not in said


async def cli(run: Callable[[], Awaitable[Any]]) -> bool:
    try:
        await run()
    except (AccessDeniedError, UserError):
        return False
    return True


@pytest.mark.parametrize("role", ROLES)
async def test_every_command_for_this_role(world: World, role: Role) -> None:
    w, user = world, ACTING[role]
    me = await person(w.store, user)
    actor: Actor = await w.c.access.actor(me.id, me.alias)
    assert actor.role == role  # read from storage
    tina = await person(w.store, "tina")  # the trainee acting, when the role is trainee
    extra = await person(w.store, f"extra-{role}")
    victim = await person(w.store, f"victim-{role}")
    await w.c.add(w.c.operator("setup"), w.cohort, [extra.alias])
    observed: dict[str, bool] = {}
    for command in TABLE:
        if command.startswith(("/", "!")):
            text = (
                command.replace("CODE", w.code)
                .replace("COHORT", w.cohort)
                .replace("SESSION", w.session[:8])
                .replace("TRAINEE", tina.alias)
            )
            observed[command] = await chat(w, user, text)
    runs: dict[str, Callable[[], Awaitable[Any]]] = {
        "transcripts export": lambda: w.c.transcripts(actor, Selection(trainee=tina.alias)),
        "report session": lambda: w.c.session_report(actor, w.session, "html", "en"),
        "report cohort": lambda: w.c.cohort_report(actor, w.cohort, "en"),
        "cohort create": lambda: w.c.create_cohort(actor, f"New group of the {role}"),
        "cohort list": lambda: w.c.cohorts(actor),
        "cohort show": lambda: w.c.members(actor, w.cohort),
        "cohort add": lambda: w.c.add(actor, w.cohort, [f"test:newbie-{role}"]),
        "cohort remove": lambda: w.c.remove(actor, w.cohort, [extra.alias]),
        "user list": lambda: w.c.staff(actor),
        "user grant": lambda: w.c.grant(actor, extra.alias, "trainer"),
        "user forget": lambda: w.c.forget(actor, victim.alias),
        "retention apply": lambda: w.c.retention(actor, days=30, action="delete", execute=False),
        "audit": lambda: w.c.check(actor, "audit.read"),
    }
    for command, run in runs.items():
        observed[command] = await cli(run)
    expected = {cmd: allowed[ROLES.index(role)] for cmd, allowed in TABLE.items()}
    assert observed == expected


async def test_a_coordinator_sees_only_their_own_cohorts(world: World) -> None:
    w = world
    admin = w.c.operator("setup")
    other = await grant(w.store, "cleo", "coordinator")
    await w.c.create_cohort(admin, "Group B", coordinator=other.alias)
    outsider = await person(w.store, "otto")
    await w.c.add(admin, "Group B", [outsider.alias])
    await play(w.service, "otto")
    cleo = await w.c.access.actor(other.id, other.alias)
    assert [c.name for c in await w.c.cohorts(cleo)] == ["Group B"]
    for attempt in (
        lambda: w.c.members(cleo, "Group A"),
        lambda: w.c.cohort_report(cleo, "Group A", "en"),
        lambda: w.c.session_report(cleo, w.session, "html", "en"),
        lambda: w.c.transcripts(cleo, Selection(cohort="Group A")),
        lambda: w.c.add(cleo, "Group A", ["test:someone"]),
    ):
        with pytest.raises((UserError, AccessDeniedError)):
            await attempt()
    # the same answer whether the cohort exists or not: no guessing of names
    with pytest.raises(UserError, match="no cohort 'Group A' that you can see"):
        await w.c.members(cleo, "Group A")
    with pytest.raises(UserError, match="no cohort 'Nope' that you can see"):
        await w.c.members(cleo, "Nope")
    # in the chat, too
    replies = await w.service.handle(msg("cleo", "/report Group A"))
    assert "Nothing called “Group A” that you may see." in texts(replies)
    # a date-range export gives her only her cohort's trainee
    everything = await w.c.transcripts(cleo, Selection())
    assert {t.trainee for t in everything} == {outsider.alias}
    denied = [e for e in await w.store.audit_log(limit=50) if e.outcome == "denied"]
    assert {e.actor for e in denied} == {other.alias}


async def test_a_trainee_sees_only_their_own_sessions(world: World) -> None:
    w = world
    await play(w.service, "tara")
    tara = await person(w.store, "tara")
    me = await w.c.access.actor(tara.id, tara.alias)
    mine = await w.c.transcripts(me, Selection())
    assert {t.trainee for t in mine} == {tara.alias}
    with pytest.raises(UserError):
        await w.c.session_report(me, w.session, "html", "en")  # tina's
    with pytest.raises(AccessDeniedError):
        await w.c.transcripts(me, Selection(), identities=True)


async def test_a_trainer_reads_reports_but_no_transcript(world: World) -> None:
    w = world
    replies = await w.service.handle(msg("tom", "/report Group A"))
    (document,) = [r for r in replies if isinstance(r, DocumentOut)]
    assert document.media_type == "text/html" and b"Group A" in document.data
    replies = await w.service.handle(msg("tom", f"/transcript {w.session}"))
    assert "/transcript is for coordinators." in texts(replies)


async def test_roles_are_read_from_storage_at_every_command(world: World) -> None:
    w = world
    replies = await w.service.handle(msg("tina", "/report Group A"))
    assert "/report is for coordinators." in texts(replies)
    tina = await grant(w.store, "tina", "admin")  # another process grants: no cache in the way
    replies = await w.service.handle(msg("tina", "/report Group A"))
    assert [r.filename for r in replies if isinstance(r, DocumentOut)] == ["cohort-group-a.html"]
    await grant(w.store, "tina", "trainee")
    replies = await w.service.handle(msg("tina", "/report Group A"))
    assert "/report is for coordinators." in texts(replies)
    assert await w.store.role_of(tina.id) == "trainee"
