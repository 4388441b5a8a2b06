"""Engine and storage alone, 1 and 3 workers: air-01 played to the end through the service.

The trainees of `bench.bench_e2e` (/start, English, air-01, then the button of each choice of
their path until the debrief; 10 and 100 on the expert path in a closed loop, 1,000 on the short
path thinking between inputs) with everything Telegram adds taken out: no Bot API, no aiogram,
no inbox. What is left of a turn is `TrainingService.handle` in worker processes wired as
`signpost run` wires them (`bench/core_worker.py`: settings, `bot.bootstrap.runtime`), over
SQLite or PostgreSQL and, with 3 workers (and once with 1, to weigh it), the Redis gate.

The trainees live in this process and reach each worker through a Unix socket (a JSON line per
request and per reply). With 3 workers, input k of trainee n goes to worker (n + k) mod 3: a
trainee's successive inputs always reach different workers, so every turn takes the shared gate
from another worker and reads the session back from the database (the worst case of a round-robin
balancer). The pipe's own cost is measured in each run with echo requests of the same shapes.

Each run has a fresh database and fresh workers, warmed up by trainees playing once through;
memory is read at a barrier after onboarding, CPU from /proc, and every trainee's turn log is read
back afterwards, as in `bench.bench_e2e`. The inputs of some trainees are then turned into the
Telegram updates that would carry them (the keyboard message each button is on included) and fed
to aiogram's bare dispatch (`bench.bench_e2e.aiogram_dispatch`), measured in the same run.

`python -m bench.bench_core` runs only this benchmark and prints its section of BENCHMARKS.md.
BENCH_CORE_THINK=seconds sets how long the 1,000 trainees think (default: THINK).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.bench_e2e import (
    BUSY_ELSEWHERE,
    ROOT,
    SCENARIO,
    SHORT,
    WARMUP,
    Barrier,
    Load,
    _problems,
    _span,
    aiogram_dispatch,
    check_logs,
    machine_cpu,
    servers_cpu,
    warnings_in,
)
from bench.bench_service import fresh_postgres
from bench.common import percentile
from bench.core_rig import Crowd, Pool, clean_redis, echo, telegram_updates
from bot.scenario.loader import load_scenario

DATABASE = "signpost_bench_core"
REDIS = os.environ.get("BENCH_CORE_REDIS_URL", "redis://127.0.0.1:6379/14")
#: the 1,000 trainees think ~4 s, not bench_e2e's ~10 s: three runs of 1,000 trainees thinking
#: ~10 s take four minutes (the wait at the barrier for the slowest included). That offers ~250
#: inputs/s instead of ~100: a harder load, not an easier one.
THINK = float(os.environ.get("BENCH_CORE_THINK", "4"))
LOADS = [Load(10, "expert"), Load(100, "expert"), Load(1000, "short", think=THINK)]
#: trainees whose inputs are replayed to aiogram
SAMPLE = 20


@dataclass(frozen=True, slots=True)
class Setup:
    backend: str  # "SQLite" or "PostgreSQL"
    workers: int
    #: the trainees' gate in Redis even with one worker (several workers always have it)
    gate: bool = False

    @property
    def redis(self) -> bool:
        return self.gate or self.workers > 1

    @property
    def label(self) -> str:
        redis = " + Redis gate" if self.redis else ""
        return f"{self.backend}{redis}, {self.workers} worker{'s' if self.workers > 1 else ''}"


#: SQLite is one file with one writer at a time: several workers on it would only queue
PLAN: list[tuple[Setup, list[Load]]] = [
    (Setup("SQLite", 1), LOADS),
    (Setup("PostgreSQL", 1), LOADS),
    # what the Redis gate alone costs, to tell it from what three workers cost
    (Setup("PostgreSQL", 1, gate=True), [Load(100, "expert")]),
    (Setup("PostgreSQL", 3), LOADS),
]


# -- one run -------------------------------------------------------------------------------


async def measure(
    setup: Setup, pool: Pool, load: Load, labels: dict[str, str], expert: tuple[str, ...]
) -> Any:
    # warm up: every worker loads air-01's compiled machine, fills its pools and caches
    warm, rng = Crowd(pool, labels), random.Random(0)
    await asyncio.gather(*(warm.play(9_000_000 + n, expert, 0, rng) for n in range(WARMUP)))
    # thinking trainees' inputs arrive one by one; a closed loop's, up to all at once
    pipe = await echo(pool, 1 if load.think else min(load.trainees, 100))

    path = expert if load.path == "expert" else SHORT
    users = [1_000_000 + n for n in range(load.trainees)]
    crowd = Crowd(pool, labels, sampled=set(users[:SAMPLE]))
    barrier = Barrier(load.trainees)
    memory: dict[str, float] = {}

    async def at_barrier() -> None:
        await barrier.all_in.wait()
        began, before = time.perf_counter(), pool.cpu()
        memory["rss"] = await pool.resident()
        memory["trim_cpu"] = pool.cpu() - before
        memory["pause"] = time.perf_counter() - began
        barrier.released.set()

    database = DATABASE if setup.backend == "PostgreSQL" else None
    redis = setup.redis
    rss0 = await pool.resident()
    cpu0, servers0 = pool.cpu(), servers_cpu(database, redis)
    own0, machine0 = time.process_time(), machine_cpu()
    began, rng = time.perf_counter(), random.Random(1)
    watcher = asyncio.create_task(at_barrier())
    await asyncio.gather(*(crowd.play(u, path, load.think, rng, barrier) for u in users), watcher)
    wall = time.perf_counter() - began - memory.get("pause", 0.0)
    cpu = pool.cpu() - cpu0 - memory.get("trim_cpu", 0.0)
    served = servers_cpu(database, redis) - servers0
    own = time.process_time() - own0
    elsewhere = machine_cpu() - machine0 - cpu - memory.get("trim_cpu", 0.0) - served - own

    assert pool.store is not None
    if not crowd.inputs:  # no sampled trainee was ever answered: nothing here is worth a figure
        raise RuntimeError(f"the workers answered no sampled trainee:\n{pool.log_tail()}")
    audit = await check_logs(pool.store, {u: crowd.sent.get(u, []) for u in users}, "bench")
    turns = max(len(crowd.latencies), 1)
    # a quarter second of each kind of dispatch is thousands of updates, enough for a mean
    dispatch = await aiogram_dispatch(await telegram_updates(crowd.inputs), at_least=0.25)
    cpu_ms = 1000 * cpu / turns
    return {
        **pipe,
        **dispatch,
        "turns": len(crowd.latencies),
        "stored": audit.stored,
        "turns_per_s": len(crowd.latencies) / wall,
        "p50_ms": percentile(crowd.latencies, 50),
        "p99_ms": percentile(crowd.latencies, 99),
        "choices_p99_ms": percentile(crowd.choosing, 99),
        "onboarding_p99_ms": percentile(crowd.onboarding, 99),
        "cpu_ms": cpu_ms,
        "servers_ms": 1000 * served / turns if database or redis else None,
        "driver_ms": 1000 * own / turns,
        "elsewhere_cores": max(0.0, elsewhere) / wall,
        "kib_per_session": (memory.get("rss", rss0) - rss0) / 1024 / load.trainees,
        # the pipe is the benchmark's, not Signpost's: its share is taken out of the multiple
        "times_aiogram": (cpu_ms - pipe["pipe_ms"]) / dispatch["dispatch_ms"],
        "lost": audit.lost,
        "doubled": audit.doubled,
        "gaps": audit.gaps,
        "log_examples": audit.examples,
        "unanswered": len(crowd.unanswered),
        "unanswered_examples": crowd.unanswered[:2],
        "refused": sum(crowd.refused.values()),
        "refusals": dict(crowd.refused),
        "no_debrief": sum(crowd.debriefs[u] == 0 for u in users),
        "two_debriefs": sum(crowd.debriefs[u] > 1 for u in users),
    }


async def one_run(
    setup: Setup, load: Load, url: str, folder: Path, path: tuple[str, ...], labels: dict[str, str]
) -> Any:
    pool = Pool(url, setup.workers, folder, REDIS if setup.redis else None)
    try:
        await pool.start()
        measured = await measure(setup, pool, load, labels, path)
    except Exception:
        print(pool.log_tail(), file=sys.stderr)
        raise
    finally:
        await pool.close()
    measured["warnings"], measured["warning_examples"] = warnings_in(folder)
    return measured


def run(postgres_url: str | None, progress: Callable[[str], None] = print) -> dict[str, Any]:
    scenario = load_scenario(ROOT / "dialogues" / SCENARIO / "scenario.yaml").scenario
    expert = tuple(scenario.expert_path)
    labels = {c.id: c.text["en"] for node in scenario.nodes.values() for c in node.choices}
    results: dict[str, Any] = {"runs": [], "skipped": [], "expert": len(expert)}
    began = time.perf_counter()
    for setup, loads in PLAN:
        if setup.redis and not clean_redis(REDIS):
            results["skipped"].append(f"{setup.label}: Redis at {REDIS} does not answer")
            continue
        for load in loads:
            with tempfile.TemporaryDirectory() as folder:
                url: str | None = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
                if setup.backend == "PostgreSQL":
                    url = (
                        asyncio.run(fresh_postgres(postgres_url, DATABASE))
                        if postgres_url
                        else None
                    )
                if url is None:
                    results["skipped"].append(f"{setup.label}: PostgreSQL is not reachable")
                    break
                progress(f"  {setup.label}: {load.trainees:,} trainees, {load.label} ...")
                run_ = one_run(setup, load, url, Path(folder), expert, labels)
                measured = asyncio.run(run_)
            if setup.redis:
                clean_redis(REDIS)
            results["runs"].append((setup, load, measured))
            progress(
                f"    {measured['turns']:,} turns, {measured['turns_per_s']:,.0f}/s, "
                f"p50 {measured['p50_ms']:.1f} ms, p99 {measured['p99_ms']:.1f} ms, "
                f"{measured['cpu_ms']:.2f} ms CPU/turn (pipe {measured['pipe_ms']:.2f}; "
                f"{measured['times_aiogram']:,.0f}x aiogram's dispatch), "
                f"{measured['kib_per_session']:.1f} KiB/session, lost {measured['lost']}, "
                f"doubled {measured['doubled']}"
            )
    results["seconds"] = time.perf_counter() - began
    return results


# -- BENCHMARKS.md -------------------------------------------------------------------------


def _row(setup: Setup, load: Load, r: dict[str, Any]) -> str:
    servers = "–" if r["servers_ms"] is None else f"{r['servers_ms']:.2f}"
    busy = " †" if r["elsewhere_cores"] > BUSY_ELSEWHERE else ""
    return (
        f"| {setup.backend} | {setup.workers}{', Redis gate' if setup.redis else ''} | "
        f"{load.trainees:,} | {load.label}{busy} | "
        f"{r['turns']:,} | {r['turns_per_s']:,.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | "
        f"{r['cpu_ms']:.2f} | {r['pipe_ms']:.2f} | {servers} | {r['kib_per_session']:,.1f} | "
        f"{r['times_aiogram']:,.0f}× | {r['lost']} / {r['doubled']} |"
    )


def render(results: dict[str, Any]) -> list[str]:
    runs: list[tuple[Setup, Load, dict[str, Any]]] = results["runs"]
    expert = results["expert"]
    lines = [
        "## Engine and storage alone, 1 and 3 workers (`bench/bench_core.py`)",
        "",
        f"The trainees of the Telegram benchmark below play `{SCENARIO}` to the end the same "
        "way (/start, English, the scenario, then the button of each choice of their path, "
        "found by its label, until the debrief), with everything Telegram adds taken out: no "
        "Bot API, no aiogram, no inbox of updates. What is left of a turn is "
        "`TrainingService.handle` in worker processes wired as `signpost run` wires them "
        "(`bench/core_worker.py`: settings, `bot.bootstrap.runtime`), over SQLite or "
        "PostgreSQL; 3 workers share PostgreSQL and the trainees' gate in Redis (and once 1 "
        "worker has its gate there too, to tell the gate's cost from the workers'). The "
        "trainees run in the benchmark's process and reach each worker through a Unix "
        "socket (a JSON line per request and per reply). With 3 workers, input k of trainee "
        "n goes to worker (n + k) mod 3, so a trainee's successive inputs always reach "
        "different workers: every turn takes the gate from another worker and reads the "
        "session back from the database, the worst case of a round-robin balancer. SQLite is "
        "one file with one writer, so it runs with 1 worker only. Each run has a fresh "
        f"database and fresh workers, warmed up by {WARMUP} trainees playing once through.",
        "",
        f"- *Turns*, *closed loop*, *think*: as below. 10 and 100 trainees take the expert "
        f"path ({expert} choices, {expert + 3} turns), 1,000 the short one ({len(SHORT)} "
        f"choices, {len(SHORT) + 3} turns)"
        + (
            f", thinking ~{THINK:g} s rather than the Telegram benchmark's ~10 s to keep "
            f"`make bench` short: ~{1000 / THINK:,.0f} inputs/s offered instead of ~100, a "
            "harder load."
            if THINK < 10
            else "."
        ),
        "- *p50 / p99*: from the input leaving the trainee to the reply (the next choices or "
        "the debrief) reaching it, through the socket, durable commit included.",
        "- *CPU ms/turn*: user + system CPU of the worker processes per turn (SQLite runs "
        "inside them); *pipe*: of which the socket and the JSON, as measured in the same run by "
        "echo requests of the same shapes that skip the service; *DB*: the PostgreSQL "
        "backends of the benchmark's database and Redis.",
        "- *KiB/session*, *lost / doubled*: as below (the workers' resident memory at a "
        "barrier after onboarding over the warmed-up baseline, per trainee; every trainee's "
        "turn log read back and matched with the inputs it sent). Memory per session is "
        "meaningless with 10 trainees.",
        "- *× aiogram*: CPU ms/turn less the pipe, divided by aiogram's bare dispatch (a stock "
        "`Dispatcher`, handlers that do nothing, `Update` objects made beforehand) of the "
        f"Telegram updates that would have carried the inputs of {SAMPLE} of the run's "
        "trainees (a message for /start, a callback query on the keyboard message the "
        "Telegram adapter would have sent for each button), measured in the same run.",
        "",
        "| backend | workers | trainees | load | turns | turns/s | p50 ms | p99 ms | "
        "CPU ms/turn | pipe ms/turn | DB ms/turn | KiB/session | × aiogram | lost / doubled |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        *(_row(setup, load, r) for setup, load, r in runs),
        "",
    ]
    for note in results["skipped"]:
        lines += [f"Not run: {note}.", ""]
    if runs:
        lines += _findings(runs)
    return lines


def _findings(runs: list[tuple[Setup, Load, dict[str, Any]]]) -> list[str]:
    times = [r["times_aiogram"] for _, _, r in runs]
    dispatch = [r["dispatch_ms"] for _, _, r in runs]
    with_db = [
        (r["cpu_ms"] - r["pipe_ms"] + r["servers_ms"]) / r["dispatch_ms"]
        for _, _, r in runs
        if r["servers_ms"] is not None
    ]
    big = [(s, r) for s, load, r in runs if s.backend == "PostgreSQL" and load.trainees >= 1000]
    fast = [r["p99_ms"] < 100 for _, r in big]
    lost, doubled = sum(r["lost"] for _, _, r in runs), sum(r["doubled"] for _, _, r in runs)

    def verdict(met: list[bool]) -> str:
        return "met" if met and all(met) else "not met" if not any(met) else "met in part"

    p99 = "; ".join(
        f"{s.workers} worker{'s' if s.workers > 1 else ''}: {r['p99_ms']:,.1f} ms "
        f"({r['onboarding_p99_ms']:,.1f} ms for the onboarding inputs, "
        f"{r['choices_p99_ms']:,.1f} ms for the scenario's choices)"
        for s, r in big
    )
    lines = [
        f"**Against the targets.** *3× aiogram's dispatch*: {verdict([t <= 3 for t in times])}; "
        f"the engine and storage alone cost {_span(times, 0)}× aiogram's bare dispatch of the "
        f"same inputs ({_span(dispatch, 0, 1000)} µs per update)"
        + (f", {_span(with_db, 0)}× with PostgreSQL's and Redis's CPU added" if with_db else "")
        + f". *p99 under 100 ms at 1,000 trainees on PostgreSQL* (think ~{THINK:g} s): "
        f"{verdict(fast)} ({p99 or 'not run'}). *No turn lost or doubled*: "
        f"{'met' if not lost and not doubled else 'not met'} ({lost} lost and {doubled} "
        f"doubled over {sum(r['stored'] for _, _, r in runs):,} stored turns).",
        "",
    ]
    pipe = [r["pipe_ms"] for _, _, r in runs]
    echo_p50 = [r["echo_p50_ms"] for _, _, r in runs]
    lines += [
        f"**The pipe.** An echo request costs the workers {_span(pipe, 3)} ms of CPU (as "
        "many in flight at once as the run had trainees waiting: one for thinking trainees) "
        f"and takes {_span(echo_p50, 2)} ms there and back alone (p50): that much of *CPU "
        "ms/turn* and of the latencies is the benchmark's socket, not Signpost.",
        "",
    ]
    lines += _workers(runs)
    problems = [
        f"{s.label}, {load.trainees:,} trainees, {load.label}: {_problems(r)}"
        for s, load, r in runs
        if _problems(r)
    ]
    driver = [r["driver_ms"] for _, _, r in runs]
    elsewhere = [r["elsewhere_cores"] for _, _, r in runs]
    lines += [
        "**Checks.** Besides the turn logs, each run checks that every trainee got one debrief, "
        "that no input was refused (busy, duplicate) or left unanswered and that the workers "
        "logged no warning: " + ("all did." if not problems else "; ".join(problems) + "."),
        "",
        f"**The rest of the machine.** The trainees used {_span(driver, 2)} ms of CPU per turn "
        "in the benchmark's own process, on the same two cores as the workers and the "
        f"database. Other processes used {_span(elsewhere, 2)} cores on average during the runs"
        + (
            f"; runs marked † shared the machine with more than {BUSY_ELSEWHERE} of a core of "
            "other work, so their figures are pessimistic."
            if any(e > BUSY_ELSEWHERE for e in elsewhere)
            else "."
        ),
        "",
    ]
    return lines


def _workers(runs: list[tuple[Setup, Load, dict[str, Any]]]) -> list[str]:
    """One worker, one with the Redis gate, three: PostgreSQL, 100 trainees in a closed loop."""

    def at_100(workers: int, redis: bool) -> dict[str, Any] | None:
        return next(
            (
                r
                for s, load, r in runs
                if s.backend == "PostgreSQL"
                and (s.workers, s.redis) == (workers, redis)
                and load.trainees == 100
            ),
            None,
        )

    one, gated, three = at_100(1, False), at_100(1, True), at_100(3, True)
    if one is None or gated is None or three is None:
        return []
    return [
        "**One worker or three.** With 100 trainees in a closed loop on PostgreSQL, one worker "
        f"took {one['turns_per_s']:,.0f} turns/s at {one['cpu_ms']:.2f} ms of CPU per turn "
        f"(and {one['servers_ms']:.2f} ms in PostgreSQL); the same worker with its gate in "
        f"Redis, {gated['turns_per_s']:,.0f} turns/s at {gated['cpu_ms']:.2f} ms (and "
        f"{gated['servers_ms']:.2f} ms in PostgreSQL and Redis); three workers, "
        f"{three['turns_per_s']:,.0f} turns/s at {three['cpu_ms']:.2f} ms (and "
        f"{three['servers_ms']:.2f} ms). The gate's round trips to Redis (take it, record "
        "its holder, keep it alive, release it) are the first difference. The rest is the "
        "session read back from the database on every turn (another worker always served the "
        "trainee last here), and that each worker takes a third of the traffic: a busy worker "
        "reads many requests and commits many turns per wake-up, which is also why a turn "
        "costs several times more CPU when thinking trainees send one input at a time than in "
        "a closed loop. On two cores shared with PostgreSQL and the trainees, more workers "
        "cannot add capacity, only cost.",
        "",
    ]


def main() -> int:
    results = run(os.environ.get("SIGNPOST_TEST_POSTGRES_URL"))
    print("\n".join(render(results)))
    print(f"({results['seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
