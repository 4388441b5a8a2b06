"""The pure, synchronous engine: a session state and an input in, a new state and events out.

No I/O, no clock and no global randomness: the seed lives in the session, so the same inputs
always give the same outputs. Scoring is not done here (see `bot.scoring`); the engine reports
what happened (the choice taken, indicators revealed) and keeps the story's state.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from bot.engine.compiled import NEXT_TRIGGER, CompiledChoice, CompiledLine, CompiledScenario
from bot.engine.events import ChoiceOut, ClipOut, Ended, Said
from bot.engine.state import Mode, SessionState, Value
from bot.scenario import model as m
from bot.scenario.codes import DIMENSION_CODES
from bot.scenario.expr import Evaluator

#: automatic `next` hops followed in one turn before the engine assumes an authoring loop
MAX_HOPS = 64


class EngineError(Exception):
    """The input cannot be applied to the session as it is; the state is unchanged."""


class ChoiceNotOpenError(EngineError):
    def __init__(self, choice_id: str, node: str) -> None:
        super().__init__(f"the choice '{choice_id}' is not open at node '{node}'")
        self.choice_id = choice_id


class SessionFinishedError(EngineError):
    def __init__(self) -> None:
        super().__init__("the session has ended")


@dataclass(frozen=True, slots=True)
class Step:
    state: SessionState
    said: tuple[Said, ...]
    choice: CompiledChoice | None = None
    revealed: tuple[str, ...] = ()
    ended: Ended | None = None


class Engine:
    def __init__(self, compiled: CompiledScenario, media_root: Path | None = None) -> None:
        self.compiled = compiled
        self.scenario = compiled.scenario
        self.media_root = media_root or Path()
        self._speakers = self._speaker_table()

    @property
    def content_hash(self) -> str:
        return self.compiled.content_hash

    # -- starting ---------------------------------------------------------------------------

    def start(
        self,
        *,
        seed: int,
        language: str,
        mode: Mode = "coach",
        node: str | None = None,
        preset: Mapping[str, Value] | None = None,
    ) -> Step:
        if language not in self.scenario.languages:
            raise EngineError(f"'{self.scenario.id}' is not available in '{language}'")
        start = node or self.scenario.start
        if start not in self.compiled.nodes:
            raise EngineError(f"there is no node '{start}'")
        values = list(self.compiled.initial_values)
        for name, value in (preset or {}).items():
            index = self.compiled.variable_index.get(name)
            if index is None:
                raise EngineError(f"there is no variable '{name}'")
            values[index] = self.compiled.variables[index].coerce(value)
        state = SessionState(
            scenario_id=self.scenario.id,
            scenario_hash=self.compiled.content_hash,
            language=language,
            mode=mode,
            seed=seed,
            node=start,
            values=tuple(values),
            scores=(0,) * len(DIMENSION_CODES),
        )
        return self._enter(state, start, [], [])

    # -- what is open -----------------------------------------------------------------------

    def open_choices(
        self, state: SessionState, *, include_hidden: bool = False
    ) -> list[CompiledChoice]:
        if state.finished:
            return []
        env = self.compiled.env(state.values)
        taken = set(state.path)
        return [
            c
            for c in self.compiled.nodes[state.node].choices
            if (include_hidden or not c.choice.hidden)
            and not (c.choice.once and c.choice.id in taken)
            and (c.when is None or c.when(env))
        ]

    def buttons(self, state: SessionState) -> tuple[ChoiceOut, ...]:
        lang = state.language
        return tuple(ChoiceOut(c.choice.id, c.choice.text[lang]) for c in self.open_choices(state))

    def hint(self, state: SessionState) -> str | None:
        hint = self.compiled.nodes[state.node].node.hint
        return hint[state.language] if hint else None

    # -- turns ------------------------------------------------------------------------------

    def choose(self, state: SessionState, choice_id: str) -> Step:
        if state.finished:
            raise SessionFinishedError
        chosen = next(
            (c for c in self.open_choices(state, include_hidden=True) if c.choice.id == choice_id),
            None,
        )
        if chosen is None:
            raise ChoiceNotOpenError(choice_id, state.node)
        choice = chosen.choice
        values = self._apply(state.values, chosen.updates)
        state = replace(
            state,
            turn=state.turn + 1,
            misses=0,
            values=values,
            path=(*state.path, choice.id),
            noticed=_merge(state.noticed, choice.notices),
            critical=(*state.critical, choice.critical.code) if choice.critical else state.critical,
            referrals=(
                (*state.referrals, (choice.referral.code, choice.referral.verdict))
                if choice.referral
                else state.referrals
            ),
        )
        said: list[Said] = []
        revealed: list[str] = []
        state = self._say(state, chosen.reply, said, revealed)
        target = self.compiled.fire(state.node, chosen.trigger, self.compiled.env(state.values))
        if target is None or choice.goto is None:
            step = Step(state, tuple(said), chosen, tuple(revealed))
        else:
            step = self._enter(state, target, said, revealed)
        return replace(step, choice=chosen)

    def fallback(self, state: SessionState) -> Step:
        """The in-character reply to input that matched no choice; counts a miss."""
        if state.finished:
            raise SessionFinishedError
        node = self.compiled.nodes[state.node]
        pool = node.fallback or self.compiled.scenario_fallback
        env = self.compiled.env(state.values)
        usable = [line for line in pool if line.when is None or line.when(env)] or list(pool)
        rng = random.Random(f"{state.seed}:{state.turn}:{state.misses}")
        pick = rng.choice(usable)
        state = replace(state, turn=state.turn + 1, misses=state.misses + 1)
        said: list[Said] = []
        revealed: list[str] = []
        state = self._say(state, [pick], said, revealed)
        return Step(state, tuple(said), None, tuple(revealed))

    # -- internals --------------------------------------------------------------------------

    def _enter(
        self, state: SessionState, node_id: str, said: list[Said], revealed: list[str]
    ) -> Step:
        for _hop in range(MAX_HOPS):
            compiled = self.compiled.nodes[node_id]
            state = replace(
                state,
                node=node_id,
                values=self._apply(state.values, compiled.updates),
                visited=(*state.visited, node_id),
            )
            state = self._say(state, compiled.say, said, revealed)
            ending = compiled.node.ending
            if ending is not None:
                lang = state.language
                state = replace(state, status="ended", outcome=ending.outcome)
                out = Ended(
                    ending.outcome, ending.verdict, ending.title[lang], ending.summary[lang]
                )
                return Step(state, tuple(said), None, tuple(revealed), out)
            if compiled.node.next is None:
                return Step(state, tuple(said), None, tuple(revealed))
            target = self.compiled.fire(node_id, NEXT_TRIGGER, self.compiled.env(state.values))
            if target is None:  # the checks forbid this; stop rather than loop
                return Step(state, tuple(said), None, tuple(revealed))
            node_id = target
        raise EngineError(f"more than {MAX_HOPS} automatic steps from '{state.node}': a loop?")

    def _apply(
        self, values: tuple[Value, ...], updates: tuple[tuple[int, Evaluator], ...]
    ) -> tuple[Value, ...]:
        if not updates:
            return values
        env = self.compiled.env(values)
        result = list(values)
        variables = self.compiled.variables
        for index, evaluate in updates:
            var = variables[index]
            result[index] = var.coerce(evaluate(env))
            env[var.name] = result[index]
        return tuple(result)

    def _say(
        self,
        state: SessionState,
        lines: Iterable[CompiledLine],
        said: list[Said],
        revealed: list[str],
    ) -> SessionState:
        env = self.compiled.env(state.values)
        lang = state.language
        known = {code for code, _turn in state.revealed}
        new: list[tuple[str, int]] = []
        for compiled in lines:
            line = compiled.line
            if compiled.when is not None and not compiled.when(env):
                continue
            text, reveals = self._words(compiled, env)
            if text is None:
                continue
            said.append(self._said(line, text[lang], reveals, lang))
            for code in reveals:
                if code not in known:
                    known.add(code)
                    new.append((code, state.turn))
                    revealed.append(code)
        return replace(state, revealed=(*state.revealed, *new)) if new else state

    def _words(
        self, compiled: CompiledLine, env: Mapping[str, Value]
    ) -> tuple[dict[str, str] | None, tuple[str, ...]]:
        line = compiled.line
        for when, variant in compiled.variants:
            if when is None or when(env):
                return variant.text, (*line.reveals, *variant.reveals)
        return line.text, tuple(line.reveals)

    def _said(self, line: m.Line, text: str, reveals: tuple[str, ...], lang: str) -> Said:
        name, role = self._speakers[line.speaker]
        clip = None
        if line.clip is not None:
            clip = ClipOut(
                kind=line.clip.kind,
                path=self.media_root / line.clip.file,
                caption=line.clip.caption[lang],
                fallback=line.clip.fallback[lang],
            )
        display = name.get(lang) if name is not None else None
        return Said(line.id, line.speaker, display, role, text, clip, reveals)

    def _speaker_table(self) -> dict[str, tuple[dict[str, str] | None, str]]:
        persona = self.scenario.persona
        table: dict[str, tuple[dict[str, str] | None, str]] = {
            "narrator": (None, "narrator"),
            persona.id: ({lang: persona.name for lang in self.scenario.languages}, "persona"),
        }
        for character in self.scenario.characters:
            table[character.id] = (dict(character.name), character.role)
        return table


def _merge(existing: tuple[str, ...], new: Iterable[str]) -> tuple[str, ...]:
    added = [code for code in new if code not in existing]
    return (*existing, *added) if added else existing
