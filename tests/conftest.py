"""Shared fixtures: the mini scenario, an engine on it, and databases (tests/databases.py)."""

from __future__ import annotations

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
    if _LEAKS:
        REPORT.append(f"SECRETS LEAKED in {len(_LEAKS)} outputs: " + "; ".join(_LEAKS[:5]))
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    else:
        REPORT.append(
            f"secrets: {len(SECRETS)} test secrets never appeared in any captured output or log"
        )
