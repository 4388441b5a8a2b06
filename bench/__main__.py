"""`python -m bench`: run every benchmark and write BENCHMARKS.md."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import sys
import time
from pathlib import Path
from typing import Any

from bench import bench_core, bench_e2e, bench_engine, bench_lint, bench_service, bench_storage
from bench.common import host_pace, machine_description, paces

OUT = Path("BENCHMARKS.md")


def _row(name: str, r: dict[str, float]) -> str:
    return (
        f"| {name} | {r['turns']:,} | {r['turns_per_s']:,.0f} | {r['p50_ms']:.3f} | "
        f"{r['p99_ms']:.3f} |"
    )


def _service_row(key: tuple[int, float | None], r: dict[str, float]) -> str:
    trainees, rate = key
    load = f"{rate:,.0f}/s offered" if rate else "closed loop"
    return (
        f"| {trainees:,} | {load} | {r['turns']:,} | {r['turns_per_s']:,.0f} | "
        f"{r['p50_ms']:.2f} | {r['p99_ms']:.2f} |"
    )


def render(
    engine: dict[str, Any],
    service: dict[str, Any],
    storage: list[str],
    core: dict[str, Any],
    e2e: dict[str, Any],
    lint: dict[str, Any],
    seconds: float,
    pace: list[float],
) -> str:
    ours, naive, shared = engine["ours"], engine["naive"], engine["shared"]
    lines = [
        "# Benchmarks",
        "",
        f"- Date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        f"- Machine: {machine_description()}",
        f"- Host pace: {paces(pace)} for `bench.common.host_pace`'s fixed work, taken before and "
        "after each section (lower is faster): this machine's speed varies, by more than 2x "
        "for minutes at a time, with nothing else running in it",
        f"- Command: `make bench` (`python -m bench`), {seconds / 60:.0f} minutes in all, "
        f"{e2e['seconds'] / 60:.0f} of them end to end through Telegram and "
        f"{core['seconds'] / 60:.0f} with workers but no adapter",
        f"- Scenario: generated, {engine['nodes']:,} nodes, {engine['yaml_bytes'] / 1e6:.1f} MB "
        f"of YAML (`bot/scenario/synthetic.py`); loaded and validated in "
        f"{engine['load_s']:.2f} s, compiled once (with the expert path replayed) in "
        f"{engine['compile_s']:.2f} s",
        "",
        "Targets (issue #2): engine turn p99 under 1 ms; at least 1,000 times less memory per "
        "session than a `transitions.Machine` per session; at least 5,000 committed turns/s on "
        "SQLite with p99 under 50 ms at 1,000 concurrent sessions.",
        "",
        "## Engine alone (scoring included, no storage)",
        "",
        "| concurrent sessions | turns | turns/s | p50 ms | p99 ms |",
        "|---|---|---|---|---|",
        *(_row(str(n), r) for n, r in engine["latency"].items()),
        "",
        "## Memory and start time per session (2,000-node scenario)",
        "",
        "| design | bytes per session | start ms |",
        "|---|---|---|",
        "| Signpost: shared compiled machine, session as data | "
        f"{ours['bytes_per_session']:,.0f} | "
        f"{ours['start_ms']:.3f} |",
        f"| naive: one `transitions.Machine` per session | {naive['bytes_per_session']:,.0f} | "
        f"{naive['start_ms']:.1f} |",
        f"| naive: each session added as a model to a shared machine | "
        f"{shared['bytes_per_session']:,.0f} | {shared['start_ms']:.3f} |",
        "",
        f"Signpost uses **{engine['memory_ratio']:,.0f}×** less memory per session than a machine "
        f"per session, and {engine['shared_ratio']:,.0f}× less than a model attached to a shared "
        "machine.",
        "",
        "## Engine + storage, through the use cases (each turn committed before its reply)",
        "",
        "`bench/bench_service.py`: trainees play the 2,000-node scenario through "
        "`TrainingService.handle`; latency runs from the input to the reply being ready, "
        "durable commit included. *Closed loop*: each trainee sends again as soon as it is "
        "answered, which measures capacity (with N trainees always waiting, latency is N / "
        "throughput). *Offered*: trainees think between turns and together send that many "
        "inputs per second, which is the latency a trainee sees at that load.",
        "",
    ]
    for backend, results in service.items():
        lines += [
            f"### {backend}",
            "",
            "| concurrent trainees | load | turns | turns/s | p50 ms | p99 ms |",
            "|---|---|---|---|---|---|",
            *(_service_row(key, r) for key, r in results.items()),
            "",
        ]
    if "PostgreSQL" not in service:
        lines += ["PostgreSQL was not reachable in this run, so it has no figures.", ""]
    lines += [
        "## Storage alone (`bench/bench_storage.py`)",
        "",
        "Each simulated trainee appends ~300-byte turns with a new state snapshot, each committed "
        "before the call returns; every row is the middle of "
        f"{bench_storage.REPEAT} runs by p99, with the spread of p99 over the runs.",
        "",
        *bench_storage.HEADER,
        *storage,
        "",
        *bench_core.render(core),
        *bench_e2e.render(e2e),
        *bench_lint.render(lint),
    ]
    return "\n".join(lines)


def main() -> int:
    began = time.perf_counter()
    pace: list[float] = []

    def section(title: str) -> None:
        pace.append(host_pace())
        print(f"{title} ... (host pace {pace[-1]:.2f} s)", flush=True)

    section("engine")
    engine = bench_engine.run()
    section("engine + storage")
    postgres = os.environ.get("SIGNPOST_TEST_POSTGRES_URL")
    service = bench_service.run(postgres)
    section("storage alone")
    storage = asyncio.run(bench_storage.table(postgres))
    section("engine and storage alone, 1 and 3 workers")
    core = bench_core.run(postgres, progress=lambda line: print(line, flush=True))
    section("end to end through Telegram")
    e2e = bench_e2e.run(postgres, progress=lambda line: print(line, flush=True))
    section("lint")
    lint = bench_lint.run()
    pace += lint["pace"]
    text = render(engine, service, storage, core, e2e, lint, time.perf_counter() - began, pace)
    OUT.write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
