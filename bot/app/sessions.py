"""The state behind the use cases: trainees and their sessions in memory, turns committed.

`TrainingService` (bot.app.service) is the entry point; this base keeps what it needs between
messages and the one way a turn is taken: computed, committed, and only then answered.
"""

from __future__ import annotations

import asyncio
import secrets
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from bot.app import journal
from bot.app.gate import Gate, LocalGate
from bot.app.i18n import supported, t
from bot.app.library import ScenarioLibrary, Version
from bot.app.messages import (
    Incoming,
    Outgoing,
    TextOut,
)
from bot.app.ports import (
    ConflictError,
    DuplicateInputError,
    SessionRecord,
    SessionStore,
    StoreUnavailableError,
    Trainee,
    TurnKind,
    TurnRecord,
)
from bot.app.render import said_messages, turn_messages
from bot.app.telemetry import NullTelemetry, Telemetry
from bot.engine.engine import EngineError
from bot.engine.events import Said
from bot.engine.state import Mode, SessionState, Status
from bot.scoring.interview import Interview, TurnResult

Clock = Callable[[], datetime]
#: trainees remembered in memory; beyond this the least recently active are looked up again
TRAINEE_CACHE = 50_000
#: input keys remembered per trainee, against re-delivered messages
RECENT_KEYS = 16
#: a commit that fails because the database is unreachable is retried after these pauses (s)
RETRY_PAUSES = (0.05, 0.2, 0.8)


def utc_now() -> datetime:
    return datetime.now(UTC)


class SessionKeeper:
    def __init__(
        self,
        library: ScenarioLibrary,
        store: SessionStore,
        *,
        clock: Clock = utc_now,
        seeds: Callable[[], int] = lambda: secrets.randbits(31),
        default_mode: Mode = "coach",
        gate: Gate | None = None,
    ) -> None:
        self.library = library
        self.store = store
        self.clock = clock
        self.seeds = seeds
        self.default_mode: Mode = default_mode
        #: how to wait between retries (tests make it instant)
        self.sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
        #: what adapters report about sending (bot.ops feeds it to /metrics)
        self.telemetry: Telemetry = NullTelemetry()
        #: one trainee's inputs one at a time: in this process, or across workers (Redis)
        self.gate: Gate = gate or LocalGate()
        self._sessions: dict[str, SessionRecord] = {}
        #: the one-time token of each trainee's pending /forget confirmation
        self._forget_tokens: dict[str, str] = {}
        # The store refuses an input key a session already has; a messenger re-delivering an
        # old message after the trainee started another session would slip past that, so the
        # last few keys of each trainee are also remembered here.
        self._recent_keys: OrderedDict[str, tuple[str, ...]] = OrderedDict()
        # Who a platform user is never changes; asking the database on every message cost a
        # read per turn and capped a busy bot at a few hundred turns/s (see BENCHMARKS.md).
        self._trainees: OrderedDict[tuple[str, str], Trainee] = OrderedDict()

    async def _trainee(self, incoming: Incoming) -> Trainee:
        key = (incoming.platform, incoming.user_id)
        trainee = self._trainees.get(key)
        if trainee is None:
            trainee = await self.store.trainee(
                incoming.platform, incoming.user_id, language=supported(incoming.language)
            )
            self._remember(trainee)
        else:
            self._trainees.move_to_end(key)
        return trainee

    def _remember(self, trainee: Trainee) -> None:
        self._trainees[(trainee.platform, trainee.external_id)] = trainee
        self._trainees.move_to_end((trainee.platform, trainee.external_id))
        while len(self._trainees) > TRAINEE_CACHE:
            self._trainees.popitem(last=False)

    async def _advance(
        self,
        record: SessionRecord,
        version: Version,
        kind: TurnKind,
        given: str,
        key: str | None,
        play: Callable[[Interview], TurnResult],
    ) -> list[Outgoing]:
        """Compute a turn, commit it, and only then say what happened."""
        lang = record.state.language
        if record.state.finished:
            return [TextOut("info", t(lang, "session_over"))]
        try:
            result = play(version.interview)
        except EngineError:
            return [TextOut("warning", t(lang, "bad_button"))]
        payload = journal.turn_payload(result)
        await self._commit(record, kind, given, key, result.state, payload)
        if result.ended is not None:
            self._sessions.pop(record.trainee_id, None)
        title = local_text(version.loaded.scenario.title, lang)
        return turn_messages(result, title)

    def _seen_recently(self, trainee_id: str, key: str | None) -> bool:
        return key is not None and key in self._recent_keys.get(trainee_id, ())

    def _remember_key(self, trainee_id: str, key: str | None) -> None:
        if key is None:
            return
        keys = self._recent_keys.pop(trainee_id, ())
        self._recent_keys[trainee_id] = (*keys[-(RECENT_KEYS - 1) :], key)
        while len(self._recent_keys) > TRAINEE_CACHE:
            self._recent_keys.popitem(last=False)

    async def _commit(
        self,
        record: SessionRecord,
        kind: TurnKind,
        given: str,
        key: str | None,
        state: SessionState,
        payload: dict[str, Any],
    ) -> SessionRecord:
        now = self.clock()
        seq = record.last_seq + 1
        turn = TurnRecord(record.id, seq, kind, given, key, now, payload)
        for attempt, pause in enumerate((*RETRY_PAUSES, None)):
            try:
                await self.store.append_turn(turn, state)
                break
            except StoreUnavailableError:
                if pause is None:
                    raise  # the trainee is told to try again shortly; nothing was answered
                await self.sleep(pause)
            except (DuplicateInputError, ConflictError) as refused:
                # After a lost connection the write may have landed before the error: if the
                # stored turn is this one, it is committed and is answered as such.
                if attempt > 0 and await self._landed(record.id, seq, key):
                    break
                if isinstance(refused, DuplicateInputError):
                    raise ReplyInsteadError(
                        TextOut("info", t(record.state.language, "duplicate"))
                    ) from None
                self._sessions.pop(record.trainee_id, None)  # reload the newer state next time
                raise ReplyInsteadError(
                    TextOut("warning", t(record.state.language, "conflict"))
                ) from None
        updated = replace(record, state=state, last_seq=seq, updated_at=now)
        self._sessions[record.trainee_id] = updated
        return updated

    async def _landed(self, session_id: str, seq: int, key: str | None) -> bool:
        turns = await self.store.turns(session_id)
        last = turns[-1] if turns else None
        return last is not None and last.seq == seq and (key is None or last.input_key == key)

    async def _set_status(
        self, record: SessionRecord, status: Status, kind: TurnKind, key: str | None
    ) -> SessionRecord:
        state = replace(record.state, status=status)
        updated = await self._commit(record, kind, kind, key, state, {"status": status})
        if state.finished:
            self._sessions.pop(record.trainee_id, None)
        return updated

    async def _set_language(self, trainee: Trainee, argument: str) -> list[Outgoing]:
        wanted = argument.strip().lower()
        if wanted not in ("en", "pl"):
            return [TextOut("info", t(self._language(trainee), "language_usage"))]
        await self.store.set_trainee_language(trainee.id, wanted)
        self._remember(replace(trainee, language=wanted))
        return [TextOut("info", t(wanted, "language_set"))]

    async def _active(self, trainee: Trainee) -> SessionRecord | None:
        cached = self._sessions.get(trainee.id)
        if cached is not None:
            return cached
        record = await self.store.active_session(trainee.id)
        if record is not None:
            self._sessions[trainee.id] = record
        return record

    async def _version(self, record: SessionRecord) -> Version:
        return await self.library.version(record.scenario_hash, record.scenario_id)

    async def _last_said(self, record: SessionRecord) -> list[Outgoing]:
        turns = await self.store.turns(record.id)
        for turn in reversed(turns):
            said = turn.payload.get("said")
            if said:
                lines = tuple(
                    Said(
                        s["line_id"],
                        s["speaker"],
                        s.get("speaker_name"),
                        s.get("speaker_role", "persona"),
                        s["text"],
                    )
                    for s in said
                )
                return said_messages(lines[-3:], record.state.language)
        return []

    def _language(self, trainee: Trainee) -> str:
        return supported(trainee.language)


class ReplyInsteadError(Exception):
    """A turn that ends in a short reply instead of going ahead (e.g. a duplicate)."""

    def __init__(self, message: Outgoing) -> None:
        super().__init__()
        self.message = message


def local_text(text: dict[str, str], language: str) -> str:
    return text.get(language) or next(iter(text.values()))
