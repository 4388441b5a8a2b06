"""Score deltas of a turn, with the rubric code and the reason for each.

Sources of points, in the order they are reported:
- the choice's authored `score` entries (on Q only when the trainee pressed the button: typed
  questions are scored on Q by their form, since that is what the trainee actually wrote);
- the question form of typed text (`Q+OPEN`, `Q-LEADING`...);
- a critical error (−5 on the dimension the reference ties it to);
- `I+FOLLOWUP` when a choice follows up an indicator revealed within the last
  `FOLLOW_UP_WINDOW` turns, and `I-MISSED` when that window closes with no follow-up.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from bot.engine.compiled import CompiledChoice
from bot.engine.state import SessionState
from bot.scenario.codes import (
    CRITICAL,
    CRITICAL_DIMENSION,
    CRITICAL_PENALTY,
    DIMENSION_CODES,
    INDICATORS,
    Dimension,
    dimension_of,
    is_counter_indicator,
    is_strong_indicator,
)
from bot.scoring.explain import followed_up, localise, not_followed_up
from bot.scoring.question_form import QuestionAssessment

#: trainee turns within which an indicator should be followed up (reference, I+FOLLOWUP)
FOLLOW_UP_WINDOW = 3

Source = Literal["choice", "question", "critical", "indicator"]


@dataclass(frozen=True, slots=True)
class Delta:
    dimension: Dimension
    code: str
    points: int
    reason: str
    source: Source


def choice_deltas(
    chosen: CompiledChoice, language: str, *, typed: QuestionAssessment | None
) -> list[Delta]:
    choice = chosen.choice
    deltas = [
        Delta(dimension_of(s.code), s.code, s.points, s.why[language], "choice")
        for s in choice.score
        if typed is None or dimension_of(s.code) != "Q"
    ]
    if choice.critical is not None:
        code = choice.critical.code
        deltas.append(
            Delta(
                CRITICAL_DIMENSION.get(code, "S"),
                code,
                CRITICAL_PENALTY,
                choice.critical.why[language],
                "critical",
            )
        )
    return deltas


def question_delta(assessment: QuestionAssessment, language: str = "en") -> list[Delta]:
    if assessment.code is None or assessment.points == 0:
        return []
    reason = localise(assessment.reason, language)
    return [Delta("Q", assessment.code, assessment.points, reason, "question")]


def follow_up_deltas(
    before: SessionState, chosen: CompiledChoice | None, already: Sequence[Delta]
) -> list[Delta]:
    """`I+FOLLOWUP` for each indicator this choice follows up in time (unless authored on I)."""
    if chosen is None or any(d.dimension == "I" and d.points > 0 for d in already):
        return []
    revealed_at = dict(before.revealed)
    timely = [
        code
        for code in chosen.choice.notices
        if code in revealed_at
        and code not in before.noticed
        and before.turn + 1 - revealed_at[code] <= FOLLOW_UP_WINDOW
        and not is_counter_indicator(code)
    ]
    if not timely:
        return []
    names = ", ".join(_indicator_name(c) for c in timely)
    return [Delta("I", "I+FOLLOWUP", 1, followed_up(names, before.language), "indicator")]


def missed_deltas(state: SessionState, *, final: bool) -> tuple[SessionState, list[Delta]]:
    """Charge `I-MISSED` for indicators whose window closed (or all open ones, at the end)."""
    noticed = set(state.noticed)
    already = set(state.missed)
    lapsed = [
        code
        for code, turn in state.revealed
        if code not in noticed
        and code not in already
        and not is_counter_indicator(code)
        and (final or state.turn - turn >= FOLLOW_UP_WINDOW)
    ]
    if not lapsed:
        return state, []
    deltas = [
        Delta(
            "I",
            "I-MISSED",
            -2 if is_strong_indicator(code) else -1,
            not_followed_up(_indicator_name(code), state.language),
            "indicator",
        )
        for code in lapsed
    ]
    return replace(state, missed=(*state.missed, *lapsed)), deltas


def apply_deltas(state: SessionState, deltas: Iterable[Delta]) -> SessionState:
    scores = list(state.scores)
    changed = False
    for delta in deltas:
        scores[DIMENSION_CODES.index(delta.dimension)] += delta.points
        changed = True
    return replace(state, scores=tuple(scores)) if changed else state


def _indicator_name(code: str) -> str:
    name = INDICATORS.get(code) or CRITICAL.get(code) or code
    return f"{code} ({name})"
