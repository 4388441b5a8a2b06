"""Ports: what the use cases need from the outside world, as Protocols.

`storage` implements `SessionStore`; tests may use `bot.app.memory.InMemoryStore`. Nothing
here knows SQL, a messenger or a clock implementation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal, Protocol

from bot.engine.state import Mode, SessionState

TurnKind = Literal["start", "choice", "text", "hint", "pause", "resume", "quit"]
#: what a person may do (bot.app.access has the table); everyone is a trainee unless granted
Role = Literal["trainee", "trainer", "coordinator", "admin"]
ROLES: tuple[Role, ...] = ("trainee", "trainer", "coordinator", "admin")
#: how someone belongs to a cohort (its coordinator is `Cohort.coordinator_id`)
MemberRole = Literal["trainee", "trainer"]
#: aliases of the identity-less trainees that anonymised sessions are moved to
ANONYMOUS_PREFIX = "anon-"


@dataclass(frozen=True, slots=True)
class Trainee:
    id: str
    #: stable random alias used in transcripts and exports instead of the platform id
    alias: str
    platform: str
    external_id: str
    language: str | None = None


@dataclass(frozen=True, slots=True)
class SessionRecord:
    id: str
    trainee_id: str
    scenario_id: str
    scenario_hash: str
    state: SessionState
    #: sequence number of the last committed turn (the start is turn 0)
    last_seq: int
    created_at: datetime
    updated_at: datetime

    @property
    def status(self) -> str:
        return self.state.status


@dataclass(frozen=True, slots=True)
class TurnRecord:
    """One entry of a session's append-only event log.

    `input` is what the trainee did (a choice id, the text typed, a command); `payload` holds
    everything derived from it: classification, choice matched, transition, score deltas and
    the output said, so transcripts and reports never need to re-run the engine.
    """

    session_id: str
    seq: int
    kind: TurnKind
    input: str
    #: platform message/update id; the same key is applied once per session
    input_key: str | None
    at: datetime
    payload: dict[str, Any] = field(default_factory=dict)


class StoreError(Exception):
    """The store could not do what was asked; nothing was committed."""


class DuplicateInputError(StoreError):
    """This input key was already applied to this session."""


class ConflictError(StoreError):
    """Another writer committed this session's turn `seq` first (a stale worker)."""


class StoreUnavailableError(StoreError):
    """The database cannot be reached now; retrying later may work."""


class SessionStore(Protocol):
    async def trainee(
        self, platform: str, external_id: str, *, language: str | None = None
    ) -> Trainee:
        """The trainee with this platform identity, created (with a new alias) if new."""
        ...

    async def set_trainee_language(self, trainee_id: str, language: str) -> None: ...

    async def save_scenario_version(self, scenario_id: str, content_hash: str, source: str) -> None:
        """Keep the exact text of a scenario version (idempotent), so sessions can resume on it."""
        ...

    async def scenario_source(self, content_hash: str) -> str | None: ...

    async def latest_scenario_source(self, scenario_id: str) -> tuple[str, str] | None:
        """(content hash, text) of the newest stored version of a scenario, if any."""
        ...

    async def create_session(self, record: SessionRecord, first: TurnRecord) -> None:
        """Insert the session and its turn 0 in one transaction."""
        ...

    async def append_turn(self, turn: TurnRecord, state: SessionState) -> None:
        """Commit `turn` and the session's new state snapshot together, durably, then return.

        Raises DuplicateInputError if the turn's input key was already applied to the session,
        and ConflictError if a turn with the same `seq` exists.
        """
        ...

    async def get_session(self, session_id: str) -> SessionRecord | None: ...

    async def active_session(self, trainee_id: str) -> SessionRecord | None:
        """The trainee's most recent session that is active or paused."""
        ...

    async def sessions_of(self, trainee_id: str) -> Sequence[SessionRecord]: ...

    async def turns(self, session_id: str) -> Sequence[TurnRecord]:
        """The session's log in `seq` order."""
        ...

    async def input_seen(self, session_id: str, input_key: str) -> bool: ...

    async def forget_trainee(self, trainee_id: str, audit: AuditEntry | None = None) -> None:
        """Delete the trainee, every identity, session, turn, role and cohort membership of
        theirs in one transaction, writing `audit` (which is kept) in the same one."""
        ...

    async def close(self) -> None: ...


# -- people, cohorts, the audit log (issue #6) ----------------------------------------------


@dataclass(frozen=True, slots=True)
class Person:
    """A trainee row without its platform identity: what reports and exports may name."""

    id: str
    alias: str
    language: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Cohort:
    id: str
    name: str
    #: what trainees send to join (`/start CODE`, `!join CODE`); upper-case letters and digits
    code: str
    coordinator_id: str | None
    starts_on: date | None
    ends_on: date | None
    #: scenario ids assigned; empty: every scenario
    scenarios: tuple[str, ...]
    #: the feedback mode of its sessions; None: the bot's default
    mode: Mode | None
    created_at: datetime

    def open_on(self, day: date) -> bool:
        """Whether its code still enrols (until the end date, inclusive)."""
        return self.ends_on is None or day <= self.ends_on


@dataclass(frozen=True, slots=True)
class Member:
    person: Person
    role: MemberRole
    joined_at: datetime


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: datetime
    #: who: a person's alias, or `cli:<login>` for the command line
    actor: str
    #: e.g. transcript.export, transcript.view, report.cohort, user.forget, role.grant
    action: str
    #: what: a session id, an alias or a cohort name
    subject: str
    outcome: Literal["allowed", "denied", "done"]
    detail: dict[str, Any] = field(default_factory=dict)


class DirectoryStore(Protocol):
    """Roles, cohorts and their members, the audit log, and the queries of exports and
    retention. Every read here goes to the database (no cache): access is decided on it."""

    async def role_of(self, trainee_id: str) -> Role: ...

    async def set_role(self, trainee_id: str, role: Role, audit: AuditEntry) -> None: ...

    async def staff(self) -> Sequence[tuple[Person, Role]]:
        """Everyone whose role is not `trainee`."""
        ...

    async def person(
        self, *, trainee_id: str | None = None, alias: str | None = None
    ) -> Person | None: ...

    async def find_identity(self, platform: str, external_id: str) -> Person | None:
        """The person with this platform identity, if any (never creates one)."""
        ...

    async def identities(self, trainee_id: str) -> Sequence[tuple[str, str]]:
        """(platform, external id) pairs of a person: only for explicit, audited requests."""
        ...

    async def create_cohort(self, cohort: Cohort, audit: AuditEntry) -> None:
        """Raises ConflictError if the name or the code is taken."""
        ...

    async def cohort(self, key: str) -> Cohort | None:
        """By name (case-insensitive) or id."""
        ...

    async def cohort_by_code(self, code: str) -> Cohort | None: ...

    async def cohorts(self) -> Sequence[Cohort]: ...

    async def add_member(self, cohort_id: str, trainee_id: str, role: MemberRole) -> bool:
        """False if they were a member already (their role is then updated)."""
        ...

    async def remove_member(self, cohort_id: str, trainee_id: str) -> bool: ...

    async def members(self, cohort_id: str) -> Sequence[Member]: ...

    async def memberships(self, trainee_id: str) -> Sequence[tuple[Cohort, MemberRole]]: ...

    async def record_audit(self, entry: AuditEntry) -> None: ...

    async def audit_log(
        self, *, limit: int = 100, subject: str | None = None
    ) -> Sequence[AuditEntry]:
        """Newest first."""
        ...

    async def sessions_between(
        self, since: datetime | None, until: datetime | None
    ) -> Sequence[SessionRecord]:
        """Sessions created in [since, until), oldest first."""
        ...

    async def sessions_by_prefix(
        self, prefix: str, *, limit: int = 5
    ) -> Sequence[SessionRecord]: ...

    async def stale_sessions(self, before: datetime) -> Sequence[SessionRecord]:
        """Sessions last changed before `before` and not anonymised yet: retention's work."""
        ...

    async def delete_sessions(self, session_ids: Sequence[str], audit: AuditEntry) -> int: ...

    async def anonymise_sessions(self, session_ids: Sequence[str], audit: AuditEntry) -> int:
        """Detach each session from its trainee (a new, identity-less alias per session) and
        wipe the words typed and the platform message ids; scores and structure stay."""
        ...


class Store(SessionStore, DirectoryStore, Protocol):
    """Everything the use cases need from storage."""


class AdapterStore(Protocol):
    """What a messenger adapter keeps so that nothing it was sent is lost or handled twice."""

    async def record_update(self, platform: str, key: str, payload: dict[str, Any]) -> bool:
        """Keep an incoming update durably before acknowledging it; False if already kept."""
        ...

    async def mark_processed(self, platform: str, key: str) -> None: ...

    async def pending_updates(self, platform: str, limit: int = 1000) -> list[tuple[str, Any]]:
        """Updates kept but never marked processed (a crash came between), oldest first."""
        ...

    async def prune_updates(self, platform: str, before: datetime) -> int: ...

    async def cursor(self, name: str) -> str | None:
        """Where a stream continues (e.g. a Matrix `next_batch`), or None the first time."""
        ...

    async def set_cursor(self, name: str, value: str) -> None: ...

    async def media_ref(self, platform: str, digest: str) -> str | None:
        """The platform's id for an uploaded clip (Telegram file_id, Matrix mxc://)."""
        ...

    async def save_media_ref(self, platform: str, digest: str, ref: str) -> None: ...
