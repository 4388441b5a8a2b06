"""The loader under coverage-guided fuzzing (atheris), where atheris installs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPORT

ROOT = Path(__file__).resolve().parents[2]
SOAK = bool(os.environ.get("SIGNPOST_SOAK"))


def test_coverage_guided_fuzzing_finds_no_crash() -> None:
    pytest.importorskip("atheris", reason="atheris does not install on this platform")
    runs, seconds = (200_000, 600) if SOAK else (5_000, 40)
    done = subprocess.run(
        [sys.executable, "-m", "tests.reliability.atheris_loader", str(runs), str(seconds)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=seconds + 120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = [line for line in done.stderr.splitlines() if line.startswith("#") and "cov:" in line]
    last = lines[-1] if lines else "(no stats)"
    REPORT.append(
        f"loader fuzz (atheris, coverage-guided): no crash; libFuzzer's last line: {last}"
    )
