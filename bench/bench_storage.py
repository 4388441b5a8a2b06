"""The store alone: N concurrent simulated trainees appending turns, each one committed.

`run(url, sessions, turns_per_session)` opens a store, starts one session per trainee, then
lets every trainee append its turns (a ~300-byte JSON payload and a new state snapshot each).
Latency is measured around `append_turn`, i.e. until the turn is durably committed.

Two kinds of load:
- closed loop (`rate=None`): each trainee appends its next turn as soon as the last one is
  committed. This finds the store's capacity, but N trainees always have N turns in flight,
  so by Little's law the mean latency is N / throughput: at 1,000 sessions, a p99 under 50 ms
  would take well over 20,000 turns/s, whatever the store.
- paced (`rate=R`): trainees "think" between turns, together offering R turns/s, each at a
  steady pace from a random start. This shows the latency a trainee sees at a given load.

`python -m bench.bench_storage` prints both, for SQLite (a temporary file) and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import os
import random
import secrets
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.app.ports import SessionRecord, TurnRecord
from bot.engine.state import SessionState
from storage import SqlStore

HASH = "b" * 64
TICK = 0.005
POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


def _payload(seq: int) -> dict[str, Any]:
    """What the service logs for a choice: about 300 bytes of JSON."""
    return {
        "choice": f"c{seq % 3}",
        "transition": {"from": f"n{seq}", "to": f"n{seq + 1}"},
        "deltas": {"rapport": 1, "safety": 0, "question": 1},
        "codes": ["Q+OPEN", "IND.DEBT"],
        "said": [
            {
                "line_id": f"n{seq + 1}.l1",
                "speaker": "persona",
                "text": "He said the job was in a restaurant, but when we arrived he kept "
                "our passports and said we owed him for the tickets.",
            }
        ],
    }


def _state(seq: int) -> SessionState:
    """A state as the engine would have it after `seq` turns of a ~30-turn scenario."""
    recent = range(max(0, seq - 30), seq)
    return SessionState(
        scenario_id="bench",
        scenario_hash=HASH,
        language="en",
        mode="coach",
        seed=seq,
        node=f"n{seq}",
        values=(1, True, 0, False, 3, 0),
        scores=(2, 1, 0, 3, 1, 0, 0, 1),
        turn=seq,
        path=tuple(f"c{i % 3}" for i in recent),
        visited=tuple(f"n{i}" for i in recent),
        revealed=(("IND.DEBT", 2), ("IND.DOCUMENTS", 5)),
        noticed=("IND.DEBT",),
    )


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


async def run(
    url: str,
    sessions: int,
    turns_per_session: int,
    *,
    rate: float | None = None,
    connect_args: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Drive `sessions` trainees; `rate` (turns/s, all trainees together) paces them."""
    store = await SqlStore.open(url, connect_args=connect_args)
    try:
        await store.save_scenario_version("bench", HASH, "id: bench\n")
        run_id = secrets.token_hex(4)

        async def start(n: int) -> str:
            trainee = await store.trainee("bench", f"{run_id}-{n}")
            now = datetime.now(UTC)
            sid = f"{run_id}{n:08d}"
            record = SessionRecord(sid, trainee.id, "bench", HASH, _state(0), 0, now, now)
            await store.create_session(record, TurnRecord(sid, 0, "start", "bench", None, now))
            return sid

        ids = await asyncio.gather(*(start(n) for n in range(sessions)))
        latencies: list[float] = []
        period = sessions / rate if rate else 0.0
        loop = asyncio.get_running_loop()
        rng = random.Random(1)

        # Inputs are made beforehand: this measures the store, not the making of states (the
        # engine's benchmark does that). Each turn still gets its own TurnRecord and is encoded.
        states = [_state(seq) for seq in range(turns_per_session + 1)]
        payloads = [_payload(seq) for seq in range(turns_per_session + 1)]

        async def trainee(sid: str) -> None:
            due = loop.time() + rng.uniform(0, period)
            for seq in range(1, turns_per_session + 1):
                if period:
                    # Wake on 5 ms ticks, as messages arriving over the network come in
                    # bursts: one loop iteration for many trainees, so that the load
                    # generator itself does not use up the CPU the store is measured on.
                    await asyncio.sleep(max(0.0, due - due % TICK - loop.time()))
                    due += period
                turn = TurnRecord(
                    sid, seq, "choice", "c0", f"{sid}:{seq}", datetime.now(UTC), payloads[seq]
                )
                began = time.perf_counter()
                await store.append_turn(turn, states[seq])
                latencies.append((time.perf_counter() - began) * 1000)

        before = store.stats.commits
        began = time.perf_counter()
        await asyncio.gather(*(trainee(sid) for sid in ids))
        seconds = time.perf_counter() - began
        commits = store.stats.commits - before
        return {
            "backend": url.split("+", 1)[0],
            "sessions": sessions,
            "offered_per_s": rate,
            "turns": len(latencies),
            "seconds": seconds,
            "turns_per_s": len(latencies) / seconds,
            "p50_ms": percentile(latencies, 50),
            "p99_ms": percentile(latencies, 99),
            "max_ms": max(latencies),
            "commits": commits,
            "turns_per_commit": len(latencies) / max(commits, 1),
        }
    finally:
        await store.close()


async def _in_fresh_schema(url: str, sessions: int, turns: int, rate: float | None) -> Any:
    """One run on PostgreSQL, in a schema of its own (dropped after)."""
    import asyncpg

    admin = await asyncpg.connect(url.replace("+asyncpg", ""), timeout=3)
    schema = f"bench_{secrets.token_hex(4)}"
    await admin.execute(f"CREATE SCHEMA {schema}")
    try:
        args = {"server_settings": {"search_path": schema}}
        return await run(url, sessions, turns, rate=rate, connect_args=args)
    finally:
        await admin.execute(f"DROP SCHEMA {schema} CASCADE")
        await admin.close()


async def _postgres_answers(url: str) -> bool:
    import asyncpg

    try:
        conn = await asyncpg.connect(url.replace("+asyncpg", ""), timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    await conn.close()
    return True


# (concurrent sessions, turns each, offered turns/s or None for a closed loop)
PLAN: list[tuple[int, int, float | None]] = [
    (1, 2000, None),
    (100, 100, None),
    (1000, 20, None),
    (1000, 30, 5000.0),
    (1000, 40, 8000.0),
]
#: every line is the middle (by p99) of this many runs; the machine's noise is large
REPEAT = 3


def _line(runs: list[dict[str, Any]]) -> str:
    runs = sorted(runs, key=lambda r: r["p99_ms"])
    r = runs[len(runs) // 2]
    offered = f"{r['offered_per_s']:,.0f}/s" if r["offered_per_s"] else "closed loop"
    spread = f"{runs[0]['p99_ms']:.1f}–{runs[-1]['p99_ms']:.1f}"
    return (
        f"| {r['backend']} | {r['sessions']:,} | {offered} | {r['turns']:,} | "
        f"{r['turns_per_s']:,.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {spread} | "
        f"{r['turns_per_commit']:.1f} |"
    )


HEADER = [
    "| backend | sessions | load | turns | turns/s | p50 ms | p99 ms | p99 range | turns/commit |",
    "|---|---|---|---|---|---|---|---|---|",
]


async def table(postgres_url: str | None = None) -> list[str]:
    """The whole plan on SQLite and, when it answers, PostgreSQL: one Markdown row each."""
    rows: list[str] = []
    with tempfile.TemporaryDirectory() as folder:
        for n, (sessions, turns, rate) in enumerate(PLAN):
            runs = []
            for k in range(REPEAT):
                url = f"sqlite+aiosqlite:///{Path(folder) / f'bench{n}-{k}.db'}"
                runs.append(await run(url, sessions, turns, rate=rate))
            rows.append(_line(runs))
            print(rows[-1], flush=True)
    url = postgres_url or POSTGRES
    if not await _postgres_answers(url):
        rows.append(f"PostgreSQL at {url.rsplit('@', 1)[-1]} did not answer: no figures.")
        return rows
    for sessions, turns, rate in PLAN:
        runs = [await _in_fresh_schema(url, sessions, turns, rate) for _ in range(REPEAT)]
        rows.append(_line(runs))
        print(rows[-1], flush=True)
    return rows


async def main() -> int:
    print("\n".join(HEADER))
    await table(os.environ.get("SIGNPOST_TEST_POSTGRES_URL"))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
