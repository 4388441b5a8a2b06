"""The `DirectoryStore` port on SQL: roles, cohorts and members, the audit log, and the
queries behind exports and retention. Mixed into `SqlStore`; every write goes through its
single writer (`ops.Execute`), every read to the database (access is decided on it, so
nothing here is cached).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, not_, or_, select, update
from sqlalchemy.engine import Row
from sqlalchemy.sql import Executable

from bot.app.ports import (
    ANONYMOUS_PREFIX,
    ROLES,
    AuditEntry,
    Cohort,
    ConflictError,
    Member,
    MemberRole,
    Person,
    Role,
    SessionRecord,
    StoreError,
)
from bot.engine.state import SessionState
from storage import ops
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
from storage.writer import Writer

Statements = tuple[tuple[Any, dict[str, Any]], ...]
_NONE: dict[str, Any] = {}
#: what anonymisation leaves of a typed message
REMOVED = "[removed]"


class DirectoryMixin:
    _writer: Writer[ops.Operation]
    _batches: ops.Batches

    async def _rows(self, statement: Executable, **params: Any) -> Sequence[Row[Any]]:
        raise NotImplementedError  # SqlStore's

    async def _one(self, statement: Executable, **params: Any) -> Row[Any] | None:
        raise NotImplementedError  # SqlStore's

    async def _execute(self, *statements: tuple[Any, dict[str, Any]]) -> int:
        return int(await self._writer.submit(ops.Execute(tuple(statements))))

    # -- roles and people -------------------------------------------------------------------

    async def role_of(self, trainee_id: str) -> Role:
        row = await self._one(
            select(user_roles.c.role).where(user_roles.c.trainee_id == trainee_id)
        )
        return _role(row.role) if row is not None else "trainee"

    async def set_role(self, trainee_id: str, role: Role, audit: AuditEntry) -> None:
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        gone = delete(user_roles).where(user_roles.c.trainee_id == trainee_id)
        statements: list[tuple[Any, dict[str, Any]]] = [(gone, _NONE)]
        if role != "trainee":
            row = {
                "trainee_id": trainee_id,
                "role": role,
                "granted_at": audit.at,
                "granted_by": audit.actor[:120],
            }
            statements.append((user_roles.insert(), row))
        statements.append(_audit(audit))
        await self._execute(*statements)

    async def staff(self) -> Sequence[tuple[Person, Role]]:
        query = (
            select(trainees, user_roles.c.role)
            .join(user_roles, user_roles.c.trainee_id == trainees.c.id)
            .order_by(user_roles.c.role, trainees.c.alias)
        )
        return [(_person(row), _role(row.role)) for row in await self._rows(query)]

    async def person(
        self, *, trainee_id: str | None = None, alias: str | None = None
    ) -> Person | None:
        if (trainee_id is None) == (alias is None):
            raise ValueError("give exactly one of trainee_id and alias")
        where = trainees.c.id == trainee_id if trainee_id is not None else trainees.c.alias == alias
        row = await self._one(select(trainees).where(where))
        return None if row is None else _person(row)

    async def find_identity(self, platform: str, external_id: str) -> Person | None:
        query = (
            select(trainees)
            .join(trainee_identities, trainee_identities.c.trainee_id == trainees.c.id)
            .where(
                trainee_identities.c.platform == platform,
                trainee_identities.c.external_id == external_id,
            )
        )
        row = await self._one(query)
        return None if row is None else _person(row)

    async def identities(self, trainee_id: str) -> Sequence[tuple[str, str]]:
        query = (
            select(trainee_identities.c.platform, trainee_identities.c.external_id)
            .where(trainee_identities.c.trainee_id == trainee_id)
            .order_by(trainee_identities.c.platform, trainee_identities.c.external_id)
        )
        return [(str(r.platform), str(r.external_id)) for r in await self._rows(query)]

    # -- cohorts ----------------------------------------------------------------------------

    async def create_cohort(self, cohort: Cohort, audit: AuditEntry) -> None:
        taken = or_(
            func.lower(cohorts.c.name) == cohort.name.lower(), cohorts.c.code == cohort.code
        )
        if await self._one(select(cohorts.c.id).where(taken)) is not None:
            raise ConflictError(f"a cohort named {cohort.name!r} or with that code exists")
        row = {
            "id": cohort.id,
            "name": cohort.name,
            "code": cohort.code,
            "coordinator_id": cohort.coordinator_id,
            "starts_on": cohort.starts_on,
            "ends_on": cohort.ends_on,
            "scenarios": list(cohort.scenarios),
            "mode": cohort.mode,
            "created_at": cohort.created_at,
        }
        try:
            await self._execute((cohorts.insert(), row), _audit(audit))
        except StoreError as error:  # another process took the name or code meanwhile
            if await self._one(select(cohorts.c.id).where(taken)) is not None:
                raise ConflictError(f"a cohort named {cohort.name!r} exists") from error
            raise

    async def cohort(self, key: str) -> Cohort | None:
        where = or_(cohorts.c.id == key, func.lower(cohorts.c.name) == key.strip().lower())
        row = await self._one(select(cohorts).where(where))
        return None if row is None else _cohort(row)

    async def cohort_by_code(self, code: str) -> Cohort | None:
        row = await self._one(select(cohorts).where(cohorts.c.code == code.strip().upper()))
        return None if row is None else _cohort(row)

    async def cohorts(self) -> Sequence[Cohort]:
        rows = await self._rows(select(cohorts).order_by(cohorts.c.created_at, cohorts.c.name))
        return [_cohort(row) for row in rows]

    async def add_member(self, cohort_id: str, trainee_id: str, role: MemberRole) -> bool:
        row = {"cohort_id": cohort_id, "trainee_id": trainee_id, "role": role, "joined_at": _now()}
        insert = self._batches.insert(cohort_members).on_conflict_do_nothing()
        change = (
            update(cohort_members)
            .where(cohort_members.c.cohort_id == cohort_id)
            .where(cohort_members.c.trainee_id == trainee_id)
            .values(role=role)
        )
        return bool(await self._execute((insert, row), (change, _NONE)))

    async def remove_member(self, cohort_id: str, trainee_id: str) -> bool:
        gone = delete(cohort_members).where(
            cohort_members.c.cohort_id == cohort_id, cohort_members.c.trainee_id == trainee_id
        )
        return bool(await self._execute((gone, _NONE)))

    async def members(self, cohort_id: str) -> Sequence[Member]:
        query = (
            select(trainees, cohort_members.c.role.label("member_role"), cohort_members.c.joined_at)
            .join(cohort_members, cohort_members.c.trainee_id == trainees.c.id)
            .where(cohort_members.c.cohort_id == cohort_id)
            .order_by(cohort_members.c.role.desc(), trainees.c.alias)
        )
        return [
            Member(_person(r), _member_role(r.member_role), r.joined_at)
            for r in await self._rows(query)
        ]

    async def memberships(self, trainee_id: str) -> Sequence[tuple[Cohort, MemberRole]]:
        query = (
            select(cohorts, cohort_members.c.role.label("member_role"))
            .join(cohort_members, cohort_members.c.cohort_id == cohorts.c.id)
            .where(cohort_members.c.trainee_id == trainee_id)
            .order_by(cohorts.c.created_at)
        )
        return [(_cohort(r), _member_role(r.member_role)) for r in await self._rows(query)]

    # -- the audit log ----------------------------------------------------------------------

    async def record_audit(self, entry: AuditEntry) -> None:
        await self._execute(_audit(entry))

    async def audit_log(
        self, *, limit: int = 100, subject: str | None = None
    ) -> Sequence[AuditEntry]:
        query = select(audit_log).order_by(audit_log.c.at.desc(), audit_log.c.id.desc())
        if subject is not None:
            query = query.where(audit_log.c.subject == subject)
        rows = await self._rows(query.limit(limit))
        return [
            AuditEntry(r.at, r.actor, r.action, r.subject, r.outcome, dict(r.detail or {}))
            for r in rows
        ]

    # -- sessions for exports and retention -------------------------------------------------

    async def sessions_between(
        self, since: datetime | None, until: datetime | None
    ) -> Sequence[SessionRecord]:
        query = select(sessions).order_by(sessions.c.created_at, sessions.c.id)
        if since is not None:
            query = query.where(sessions.c.created_at >= since)
        if until is not None:
            query = query.where(sessions.c.created_at < until)
        return [session_record(r) for r in await self._rows(query)]

    async def sessions_by_prefix(self, prefix: str, *, limit: int = 5) -> Sequence[SessionRecord]:
        cleaned = "".join(c for c in prefix.lower() if c in "0123456789abcdef")
        if not cleaned or cleaned != prefix.lower():
            return []
        query = (
            select(sessions)
            .where(sessions.c.id.like(cleaned + "%"))
            .order_by(sessions.c.id)
            .limit(limit)
        )
        return [session_record(r) for r in await self._rows(query)]

    async def stale_sessions(self, before: datetime) -> Sequence[SessionRecord]:
        anonymous = select(trainees.c.id).where(trainees.c.alias.like(ANONYMOUS_PREFIX + "%"))
        query = (
            select(sessions)
            .where(sessions.c.updated_at < before)
            .where(not_(sessions.c.trainee_id.in_(anonymous)))
            .order_by(sessions.c.updated_at, sessions.c.id)
        )
        return [session_record(r) for r in await self._rows(query)]

    async def delete_sessions(self, session_ids: Sequence[str], audit: AuditEntry) -> int:
        ids = list(session_ids)
        if not ids:
            await self.record_audit(audit)
            return 0
        await self._execute(
            (delete(turns).where(turns.c.session_id.in_(ids)), _NONE),
            (delete(sessions).where(sessions.c.id.in_(ids)), _NONE),
            _audit(audit),
        )
        return len(ids)

    async def anonymise_sessions(self, session_ids: Sequence[str], audit: AuditEntry) -> int:
        statements: list[tuple[Any, dict[str, Any]]] = []
        now = audit.at
        for session_id in session_ids:
            anonymous = secrets.token_hex(16)
            alias = f"{ANONYMOUS_PREFIX}{secrets.token_hex(6)}"
            statements.append(
                (
                    trainees.insert(),
                    {"id": anonymous, "alias": alias, "language": None, "created_at": now},
                )
            )
            statements.append(
                (
                    update(sessions)
                    .where(sessions.c.id == session_id)
                    .values(trainee_id=anonymous),
                    _NONE,
                )
            )
            statements.append(
                (
                    update(turns)
                    .where(turns.c.session_id == session_id)
                    .where(turns.c.kind == "text")
                    .values(input=REMOVED),
                    _NONE,
                )
            )
            statements.append(
                (
                    update(turns).where(turns.c.session_id == session_id).values(input_key=None),
                    _NONE,
                )
            )
        statements.append(_audit(audit))
        await self._execute(*statements)
        return len(session_ids)

    # -- forgetting -------------------------------------------------------------------------

    @staticmethod
    def _forget_statements(trainee_id: str, audit: AuditEntry | None) -> Statements:
        mine = select(sessions.c.id).where(sessions.c.trainee_id == trainee_id)
        statements: list[tuple[Any, dict[str, Any]]] = [
            # turns first: the sessions are needed to find them
            (delete(turns).where(turns.c.session_id.in_(mine)), _NONE),
            (delete(sessions).where(sessions.c.trainee_id == trainee_id), _NONE),
            (
                delete(trainee_identities).where(trainee_identities.c.trainee_id == trainee_id),
                _NONE,
            ),
            (delete(cohort_members).where(cohort_members.c.trainee_id == trainee_id), _NONE),
            (delete(user_roles).where(user_roles.c.trainee_id == trainee_id), _NONE),
            (
                update(cohorts)
                .where(cohorts.c.coordinator_id == trainee_id)
                .values(coordinator_id=None),
                _NONE,
            ),
            (delete(trainees).where(trainees.c.id == trainee_id), _NONE),
        ]
        if audit is not None:
            statements.append(_audit(audit))
        return tuple(statements)


def _audit(entry: AuditEntry) -> tuple[Any, dict[str, Any]]:
    row = {
        "at": entry.at,
        "actor": entry.actor[:120],
        "action": entry.action[:40],
        "subject": entry.subject[:200],
        "outcome": entry.outcome,
        "detail": entry.detail,
    }
    return audit_log.insert(), row


def _role(value: str) -> Role:
    for role in ROLES:
        if role == value:
            return role
    raise ValueError(f"unknown role {value!r} in the database")


def _member_role(value: str) -> MemberRole:
    return "trainer" if value == "trainer" else "trainee"


def _person(row: Row[Any]) -> Person:
    return Person(row.id, row.alias, row.language, row.created_at)


def _cohort(row: Row[Any]) -> Cohort:
    mode = row.mode if row.mode in ("coach", "exam") else None
    return Cohort(
        id=row.id,
        name=row.name,
        code=row.code,
        coordinator_id=row.coordinator_id,
        starts_on=row.starts_on,
        ends_on=row.ends_on,
        scenarios=tuple(row.scenarios or ()),
        mode=mode,
        created_at=row.created_at,
    )


def session_record(row: Row[Any]) -> SessionRecord:
    return SessionRecord(
        id=row.id,
        trainee_id=row.trainee_id,
        scenario_id=row.scenario_id,
        scenario_hash=row.scenario_hash,
        state=SessionState.from_dict(row.state),
        last_seq=row.last_seq,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _now() -> datetime:
    return datetime.now(UTC)
