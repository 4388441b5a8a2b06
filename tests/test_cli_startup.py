"""`import bot.cli` stays light, so that `signpost lint` starts quickly (issue #5).

The command modules import what only some commands need (the event loop, settings, the app and
its store, scoring, the test runner) inside those commands. This fails when such an import
moves back to the top of a module; it counts modules, not milliseconds.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent

#: not needed to lint a scenario, nor to list the commands and their options
HEAVY = [
    "asyncio",
    "sqlalchemy",
    "alembic",
    "pydantic_settings",
    "bot.config",
    "bot.bootstrap",
    "bot.app",
    "bot.scoring",
    "bot.reports",
    "bot.authoring.cases",
    "bot.authoring.explore",
    "bot.authoring.runner",
    "bot.authoring.suite",
    "storage",
    "adapters",
    "rich.progress",
]


@pytest.fixture(scope="module")
def imported() -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", "import sys, bot.cli; print('\\n'.join(sys.modules))"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return set(done.stdout.split())


def test_the_cli_imports_what_lint_needs(imported: set[str]) -> None:
    assert {"bot.cli.main", "bot.authoring.lint", "bot.scenario.loader"} <= imported


@pytest.mark.parametrize("heavy", HEAVY)
def test_the_cli_does_not_import(heavy: str, imported: set[str]) -> None:
    found = sorted(m for m in imported if m == heavy or m.startswith(heavy + "."))
    assert not found, f"`import bot.cli` loads {', '.join(found)}: import it where it is used"
