"""Shared fixtures: the mini scenario, an engine on it, and databases (tests/databases.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.engine.compiled import CompiledScenario
from bot.engine.engine import Engine
from bot.scenario.loader import LoadedScenario, load_scenario

pytest_plugins = ["tests.databases"]

HERE = Path(__file__).parent
MINI = HERE / "scenarios" / "mini" / "scenario.yaml"
DIALOGUES = HERE.parent / "dialogues"


@pytest.fixture(scope="session")
def mini() -> LoadedScenario:
    return load_scenario(MINI)


@pytest.fixture
def engine(mini: LoadedScenario) -> Engine:
    return Engine(CompiledScenario(mini.scenario, mini.content_hash), mini.folder)


@pytest.fixture(scope="session")
def mini_source() -> str:
    return MINI.read_text(encoding="utf-8")


#: lines tests want shown in the run's summary (figures such as the classifier's accuracy)
REPORT: list[str] = []


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if REPORT:
        terminalreporter.section("Signpost figures")
        for line in REPORT:
            terminalreporter.write_line(line)


#: secrets the tests use (bot tokens, passwords): none may appear in anything the code prints,
#: logs or raises during the run. Tests add theirs with `SECRETS.add(...)`.
SECRETS: set[str] = {"pg-test-password-7c1f"}
_LEAKS: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    for title, content in report.sections:
        for secret in SECRETS:
            if secret and secret in content:
                _LEAKS.append(f"{report.nodeid} ({title}): {secret[:4]}…")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _check_secrets(session)
    target = os.environ.get("SIGNPOST_RELIABILITY_OUT")
    if target:
        _write_reliability(Path(target), session)


def _write_reliability(path: Path, session: pytest.Session) -> None:
    """`make soak` keeps the run's reliability figures in RELIABILITY.md."""
    import datetime as dt
    import platform

    kept = (
        "crash",
        "loader fuzz",
        "engine invariants",
        "hostile",
        "secrets",
        "storage faults",
        "several workers",
        "authorization",
    )
    lines = [line for line in REPORT if line.startswith(kept)]
    failed = session.testsfailed
    result = "PASSED" if not failed else f"{failed} FAILED"
    command = (
        "`make soak` (`SIGNPOST_SOAK=1 pytest tests/reliability`: the long variants)"
        if os.environ.get("SIGNPOST_SOAK")
        else "`pytest tests/reliability` (as in `make test`; `make soak` runs longer variants)"
    )
    path.write_text(
        "# Reliability\n\n"
        f"- Date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC\n"
        f"- Machine: {platform.system()} {platform.release()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}\n"
        f"- Command: {command}\n"
        f"- Result: {result} (the pass condition is zero lost or doubled turns, zero unhandled "
        "errors and no leaked secret)\n\n" + "\n".join(f"- {line}" for line in lines) + "\n",
        encoding="utf-8",
    )


def _check_secrets(session: pytest.Session) -> None:
    if _LEAKS:
        REPORT.append(f"SECRETS LEAKED in {len(_LEAKS)} outputs: " + "; ".join(_LEAKS[:5]))
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    else:
        REPORT.append(
            f"secrets: {len(SECRETS)} test secrets never appeared in any captured output or log"
        )
