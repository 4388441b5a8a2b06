"""Courses order and group the catalogue; a wrong course file is located and never fatal."""

from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner

from bot.authoring.lint import lint_courses, lint_file
from bot.cli import app
from bot.scenario.loader import load_catalogue
from tests.conftest import DIALOGUES, MINI


def folder_with(tmp_path: Path, courses: str) -> Path:
    root = tmp_path / "dialogues"
    for name in ("mini", "alpha"):
        (root / name).mkdir(parents=True)
        source = MINI.read_text(encoding="utf-8").replace("id: mini", f"id: {name}", 1)
        (root / name / "scenario.yaml").write_text(source, encoding="utf-8")
    (root / "courses.yaml").write_text(courses, encoding="utf-8")
    return root


COURSE = """courses:
  - id: night
    title: {en: "Night shift", pl: "Nocna zmiana"}
    scenarios: [mini]
"""


def test_the_catalogue_follows_the_courses_then_the_rest(tmp_path: Path) -> None:
    catalogue = load_catalogue([folder_with(tmp_path, COURSE)])
    assert [s.id for s in catalogue] == ["mini", "alpha"]
    course = catalogue.course_of("mini")
    assert course is not None and course.title["pl"] == "Nocna zmiana"
    assert catalogue.course_of("alpha") is None


def test_an_unknown_scenario_in_a_course_is_located(tmp_path: Path) -> None:
    root = folder_with(tmp_path, COURSE.replace("[mini]", "[mini, nope]"))
    catalogue = load_catalogue([root])
    assert [s.id for s in catalogue] == ["alpha", "mini"]  # the scenarios still load
    [failure] = catalogue.failures
    [problem] = failure.problems
    assert (problem.code, problem.line, problem.message) == (
        "SP130",
        4,
        "there is no scenario 'nope'",
    )
    results = [lint_file(p) for p in sorted(root.glob("*/scenario.yaml"))]
    courses = lint_courses(root, results)
    assert courses is not None and [p.code for p in courses.problems] == ["SP130"]


def test_a_malformed_course_file_is_a_located_error(tmp_path: Path) -> None:
    root = folder_with(tmp_path, COURSE.replace("title:", "titel:"))
    [failure] = load_catalogue([root]).failures
    found = {(p.line, p.message) for p in failure.problems}
    assert (3, "unknown field 'titel'") in found
    assert (2, "'title' is required in courses[0]") in found


def test_the_shipped_courses_cover_every_shipped_scenario() -> None:
    catalogue = load_catalogue([DIALOGUES])
    assert catalogue.failures == []
    in_courses = {s for course in catalogue.courses for s in course.scenarios}
    assert in_courses == set(catalogue.scenarios)


def test_scenarios_command_shows_one_in_full(tmp_path: Path) -> None:
    root = folder_with(tmp_path, COURSE)
    shutil.rmtree(root / "alpha")
    result = CliRunner().invoke(
        app, ["scenarios", "mini", "--folder", str(root), "--language", "pl"]
    )
    assert result.exit_code == 0, result.output
    assert "Nocna zmiana" in result.stdout and "Kontrola nocnego autobusu" in result.stdout
    assert "Rutynowo oddziel podróżną od towarzysza." in result.stdout


def test_two_courses_with_one_id(tmp_path: Path) -> None:
    root = folder_with(tmp_path, COURSE + COURSE.split("\n", 1)[1])
    [failure] = load_catalogue([root]).failures
    assert [(p.code, p.line, p.message) for p in failure.problems] == [
        ("SP131", 5, "the course id 'night' is used twice")
    ]
