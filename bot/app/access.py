"""Who may do what: the one table of actions against roles, and the scopes that narrow it.

A role comes from storage at the moment of asking (never from the chat, never cached): a
coordinator sees only the cohorts they coordinate and those cohorts' trainees, a trainer only
the cohorts they are a trainer in (aggregate reports only), a trainee only their own sessions,
an admin everything. The command line acts as an admin (whoever runs it holds the database)
unless `--as USER` says whom to act as.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from bot.app.ports import ROLES, Cohort, DirectoryStore, Role, SessionRecord

Action = Literal[
    # in the messenger
    "play",
    "join",
    "own_debrief",
    "forget_self",
    "chat.cohorts",
    "chat.report",
    "chat.transcript",
    "chat.debrief_of",
    # on the command line
    "transcripts.export",
    "report.session",
    "report.cohort",
    "cohort.create",
    "cohort.list",
    "cohort.show",
    "cohort.add",
    "cohort.remove",
    "user.list",
    "user.grant",
    "user.forget",
    "retention.apply",
    "audit.read",
]

_ALL: frozenset[Role] = frozenset(ROLES)
_STAFF: frozenset[Role] = frozenset({"trainer", "coordinator", "admin"})
_COORDINATORS: frozenset[Role] = frozenset({"coordinator", "admin"})
_ADMIN: frozenset[Role] = frozenset({"admin"})

#: every action, and the roles allowed it (scopes below narrow what they see)
POLICY: Mapping[Action, frozenset[Role]] = {
    "play": _ALL,
    "join": _ALL,
    "own_debrief": _ALL,
    "forget_self": _ALL,
    "chat.cohorts": _STAFF,
    "chat.report": _STAFF,
    "chat.transcript": _COORDINATORS,
    "chat.debrief_of": _COORDINATORS,
    # a trainee may export and print their own sessions (scoped below)
    "transcripts.export": frozenset({"trainee", "coordinator", "admin"}),
    "report.session": frozenset({"trainee", "coordinator", "admin"}),
    "report.cohort": _STAFF,
    "cohort.create": _COORDINATORS,
    "cohort.list": _STAFF,
    "cohort.show": _STAFF,
    "cohort.add": _COORDINATORS,
    "cohort.remove": _COORDINATORS,
    "user.list": _ADMIN,
    "user.grant": _ADMIN,
    "user.forget": _ADMIN,
    "retention.apply": _ADMIN,
    "audit.read": _ADMIN,
}


def allows(role: Role, action: Action) -> bool:
    return role in POLICY[action]


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is asking: a person (by alias) or the command line (`cli:<login>`)."""

    name: str
    role: Role
    person_id: str | None = None


class AccessDeniedError(Exception):
    def __init__(self, actor: Actor, action: Action, subject: str = "") -> None:
        super().__init__(f"{actor.name} ({actor.role}) may not {action} {subject}".strip())
        self.actor = actor
        self.action = action
        self.subject = subject


class Access:
    def __init__(self, store: DirectoryStore) -> None:
        self.store = store

    async def actor(self, person_id: str, alias: str) -> Actor:
        return Actor(alias, await self.store.role_of(person_id), person_id)

    def check(self, actor: Actor, action: Action, subject: str = "") -> None:
        if not allows(actor.role, action):
            raise AccessDeniedError(actor, action, subject)

    async def cohorts(self, actor: Actor) -> list[Cohort]:
        """The cohorts `actor` may see: all for an admin, their own for staff, none else."""
        if actor.role == "admin":
            return list(await self.store.cohorts())
        if actor.person_id is None or actor.role == "trainee":
            return []
        mine: dict[str, Cohort] = {}
        if actor.role == "coordinator":
            for cohort in await self.store.cohorts():
                if cohort.coordinator_id == actor.person_id:
                    mine[cohort.id] = cohort
        for cohort, role in await self.store.memberships(actor.person_id):
            if role == "trainer":
                mine[cohort.id] = cohort
        return sorted(mine.values(), key=lambda c: (c.created_at, c.name))

    async def coordinated(self, actor: Actor) -> list[Cohort]:
        """Cohorts whose trainees' transcripts `actor` may read (trainers read none)."""
        if actor.role == "admin":
            return list(await self.store.cohorts())
        if actor.role != "coordinator" or actor.person_id is None:
            return []
        return [c for c in await self.store.cohorts() if c.coordinator_id == actor.person_id]

    async def may_see_trainee(self, actor: Actor, trainee_id: str) -> bool:
        if actor.role == "admin" or actor.person_id == trainee_id:
            return True
        if actor.role != "coordinator":
            return False
        mine = {c.id for c in await self.coordinated(actor)}
        return any(
            cohort.id in mine and role == "trainee"
            for cohort, role in await self.store.memberships(trainee_id)
        )

    async def visible(self, actor: Actor, records: Sequence[SessionRecord]) -> list[SessionRecord]:
        """Of `records`, those whose transcripts `actor` may read."""
        allowed: dict[str, bool] = {}
        out = []
        for record in records:
            if record.trainee_id not in allowed:
                allowed[record.trainee_id] = await self.may_see_trainee(actor, record.trainee_id)
            if allowed[record.trainee_id]:
                out.append(record)
        return out
