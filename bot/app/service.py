"""Use cases: start or resume a session, handle a turn, pause, quit, debrief.

Every adapter calls `TrainingService.handle` with a neutral `Incoming` and renders what comes
back. Guarantees that hold for every adapter:
- one trainee's messages are handled one at a time, in order; different trainees run at once;
- a turn is committed to the store before anything is answered, and nothing is answered for
  a turn that was not stored (the trainee is asked to retry instead);
- the same platform message (`Incoming.key`) is applied once;
- invalid input of any kind gets a short reply and changes nothing.
"""

from __future__ import annotations

import asyncio
import secrets
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from bot.app import journal
from bot.app.commands import Command, parse_command
from bot.app.i18n import supported, t
from bot.app.library import ScenarioLibrary, UnknownScenarioError, Version
from bot.app.messages import (
    MAX_TEXT,
    ButtonOut,
    ButtonsOut,
    DebriefOut,
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
from bot.app.render import debrief_text, parse_button, said_messages, turn_messages
from bot.engine.engine import EngineError
from bot.engine.events import Said
from bot.engine.state import Mode, SessionState, Status, Value
from bot.scoring.interview import Interview, TurnResult

Clock = Callable[[], datetime]
#: trainees remembered in memory; beyond this the least recently active are looked up again
TRAINEE_CACHE = 50_000


def utc_now() -> datetime:
    return datetime.now(UTC)


class TrainingService:
    def __init__(
        self,
        library: ScenarioLibrary,
        store: SessionStore,
        *,
        clock: Clock = utc_now,
        seeds: Callable[[], int] = lambda: secrets.randbits(31),
        default_mode: Mode = "coach",
    ) -> None:
        self.library = library
        self.store = store
        self.clock = clock
        self.seeds = seeds
        self.default_mode: Mode = default_mode
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self._sessions: dict[str, SessionRecord] = {}
        # Who a platform user is never changes; asking the database on every message cost a
        # read per turn and capped a busy bot at a few hundred turns/s (see BENCHMARKS.md).
        self._trainees: OrderedDict[tuple[str, str], Trainee] = OrderedDict()

    # -- entry point ------------------------------------------------------------------------

    async def handle(self, incoming: Incoming) -> list[Outgoing]:
        lang = supported(incoming.language)
        if incoming.text is not None and len(incoming.text) > MAX_TEXT:
            return [
                TextOut("warning", t(lang, "too_long", length=len(incoming.text), limit=MAX_TEXT))
            ]
        try:
            trainee = await self._trainee(incoming)
        except StoreUnavailableError:
            return [TextOut("error", t(lang, "storage_unavailable"))]
        lock = self._locks.get(trainee.id)
        if lock is None:
            lock = self._locks[trainee.id] = asyncio.Lock()
        async with lock:
            try:
                return await self._dispatch(trainee, incoming)
            except _ReplyInsteadError as reply:
                return [reply.message]
            except StoreUnavailableError:
                return [TextOut("error", t(self._language(trainee), "storage_unavailable"))]

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

    async def _dispatch(self, trainee: Trainee, incoming: Incoming) -> list[Outgoing]:
        lang = self._language(trainee)
        if incoming.button is not None:
            return await self._button(trainee, incoming.button, incoming.key)
        text = (incoming.text or "").strip()
        if not text:
            return [TextOut("warning", t(lang, "empty_message"))]
        command = parse_command(text)
        if command is not None:
            return await self._command(trainee, command, incoming.key)
        record = await self._active(trainee)
        if record is None:
            return [TextOut("info", t(lang, "no_session"))]
        if record.state.status == "paused":
            return [TextOut("info", t(record.state.language, "is_paused"))]
        version = await self._version(record)
        return await self._advance(
            record, version, "text", text, incoming.key, lambda i: i.say(record.state, text)
        )

    # -- use cases --------------------------------------------------------------------------

    async def catalogue(self, trainee: Trainee) -> list[Outgoing]:
        lang = self._language(trainee)
        scenarios = self.library.scenarios()
        if not scenarios:
            return [TextOut("info", t(lang, "no_scenarios"))]
        buttons = tuple(
            ButtonOut(
                t(
                    lang,
                    "scenario_line",
                    title=_local(s.scenario.title, lang),
                    minutes=s.scenario.minutes,
                    difficulty=s.scenario.difficulty,
                ),
                f"s:{s.id}",
            )
            for s in scenarios
        )
        return [ButtonsOut(t(lang, "choose_scenario"), buttons)]

    async def start(
        self,
        trainee: Trainee,
        scenario_id: str,
        *,
        language: str | None = None,
        mode: Mode | None = None,
        key: str | None = None,
        node: str | None = None,
        preset: dict[str, Value] | None = None,
    ) -> list[Outgoing]:
        ui = self._language(trainee)
        try:
            version = await self.library.current(scenario_id)
        except UnknownScenarioError:
            return [TextOut("warning", t(ui, "unknown_scenario", id=scenario_id))]
        scenario = version.loaded.scenario
        wanted = language or ui
        lang = wanted if wanted in scenario.languages else scenario.languages[0]
        previous = await self._active(trainee)
        if previous is not None:
            await self._set_status(previous, "quit", "quit", None)
        mode = mode or self.default_mode
        try:
            result = version.interview.start(
                seed=self.seeds(), language=lang, mode=mode, node=node, preset=preset
            )
        except EngineError as exc:
            return [TextOut("warning", str(exc))]
        now = self.clock()
        record = SessionRecord(
            id=uuid4().hex,
            trainee_id=trainee.id,
            scenario_id=scenario.id,
            scenario_hash=version.loaded.content_hash,
            state=result.state,
            last_seq=0,
            created_at=now,
            updated_at=now,
        )
        first = TurnRecord(
            record.id,
            0,
            "start",
            scenario.id,
            key,
            now,
            journal.start_payload(result, node=node, preset=dict(preset or {})),
        )
        try:
            await self.store.create_session(record, first)
        except DuplicateInputError:
            return [TextOut("info", t(lang, "duplicate"))]
        self._sessions[trainee.id] = record
        intro = [
            TextOut("info", f"{_local(scenario.title, lang)}\n{_local(scenario.summary, lang)}"),
            TextOut("info", t(lang, "intro_role", role=_local(scenario.role, lang))),
            TextOut("info", t(lang, "intro_setting", setting=_local(scenario.setting, lang))),
            TextOut(
                "warning", t(lang, "content_warning", text=_local(scenario.content_warning, lang))
            ),
            TextOut("info", t(lang, "mode_coach" if mode == "coach" else "mode_exam")),
            TextOut("info", t(lang, "how_to_play")),
        ]
        return intro + turn_messages(result, _local(scenario.title, lang))

    async def resume(self, trainee: Trainee, key: str | None = None) -> list[Outgoing]:
        record = await self._active(trainee)
        if record is None:
            return [TextOut("info", t(self._language(trainee), "no_session"))]
        if record.state.status == "paused":
            record = await self._set_status(record, "active", "resume", key)
        version = await self._version(record)
        state = record.state
        title = _local(version.loaded.scenario.title, state.language)
        result = TurnResult(state, (), version.interview.engine.buttons(state))
        lines = [TextOut("info", t(state.language, "resumed", title=title, turn=state.turn))]
        return lines + await self._last_said(record) + turn_messages(result, title)

    async def debrief(self, trainee: Trainee) -> list[Outgoing]:
        lang = self._language(trainee)
        sessions = await self.store.sessions_of(trainee.id)
        done = [s for s in sessions if s.state.status in ("ended", "quit") and s.state.turn > 0]
        if not done:
            return [TextOut("info", t(lang, "no_debrief"))]
        last = max(done, key=lambda s: s.updated_at)
        version = await self._version(last)
        debrief = version.interview.debrief(last.state)
        title = _local(version.loaded.scenario.title, last.state.language)
        return [DebriefOut(debrief, title, debrief_text(debrief, title, last.state.language))]

    # -- internals --------------------------------------------------------------------------

    async def _button(self, trainee: Trainee, data: str, key: str | None) -> list[Outgoing]:
        lang = self._language(trainee)
        if data.startswith("s:"):
            return await self.start(trainee, data[2:80], key=key)
        parsed = parse_button(data)
        record = await self._active(trainee)
        if parsed is None or record is None:
            return [TextOut("warning", t(lang, "bad_button"))]
        turn, index = parsed
        state = record.state
        if state.status == "paused":
            return [TextOut("info", t(state.language, "is_paused"))]
        version = await self._version(record)
        open_now = version.interview.engine.buttons(state)
        if turn != state.turn:
            return [TextOut("warning", t(state.language, "stale_button"))]
        if index >= len(open_now):
            return [TextOut("warning", t(state.language, "bad_button"))]
        choice_id = open_now[index].id
        return await self._advance(
            record, version, "choice", choice_id, key, lambda i: i.press(state, choice_id)
        )

    async def _command(self, trainee: Trainee, command: Command, key: str | None) -> list[Outgoing]:
        lang = self._language(trainee)
        match command.name:
            case "start" | "scenarios" if command.argument:
                return await self.start(trainee, command.argument, key=key)
            case "start" | "scenarios":
                welcome = [TextOut("info", t(lang, "welcome"))] if command.name == "start" else []
                return welcome + await self.catalogue(trainee)
            case "help":
                return [TextOut("info", t(lang, "help"))]
            case "language":
                return await self._set_language(trainee, command.argument)
            case "debrief":
                return await self.debrief(trainee)
            case "resume":
                return await self.resume(trainee, key)
        record = await self._active(trainee)
        if record is None:
            if command.name in ("hint", "pause", "quit", "restart"):
                return [TextOut("info", t(lang, "no_session"))]
            return [TextOut("warning", t(lang, "unknown_command", command=command.raw[:40]))]
        state = record.state
        match command.name:
            case "hint" if state.status == "active":
                version = await self._version(record)
                cost = t(
                    state.language, "hint_cost", cost=version.loaded.scenario.scoring.hint_cost
                )
                out = await self._advance(
                    record, version, "hint", "/hint", key, lambda i: i.ask_hint(state)
                )
                return [TextOut("info", cost), *out]
            case "hint":
                return [TextOut("info", t(state.language, "is_paused"))]
            case "pause":
                await self._set_status(record, "paused", "pause", key)
                return [TextOut("info", t(state.language, "paused"))]
            case "quit":
                await self._set_status(record, "quit", "quit", key)
                return [TextOut("info", t(state.language, "quit"))]
            case "restart":
                return await self.start(
                    trainee, record.scenario_id, language=state.language, mode=state.mode, key=key
                )
        return [TextOut("warning", t(lang, "unknown_command", command=command.raw[:40]))]

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
        title = _local(version.loaded.scenario.title, lang)
        return turn_messages(result, title)

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
        try:
            await self.store.append_turn(turn, state)
        except DuplicateInputError:
            raise _ReplyInsteadError(
                TextOut("info", t(record.state.language, "duplicate"))
            ) from None
        except ConflictError:
            self._sessions.pop(record.trainee_id, None)  # reload the newer state next time
            raise _ReplyInsteadError(
                TextOut("warning", t(record.state.language, "conflict"))
            ) from None
        updated = replace(record, state=state, last_seq=seq, updated_at=now)
        self._sessions[record.trainee_id] = updated
        return updated

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


class _ReplyInsteadError(Exception):
    """A turn that ends in a short reply instead of going ahead (e.g. a duplicate)."""

    def __init__(self, message: Outgoing) -> None:
        super().__init__()
        self.message = message


def _local(text: dict[str, str], language: str) -> str:
    return text.get(language) or next(iter(text.values()))
