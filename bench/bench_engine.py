"""The engine alone: turn latency, session start, and memory per session vs the naive design.

The naive design builds a `transitions.Machine` per session (or attaches each session as a model
to a shared machine); Signpost compiles one machine per scenario version and keeps sessions as
plain data. Both are measured here in the same run, on the same 2,000-node scenario.
"""

from __future__ import annotations

import gc
import time
import tracemalloc
from typing import Any

from transitions import Machine

from bench.common import TIMINGS, big_interview, big_scenario, summary
from bot.scoring.interview import Interview, TurnResult


def turn_latency(interview: Interview, sessions: int, turns: int) -> dict[str, float]:
    """Round-robin over `sessions` live sessions, `turns` button presses each."""
    results: list[TurnResult] = [interview.start(seed=i, language="en") for i in range(sessions)]
    latencies: list[float] = []
    began = time.perf_counter()
    for _ in range(turns):
        for i, result in enumerate(results):
            if result.state.finished or not result.buttons:
                result = interview.start(seed=i, language="en")
            choice = result.buttons[0].id
            t0 = time.perf_counter_ns()
            result = interview.press(result.state, choice)
            latencies.append((time.perf_counter_ns() - t0) / 1e6)
            results[i] = result
    return summary(latencies, time.perf_counter() - began)


def session_memory(interview: Interview, sessions: int) -> dict[str, float]:
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    t0 = time.perf_counter()
    states = [interview.start(seed=i, language="en").state for i in range(sessions)]
    states = [interview.press(s, "c0a").state for s in states]
    elapsed = time.perf_counter() - t0
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    size = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    del states
    return {
        "bytes_per_session": size / sessions,
        "start_ms": elapsed / sessions / 2 * 1000,
    }


def _naive_definition() -> tuple[list[str], list[dict[str, Any]]]:
    scenario = big_scenario().scenario
    states = list(scenario.nodes)
    transitions: list[dict[str, Any]] = []
    for node_id, node in scenario.nodes.items():
        for choice in node.choices:
            dest = choice.goto if isinstance(choice.goto, str) else None
            if isinstance(choice.goto, list):
                dest = choice.goto[-1].to
            transitions.append({"trigger": choice.id, "source": node_id, "dest": dest})
    return states, transitions


def naive_machine_per_session(sessions: int) -> dict[str, float]:
    states, transitions = _naive_definition()
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    t0 = time.perf_counter()
    kept = []
    for _ in range(sessions):

        class Model:
            pass

        model = Model()
        Machine(
            model=model,
            states=states,
            transitions=transitions,
            initial=states[0],
            auto_transitions=False,
        )
        kept.append(model)
    elapsed = time.perf_counter() - t0
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    size = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    return {"bytes_per_session": size / sessions, "start_ms": elapsed / sessions * 1000}


def naive_shared_machine(sessions: int) -> dict[str, float]:
    states, transitions = _naive_definition()
    machine = Machine(
        model=None,
        states=states,
        transitions=transitions,
        initial=states[0],
        auto_transitions=False,
    )
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    t0 = time.perf_counter()
    models = []
    for _ in range(sessions):

        class Model:
            pass

        model = Model()
        machine.add_model(model)
        models.append(model)
    elapsed = time.perf_counter() - t0
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    size = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    return {"bytes_per_session": size / sessions, "start_ms": elapsed / sessions * 1000}


def run() -> dict[str, Any]:
    big_scenario()
    t0 = time.perf_counter()
    interview = big_interview()
    compile_s = time.perf_counter() - t0
    latency = {
        n: turn_latency(interview, n, turns) for n, turns in ((1, 2000), (100, 40), (1000, 8))
    }
    ours = session_memory(interview, 1000)
    naive = naive_machine_per_session(10)
    shared = naive_shared_machine(200)
    return {
        "nodes": len(big_scenario().scenario.nodes),
        "compile_s": compile_s,
        "load_s": TIMINGS["load_s"],
        "yaml_bytes": TIMINGS["yaml_bytes"],
        "latency": latency,
        "ours": ours,
        "naive": naive,
        "shared": shared,
        "memory_ratio": naive["bytes_per_session"] / ours["bytes_per_session"],
        "shared_ratio": shared["bytes_per_session"] / ours["bytes_per_session"],
    }
