"""An in-memory SessionStore for fast unit tests of the use cases.

It honours the same contract as the SQL store (duplicate input keys, seq fencing), and can be
told to fail, so the service's error paths are testable. Real-database tests live in
tests/storage and tests/test_service_sql.py.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from bot.app.ports import (
    ANONYMOUS_PREFIX,
    AuditEntry,
    Cohort,
    ConflictError,
    DuplicateInputError,
    Member,
    MemberRole,
    Person,
    Role,
    SessionRecord,
    StoreUnavailableError,
    Trainee,
    TurnRecord,
)
from bot.engine.state import SessionState


@dataclass
class MemoryStore:
    trainees: dict[tuple[str, str], Trainee] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    sessions: dict[str, SessionRecord] = field(default_factory=dict)
    log: dict[str, list[TurnRecord]] = field(default_factory=dict)
    #: when set, every write raises StoreUnavailableError (a database that went away)
    down: bool = False
    # issue #6: roles, cohorts, members (cohort id -> trainee id -> (role, joined)), audit
    roles: dict[str, Role] = field(default_factory=dict)
    cohort_rows: dict[str, Cohort] = field(default_factory=dict)
    member_rows: dict[str, dict[str, tuple[MemberRole, datetime]]] = field(default_factory=dict)
    audit: list[AuditEntry] = field(default_factory=list)
    people: dict[str, Person] = field(default_factory=dict)

    def _check(self) -> None:
        if self.down:
            raise StoreUnavailableError("the database is down (test)")

    async def trainee(
        self, platform: str, external_id: str, *, language: str | None = None
    ) -> Trainee:
        key = (platform, external_id)
        if key not in self.trainees:
            self._check()
            self.trainees[key] = Trainee(
                secrets.token_hex(8),
                f"trainee-{secrets.token_hex(4)}",
                platform,
                external_id,
                language,
            )
            made = self.trainees[key]
            self.people[made.id] = Person(made.id, made.alias, language, datetime.now(UTC))
        return self.trainees[key]

    async def set_trainee_language(self, trainee_id: str, language: str) -> None:
        self._check()
        for key, trainee in self.trainees.items():
            if trainee.id == trainee_id:
                self.trainees[key] = replace(trainee, language=language)

    async def save_scenario_version(self, scenario_id: str, content_hash: str, source: str) -> None:
        self._check()
        self.versions.setdefault(content_hash, source)

    async def latest_scenario_source(self, scenario_id: str) -> tuple[str, str] | None:
        found = [(h, src) for h, src in self.versions.items() if f"id: {scenario_id}\n" in src]
        return found[-1] if found else None

    async def scenario_source(self, content_hash: str) -> str | None:
        return self.versions.get(content_hash)

    async def create_session(self, record: SessionRecord, first: TurnRecord) -> None:
        self._check()
        self.sessions[record.id] = record
        self.log[record.id] = [first]

    async def append_turn(self, turn: TurnRecord, state: SessionState) -> None:
        self._check()
        log = self.log[turn.session_id]
        if turn.input_key is not None and any(t.input_key == turn.input_key for t in log):
            raise DuplicateInputError(turn.input_key)
        if any(t.seq == turn.seq for t in log):
            raise ConflictError(f"seq {turn.seq}")
        log.append(turn)
        record = self.sessions[turn.session_id]
        self.sessions[turn.session_id] = replace(
            record, state=state, last_seq=turn.seq, updated_at=turn.at
        )

    async def get_session(self, session_id: str) -> SessionRecord | None:
        return self.sessions.get(session_id)

    async def active_session(self, trainee_id: str) -> SessionRecord | None:
        live = [
            s
            for s in self.sessions.values()
            if s.trainee_id == trainee_id and s.state.status in ("active", "paused")
        ]
        return max(live, key=lambda s: s.updated_at, default=None)

    async def sessions_of(self, trainee_id: str) -> Sequence[SessionRecord]:
        return [s for s in self.sessions.values() if s.trainee_id == trainee_id]

    async def turns(self, session_id: str) -> Sequence[TurnRecord]:
        return list(self.log.get(session_id, []))

    async def input_seen(self, session_id: str, input_key: str) -> bool:
        return any(t.input_key == input_key for t in self.log.get(session_id, []))

    async def forget_trainee(self, trainee_id: str, audit: AuditEntry | None = None) -> None:
        self._check()
        for sid in [sid for sid, s in self.sessions.items() if s.trainee_id == trainee_id]:
            del self.sessions[sid]
            self.log.pop(sid, None)
        self.trainees = {k: v for k, v in self.trainees.items() if v.id != trainee_id}
        self.people.pop(trainee_id, None)
        self.roles.pop(trainee_id, None)
        for members in self.member_rows.values():
            members.pop(trainee_id, None)
        for cid, cohort in self.cohort_rows.items():
            if cohort.coordinator_id == trainee_id:
                self.cohort_rows[cid] = replace(cohort, coordinator_id=None)
        if audit is not None:
            self.audit.append(audit)

    # -- DirectoryStore (issue #6) ----------------------------------------------------------

    async def role_of(self, trainee_id: str) -> Role:
        return self.roles.get(trainee_id, "trainee")

    async def set_role(self, trainee_id: str, role: Role, audit: AuditEntry) -> None:
        self._check()
        if role == "trainee":
            self.roles.pop(trainee_id, None)
        else:
            self.roles[trainee_id] = role
        self.audit.append(audit)

    async def staff(self) -> Sequence[tuple[Person, Role]]:
        return [(self.people[i], r) for i, r in sorted(self.roles.items()) if i in self.people]

    async def person(
        self, *, trainee_id: str | None = None, alias: str | None = None
    ) -> Person | None:
        if trainee_id is not None:
            return self.people.get(trainee_id)
        return next((p for p in self.people.values() if p.alias == alias), None)

    async def find_identity(self, platform: str, external_id: str) -> Person | None:
        found = self.trainees.get((platform, external_id))
        return None if found is None else self.people.get(found.id)

    async def identities(self, trainee_id: str) -> Sequence[tuple[str, str]]:
        return sorted(k for k, v in self.trainees.items() if v.id == trainee_id)

    async def create_cohort(self, cohort: Cohort, audit: AuditEntry) -> None:
        self._check()
        for other in self.cohort_rows.values():
            if other.name.lower() == cohort.name.lower() or other.code == cohort.code:
                raise ConflictError("taken")
        self.cohort_rows[cohort.id] = cohort
        self.audit.append(audit)

    async def cohort(self, key: str) -> Cohort | None:
        return next(
            (
                c
                for c in self.cohort_rows.values()
                if c.id == key or c.name.lower() == key.strip().lower()
            ),
            None,
        )

    async def cohort_by_code(self, code: str) -> Cohort | None:
        return next((c for c in self.cohort_rows.values() if c.code == code.upper()), None)

    async def cohorts(self) -> Sequence[Cohort]:
        return sorted(self.cohort_rows.values(), key=lambda c: (c.created_at, c.name))

    async def add_member(self, cohort_id: str, trainee_id: str, role: MemberRole) -> bool:
        self._check()
        members = self.member_rows.setdefault(cohort_id, {})
        new = trainee_id not in members
        joined = members[trainee_id][1] if not new else datetime.now(UTC)
        members[trainee_id] = (role, joined)
        return new

    async def remove_member(self, cohort_id: str, trainee_id: str) -> bool:
        self._check()
        return self.member_rows.get(cohort_id, {}).pop(trainee_id, None) is not None

    async def members(self, cohort_id: str) -> Sequence[Member]:
        return [
            Member(self.people[tid], role, joined)
            for tid, (role, joined) in self.member_rows.get(cohort_id, {}).items()
            if tid in self.people
        ]

    async def memberships(self, trainee_id: str) -> Sequence[tuple[Cohort, MemberRole]]:
        return [
            (self.cohort_rows[cid], members[trainee_id][0])
            for cid, members in self.member_rows.items()
            if trainee_id in members and cid in self.cohort_rows
        ]

    async def record_audit(self, entry: AuditEntry) -> None:
        self._check()
        self.audit.append(entry)

    async def audit_log(
        self, *, limit: int = 100, subject: str | None = None
    ) -> Sequence[AuditEntry]:
        found = [e for e in reversed(self.audit) if subject is None or e.subject == subject]
        return found[:limit]

    async def sessions_between(
        self, since: datetime | None, until: datetime | None
    ) -> Sequence[SessionRecord]:
        return sorted(
            (
                s
                for s in self.sessions.values()
                if (since is None or s.created_at >= since)
                and (until is None or s.created_at < until)
            ),
            key=lambda s: (s.created_at, s.id),
        )

    async def sessions_by_prefix(self, prefix: str, *, limit: int = 5) -> Sequence[SessionRecord]:
        return sorted(
            (s for s in self.sessions.values() if s.id.startswith(prefix)), key=lambda s: s.id
        )[:limit]

    async def stale_sessions(self, before: datetime) -> Sequence[SessionRecord]:
        return [
            s
            for s in self.sessions.values()
            if s.updated_at < before
            and not self.people.get(s.trainee_id, Person("", "", None, before)).alias.startswith(
                ANONYMOUS_PREFIX
            )
        ]

    async def delete_sessions(self, session_ids: Sequence[str], audit: AuditEntry) -> int:
        self._check()
        for sid in session_ids:
            self.sessions.pop(sid, None)
            self.log.pop(sid, None)
        self.audit.append(audit)
        return len(session_ids)

    async def anonymise_sessions(self, session_ids: Sequence[str], audit: AuditEntry) -> int:
        self._check()
        for sid in session_ids:
            anonymous = secrets.token_hex(16)
            alias = f"{ANONYMOUS_PREFIX}{secrets.token_hex(6)}"
            self.people[anonymous] = Person(anonymous, alias, None, audit.at)
            self.sessions[sid] = replace(self.sessions[sid], trainee_id=anonymous)
            self.log[sid] = [
                replace(t, input="[removed]" if t.kind == "text" else t.input, input_key=None)
                for t in self.log[sid]
            ]
        self.audit.append(audit)
        return len(session_ids)

    async def close(self) -> None:
        return None
