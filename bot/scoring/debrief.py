"""The debrief: score per dimension and overall, pass or fail, and what happened and why.

A dimension's percentage is the trainee's points as a share of what the scenario's expert path
earns on it (capped at 100%); dimensions the expert path does not touch count only if the
trainee gained or lost points there. The overall score is the weighted mean of the scored
dimensions, minus the hint cost, and any critical error caps it and fails the session.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.engine.compiled import CompiledScenario
from bot.engine.state import SessionState
from bot.scenario.codes import (
    CRITICAL,
    DIMENSION_CODES,
    DIMENSIONS,
    INDICATORS,
    is_counter_indicator,
)


@dataclass(frozen=True, slots=True)
class DimensionScore:
    code: str
    name: str
    weight: int
    points: int
    expert_points: int
    #: None when neither the expert path nor the trainee touched this dimension
    percent: float | None


@dataclass(frozen=True, slots=True)
class Decision:
    choice_id: str
    label: str
    code: str
    verdict: str
    why: str


@dataclass(frozen=True, slots=True)
class CriticalNote:
    code: str
    description: str
    why: str


@dataclass(frozen=True, slots=True)
class PathStep:
    choice_id: str
    label: str


@dataclass(frozen=True, slots=True)
class Debrief:
    scenario_id: str
    outcome: str | None
    ending_verdict: str | None
    dimensions: tuple[DimensionScore, ...]
    overall: float
    pass_mark: int
    passed: bool
    capped: bool
    hints: int
    critical: tuple[CriticalNote, ...]
    indicators_revealed: tuple[str, ...]
    indicators_noticed: tuple[str, ...]
    indicators_missed: tuple[str, ...]
    decisions: tuple[Decision, ...]
    trainee_path: tuple[PathStep, ...]
    expert_path: tuple[PathStep, ...]

    @staticmethod
    def indicator_name(code: str) -> str:
        return INDICATORS.get(code, code)


def build_debrief(
    compiled: CompiledScenario, state: SessionState, expert_points: tuple[int, ...]
) -> Debrief:
    scenario = compiled.scenario
    lang = state.language
    weights = scenario.scoring.weights
    dimensions = []
    for info in DIMENSIONS:
        slot = DIMENSION_CODES.index(info.code)
        points, expert = state.scores[slot], expert_points[slot]
        dimensions.append(
            DimensionScore(
                info.code,
                info.name,
                weights.get(info.code, 0),
                points,
                expert,
                _percent(points, expert),
            )
        )
    scored = [d for d in dimensions if d.percent is not None and d.weight > 0]
    total_weight = sum(d.weight for d in scored)
    overall = (
        sum(d.weight * (d.percent or 0.0) for d in scored) / total_weight if total_weight else 0.0
    )
    overall = max(0.0, overall - scenario.scoring.hint_cost * state.hints)
    capped = bool(state.critical) and overall > scenario.scoring.critical_cap
    if state.critical:
        overall = min(overall, float(scenario.scoring.critical_cap))
    overall = round(overall, 1)
    passed = (
        state.status == "ended" and not state.critical and overall >= scenario.scoring.pass_mark
    )
    ending = compiled.nodes[state.node].node.ending if state.status == "ended" else None
    revealed = tuple(code for code, _turn in state.revealed)
    return Debrief(
        scenario_id=scenario.id,
        outcome=state.outcome,
        ending_verdict=ending.verdict if ending else None,
        dimensions=tuple(dimensions),
        overall=overall,
        pass_mark=scenario.scoring.pass_mark,
        passed=passed,
        capped=capped,
        hints=state.hints,
        critical=tuple(_critical_notes(compiled, state)),
        indicators_revealed=revealed,
        indicators_noticed=tuple(c for c in state.noticed if c in set(revealed)),
        indicators_missed=tuple(
            c for c in revealed if c not in state.noticed and not is_counter_indicator(c)
        ),
        decisions=tuple(_decisions(compiled, state)),
        trainee_path=tuple(_steps(compiled, state.path, lang)),
        expert_path=tuple(_steps(compiled, tuple(scenario.expert_path), lang)),
    )


def _percent(points: int, expert: int) -> float | None:
    if expert > 0:
        return max(0.0, min(1.0, points / expert)) * 100.0
    if points == 0:
        return None
    return 100.0 if points > 0 else 0.0


def _critical_notes(compiled: CompiledScenario, state: SessionState) -> list[CriticalNote]:
    notes = []
    for choice_id in state.path:
        choice = compiled.choices[choice_id].choice
        if choice.critical is not None:
            code = choice.critical.code
            notes.append(
                CriticalNote(code, CRITICAL.get(code, code), choice.critical.why[state.language])
            )
    return notes


def _decisions(compiled: CompiledScenario, state: SessionState) -> list[Decision]:
    decisions = []
    for choice_id in state.path:
        choice = compiled.choices[choice_id].choice
        if choice.referral is not None:
            ref = choice.referral
            decisions.append(
                Decision(
                    choice_id,
                    choice.text[state.language],
                    ref.code,
                    ref.verdict,
                    ref.why[state.language],
                )
            )
    return decisions


def _steps(compiled: CompiledScenario, path: tuple[str, ...], lang: str) -> list[PathStep]:
    return [
        PathStep(choice_id, compiled.choices[choice_id].choice.text[lang])
        for choice_id in path
        if choice_id in compiled.choices
    ]
