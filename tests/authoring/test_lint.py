"""Every lint rule, on a broken copy of the mini scenario, with its exact message and place."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from bot.authoring.lint import lint_file
from bot.cli import app
from bot.scenario.synthetic import synthetic_yaml
from tests.conftest import DIALOGUES, MINI

CASES: list[dict[str, Any]] = yaml.safe_load(
    (Path(__file__).parent.parent / "data" / "lint_cases.yaml").read_text(encoding="utf-8")
)


def broken(tmp_path: Path, old: str, new: str) -> Path:
    source = MINI.read_text(encoding="utf-8")
    assert old in source, f"the case no longer applies to the mini scenario: {old!r}"
    folder = tmp_path / "mini"
    folder.mkdir()
    (folder / "scenario.yaml").write_text(source.replace(old, new, 1), encoding="utf-8")
    return folder / "scenario.yaml"


def test_the_mini_scenario_lints_clean() -> None:
    assert lint_file(MINI).problems == []


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_each_rule_reports_its_code_place_and_message(case: dict[str, Any], tmp_path: Path) -> None:
    path = broken(tmp_path, *case["replace"])
    found = {(p.code, p.line, p.message) for p in lint_file(path).problems}
    wanted = {(p["code"], p["line"], p["message"]) for p in case["problems"]}
    assert found == wanted
    assert all(p.hint for p in lint_file(path).problems), "every problem says how to fix it"


def test_a_clip_too_large_for_the_messengers(tmp_path: Path) -> None:
    folder = tmp_path / "air-01"
    folder.mkdir()
    source = (DIALOGUES / "air-01" / "scenario.yaml").read_text(encoding="utf-8")
    (folder / "scenario.yaml").write_text(source, encoding="utf-8")
    media = folder / "media"
    media.mkdir()
    for clip in (DIALOGUES / "air-01" / "media").iterdir():
        (media / clip.name).write_bytes(clip.read_bytes())
    with (media / "handover_note.png").open("wb") as big:  # sparse: no disk is used
        big.write((DIALOGUES / "air-01" / "media" / "handover_note.png").read_bytes()[:64])
        big.truncate(11 * 1024 * 1024)
    problems = lint_file(folder / "scenario.yaml").problems
    assert [(p.code, p.severity) for p in problems] == [("SP112", "error")]
    assert "messengers refuse a photo over 10 MB" in problems[0].message


def test_load_errors_come_through_lint_with_their_codes(tmp_path: Path) -> None:
    path = broken(tmp_path, "speaker: narrator", "speaker: nobody")
    problems = lint_file(path).problems
    assert [p.code for p in problems] == ["SP021"]


def test_the_command_exits_non_zero_on_errors_and_with_strict_on_warnings(tmp_path: Path) -> None:
    runner = CliRunner()
    clean = runner.invoke(app, ["lint", str(MINI.parent)])
    assert clean.exit_code == 0, clean.output
    warned = broken(tmp_path, "R: 0, L: 10", "R: 5, L: 10").parent
    assert runner.invoke(app, ["lint", str(warned)]).exit_code == 0
    assert runner.invoke(app, ["lint", "--strict", str(warned)]).exit_code == 1
    failing = tmp_path / "other"
    failing.mkdir()
    (failing / "scenario.yaml").write_text("id: [", encoding="utf-8")
    result = runner.invoke(app, ["lint", "--format", "json", str(failing)])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report[0]["problems"][0]["code"] == "SP000"
    assert "not valid YAML" in report[0]["problems"][0]["message"]
    assert runner.invoke(app, ["lint", str(tmp_path / "missing")]).exit_code == 2


def test_the_program_prints_everything_and_keeps_its_exit_code(tmp_path: Path) -> None:
    # run as the `signpost` program, lint ends the process without freeing the scenario
    # (bot/cli/ending.py): a long report through a pipe must still arrive whole
    source = synthetic_yaml(400).replace("      once: true\n", "      once: false\n")
    path = tmp_path / "scenario.yaml"
    path.write_text(source, encoding="utf-8")
    expected = lint_file(path).problems
    assert len(expected) > 300  # every choice that stays can be pressed again (SP108)
    # what the console script runs, with an exit handler that only a normal ending would call
    program = (
        "import atexit, sys; from bot.cli import main;"
        "atexit.register(lambda: sys.stderr.write('ended the slow way'));"
        "sys.argv[0] = 'signpost'; main()"
    )
    for strict, code in ((False, 0), (True, 1)):
        arguments = ["lint", "--format", "json", *(["--strict"] * strict), str(path)]
        command = [sys.executable, "-c", program, *arguments]
        run = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
        assert run.returncode == code, run.stderr
        assert "ended the slow way" not in run.stderr
        report = json.loads(run.stdout)
        assert len(report[0]["problems"]) == len(expected)
        assert report[0]["problems"][-1]["line"] == expected[-1].line


def test_every_shipped_scenario_lints_without_warnings() -> None:
    for scenario in sorted(DIALOGUES.glob("*/scenario.yaml")):
        assert lint_file(scenario).problems == [], scenario
