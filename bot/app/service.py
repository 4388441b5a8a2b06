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

import secrets
from collections.abc import Callable
from dataclasses import replace
from uuid import uuid4

from bot.app import journal
from bot.app.commands import Command, parse_command
from bot.app.coordination import Coordination
from bot.app.directory import CODE_LENGTH, normalise_code
from bot.app.documents import DocumentRenderer
from bot.app.gate import Gate, GateBusyError, GateUnavailableError
from bot.app.i18n import supported, t
from bot.app.library import ScenarioLibrary, UnknownScenarioError
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
    DuplicateInputError,
    SessionRecord,
    Store,
    StoreUnavailableError,
    Trainee,
    TurnRecord,
)
from bot.app.render import debrief_text, parse_button, turn_messages
from bot.app.sessions import Clock, ReplyInsteadError, SessionKeeper, local_text, utc_now
from bot.engine.engine import EngineError
from bot.engine.state import Mode, Value
from bot.scoring.interview import TurnResult


class TrainingService(SessionKeeper):
    def __init__(
        self,
        library: ScenarioLibrary,
        store: Store,
        *,
        clock: Clock = utc_now,
        seeds: Callable[[], int] = lambda: secrets.randbits(31),
        default_mode: Mode = "coach",
        renderer: DocumentRenderer | None = None,
        gate: Gate | None = None,
    ) -> None:
        super().__init__(
            library, store, clock=clock, seeds=seeds, default_mode=default_mode, gate=gate
        )
        #: cohorts, roles, reports and privacy (bot.app.coordination)
        self.coordination = Coordination(library, store, clock=clock, renderer=renderer)

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
        try:
            async with self.gate.hold(trainee.id) as fresh:
                if not fresh:  # another worker served this trainee since: reload the session
                    self._sessions.pop(trainee.id, None)
                return await self._handle_held(trainee, incoming)
        except GateBusyError:
            return [TextOut("warning", t(self._language(trainee), "busy"))]
        except GateUnavailableError:
            return [TextOut("error", t(self._language(trainee), "storage_unavailable"))]

    async def _handle_held(self, trainee: Trainee, incoming: Incoming) -> list[Outgoing]:
        if self._seen_recently(trainee.id, incoming.key):
            return [TextOut("info", t(self._language(trainee), "duplicate"))]
        try:
            replies = await self._dispatch(trainee, incoming)
        except ReplyInsteadError as reply:
            return [reply.message]
        except StoreUnavailableError:
            return [TextOut("error", t(self._language(trainee), "storage_unavailable"))]
        self._remember_key(trainee.id, incoming.key)
        return replies

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

    def welcome(self, lang: str) -> list[Outgoing]:
        """The first screen: what this is, consent, and the choice of language."""
        languages = (ButtonOut("English", "l:en"), ButtonOut("Polski", "l:pl"))
        return [
            TextOut("info", t(lang, "welcome")),
            TextOut("warning", t(lang, "consent")),
            ButtonsOut(t(lang, "choose_language"), languages),
        ]

    async def forget(self, trainee: Trainee) -> list[Outgoing]:
        """Delete the trainee's data (after they confirmed), and every copy held here."""
        lang = self._language(trainee)
        await self.coordination.forget_self(trainee)
        self._sessions.pop(trainee.id, None)
        self._trainees.pop((trainee.platform, trainee.external_id), None)
        return [TextOut("info", t(lang, "forgotten"))]

    async def catalogue(self, trainee: Trainee) -> list[Outgoing]:
        lang = self._language(trainee)
        scenarios = self.library.scenarios()
        assigned = {s for c in await self.coordination.cohorts_of(trainee.id) for s in c.scenarios}
        if assigned:  # a cohort's trainees see the scenarios assigned to it
            scenarios = [s for s in scenarios if s.id in assigned] or scenarios
        if not scenarios:
            return [TextOut("info", t(lang, "no_scenarios"))]
        buttons = tuple(
            ButtonOut(
                t(
                    lang,
                    "scenario_line",
                    title=local_text(s.scenario.title, lang),
                    minutes=s.scenario.minutes,
                    difficulty=t(lang, f"difficulty_{s.scenario.difficulty}"),
                    languages="/".join(code.upper() for code in s.scenario.languages),
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
        if key is not None and await self._started_by(trainee, key):
            # the same press again (a worker took over an update another had handled): the
            # session it started must not be quit and started afresh
            return [TextOut("info", t(ui, "duplicate"))]
        scenario = version.loaded.scenario
        wanted = language or ui
        lang = wanted if wanted in scenario.languages else scenario.languages[0]
        previous = await self._active(trainee)
        if previous is not None:
            await self._set_status(previous, "quit", "quit", None)
        if mode is None:  # a cohort's feedback mode, else the bot's
            modes = [c.mode for c in await self.coordination.cohorts_of(trainee.id) if c.mode]
            mode = modes[-1] if modes else self.default_mode
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
        objectives = "\n".join(f"• {local_text(o, lang)}" for o in scenario.objectives)
        intro = [
            TextOut(
                "info", f"{local_text(scenario.title, lang)}\n{local_text(scenario.summary, lang)}"
            ),
            TextOut("info", t(lang, "intro_role", role=local_text(scenario.role, lang))),
            TextOut("info", t(lang, "intro_setting", setting=local_text(scenario.setting, lang))),
            TextOut("info", t(lang, "intro_objectives", items=objectives)),
            TextOut(
                "warning",
                t(lang, "content_warning", text=local_text(scenario.content_warning, lang)),
            ),
            TextOut("info", t(lang, "mode_coach" if mode == "coach" else "mode_exam")),
            TextOut("info", t(lang, "how_to_play")),
        ]
        return intro + turn_messages(result, local_text(scenario.title, lang))

    async def _started_by(self, trainee: Trainee, key: str) -> bool:
        """Whether the trainee's newest session was started by the input `key`."""
        sessions = await self.store.sessions_of(trainee.id)
        if not sessions:
            return False
        newest = max(sessions, key=lambda s: s.created_at)
        turns = await self.store.turns(newest.id)
        return bool(turns) and turns[0].input_key == key

    async def join(
        self, trainee: Trainee, argument: str, key: str | None, only_code: bool
    ) -> list[Outgoing]:
        """`/start CODE`, `/join CODE`, `!join CODE`: enrol with a cohort's code. `/start`
        with a scenario id instead starts that scenario."""
        lang = self._language(trainee)
        cohort = await self.coordination.enrol(trainee.id, trainee.alias, argument)
        if cohort is not None:
            joined = TextOut("info", t(lang, "joined", name=cohort.name))
            if only_code:
                return [joined, *await self.catalogue(trainee)]
            return [joined, *self.welcome(lang)]  # a first `/start CODE`: consent first
        code = normalise_code(argument)
        if only_code or (
            len(code) == CODE_LENGTH
            and code == argument.strip().upper()
            and self.library.catalogue.get(argument.strip()) is None
        ):
            return [TextOut("warning", t(lang, "bad_code", code=argument.strip()[:20]))]
        return await self.start(trainee, argument, key=key)

    async def resume(self, trainee: Trainee, key: str | None = None) -> list[Outgoing]:
        record = await self._active(trainee)
        if record is None:
            return [TextOut("info", t(self._language(trainee), "no_session"))]
        if record.state.status == "paused":
            record = await self._set_status(record, "active", "resume", key)
        version = await self._version(record)
        state = record.state
        title = local_text(version.loaded.scenario.title, state.language)
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
        title = local_text(version.loaded.scenario.title, last.state.language)
        return [DebriefOut(debrief, title, debrief_text(debrief, title, last.state.language))]

    # -- internals --------------------------------------------------------------------------

    async def _button(self, trainee: Trainee, data: str, key: str | None) -> list[Outgoing]:
        lang = self._language(trainee)
        if data.startswith("s:"):
            return await self.start(trainee, data[2:80], key=key)
        if data in ("l:en", "l:pl"):
            chosen = await self._set_language(trainee, data[2:])
            return chosen + await self.catalogue(replace(trainee, language=data[2:]))
        if data.startswith("f:yes:"):
            if self._forget_tokens.pop(trainee.id, None) != data[6:]:
                return [TextOut("warning", t(lang, "bad_button"))]
            return await self.forget(trainee)
        if data == "f:no":
            self._forget_tokens.pop(trainee.id, None)
            return [TextOut("info", t(lang, "forget_kept"))]
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
            case "start" | "join" if command.argument:
                return await self.join(trainee, command.argument, key, command.name == "join")
            case "join":
                return [TextOut("info", t(lang, "join_usage"))]
            case "cohorts" | "report" | "transcript":
                return await self.coordination.chat(trainee, command.name, command.argument, lang)
            case "debrief" if command.argument:
                return await self.coordination.chat(trainee, "debrief", command.argument, lang)
            case "scenarios" if command.argument:
                return await self.start(trainee, command.argument, key=key)
            case "start":
                return self.welcome(lang)
            case "scenarios":
                return await self.catalogue(trainee)
            case "forget":
                # The confirmation carries a one-time token: button data can be forged, and a
                # bare "yes" would let anyone's client delete a trainee without being asked.
                token = secrets.token_hex(4)
                self._forget_tokens[trainee.id] = token
                return [
                    ButtonsOut(
                        t(lang, "forget_confirm"),
                        (
                            ButtonOut(t(lang, "forget_yes"), f"f:yes:{token}"),
                            ButtonOut(t(lang, "forget_no"), "f:no"),
                        ),
                    )
                ]
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
