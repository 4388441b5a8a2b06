"""The terminal adapter, driven as a person would: through a pseudo-terminal, a script, a resume."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest

ROOT = Path(__file__).resolve().parent.parent
SIGNPOST = Path(sys.executable).with_name("signpost")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "SIGNPOST_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'console.db'}",
        "SIGNPOST_DIALOGUES": str(ROOT / "tests" / "scenarios"),
        "SIGNPOST_DEFAULT_SCENARIO": "mini",
        "COLUMNS": "120",
        "TERM": "dumb",
    }


def test_a_whole_session_through_a_pseudo_terminal(env: dict[str, str]) -> None:
    child = pexpect.spawn(
        str(SIGNPOST), ["play", "--trainee", "pty"], env=env, encoding="utf-8", timeout=30
    )
    try:
        child.expect("Content warning")
        child.expect("What do you do")
        child.expect("> ")
        child.sendline("1")  # separate, as a routine
        child.expect("Interpreter")
        child.expect("> ")
        child.sendline("Tell me about your trip, in your own words.")
        child.expect("A man paid the ticket")
        child.expect("> ")
        child.sendline("/hint")
        child.expect("costs")
        child.expect("> ")
        child.sendline("You said you must pay back money. Tell me more about that.")
        child.expect("Ana waits")
        child.expect("> ")
        child.sendline("1")
        child.expect("Ana is safe tonight")
        child.expect("PASSED")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0


def run(args: list[str], env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SIGNPOST), *args], env=env, input=stdin, capture_output=True, text=True, timeout=60
    )


def test_script_prints_the_whole_exchange(env: dict[str, str], tmp_path: Path) -> None:
    script = tmp_path / "inputs.txt"
    script.write_text("# the expert path\n1\n1\n1\n1\n", encoding="utf-8")
    done = run(["play", "mini", "--script", str(script), "--trainee", "s"], env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("> 1") == 4
    assert "Ana is safe tonight" in done.stdout and "PASSED" in done.stdout


def test_resume_continues_in_a_new_process(env: dict[str, str], tmp_path: Path) -> None:
    first = tmp_path / "first.txt"
    first.write_text("1\n", encoding="utf-8")
    assert run(["play", "mini", "--script", str(first), "--trainee", "r"], env).returncode == 0
    rest = tmp_path / "rest.txt"
    rest.write_text("Tell me about your trip, in your own words\n", encoding="utf-8")
    done = run(["play", "--resume", "--script", str(rest), "--trainee", "r"], env)
    assert done.returncode == 0, done.stderr
    assert "Resuming" in done.stdout and "A man paid the ticket" in done.stdout


def test_polish_session(env: dict[str, str], tmp_path: Path) -> None:
    script = tmp_path / "pl.txt"
    script.write_text("1\nProszę opowiedzieć o podróży\n", encoding="utf-8")
    done = run(
        ["play", "mini", "--language", "pl", "--script", str(script), "--trainee", "pl"], env
    )
    assert done.returncode == 0, done.stderr
    assert "Ostrzeżenie o treści" in done.stdout and "Pewien mężczyzna zapłacił" in done.stdout


def test_clear_errors_for_bad_arguments_and_config(env: dict[str, str]) -> None:
    missing = run(["play", "nope", "--trainee", "x"], env)
    assert missing.returncode == 1 and "no scenario 'nope'" in missing.stderr
    bad_url = run(["play", "--trainee", "x"], {**env, "SIGNPOST_DATABASE_URL": "mysql://x"})
    assert bad_url.returncode == 2 and "SIGNPOST_DATABASE_URL" in bad_url.stderr
    assert "must start with" in bad_url.stderr
    bad_lang = run(["play", "mini", "--language", "de"], env)
    assert bad_lang.returncode == 2 and "--language" in bad_lang.stderr


def test_scenarios_lists_and_reports_broken_files(env: dict[str, str], tmp_path: Path) -> None:
    folder = tmp_path / "dialogues"
    (folder / "broken").mkdir(parents=True)
    (folder / "broken" / "scenario.yaml").write_text("id: broken\ntitle: [\n", encoding="utf-8")
    (folder / "mini").mkdir()
    (folder / "mini" / "scenario.yaml").write_text(
        (ROOT / "tests" / "scenarios" / "mini" / "scenario.yaml").read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    done = run(["scenarios", "--folder", str(folder)], env)
    assert done.returncode == 1
    assert "Night bus check" in done.stdout
    assert "broken/scenario.yaml:3:1" in done.stderr
