"""Run scenario tests: scripted cases and simulated-trainee profiles, recording coverage.

Everything here drives the same `Interview` the bot uses, so a test exercises exactly what a
trainee would meet. Results carry the file and line of what failed, as lint problems do.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from bot.authoring.cases import Band, Case, End, Expect, Profile, Step, matches
from bot.engine.compiled import CompiledScenario
from bot.engine.engine import Engine, EngineError
from bot.engine.state import SessionState
from bot.scenario.codes import DIMENSION_CODES
from bot.scenario.loader import LoadedScenario
from bot.scoring.interview import Interview, TurnResult

#: a playthrough that has not ended after this many turns is stuck
MAX_TURNS = 200


@dataclass(slots=True)
class Coverage:
    """What some playthroughs reached: nodes entered, choices taken, choices typed, endings."""

    nodes: set[str] = field(default_factory=set)
    choices: set[str] = field(default_factory=set)
    intents: set[str] = field(default_factory=set)
    endings: set[str] = field(default_factory=set)

    def add(self, state: SessionState, typed: Iterable[str] = ()) -> None:
        self.nodes.update(state.visited)
        self.choices.update(state.path)
        self.intents.update(typed)
        if state.outcome is not None:
            self.endings.add(state.node)

    def merge(self, other: Coverage) -> None:
        self.nodes |= other.nodes
        self.choices |= other.choices
        self.intents |= other.intents
        self.endings |= other.endings


@dataclass(slots=True)
class Outcome:
    """One case, or one profile: what failed (empty when it passed)."""

    name: str
    kind: str
    line: int
    failures: list[str] = field(default_factory=list)
    detail: str = ""

    @property
    def passed(self) -> bool:
        return not self.failures


def interview_for(loaded: LoadedScenario) -> Interview:
    return Interview(Engine(CompiledScenario(loaded.scenario, loaded.content_hash), loaded.folder))


# -- cases ------------------------------------------------------------------------------------


def run_case(interview: Interview, case: Case, line: int, coverage: Coverage) -> Outcome:
    outcome = Outcome(case.name, "case", line)
    language = case.language or interview.scenario.languages[0]
    preset = case.start.set if case.start else None
    try:
        result = interview.start(
            seed=case.seed,
            language=language,
            mode=case.mode,
            node=case.start.node if case.start else None,
            preset=preset,
        )
    except EngineError as exc:
        outcome.failures.append(f"cannot start: {exc}")
        return outcome
    typed: list[str] = []
    for number, step in enumerate(case.steps, start=1):
        if case.check_examples and step.choose is not None:
            outcome.failures += [
                f"step {number}: {f}"
                for f in _check_examples(interview, result.state, step.choose, typed)
            ]
        try:
            result = _step(interview, result, step, typed)
        except EngineError as exc:
            open_now = ", ".join(b.id for b in result.buttons) or "none"
            where = f"step {number} at node '{result.state.node}'"
            outcome.failures.append(f"{where}: {exc} (open: {open_now})")
            break
        if step.expect is not None:
            outcome.failures += [
                f"step {number}: {f}" for f in check(step.expect, interview, result)
            ]
    else:
        if case.end is not None:
            outcome.failures += [f"end: {f}" for f in check(case.end, interview, result)]
    coverage.add(result.state, typed)
    return outcome


def _check_examples(
    interview: Interview, state: SessionState, choice_id: str, typed: list[str]
) -> list[str]:
    compiled = interview.compiled.choices.get(choice_id)
    if compiled is None:
        return []
    failures = []
    for example in compiled.choice.examples.get(state.language, []):
        understood = interview.understand(state, example).choice_id
        if understood == choice_id:
            typed.append(choice_id)
        else:
            failures.append(f"the example {example!r} is understood as {understood!r}")
    return failures


def _step(interview: Interview, result: TurnResult, step: Step, typed: list[str]) -> TurnResult:
    state = result.state
    if step.choose is not None:
        return interview.press(state, step.choose)
    if step.say is not None:
        said = interview.say(state, step.say)
        if said.choice_id is not None:
            typed.append(said.choice_id)
        return said
    if step.hint:
        return interview.ask_hint(state)
    return result  # an expectation only


def check(expect: Expect, interview: Interview, result: TurnResult) -> list[str]:
    """Every way `result` differs from `expect`, as sentences."""
    state = result.state
    failures: list[str] = []
    if expect.node is not None and state.node != expect.node:
        failures.append(f"expected node '{expect.node}', at '{state.node}'")
    if "choice" in expect.model_fields_set:
        got = result.resolution.choice_id if result.resolution else None
        if got != expect.choice:
            failures.append(f"the text resolved to {got!r}, expected {expect.choice!r}")
    if expect.form is not None:
        form = result.resolution.assessment.form if result.resolution else None
        if form != expect.form:
            failures.append(f"question form {form!r}, expected {expect.form!r}")
    said = {s.line_id for s in result.said}
    if missing := [line for line in expect.said if line not in said]:
        failures.append(f"not said: {', '.join(missing)} (said: {', '.join(sorted(said))})")
    env = interview.compiled.env(state.values)
    for name, wanted in expect.vars.items():
        if name not in env:
            failures.append(f"there is no variable '{name}'")
        elif not matches(wanted, env[name]):
            failures.append(f"{name} is {env[name]!r}, expected {wanted!r}")
    scores = dict(zip(DIMENSION_CODES, state.scores, strict=True))
    for dimension, wanted in expect.scores.items():
        if not matches(wanted, scores[dimension]):
            failures.append(f"{dimension} has {scores[dimension]} points, expected {wanted!r}")
    if expect.critical is not None and sorted(state.critical) != sorted(expect.critical):
        failures.append(f"critical errors {list(state.critical)}, expected {expect.critical}")
    revealed = {code for code, _ in state.revealed}
    if missing := [c for c in expect.revealed if c not in revealed]:
        failures.append(f"not revealed: {', '.join(missing)}")
    if missing := [c for c in expect.noticed if c not in state.noticed]:
        failures.append(f"not noticed: {', '.join(missing)}")
    if isinstance(expect, End):
        failures += _check_end(expect, interview, state)
    return failures


def _check_end(end: End, interview: Interview, state: SessionState) -> list[str]:
    failures: list[str] = []
    if end.ended is not None and state.finished != end.ended:
        failures.append("the session has ended" if state.finished else "the session goes on")
    if end.ending is not None and state.outcome != end.ending:
        failures.append(f"ending {state.outcome!r}, expected {end.ending!r}")
    debrief = interview.debrief(state)
    if end.passed is not None and debrief.passed != end.passed:
        verdict = "passed" if debrief.passed else "failed"
        failures.append(f"{verdict} with {debrief.overall:.1f}%, expected the opposite")
    if end.overall is not None and not matches(end.overall, debrief.overall):
        failures.append(f"overall {debrief.overall:.1f}%, expected {end.overall!r}")
    chosen = dict(state.referrals)
    for code, verdict in end.referrals.items():
        if chosen.get(code) != verdict:
            failures.append(f"referral {code} was {chosen.get(code, 'not chosen')}, not {verdict}")
    return failures


# -- simulated trainees -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Run:
    seed: int
    overall: float
    critical: int
    passed: bool
    stuck: bool
    outcome: str | None


def play_profile(interview: Interview, profile: Profile, seed: int, coverage: Coverage) -> Run:
    rng = random.Random(seed)
    language = profile.language or interview.scenario.languages[0]
    result = interview.start(seed=seed, language=language, mode=profile.mode)
    typed: list[str] = []
    pick = _policy(interview, profile, rng)
    for _ in range(MAX_TURNS):
        if result.state.finished:
            break
        if profile.type is not None and rng.random() < profile.type.rate:
            result = interview.say(result.state, rng.choice(profile.type.samples))
            if result.choice_id is not None:
                typed.append(result.choice_id)
            continue
        choice = pick(result.state)
        if choice is None:
            break  # nothing to press: counted as stuck below
        result = interview.press(result.state, choice)
    coverage.add(result.state, typed)
    debrief = interview.debrief(result.state)
    return Run(
        seed,
        debrief.overall,
        len(set(result.state.critical)),
        debrief.passed,
        stuck=not result.state.finished,
        outcome=result.state.outcome,
    )


def _policy(
    interview: Interview, profile: Profile, rng: random.Random
) -> Callable[[SessionState], str | None]:
    never = set(profile.never)
    sign = {"best": 1, "worst": -1, "random": 0}[profile.otherwise]

    def worth(choice_id: str) -> int:
        choice = interview.compiled.choices[choice_id].choice
        return sum(d.points for d in choice.score) - (5 if choice.critical else 0)

    def pick(state: SessionState) -> str | None:
        open_ids = [b.id for b in interview.engine.buttons(state) if b.id not in never]
        for wanted in profile.take:
            if wanted in open_ids:
                return wanted
        if not open_ids:
            return None
        if sign == 0:
            return rng.choice(open_ids)
        top = max(sign * worth(c) for c in open_ids)
        return rng.choice([c for c in open_ids if sign * worth(c) == top])

    return pick


def run_profile(
    interview: Interview, profile: Profile, line: int, coverage: Coverage
) -> tuple[Outcome, list[Run]]:
    runs = [
        play_profile(interview, profile, profile.seed + n, coverage) for n in range(profile.runs)
    ]
    outcome = Outcome(profile.name, "profile", line, _band_failures(profile.expect, runs))
    overall = [r.overall for r in runs]
    outcome.detail = (
        f"{len(runs)} runs: overall {min(overall):.0f}-{max(overall):.0f}%, "
        f"passed {sum(r.passed for r in runs)}/{len(runs)}, "
        f"critical {min(r.critical for r in runs)}-{max(r.critical for r in runs)}"
    )
    return outcome, runs


def _band_failures(band: Band, runs: list[Run]) -> list[str]:
    failures: list[str] = []
    for run in runs:
        if run.stuck:
            failures.append(f"seed {run.seed}: did not end within {MAX_TURNS} turns")
        if band.overall is not None and not band.overall[0] <= run.overall <= band.overall[1]:
            low, high = band.overall
            failures.append(f"seed {run.seed}: overall {run.overall:.1f}% outside [{low}, {high}]")
        if band.critical is not None and not band.critical[0] <= run.critical <= band.critical[1]:
            low, high = band.critical
            failures.append(
                f"seed {run.seed}: {run.critical} critical errors outside [{low}, {high}]"
            )
        if band.passed == "always" and not run.passed:
            failures.append(f"seed {run.seed}: failed ({run.overall:.1f}%), expected to pass")
        if band.passed == "never" and run.passed:
            failures.append(f"seed {run.seed}: passed ({run.overall:.1f}%), expected to fail")
    return failures
