"""Whole-graph and property checks of the engine on real and generated scenarios."""

from __future__ import annotations

from collections import deque

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.engine.compiled import CompiledScenario
from bot.engine.engine import Engine
from bot.engine.state import SessionState
from bot.scenario.loader import LoadedScenario, load_scenario_text
from bot.scenario.synthetic import synthetic_yaml


def explore(engine: Engine, limit: int = 20_000) -> tuple[set[str], set[str], int]:
    """Breadth-first over distinct states from the start: choices pressed, nodes reached."""
    start = engine.start(seed=0, language=engine.scenario.languages[0]).state
    seen: set[tuple[object, ...]] = set()
    queue: deque[SessionState] = deque([start])
    pressed: set[str] = set()
    nodes: set[str] = {start.node}
    states = 0
    while queue and states < limit:
        state = queue.popleft()
        # What is open at a node depends on the values and on that node's `once` choices taken.
        here = engine.compiled.nodes[state.node].choices
        taken = frozenset(c.choice.id for c in here if c.choice.once and c.choice.id in state.path)
        key = (state.node, state.values, taken)
        if key in seen:
            continue
        seen.add(key)
        states += 1
        for choice in engine.open_choices(state, include_hidden=True):
            step = engine.choose(state, choice.choice.id)
            pressed.add(choice.choice.id)
            nodes.update(step.state.visited)
            if not step.state.finished:
                queue.append(step.state)
    return pressed, nodes, states


def check_invariants(engine: Engine, state: SessionState) -> None:
    compiled = engine.compiled
    assert state.node in compiled.nodes
    for var, value in zip(compiled.variables, state.values, strict=True):
        if var.type == "bool":
            assert isinstance(value, bool)
        else:
            assert isinstance(value, int) and not isinstance(value, bool)
            assert var.min is None or value >= var.min
            assert var.max is None or value <= var.max


def test_every_choice_of_the_mini_scenario_can_be_pressed(engine: Engine) -> None:
    pressed, nodes, _ = explore(engine)
    all_choices = set(engine.compiled.choices)
    assert pressed == all_choices
    assert nodes == set(engine.compiled.nodes)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 2**31 - 1), picks=st.lists(st.integers(0, 50), max_size=40))
def test_random_walks_keep_every_invariant(
    mini: LoadedScenario, seed: int, picks: list[int]
) -> None:
    engine = Engine(CompiledScenario(mini.scenario, mini.content_hash), mini.folder)
    state = engine.start(seed=seed, language="pl").state
    for pick in picks:
        check_invariants(engine, state)
        if state.finished:
            break
        options = engine.open_choices(state, include_hidden=True)
        if pick % 5 == 0 or not options:
            state = engine.fallback(state).state
        else:
            state = engine.choose(state, options[pick % len(options)].choice.id).state
    check_invariants(engine, state)


def test_generated_scenarios_walk_to_an_ending() -> None:
    loaded = load_scenario_text(synthetic_yaml(60), "synthetic")
    engine = Engine(CompiledScenario(loaded.scenario, loaded.content_hash))
    pressed, nodes, states = explore(engine, limit=5_000)
    assert {"good", "bad"} <= nodes
    assert len(pressed) > 100 and states > 100
