"""People, roles and cohorts: the use cases behind `signpost cohort` and `signpost user`, and
enrolment with a cohort's code. Every one takes the `Actor` asking and checks it (bot.app.access);
refusals and every change are written to the audit log.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import date
from typing import Any, Literal
from uuid import uuid4

from bot.app.access import Access, AccessDeniedError, Action, Actor
from bot.app.library import ScenarioLibrary
from bot.app.ports import (
    ROLES,
    AuditEntry,
    Cohort,
    ConflictError,
    Member,
    MemberRole,
    Person,
    Role,
    Store,
)
from bot.app.sessions import Clock, utc_now
from bot.engine.state import Mode

#: enrolment codes: no 0/O, 1/I/L, so a code read aloud or from a slide is typed right
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8


class UserError(Exception):
    """Bad input from a person (an unknown cohort, user or session); the message says which."""


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text: str) -> str:
    return "".join(c for c in text.upper() if c.isalnum())


class Directory:
    def __init__(self, library: ScenarioLibrary, store: Store, *, clock: Clock = utc_now) -> None:
        self.library = library
        self.store = store
        self.clock = clock
        self.access = Access(store)

    # -- who is asking ----------------------------------------------------------------------

    @staticmethod
    def operator(login: str) -> Actor:
        """Whoever runs the command line holds the database: an admin."""
        return Actor(f"cli:{login}", "admin")

    async def actor_for(self, ref: str) -> Actor:
        person = await self.find_person(ref)
        return await self.access.actor(person.id, person.alias)

    async def find_person(self, ref: str) -> Person:
        """A person by alias (`trainee-1a2b3c4d`) or platform identity (`telegram:12345`)."""
        ref = ref.strip()
        person: Person | None
        if ":" in ref:
            platform, external_id = ref.split(":", 1)
            person = await self.store.find_identity(platform, external_id)
        else:
            person = await self.store.person(alias=ref)
        if person is None:
            raise UserError(f"no user {ref!r} (give an alias or PLATFORM:ID, e.g. telegram:42)")
        return person

    async def person_or_new(self, ref: str) -> Person:
        """As `find_person`, but a platform identity not seen yet is created (so a coordinator
        can be named before they first message the bot)."""
        if ":" in ref and not ref.startswith(":"):
            platform, external_id = ref.strip().split(":", 1)
            if platform and external_id:
                trainee = await self.store.trainee(platform, external_id)
                found = await self.store.person(trainee_id=trainee.id)
                if found is not None:
                    return found
        return await self.find_person(ref)

    def entry(
        self,
        actor: Actor,
        action: str,
        subject: str,
        outcome: Literal["allowed", "denied", "done"] = "done",
        **detail: Any,
    ) -> AuditEntry:
        """An audit entry, for a write that records it in its own transaction."""
        return AuditEntry(self.clock(), actor.name, action, subject, outcome, detail)

    async def audit(
        self,
        actor: Actor,
        action: str,
        subject: str,
        outcome: Literal["allowed", "denied", "done"] = "allowed",
        **detail: Any,
    ) -> None:
        await self.store.record_audit(self.entry(actor, action, subject, outcome, **detail))

    async def check(self, actor: Actor, action: Action, subject: str = "") -> None:
        """Refuse (and record the refusal) unless `actor`'s role allows `action`."""
        try:
            self.access.check(actor, action, subject)
        except AccessDeniedError:
            await self.audit(actor, action, subject, "denied")
            raise

    # -- roles ------------------------------------------------------------------------------

    async def grant(self, actor: Actor, ref: str, role: str) -> Person:
        await self.check(actor, "user.grant", ref)
        if role not in ROLES:
            raise UserError(f"unknown role {role!r}: one of {', '.join(ROLES)}")
        person = await self.person_or_new(ref)
        entry = self.entry(actor, "role.grant", person.alias, role=role)
        await self.store.set_role(person.id, _role(role), entry)
        return person

    async def staff(self, actor: Actor) -> Sequence[tuple[Person, Role]]:
        await self.check(actor, "user.list")
        return await self.store.staff()

    # -- cohorts ----------------------------------------------------------------------------

    async def create_cohort(
        self,
        actor: Actor,
        name: str,
        *,
        coordinator: str | None = None,
        starts_on: date | None = None,
        ends_on: date | None = None,
        scenarios: Sequence[str] = (),
        mode: Mode | None = None,
    ) -> Cohort:
        await self.check(actor, "cohort.create", name)
        name = " ".join(name.split())
        if not name or len(name) > 80:
            raise UserError("a cohort needs a name of 1 to 80 characters")
        if starts_on and ends_on and ends_on < starts_on:
            raise UserError("the cohort ends before it starts")
        known = {s.id for s in self.library.scenarios()}
        unknown = [s for s in scenarios if s not in known]
        if unknown:
            raise UserError(f"no scenario {', '.join(unknown)} (known: {', '.join(sorted(known))})")
        lead = await self.person_or_new(coordinator) if coordinator else None
        if lead is None and actor.role == "coordinator":
            lead = await self.store.person(trainee_id=actor.person_id or "")
        for _ in range(5):
            cohort = Cohort(
                uuid4().hex,
                name,
                new_code(),
                lead.id if lead else None,
                starts_on,
                ends_on,
                tuple(dict.fromkeys(scenarios)),
                mode,
                self.clock(),
            )
            entry = self.entry(actor, "cohort.create", name, code=cohort.code)
            try:
                await self.store.create_cohort(cohort, entry)
            except ConflictError:
                if await self.store.cohort(name) is not None:
                    raise UserError(f"a cohort named {name!r} exists already") from None
                continue  # the code was taken: draw another
            return cohort
        raise UserError("could not find a free enrolment code; try again")

    async def cohorts(self, actor: Actor) -> list[Cohort]:
        await self.check(actor, "cohort.list")
        return await self.access.cohorts(actor)

    async def cohort(self, actor: Actor, key: str, action: Action = "cohort.show") -> Cohort:
        """The cohort named `key` if `actor` may see it; the same error whether it does not
        exist or is someone else's (no guessing of names)."""
        await self.check(actor, action, key)
        found = await self.store.cohort(key)
        if found is None or found.id not in {c.id for c in await self.access.cohorts(actor)}:
            if found is not None:
                await self.audit(actor, action, found.name, "denied")
            raise UserError(f"no cohort {key!r} that you can see")
        return found

    async def members(self, actor: Actor, key: str) -> tuple[Cohort, Sequence[Member]]:
        cohort = await self.cohort(actor, key)
        return cohort, await self.store.members(cohort.id)

    async def add(
        self, actor: Actor, key: str, refs: Sequence[str], role: MemberRole = "trainee"
    ) -> list[tuple[Person, bool]]:
        cohort = await self._managed(actor, key, "cohort.add")
        people = [await self.person_or_new(ref) for ref in refs]
        done = []
        for person in people:
            added = await self.store.add_member(cohort.id, person.id, role)
            await self.audit(
                actor, "cohort.add", cohort.name, "done", member=person.alias, role=role
            )
            done.append((person, added))
        return done

    async def remove(
        self, actor: Actor, key: str, refs: Sequence[str]
    ) -> list[tuple[Person, bool]]:
        cohort = await self._managed(actor, key, "cohort.remove")
        people = [await self.find_person(ref) for ref in refs]
        done = []
        for person in people:
            removed = await self.store.remove_member(cohort.id, person.id)
            await self.audit(actor, "cohort.remove", cohort.name, "done", member=person.alias)
            done.append((person, removed))
        return done

    async def _managed(self, actor: Actor, key: str, action: Action) -> Cohort:
        cohort = await self.cohort(actor, key, action)
        if actor.role != "admin" and cohort.coordinator_id != actor.person_id:
            await self.audit(actor, action, cohort.name, "denied")
            raise AccessDeniedError(actor, action, cohort.name)
        return cohort

    # -- enrolment --------------------------------------------------------------------------

    async def enrol(self, person_id: str, alias: str, code: str) -> Cohort | None:
        """Join the cohort whose code this is; None if no open cohort has it."""
        wanted = normalise_code(code)
        if len(wanted) != CODE_LENGTH:
            return None
        cohort = await self.store.cohort_by_code(wanted)
        if cohort is None or not cohort.open_on(self.clock().date()):
            return None
        memberships = {c.id: role for c, role in await self.store.memberships(person_id)}
        if memberships.get(cohort.id) != "trainer":  # a trainer joining stays a trainer
            await self.store.add_member(cohort.id, person_id, "trainee")
        await self.store.record_audit(
            AuditEntry(self.clock(), alias, "cohort.join", cohort.name, "done")
        )
        return cohort

    async def cohorts_of(self, person_id: str) -> list[Cohort]:
        """The open cohorts a person is a trainee in (their scenarios and feedback mode)."""
        today = self.clock().date()
        return [
            c
            for c, role in await self.store.memberships(person_id)
            if role == "trainee" and c.open_on(today)
        ]


def _role(value: str) -> Role:
    return next(r for r in ROLES if r == value)
