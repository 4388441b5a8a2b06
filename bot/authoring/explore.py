"""`signpost explore`: seeded random playthroughs and an exhaustive walk of a scenario.

Random runs press any open choice (hidden, typed-only ones included) until an ending; the walk
visits every distinct state reachable by any sequence of choices, bounded by a depth and a
state limit, and says when a bound was hit. Both report how often each node was entered, which
endings are reachable, the lowest and highest possible points per rubric dimension and overall,
and every run that got stuck or crashed, with the choices that led there.
"""

from __future__ import annotations

import random
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.engine.state import SessionState
from bot.scenario.codes import DIMENSION_CODES
from bot.scoring.interview import Interview, TurnResult

MAX_TURNS = 200


@dataclass(slots=True)
class Finding:
    kind: str  # stuck, crash, dead-end
    path: tuple[str, ...]
    detail: str


@dataclass(slots=True)
class Exploration:
    runs: int = 0
    states: int = 0
    node_hits: Counter[str] = field(default_factory=Counter)
    endings: Counter[str] = field(default_factory=Counter)
    low: list[int] = field(default_factory=lambda: [0] * len(DIMENSION_CODES))
    high: list[int] = field(default_factory=lambda: [0] * len(DIMENSION_CODES))
    overall: tuple[float, float] | None = None
    findings: list[Finding] = field(default_factory=list)
    bound_hit: str | None = None

    def finish(self, interview: Interview, state: SessionState) -> None:
        self.runs += 1
        self.endings[state.outcome or "(none)"] += 1
        for i, points in enumerate(state.scores):
            self.low[i] = min(self.low[i], points) if self.runs > 1 else points
            self.high[i] = max(self.high[i], points) if self.runs > 1 else points
        overall = interview.debrief(state).overall
        low, high = self.overall or (overall, overall)
        self.overall = (min(low, overall), max(high, overall))

    def unreached(self, interview: Interview) -> list[str]:
        return [n for n in interview.scenario.nodes if n not in self.node_hits]


def _choices(interview: Interview, state: SessionState) -> list[str]:
    return [c.choice.id for c in interview.engine.open_choices(state, include_hidden=True)]


def explore_random(
    interview: Interview,
    runs: int,
    seed: int,
    language: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> Exploration:
    found = Exploration()
    language = language or interview.scenario.languages[0]
    for n in range(runs):
        rng = random.Random(seed + n)
        result = interview.start(seed=seed + n, language=language)
        found.node_hits.update(result.state.visited)
        try:
            for _ in range(MAX_TURNS):
                if result.state.finished:
                    break
                options = _choices(interview, result.state)
                if not options:
                    found.findings.append(
                        Finding(
                            "dead-end",
                            result.state.path,
                            f"no choice open at '{result.state.node}'",
                        )
                    )
                    break
                before = len(result.state.visited)
                result = interview.press(result.state, rng.choice(options))
                found.node_hits.update(result.state.visited[before:])
            else:
                found.findings.append(
                    Finding("stuck", result.state.path, f"no ending after {MAX_TURNS} turns")
                )
        except Exception as exc:  # a crash is what explore exists to find
            found.findings.append(Finding("crash", result.state.path, _describe(exc)))
        if result.state.finished:
            found.finish(interview, result.state)
        if progress:
            progress(n + 1)
    return found


def explore_exhaustive(
    interview: Interview,
    *,
    max_depth: int = 60,
    max_states: int = 200_000,
    language: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> Exploration:
    """Depth-first over every distinct state (see `_key`). A state already walked is walked
    again only when it is reached with more points in all than ever before, so the highest
    total is found without walking every path. (Not so for the lowest: a loop that loses points
    can lose them forever.)"""
    found = Exploration()
    language = language or interview.scenario.languages[0]
    start = interview.start(seed=0, language=language)
    found.node_hits.update(start.state.visited)
    seen: dict[tuple[object, ...], int] = {}
    once = {
        node_id: frozenset(c.choice.id for c in node.choices if c.choice.once)
        for node_id, node in interview.compiled.nodes.items()
    }
    stack: list[TurnResult] = [start]
    while stack:
        result = stack.pop()
        state = result.state
        key = _key(state, once)
        total = sum(state.scores)
        if key in seen and seen[key] >= total:
            continue
        seen[key] = total
        found.states += 1
        if progress and found.states % 1000 == 0:
            progress(found.states)
        if found.states >= max_states:
            found.bound_hit = f"stopped at {max_states:,} states (--max-states)"
            break
        if state.finished:
            found.finish(interview, state)
            continue
        if state.turn >= max_depth:
            found.bound_hit = f"paths longer than {max_depth} turns were cut (--max-depth)"
            continue
        options = _choices(interview, state)
        if not options:
            found.findings.append(
                Finding("dead-end", state.path, f"no choice open at '{state.node}'")
            )
        for choice in options:
            try:
                following = interview.press(state, choice)
            except Exception as exc:
                found.findings.append(Finding("crash", (*state.path, choice), _describe(exc)))
                continue
            found.node_hits.update(following.state.visited[len(state.visited) :])
            stack.append(following)
    return found


def _key(state: SessionState, once: dict[str, frozenset[str]]) -> tuple[object, ...]:
    """What decides where a session can go from here: its node, its variables (conditions read
    nothing else) and the once-only choices of this node already taken. Points, indicators and
    the order of past turns are left out, so states that differ only in those merge and the
    score range is over the states walked, not over every path (the report says so). Once-only
    choices of other nodes are left out too: counting them multiplies the states by every
    subset of every node's questions, while they only matter on coming back to a node."""
    return (state.node, state.values, once[state.node].intersection(state.path), state.status)


def _describe(exc: Exception) -> str:
    frame = traceback.extract_tb(exc.__traceback__)[-1]
    return f"{type(exc).__name__}: {exc} ({frame.filename}:{frame.lineno})"
