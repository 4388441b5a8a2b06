"""`signpost test`: cases, expectations that fail when they should, profiles, coverage."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.authoring.cases import matches
from bot.authoring.suite import discover, run
from bot.cli import app
from tests.conftest import MINI

EXPERT = """
cases:
  - name: expert
    check_examples: true
    steps:
      - choose: separate
        expect: {node: talk, vars: {trust: ">= 2", controller_near: false}, scores: {S: 2}}
      - say: "tell me about your trip"
        expect:
          {choice: ask_trip, form: open, said: [trip.ana], revealed: [IND.BRD_DEBT_FOR_TRAVEL]}
      - choose: ask_money
      - choose: refer_kcik
    end:
      {ending: referred, passed: true, overall: ">= 90", critical: [], referrals: {REF.KCIK: right}}
profiles:
  - name: good
    runs: 10
    take: [separate, ask_trip, ask_money, refer_kcik]
    expect: {overall: [100, 100], critical: [0, 0], passed: always}
  - name: lets him interpret
    runs: 10
    take: [let_him]
    expect: {critical: [1, 1], passed: never}
"""


def suite(tmp_path: Path, tests: str) -> Path:
    folder = tmp_path / "mini"
    (folder / "tests").mkdir(parents=True)
    (folder / "scenario.yaml").write_text(MINI.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "tests" / "mini.yaml").write_text(tests, encoding="utf-8")
    return folder


def test_a_passing_suite_and_its_coverage(tmp_path: Path) -> None:
    [report] = discover([suite(tmp_path, EXPERT)])
    run(report)
    assert report.passed, [o.failures for o in report.outcomes]
    assert [o.kind for o in report.outcomes] == ["case", "profile", "profile"]
    assert report.totals == {"node": 6, "choice": 7, "intent": 3, "ending": 2}
    missing = {(g.kind, g.id) for g in report.gaps}
    assert ("choice", "accuse") in missing and ("choice", "refuse_entry") in missing
    assert ("node", "talk") not in missing and ("ending", "end_bad") not in missing
    assert report.percent("ending") == 100.0
    assert report.node_and_choice_percent == pytest.approx(100 * 11 / 13)


@pytest.mark.parametrize(
    ("change", "failure"),
    [
        ("node: talk", "expected node 'decide', at 'talk'"),
        ("choice: ask_trip", "the text resolved to 'ask_trip', expected 'accuse'"),
        ('trust: ">= 2"', "trust is 2, expected '>= 4'"),
        ("scores: {S: 2}", "S has 2 points, expected 3"),
        ("ending: referred", "ending 'referred', expected 'lost'"),
        ("REF.KCIK: right", "referral REF.KCIK was right, not harmful"),
        ('overall: ">= 90"', "overall 91.7%, expected '< 50'"),
    ],
)
def test_a_wrong_expectation_fails_with_what_differs(
    tmp_path: Path, change: str, failure: str
) -> None:
    replacement = {
        "node: talk": "node: decide",
        "choice: ask_trip": "choice: accuse",
        'trust: ">= 2"': 'trust: ">= 4"',
        "scores: {S: 2}": "scores: {S: 3}",
        "ending: referred": "ending: lost",
        "REF.KCIK: right": "REF.KCIK: harmful",
        'overall: ">= 90"': 'overall: "< 50"',
    }[change]
    [report] = discover([suite(tmp_path, EXPERT.replace(change, replacement, 1))])
    run(report)
    failures = [f for o in report.outcomes for f in o.failures]
    assert any(failure in f for f in failures), failures
    assert not report.passed


def test_a_choice_that_is_not_open_names_the_open_ones(tmp_path: Path) -> None:
    tests = "cases:\n  - name: x\n    steps:\n      - choose: ask_money\n"
    [report] = discover([suite(tmp_path, tests)])
    run(report)
    [failure] = report.outcomes[0].failures
    assert "step 1 at node 'bus'" in failure and "open: separate, let_him" in failure


def test_a_profile_outside_its_band_fails_per_seed(tmp_path: Path) -> None:
    tests = EXPERT.replace("expect: {critical: [1, 1], passed: never}", "expect: {passed: always}")
    [report] = discover([suite(tmp_path, tests)])
    run(report)
    profile = report.outcomes[-1]
    assert len(profile.failures) == 10 and "seed 1: failed" in profile.failures[0]


def test_a_broken_test_file_is_located(tmp_path: Path) -> None:
    [report] = discover([suite(tmp_path, "cases:\n  - name: x\n    stepz: []\n")])
    run(report)
    [problem] = report.problems
    assert problem.line == 3 and "unknown field 'stepz'" in problem.message


def test_comparisons() -> None:
    assert matches(">= 3", 3) and not matches("> 3", 3) and matches("== 2", 2)
    assert matches(True, True) and not matches(1, True) and matches(2, 2)
    assert not matches("nonsense", 1)


def test_the_command_fails_under_the_coverage_floor(tmp_path: Path) -> None:
    folder = suite(tmp_path, EXPERT)
    runner = CliRunner()
    assert runner.invoke(app, ["test", str(folder)]).exit_code == 0
    low = runner.invoke(app, ["test", str(folder), "--fail-under", "90"])
    assert low.exit_code == 1 and "84.6% < 90%" in low.stdout
