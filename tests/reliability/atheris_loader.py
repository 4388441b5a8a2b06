"""Coverage-guided fuzzing of the scenario loader with atheris (libFuzzer).

`python -m tests.reliability.atheris_loader RUNS SECONDS` mutates the mini scenario and air-01
for at most RUNS inputs or SECONDS; any exception other than a located ScenarioError (or a
problem without a place) is a crash, and libFuzzer exits non-zero with the input that caused it.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports():
    from bot.scenario.loader import load_scenario_text
    from bot.scenario.problems import ScenarioError

ROOT = Path(__file__).resolve().parents[2]
SEEDS = [ROOT / "tests" / "scenarios" / "mini" / "scenario.yaml"]


def target(data: bytes) -> None:
    text = data.decode("utf-8", errors="replace")
    try:
        load_scenario_text(text, "fuzz.yaml")
    except ScenarioError as exc:
        for problem in exc.problems:
            if problem.line < 1 or problem.column < 1 or not problem.message:
                raise AssertionError(f"an unlocated or empty problem: {problem!r}") from None


def main(runs: int, seconds: int) -> None:
    corpus = Path(tempfile.mkdtemp(prefix="signpost-fuzz-"))
    for seed in SEEDS:
        (corpus / seed.parent.name).write_bytes(seed.read_bytes())
    argv = [
        sys.argv[0],
        f"-runs={runs}",
        f"-max_total_time={seconds}",
        "-max_len=20000",
        str(corpus),
    ]
    atheris.Setup(argv, target)
    atheris.Fuzz()


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
