"""The loader: every broken scenario is rejected with a located, readable message."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.scenario.loader import load_catalogue, load_scenario, load_scenario_text
from bot.scenario.problems import ScenarioError

HERE = Path(__file__).parent
MINI = HERE / "scenarios" / "mini" / "scenario.yaml"
CASES: list[dict[str, Any]] = yaml.safe_load((HERE / "data" / "broken_scenarios.yaml").read_text())


def test_the_mini_scenario_loads() -> None:
    loaded = load_scenario(MINI)
    assert loaded.id == "mini"
    assert len(loaded.content_hash) == 64


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_broken_scenario_is_located(case: dict[str, Any], tmp_path: Path) -> None:
    source = MINI.read_text(encoding="utf-8")
    old, new = case["replace"]
    assert old in source, f"the case no longer applies to the mini scenario: {old!r}"
    broken = source.replace(old, new, 1)
    target = tmp_path / "mini" / "scenario.yaml"
    target.parent.mkdir()
    target.write_text(broken, encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(target)
    problems = caught.value.problems
    matching = [p for p in problems if case["message"] in p.message]
    assert matching, f"expected {case['message']!r}, got: {[str(p) for p in problems]}"
    assert matching[0].line == case["line"], str(matching[0])
    assert matching[0].file == str(target)
    assert str(matching[0]).startswith(f"{target}:{case['line']}:")


def test_every_problem_is_reported_not_just_the_first(tmp_path: Path) -> None:
    source = MINI.read_text(encoding="utf-8").replace("goto: talk", "goto: tlak", 1)
    source = source.replace("code: Q+ECHO", "code: Q+GOOD", 1)
    with pytest.raises(ScenarioError) as caught:
        load_scenario_text(source, "x.yaml")
    messages = " | ".join(p.message for p in caught.value.problems)
    assert "there is no node 'tlak'" in messages and "Q+GOOD" in messages


def test_hints_tell_how_to_fix(tmp_path: Path) -> None:
    source = MINI.read_text(encoding="utf-8").replace("goto: talk", "goto: tlak", 1)
    with pytest.raises(ScenarioError) as caught:
        load_scenario_text(source, "x.yaml")
    assert caught.value.problems[0].hint == "did you mean 'talk'?"


def test_billion_laughs_is_rejected_quickly() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(20)
    )
    with pytest.raises(ScenarioError) as caught:
        load_scenario_text(bomb, "bomb.yaml")
    assert "aliases" in caught.value.problems[0].message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the file is empty"),
        ("- just\n- a list\n", "must be a mapping"),
        ("x: " + "[" * 200 + "]" * 200, "nested more than"),
        ("x: " + "y" * 30_000, "longer than"),
        ("\x00\x01", "not valid YAML"),
    ],
)
def test_hostile_files_get_a_clear_error(text: str, message: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        load_scenario_text(text, "hostile.yaml")
    assert message in str(caught.value)


def test_a_broken_scenario_does_not_stop_the_others(tmp_path: Path) -> None:
    good = tmp_path / "mini" / "scenario.yaml"
    good.parent.mkdir()
    good.write_text(MINI.read_text(encoding="utf-8"), encoding="utf-8")
    bad = tmp_path / "broken" / "scenario.yaml"
    bad.parent.mkdir()
    bad.write_text("id: broken\ntitle: [", encoding="utf-8")
    catalogue = load_catalogue([tmp_path])
    assert [s.id for s in catalogue] == ["mini"]
    assert len(catalogue.failures) == 1 and catalogue.failures[0].file == str(bad)


def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_bytes(b"\xff\xfe\xfa")
    with pytest.raises(ScenarioError, match="cannot read the file"):
        load_scenario(path)


def test_the_authoring_guide_example_is_the_tested_scenario() -> None:
    guide = (HERE.parent / "dialogues" / "README.md").read_text(encoding="utf-8")
    example = guide.split("```yaml\n")[-1].split("```")[0]
    assert load_scenario_text(example, "guide").id == "mini"
    body = lambda text: text.split("\n", 1)[1]  # noqa: E731 - the schema hint line differs
    assert body(example) == body(MINI.read_text(encoding="utf-8"))
