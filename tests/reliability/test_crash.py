"""Crash consistency: a bot under load killed with SIGKILL at random moments, 20 times.

After each kill: every input the bot answered is stored exactly once, every session's log is
contiguous and replays to exactly its stored state, and after the last round every trainee's
next input is answered. Seeded: a failing round names its seed.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app import journal
from bot.app.library import ScenarioLibrary
from bot.app.messages import ButtonsOut, Incoming, TextOut
from bot.app.service import TrainingService
from bot.scenario.loader import load_catalogue
from storage import SqlStore
from tests.conftest import DIALOGUES, REPORT
from tests.reliability.crash_driver import TRAINEES

#: `make soak` runs many more rounds
ROUNDS = 200 if os.environ.get("SIGNPOST_SOAK") else 20
ROOT = Path(__file__).resolve().parents[2]


def run_and_kill(url: str, seed: int, rng: random.Random) -> list[str]:
    """Start the driver, let it work for a random while, SIGKILL it; the keys it answered."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.crash_driver", url, str(seed)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    ready = process.stdout.readline()
    assert ready.strip() == "READY", process.stderr.read() if process.stderr else ready
    time.sleep(rng.uniform(0.1, 0.6))
    process.send_signal(signal.SIGKILL)
    out, err = process.communicate(timeout=30)
    assert "Traceback" not in err, err[-2000:]
    return [line.split()[2] for line in out.splitlines() if line.startswith("ANSWERED ")]


async def verify(url: str, answered: list[str], since: datetime | None = None) -> tuple[int, int]:
    """Every answered key stored once; logs contiguous; replay equals the stored state (for
    the sessions changed `since`, or all)."""
    store = await SqlStore.open(url)
    try:
        library = ScenarioLibrary(load_catalogue([DIALOGUES]), store)
        keys: Counter[str] = Counter()
        sessions = turns_checked = 0
        for n in range(TRAINEES):
            trainee = await store.trainee("crash", f"t{n}")
            for session in await store.sessions_of(trainee.id):
                log = list(await store.turns(session.id))
                assert [t.seq for t in log] == list(range(len(log))), session.id
                assert log[-1].seq == session.last_seq
                keys.update(t.input_key for t in log if t.input_key)
                if since is not None and session.updated_at < since:
                    continue
                version = await library.version(session.scenario_hash, session.scenario_id)
                assert journal.replay(version.interview, log) == session.state, session.id
                sessions += 1
                turns_checked += len(log)
        doubled = [k for k, count in keys.items() if count > 1]
        assert doubled == [], f"turns stored twice: {doubled[:5]}"
        lost = [k for k in answered if k not in keys]
        assert lost == [], f"answered but not stored: {lost[:5]}"
        return sessions, turns_checked
    finally:
        await store.close()


@pytest.mark.slow
async def test_twenty_kills_lose_and_double_nothing(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'crash.db'}"
    rng = random.Random(20261201)
    answered_total = 0
    for round_ in range(ROUNDS):
        began = datetime.now(UTC)
        answered = run_and_kill(url, round_, rng)
        answered_total += len(answered)
        await verify(url, answered, since=began)
    store = await SqlStore.open(url)
    try:
        service = TrainingService(ScenarioLibrary(load_catalogue([DIALOGUES]), store), store)
        for n in range(TRAINEES):
            replies = await service.handle(Incoming("crash", f"t{n}", text="/resume"))
            errors = [r for r in replies if isinstance(r, TextOut) and r.kind == "error"]
            assert not errors
            if menu := [r for r in replies if isinstance(r, ButtonsOut)]:
                data = menu[-1].buttons[0].data
                after = await service.handle(
                    Incoming("crash", f"t{n}", button=data, key=f"final{n}")
                )
                assert not [r for r in after if isinstance(r, TextOut) and r.kind == "error"]
    finally:
        await store.close()
    sessions, turns = await verify(url, [])
    REPORT.append(
        f"crash consistency: {ROUNDS} SIGKILL rounds, {answered_total:,} answered inputs, "
        f"{sessions} sessions and {turns:,} turns checked, 0 lost, 0 doubled"
    )
