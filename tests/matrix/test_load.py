"""Fifty trainees play at once, each in a DM of their own, every one to the debrief."""

from __future__ import annotations

import asyncio
import statistics
import time

from tests.conftest import REPORT
from tests.matrix.conftest import Matrix
from tests.matrix.test_play import turn_log
from tests.matrix.trainee import Trainee, body, is_debrief

TRAINEES = 50


async def play_mini(trainee: Trainee, latencies: list[float]) -> None:
    await trainee.open_dm()
    await trainee.until_menu(within=60)
    for text in ("!start mini", "1", "1", "1", "1"):
        sent = time.monotonic()
        await trainee.say(text)
        said = await trainee.until_menu(within=60)
        latencies.append(time.monotonic() - sent)
    assert is_debrief(said[-1]) and "PASSED" in body(said[-1]), body(said[-1])


async def test_fifty_trainees_at_once_each_to_the_debrief(matrix: Matrix) -> None:
    await matrix.bot.start()
    trainees = [await matrix.trainee() for _ in range(TRAINEES)]
    latencies: list[float] = []
    started = time.monotonic()
    await asyncio.gather(*(play_mini(t, latencies) for t in trainees))
    elapsed = time.monotonic() - started

    for trainee in trainees:
        log = await turn_log(matrix, trainee)
        assert [t.seq for t in log] == [0, 1, 2, 3, 4]
        assert [t.kind for t in log] == ["start", "choice", "choice", "choice", "choice"]
    latencies.sort()
    p95 = latencies[int(len(latencies) * 0.95) - 1]
    REPORT.append(
        f"matrix: {TRAINEES} trainees at once to the debrief in {elapsed:.1f} s; "
        f"step latency median {statistics.median(latencies) * 1000:.0f} ms, "
        f"p95 {p95 * 1000:.0f} ms ({len(latencies)} steps, real Synapse on SQLite)"
    )
