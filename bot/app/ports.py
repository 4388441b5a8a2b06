"""Ports: what the use cases need from the outside world, as Protocols.

`storage` implements `SessionStore`; tests may use `bot.app.memory.InMemoryStore`. Nothing
here knows SQL, a messenger or a clock implementation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from bot.engine.state import SessionState

TurnKind = Literal["start", "choice", "text", "hint", "pause", "resume", "quit"]


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

    async def forget_trainee(self, trainee_id: str) -> None:
        """Delete the trainee, every identity, session and turn of theirs, in one transaction."""
        ...

    async def close(self) -> None: ...


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
