"""Shared helpers: percentiles, the machine description, the host's pace, the 2,000-node
scenario."""

from __future__ import annotations

import os
import platform
import statistics
import time
from functools import cache
from pathlib import Path

from bot.engine.compiled import CompiledScenario
from bot.engine.engine import Engine
from bot.scenario.loader import LoadedScenario, collector_paused, load_scenario_text
from bot.scenario.synthetic import synthetic_yaml
from bot.scoring.interview import Interview

SCENARIO_NODES = 2000


def percentile(samples: list[float], q: float) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary(latencies_ms: list[float], seconds: float) -> dict[str, float]:
    return {
        "turns": len(latencies_ms),
        "turns_per_s": len(latencies_ms) / seconds if seconds else float("nan"),
        "p50_ms": percentile(latencies_ms, 50),
        "p99_ms": percentile(latencies_ms, 99),
        "mean_ms": statistics.fmean(latencies_ms) if latencies_ms else float("nan"),
    }


#: seconds spent making the big scenario, by step (filled by `big_scenario`)
TIMINGS: dict[str, float] = {}


@cache
def big_scenario(nodes: int = SCENARIO_NODES) -> LoadedScenario:
    began = time.perf_counter()
    source = synthetic_yaml(nodes)
    generated = time.perf_counter()
    loaded = load_scenario_text(source, f"synthetic-{nodes}")
    TIMINGS.update(
        generate_s=generated - began,
        load_s=time.perf_counter() - generated,
        yaml_bytes=len(source.encode()),
    )
    return loaded


def big_interview(nodes: int = SCENARIO_NODES) -> Interview:
    loaded = big_scenario(nodes)
    return Interview(Engine(CompiledScenario(loaded.scenario, loaded.content_hash)))


def host_pace() -> float:
    """Seconds this host takes for a fixed piece of pure-Python work shaped like loading a
    scenario (300,000 small dictionaries, lists and strings made, read and freed), lower is
    faster. The virtual machines these benchmarks run on have been seen to slow down by more
    than 2x for many minutes with nothing else running in them, most of all for work that
    touches much memory; taken before and after each section, this tells a slow host from
    slow code."""
    with collector_paused():
        began = time.perf_counter()
        data = {f"key {i}": [i, f"value {i}", {"n": i}] for i in range(300_000)}
        sum(len(entry[1]) + entry[2]["n"] for entry in data.values())
        del data
        return time.perf_counter() - began


def host_pace_two_at_once() -> float:
    """`host_pace` in two processes at the same time, the slower of the two: what a second
    core adds (work split over two processes, such as the lint of a large file), which the
    pace of one process cannot show. Close to `host_pace` when the host has two cores to give."""
    reading, writing = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through the pipe and ends at once
        try:
            os.write(writing, repr(host_pace()).encode())
        finally:
            os._exit(0)
    os.close(writing)
    mine = host_pace()
    with os.fdopen(reading, "rb") as answer:
        theirs = float(answer.read() or "nan")
    os.waitpid(pid, 0)
    return max(mine, theirs)


def paces(samples: list[float]) -> str:
    return f"{min(samples):.2f}-{max(samples):.2f} s" if samples else "not taken"


def machine_description() -> str:
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.is_file():
        kib = int(meminfo.read_text().split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB RAM"
    return (
        f"{platform.system()} {platform.release()}, {cpu}, {os.cpu_count()} cores{memory}, "
        f"Python {platform.python_version()}"
    )
