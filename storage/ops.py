"""The writes: one small class per kind, built by the caller, applied in batches by the writer.

Rows are built (and their JSON encoded) by the caller before queueing, so a value that cannot
be stored fails its own call at once, never a batch, and the writer thread does little Python.
A batch is applied kind by kind, parents before children (trainees, scenario versions,
sessions, turns, snapshots), each kind as one executemany, in queue order within a kind.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import Dialect, exists, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from bot.app.ports import (
    ConflictError,
    DuplicateInputError,
    SessionRecord,
    StoreError,
    Trainee,
    TurnRecord,
)
from bot.engine.state import SessionState
from storage.engines import JsonText, encode_json
from storage.statements import FIND_TRAINEE, INSERT_TURN, SET_LANGUAGE, SNAPSHOT, Prepared
from storage.tables import scenario_versions, sessions, trainee_identities, trainees, turns


@dataclass(slots=True, eq=False)
class NewTrainee:
    platform: str
    external_id: str
    language: str | None
    at: datetime


@dataclass(slots=True, eq=False)
class SetLanguage:
    trainee_id: str
    language: str


@dataclass(slots=True, eq=False)
class SaveVersion:
    row: dict[str, Any]


@dataclass(slots=True, eq=False)
class NewSession:
    session: dict[str, Any]
    #: turn 0, as parameters of INSERT_TURN
    turn: tuple[Any, ...]
    first: TurnRecord


@dataclass(slots=True, eq=False)
class AppendTurn:
    #: parameters of INSERT_TURN and SNAPSHOT
    turn: tuple[Any, ...]
    snapshot: tuple[Any, ...]
    record: TurnRecord


@dataclass(slots=True, eq=False)
class Execute:
    """A rare write of its own (the adapters' inbox, cursors and media, forgetting a trainee):
    its statements run in order after the batch's other writes; the result is the row count
    of the first."""

    statements: tuple[tuple[Any, dict[str, Any]], ...]


Operation = NewTrainee | SetLanguage | SaveVersion | NewSession | AppendTurn | Execute


def save_version(scenario_id: str, content_hash: str, source: str, at: datetime) -> SaveVersion:
    row = {"content_hash": content_hash, "scenario_id": scenario_id, "source": source}
    return SaveVersion({**row, "created_at": _aware(at)})


_STATE_FIELDS = tuple(f.name for f in fields(SessionState))


def state_json(state: SessionState) -> JsonText:
    """The JSON of `state.to_dict()`, built without `dataclasses.asdict`, which deep-copies
    every element: ~190 µs for a 30-turn state against ~3 µs here. A test keeps them equal."""
    return encode_json({name: getattr(state, name) for name in _STATE_FIELDS})


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError(f"naive datetime {at!r}: the store keeps timezone-aware UTC")
    return at


def new_alias() -> str:
    # 32 random bits: a collision is refused by the unique index and retried by the store.
    return f"trainee-{secrets.token_hex(4)}"


class Batches:
    """Builds the session and turn operations for a dialect (in the caller), applies a batch
    in an open transaction (`apply`, in the writer) and explains a refused operation."""

    def __init__(self, dialect: Dialect) -> None:
        insert_ = sqlite_insert if dialect.name == "sqlite" else pg_insert
        #: INSERT with ON CONFLICT for this dialect
        self.insert = insert_
        # Saving a version is idempotent: the content hash is the key.
        self._save_version = insert_(scenario_versions).on_conflict_do_nothing(
            index_elements=["content_hash"]
        )
        self._insert_turn = Prepared(INSERT_TURN, dialect)
        self._snapshot = Prepared(SNAPSHOT, dialect)

    def new_session(self, record: SessionRecord, first: TurnRecord) -> NewSession:
        if first.session_id != record.id or first.seq != record.last_seq:
            raise ValueError("the first turn must belong to the session and have its last_seq")
        state = record.state
        session = {
            "id": record.id,
            "trainee_id": record.trainee_id,
            "scenario_id": record.scenario_id,
            "scenario_hash": record.scenario_hash,
            "status": state.status,
            "mode": state.mode,
            "language": state.language,
            "state": state_json(state),
            "last_seq": record.last_seq,
            "created_at": _aware(record.created_at),
            "updated_at": _aware(record.updated_at),
        }
        return NewSession(session, self._turn(first), first)

    def append_turn(self, turn: TurnRecord, state: SessionState) -> AppendTurn:
        snapshot = {
            "b_id": turn.session_id,
            "b_seq": turn.seq,
            "b_state": state_json(state),
            "b_status": state.status,
            "b_at": _aware(turn.at),
        }
        return AppendTurn(self._turn(turn), self._snapshot.row(snapshot), turn)

    def _turn(self, turn: TurnRecord) -> tuple[Any, ...]:
        row = {
            "session_id": turn.session_id,
            "seq": turn.seq,
            "kind": turn.kind,
            "input": turn.input,
            "input_key": turn.input_key,
            "payload": encode_json(turn.payload),
            "at": _aware(turn.at),
        }
        return self._insert_turn.row(row)

    def apply(self, conn: Connection, ops: Sequence[Operation]) -> list[Any]:
        results: list[Any] = [None] * len(ops)
        versions: dict[str, dict[str, Any]] = {}
        languages: list[dict[str, Any]] = []
        new_sessions: list[dict[str, Any]] = []
        new_turns: list[tuple[Any, ...]] = []
        snapshots: dict[str, AppendTurn] = {}
        rare: list[tuple[int, Execute]] = []
        for index, op in enumerate(ops):
            match op:
                case NewTrainee():
                    # Rare (once per person) and it needs its own answer: one at a time.
                    results[index] = self._trainee(conn, op)
                case SaveVersion(row=row):
                    versions.setdefault(row["content_hash"], row)
                case SetLanguage(trainee_id=trainee_id, language=language):
                    languages.append({"b_id": trainee_id, "b_language": language})
                case NewSession(session=session, turn=turn):
                    new_sessions.append(session)
                    new_turns.append(turn)
                case AppendTurn(turn=turn, record=record):
                    new_turns.append(turn)
                    # Only the newest snapshot of each session in the batch needs writing.
                    latest = snapshots.get(record.session_id)
                    if latest is None or latest.record.seq < record.seq:
                        snapshots[record.session_id] = op
                case Execute():
                    rare.append((index, op))
        if versions:
            conn.execute(self._save_version, list(versions.values()))
        if languages:
            conn.execute(SET_LANGUAGE, languages)
        if new_sessions:
            conn.execute(insert(sessions), new_sessions)
        if new_turns:
            self._insert_turn.run(conn, new_turns)
        if snapshots:
            self._snapshot.run(conn, [op.snapshot for op in snapshots.values()])
        for index, op in rare:
            counts = [
                conn.execute(statement, params).rowcount for statement, params in op.statements
            ]
            results[index] = counts[0] if counts else 0
        return results

    def _trainee(self, conn: Connection, op: NewTrainee) -> Trainee:
        # Inside the writer's transaction: sees a trainee created earlier in the same batch.
        keys = {"platform": op.platform, "external_id": op.external_id}
        row = conn.execute(FIND_TRAINEE, keys).first()
        if row is not None:
            return Trainee(row.id, row.alias, op.platform, op.external_id, row.language)
        new = Trainee(uuid.uuid4().hex, new_alias(), op.platform, op.external_id, op.language)
        conn.execute(
            insert(trainees),
            {"id": new.id, "alias": new.alias, "language": new.language, "created_at": op.at},
        )
        conn.execute(
            insert(trainee_identities), {**keys, "trainee_id": new.id, "created_at": op.at}
        )
        return new

    def explain(self, conn: Connection, op: Operation, error: Exception) -> StoreError:
        """Which rule `op` broke, found by asking the database (same answer on every backend,
        unlike parsing driver messages)."""
        if isinstance(op, NewTrainee):
            # Another process took this identity, or the alias collided: the store retries.
            return ConflictError("the trainee was created concurrently")
        if isinstance(op, NewSession | AppendTurn):
            turn = op.first if isinstance(op, NewSession) else op.record
            session_id, seq, key = turn.session_id, turn.seq, turn.input_key
            if key is not None and _exists(
                conn, turns.c.session_id == session_id, turns.c.input_key == key
            ):
                return DuplicateInputError(f"input {key!r} was already applied to {session_id}")
            if _exists(conn, turns.c.session_id == session_id, turns.c.seq == seq):
                return ConflictError(f"turn {seq} of {session_id} was committed by another writer")
            if isinstance(op, AppendTurn) and not _exists(conn, sessions.c.id == session_id):
                return StoreError(f"no session {session_id!r}")
            if isinstance(op, NewSession):
                return StoreError("the session's trainee or scenario version is not stored")
        detail = str(getattr(error, "orig", None) or error).splitlines()
        return StoreError(f"the database refused the write: {detail[0][:200] if detail else ''}")


def _exists(conn: Connection, *where: Any) -> bool:
    return bool(conn.execute(select(exists().where(*where))).scalar())
