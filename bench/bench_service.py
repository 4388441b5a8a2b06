"""Engine plus storage, through the use cases: every turn committed before it is answered.

N trainees play concurrently (asyncio tasks), each pressing the first button of every turn.
Latency is measured around `TrainingService.handle`, i.e. from the trainee's input to the reply
being ready to send, including the durable commit.

Two kinds of load, as in `bench.bench_storage`:
- closed loop: each trainee sends its next input as soon as the last one is answered. This
  finds capacity; with N trainees always waiting, latency is N / throughput (Little's law).
- paced (`rate`): trainees think between turns and together offer `rate` inputs per second,
  each at a steady pace from a random start, as a classroom does. This is the latency a trainee
  sees at that load.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import big_scenario, summary
from bot.app.library import ScenarioLibrary
from bot.app.messages import ButtonsOut, Incoming
from bot.app.service import TrainingService
from bot.scenario.loader import Catalogue
from storage import SqlStore

#: (concurrent trainees, turns each, offered inputs/s or None for a closed loop)
PLAN: list[tuple[int, int, float | None]] = [
    (1, 300, None),
    (100, 20, None),
    (1000, 10, None),
    (1000, 20, 2000.0),
    (1000, 30, 5000.0),
]
TICK = 0.005


async def play(
    service: TrainingService, trainees: int, turns: int, rate: float | None = None
) -> dict[str, float]:
    scenario_id = big_scenario().id
    latencies: list[float] = []
    tag = f"{trainees}-{rate or 0:.0f}"
    starts = [
        await service.handle(Incoming("bench", f"bench-{tag}-{n}", text=f"/start {scenario_id}"))
        for n in range(trainees)
    ]
    period = trainees / rate if rate else 0.0
    loop = asyncio.get_running_loop()
    rng = random.Random(1)

    async def trainee(n: int) -> None:
        user = f"bench-{tag}-{n}"
        replies = starts[n]
        due = loop.time() + rng.uniform(0, period)
        for turn in range(turns):
            if period:
                # wake on 5 ms ticks, as messages from the network arrive in bursts, so that
                # the load generator does not use up the CPU being measured
                await asyncio.sleep(max(0.0, due - due % TICK - loop.time()))
                due += period
            buttons = next(r for r in reversed(replies) if isinstance(r, ButtonsOut))
            incoming = Incoming("bench", user, button=buttons.buttons[0].data, key=f"{n}:{turn}")
            t0 = time.perf_counter_ns()
            replies = await service.handle(incoming)
            latencies.append((time.perf_counter_ns() - t0) / 1e6)

    began = time.perf_counter()
    await asyncio.gather(*(trainee(n) for n in range(trainees)))
    return summary(latencies, time.perf_counter() - began)


async def run_backend(url: str) -> dict[tuple[int, float | None], dict[str, float]]:
    store = await SqlStore.open(url)
    try:
        catalogue = Catalogue()
        loaded = big_scenario()
        catalogue.scenarios[loaded.id] = loaded
        service = TrainingService(ScenarioLibrary(catalogue, store), store)
        return {(n, rate): await play(service, n, turns, rate) for n, turns, rate in PLAN}
    finally:
        await store.close()


async def fresh_postgres(base: str, name: str = "signpost_bench") -> str | None:
    """A new empty database `name` next to `base` (dropped and recreated), or None if
    unreachable."""
    import asyncpg

    dsn = base.replace("postgresql+asyncpg://", "postgresql://")
    try:
        conn = await asyncpg.connect(dsn, timeout=3)
    except (OSError, asyncpg.PostgresError):
        return None
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await conn.execute(f"CREATE DATABASE {name}")
    finally:
        await conn.close()
    return base.rsplit("/", 1)[0] + f"/{name}"


def run(postgres_url: str | None) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        results["SQLite"] = asyncio.run(run_backend(url))
    if postgres_url:
        fresh = asyncio.run(fresh_postgres(postgres_url))
        if fresh:
            results["PostgreSQL"] = asyncio.run(run_backend(fresh))
    return results
