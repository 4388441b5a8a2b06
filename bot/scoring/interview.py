"""A turn, end to end and still pure: input -> intent -> engine -> score deltas -> result.

`Interview` wraps one compiled scenario version. It is shared by every session on that
version and holds no session data, so a turn costs a few dictionary look-ups and one fired
trigger on the shared machine, never a copy of the graph.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Literal

from bot.engine.compiled import CompiledChoice
from bot.engine.engine import Engine, EngineError, Step
from bot.engine.events import ChoiceOut, Ended, Said
from bot.engine.state import Mode, SessionState, Value
from bot.scenario.codes import DIMENSION_CODES
from bot.scoring.debrief import Debrief, build_debrief
from bot.scoring.intents import FuzzyIntentMatcher, IntentMatcher
from bot.scoring.question_form import QuestionAssessment, classify_question
from bot.scoring.rubric import (
    Delta,
    apply_deltas,
    choice_deltas,
    follow_up_deltas,
    missed_deltas,
    question_delta,
)

Classifier = Callable[[str, str | None], QuestionAssessment]
MatchedBy = Literal["button", "text", "none"]


@dataclass(frozen=True, slots=True)
class Resolution:
    """How a typed text was understood; recorded in the log so replay never re-guesses."""

    choice_id: str | None
    assessment: QuestionAssessment
    match_score: float | None = None


@dataclass(frozen=True, slots=True)
class TurnResult:
    state: SessionState
    said: tuple[Said, ...]
    buttons: tuple[ChoiceOut, ...]
    deltas: tuple[Delta, ...] = ()
    choice_id: str | None = None
    matched_by: MatchedBy = "none"
    resolution: Resolution | None = None
    feedback: str | None = None
    #: the node's hint, when asked for or after repeated misses (None: the UI offers buttons)
    hint: str | None = None
    hint_due: bool = False
    ended: Ended | None = None
    debrief: Debrief | None = None


class Interview:
    def __init__(
        self,
        engine: Engine,
        *,
        matcher: IntentMatcher | None = None,
        classifier: Classifier = classify_question,
    ) -> None:
        self.engine = engine
        self.compiled = engine.compiled
        self.scenario = engine.scenario
        self.matcher = matcher or FuzzyIntentMatcher()
        self.classifier = classifier
        # The replay below reaches an ending, whose debrief reads these: start from zero.
        self.expert_points: tuple[int, ...] = (0,) * len(DIMENSION_CODES)
        self.expert_points = self._expert_points()

    @property
    def content_hash(self) -> str:
        return self.compiled.content_hash

    def start(
        self,
        *,
        seed: int,
        language: str,
        mode: Mode = "coach",
        node: str | None = None,
        preset: Mapping[str, Value] | None = None,
    ) -> TurnResult:
        step = self.engine.start(seed=seed, language=language, mode=mode, node=node, preset=preset)
        return self._finish(step, [], matched_by="none")

    def press(self, state: SessionState, choice_id: str) -> TurnResult:
        """A button: the choice must be open now (EngineError otherwise, state unchanged)."""
        step = self.engine.choose(state, choice_id)
        deltas = self._choice_deltas(state, step.choice, typed=None)
        return self._finish(step, deltas, matched_by="button")

    def understand(self, state: SessionState, text: str) -> Resolution:
        assessment = self.classifier(text, state.language)
        candidates = self.engine.open_choices(state, include_hidden=True)
        match = self.matcher.match(text, candidates, state.language)
        if match is None:
            return Resolution(None, assessment)
        return Resolution(match.choice.choice.id, assessment, round(match.score, 1))

    def say(
        self, state: SessionState, text: str, *, resolution: Resolution | None = None
    ) -> TurnResult:
        """Typed text. Replays pass the recorded `resolution` instead of matching again."""
        resolved = resolution or self.understand(state, text)
        q = question_delta(resolved.assessment, state.language)
        if resolved.choice_id is None:
            step = self.engine.fallback(state)
            result = self._finish(step, q, matched_by="none")
            due = step.state.misses >= self.scenario.scoring.hint_after_misses
            hint = self.engine.hint(step.state) if due else None
            return replace(result, resolution=resolved, hint=hint, hint_due=due)
        step = self.engine.choose(state, resolved.choice_id)
        deltas = q + self._choice_deltas(state, step.choice, typed=resolved.assessment)
        return replace(self._finish(step, deltas, matched_by="text"), resolution=resolved)

    def ask_hint(self, state: SessionState) -> TurnResult:
        """A hint on request; it costs `scoring.hint_cost` overall points at the debrief."""
        state = replace(state, hints=state.hints + 1)
        return TurnResult(
            state, (), self.engine.buttons(state), hint=self.engine.hint(state), hint_due=True
        )

    def debrief(self, state: SessionState) -> Debrief:
        return build_debrief(self.compiled, state, self.expert_points)

    # -- internals --------------------------------------------------------------------------

    def _choice_deltas(
        self,
        before: SessionState,
        chosen: CompiledChoice | None,
        *,
        typed: QuestionAssessment | None,
    ) -> list[Delta]:
        if chosen is None:
            return []
        deltas = choice_deltas(chosen, before.language, typed=typed)
        return deltas + follow_up_deltas(before, chosen, deltas)

    def _finish(self, step: Step, deltas: list[Delta], *, matched_by: MatchedBy) -> TurnResult:
        state, lapsed = missed_deltas(step.state, final=step.ended is not None)
        all_deltas = (*deltas, *lapsed)
        state = apply_deltas(state, all_deltas)
        choice = step.choice.choice if step.choice else None
        feedback = None
        if choice is not None and choice.feedback:
            feedback = choice.feedback[state.language]
        debrief = self.debrief(state) if step.ended else None
        return TurnResult(
            state=state,
            said=step.said,
            buttons=self.engine.buttons(state),
            deltas=all_deltas,
            choice_id=choice.id if choice else None,
            matched_by=matched_by,
            feedback=feedback,
            ended=step.ended,
            debrief=debrief,
        )

    def _expert_points(self) -> tuple[int, ...]:
        """Points per dimension that the authored expert path earns (the 100% mark)."""
        path = self.scenario.expert_path
        if not path:
            return (0,) * len(DIMENSION_CODES)
        language = self.scenario.languages[0]
        result = self.start(seed=0, language=language)
        for choice_id in path:
            if result.state.finished:
                break
            try:
                result = self.press(result.state, choice_id)
            except EngineError as exc:
                raise ValueError(
                    f"{self.scenario.id}: expert_path cannot be played at '{choice_id}': {exc}"
                ) from None
        return result.state.scores
