"""`SqlStore`: the `SessionStore` port on SQLite (WAL) or PostgreSQL, via SQLAlchemy Core.

Reads use pooled connections; every write goes through the single group-commit `Writer`.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, bindparam, event, insert, select, update
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from bot.app.ports import (
    ConflictError,
    DuplicateInputError,
    SessionRecord,
    StoreError,
    StoreUnavailableError,
    Trainee,
    TurnRecord,
)
from bot.engine.state import SessionState
from storage import migrate
from storage.tables import scenario_versions, sessions, trainee_identities, trainees, turns
from storage.writer import Operation, Writer

#: SQLite `synchronous` level. FULL syncs the WAL at every commit, so a committed turn survives
#: even a power cut, not only a killed process; group commit makes that affordable (measured in
#: BENCHMARKS.md: the SQLite figures are with FULL).
SQLITE_SYNCHRONOUS = "FULL"


class _AlreadyExistsError(StoreError):
    """A trainee identity created concurrently by another request."""


class SqlStore:
    def __init__(self, engine: AsyncEngine, writer_engine: AsyncEngine) -> None:
        self._engine = engine
        self._writer_engine = writer_engine
        self._insert = sqlite_insert if engine.dialect.name == "sqlite" else pg_insert
        self.writer = Writer(writer_engine, self._apply, _classify)

    @classmethod
    async def open(cls, url: str, *, migrate_schema: bool = True) -> SqlStore:
        if migrate_schema:
            try:
                await asyncio.to_thread(migrate.upgrade, url)
            except (sa_exc.SQLAlchemyError, OSError) as error:
                raise StoreUnavailableError(
                    f"cannot prepare the database: {type(error).__name__}"
                ) from None
        engine = create_async_engine(url, pool_pre_ping=True)
        if engine.dialect.name == "sqlite":
            _tune_sqlite(engine)
            writer_engine = create_async_engine(url, isolation_level="AUTOCOMMIT", pool_size=1)
            _tune_sqlite(writer_engine)
        else:
            writer_engine = create_async_engine(url, pool_size=2, pool_pre_ping=True)
        store = cls(engine, writer_engine)
        store.writer.start()
        return store

    async def close(self) -> None:
        await self.writer.close()
        await self._engine.dispose()
        await self._writer_engine.dispose()

    # -- trainees -----------------------------------------------------------------------------

    async def trainee(
        self, platform: str, external_id: str, *, language: str | None = None
    ) -> Trainee:
        found = await self._find_trainee(platform, external_id)
        if found is not None:
            return found
        new = Trainee(
            uuid.uuid4().hex, f"trainee-{secrets.token_hex(4)}", platform, external_id, language
        )
        with contextlib.suppress(
            _AlreadyExistsError
        ):  # a concurrent request created it: use theirs
            await self.writer.submit("trainee", trainee=new, at=_now())
        found = await self._find_trainee(platform, external_id)
        if found is None:  # pragma: no cover - the insert or the concurrent one committed
            raise StoreUnavailableError("the trainee could not be created")
        return found

    async def _find_trainee(self, platform: str, external_id: str) -> Trainee | None:
        query = (
            select(trainees.c.id, trainees.c.alias, trainees.c.language)
            .join(trainee_identities, trainee_identities.c.trainee_id == trainees.c.id)
            .where(
                trainee_identities.c.platform == platform,
                trainee_identities.c.external_id == external_id,
            )
        )
        row = await self._read_one(query)
        return Trainee(row.id, row.alias, platform, external_id, row.language) if row else None

    async def set_trainee_language(self, trainee_id: str, language: str) -> None:
        await self.writer.submit("language", trainee_id=trainee_id, language=language)

    # -- scenario versions --------------------------------------------------------------------

    async def save_scenario_version(self, scenario_id: str, content_hash: str, source: str) -> None:
        await self.writer.submit(
            "version", scenario_id=scenario_id, content_hash=content_hash, source=source
        )

    async def scenario_source(self, content_hash: str) -> str | None:
        query = select(scenario_versions.c.source).where(
            scenario_versions.c.content_hash == content_hash
        )
        row = await self._read_one(query)
        return str(row.source) if row else None

    # -- sessions and turns -------------------------------------------------------------------

    async def create_session(self, record: SessionRecord, first: TurnRecord) -> None:
        await self.writer.submit("session", record=record, turn=first)

    async def append_turn(self, turn: TurnRecord, state: SessionState) -> None:
        await self.writer.submit("turn", turn=turn, state=state)

    async def get_session(self, session_id: str) -> SessionRecord | None:
        row = await self._read_one(select(sessions).where(sessions.c.id == session_id))
        return _session(row) if row else None

    async def active_session(self, trainee_id: str) -> SessionRecord | None:
        query = (
            select(sessions)
            .where(sessions.c.trainee_id == trainee_id, sessions.c.status.in_(("active", "paused")))
            .order_by(sessions.c.updated_at.desc())
            .limit(1)
        )
        row = await self._read_one(query)
        return _session(row) if row else None

    async def sessions_of(self, trainee_id: str) -> Sequence[SessionRecord]:
        query = (
            select(sessions)
            .where(sessions.c.trainee_id == trainee_id)
            .order_by(sessions.c.created_at)
        )
        return [_session(row) for row in await self._read(query)]

    async def turns(self, session_id: str) -> Sequence[TurnRecord]:
        query = select(turns).where(turns.c.session_id == session_id).order_by(turns.c.seq)
        return [
            TurnRecord(
                row.session_id,
                row.seq,
                row.kind,
                row.input,
                row.input_key,
                _utc(row.at),
                row.payload,
            )
            for row in await self._read(query)
        ]

    async def input_seen(self, session_id: str, input_key: str) -> bool:
        query = select(turns.c.id).where(
            turns.c.session_id == session_id, turns.c.input_key == input_key
        )
        return await self._read_one(query) is not None

    # -- internals ----------------------------------------------------------------------------

    async def _read_one(self, query: Any) -> Row[Any] | None:
        rows = await self._read(query)
        return rows[0] if rows else None

    async def _read(self, query: Any) -> Sequence[Row[Any]]:
        try:
            async with self._engine.connect() as conn:
                return (await conn.execute(query)).all()
        except (sa_exc.SQLAlchemyError, OSError) as error:
            raise StoreUnavailableError(
                f"the database is unavailable: {type(error).__name__}"
            ) from None

    async def _apply(self, conn: AsyncConnection, batch: Sequence[Operation]) -> None:
        """Apply a batch: rows grouped by table, parents before children, order kept."""
        by_kind: dict[str, list[dict[str, Any]]] = {}
        for op in batch:
            by_kind.setdefault(op.kind, []).append(op.params)
        if rows := by_kind.get("trainee"):
            await conn.execute(insert(trainees), [_trainee_row(p) for p in rows])
            await conn.execute(insert(trainee_identities), [_identity_row(p) for p in rows])
        if rows := by_kind.get("version"):
            statement = self._insert(scenario_versions).on_conflict_do_nothing()
            await conn.execute(
                statement, [{**p, "created_at": _now()} for p in _unique_versions(rows)]
            )
        if rows := by_kind.get("session"):
            await conn.execute(insert(sessions), [_session_row(p["record"]) for p in rows])
            await conn.execute(insert(turns), [_turn_row(p["turn"]) for p in rows])
        if rows := by_kind.get("turn"):
            await conn.execute(insert(turns), [_turn_row(p["turn"]) for p in rows])
            await conn.execute(_SNAPSHOT, [_snapshot_row(p["turn"], p["state"]) for p in rows])
        if rows := by_kind.get("language"):
            await conn.execute(
                _LANGUAGE, [{"b_id": p["trainee_id"], "b_language": p["language"]} for p in rows]
            )


_LANGUAGE = (
    update(trainees)
    .where(trainees.c.id == bindparam("b_id"))
    .values(language=bindparam("b_language"))
)

# A snapshot only moves forward: an older turn committed late never overwrites a newer state.
_SNAPSHOT = (
    update(sessions)
    .where(and_(sessions.c.id == bindparam("b_id"), sessions.c.last_seq < bindparam("b_seq")))
    .values(
        state=bindparam("b_state"),
        status=bindparam("b_status"),
        last_seq=bindparam("b_seq"),
        updated_at=bindparam("b_at"),
    )
)


def _classify(op: Operation, error: sa_exc.IntegrityError) -> StoreError:
    text = str(error.orig)
    if op.kind == "trainee":
        return _AlreadyExistsError(text)
    if "input_key" in text or "uq_turns_session_input" in text:
        return DuplicateInputError("this input was already applied to the session")
    if "seq" in text or "uq_turns_session_seq" in text:
        return ConflictError("another writer committed this turn first")
    if op.kind == "session" and ("sessions" in text or "pk_sessions" in text):
        return ConflictError("the session exists already")
    return StoreUnavailableError(f"the write was refused: {text[:200]}")


def _tune_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={SQLITE_SYNCHRONOUS}")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


def _now() -> datetime:
    return datetime.now(UTC)


def _utc(value: datetime) -> datetime:
    """SQLite hands datetimes back without a zone; they were written in UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _unique_versions(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return list({row["content_hash"]: row for row in rows}.values())


def _trainee_row(params: dict[str, Any]) -> dict[str, Any]:
    t: Trainee = params["trainee"]
    return {"id": t.id, "alias": t.alias, "language": t.language, "created_at": params["at"]}


def _identity_row(params: dict[str, Any]) -> dict[str, Any]:
    t: Trainee = params["trainee"]
    return {
        "platform": t.platform,
        "external_id": t.external_id,
        "trainee_id": t.id,
        "created_at": params["at"],
    }


def _session_row(record: SessionRecord) -> dict[str, Any]:
    state = record.state
    return {
        "id": record.id,
        "trainee_id": record.trainee_id,
        "scenario_id": record.scenario_id,
        "scenario_hash": record.scenario_hash,
        "status": state.status,
        "mode": state.mode,
        "language": state.language,
        "state": state.to_dict(),
        "last_seq": record.last_seq,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
    }


def _turn_row(turn: TurnRecord) -> dict[str, Any]:
    return {
        "session_id": turn.session_id,
        "seq": turn.seq,
        "kind": turn.kind,
        "input": turn.input,
        "input_key": turn.input_key,
        "payload": turn.payload,
        "at": turn.at,
    }


def _snapshot_row(turn: TurnRecord, state: SessionState) -> dict[str, Any]:
    return {
        "b_id": turn.session_id,
        "b_seq": turn.seq,
        "b_state": state.to_dict(),
        "b_status": state.status,
        "b_at": turn.at,
    }


def _session(row: Row[Any]) -> SessionRecord:
    return SessionRecord(
        id=row.id,
        trainee_id=row.trainee_id,
        scenario_id=row.scenario_id,
        scenario_hash=row.scenario_hash,
        state=SessionState.from_dict(row.state),
        last_seq=row.last_seq,
        created_at=_utc(row.created_at),
        updated_at=_utc(row.updated_at),
    )
