"""An in-memory SessionStore for fast unit tests of the use cases.

It honours the same contract as the SQL store (duplicate input keys, seq fencing), and can be
told to fail, so the service's error paths are testable. Real-database tests live in
tests/storage and tests/test_service_sql.py.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from bot.app.ports import (
    ConflictError,
    DuplicateInputError,
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
        return self.trainees[key]

    async def set_trainee_language(self, trainee_id: str, language: str) -> None:
        self._check()
        for key, trainee in self.trainees.items():
            if trainee.id == trainee_id:
                self.trainees[key] = replace(trainee, language=language)

    async def save_scenario_version(self, scenario_id: str, content_hash: str, source: str) -> None:
        self._check()
        self.versions.setdefault(content_hash, source)

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

    async def forget_trainee(self, trainee_id: str) -> None:
        self._check()
        for sid in [sid for sid, s in self.sessions.items() if s.trainee_id == trainee_id]:
            del self.sessions[sid]
            self.log.pop(sid, None)
        self.trainees = {k: v for k, v in self.trainees.items() if v.id != trainee_id}

    async def close(self) -> None:
        return None
