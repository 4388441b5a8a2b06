"""A large scenario is linted in two processes (bot/authoring/split.py): the same problems, in
the same order, as a lint in one process, whatever is broken and in whichever half."""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.authoring import split
from bot.authoring.lint import LintResult, lint_file
from bot.scenario.synthetic import synthetic_yaml
from tests.conftest import DIALOGUES, MINI
from tests.reliability.test_fuzz import mutate

DATA = Path(__file__).parent.parent / "data"
CASES: list[dict[str, Any]] = [
    *yaml.safe_load((DATA / "lint_cases.yaml").read_text(encoding="utf-8")),
    *yaml.safe_load((DATA / "broken_scenarios.yaml").read_text(encoding="utf-8")),
]


def counting_joins(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A list that grows by one for each lint done in two halves."""
    joined: list[int] = []
    original = split._joined

    def counted(*args: Any) -> split.Halves:
        joined.append(1)
        return original(*args)

    monkeypatch.setattr(split, "_joined", counted)
    return joined


@pytest.fixture
def halves(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every file of two nodes or more is split; counts the lints that were."""
    monkeypatch.setattr(split, "SPLIT_FROM_NODES", 2)
    return counting_joins(monkeypatch)


def assert_same_either_way(path: Path) -> LintResult:
    one = lint_file(path, two_cores=False)
    two = lint_file(path)
    assert two.problems == one.problems
    assert two.scenario_id == one.scenario_id
    return two


def written(tmp_path: Path, text: str, name: str = "case") -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "scenario.yaml").write_text(text, encoding="utf-8")
    return folder / "scenario.yaml"


@pytest.mark.parametrize("path", [*sorted(DIALOGUES.glob("*/scenario.yaml")), MINI], ids=str)
def test_shipped_scenarios(path: Path, halves: list[int]) -> None:
    assert_same_either_way(path)
    assert halves == [1]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_every_lint_and_load_error_case(
    case: dict[str, Any], tmp_path: Path, halves: list[int]
) -> None:
    source = MINI.read_text(encoding="utf-8").replace(*case["replace"], 1)
    result = assert_same_either_way(written(tmp_path, source))
    assert result.problems, "each case is broken somewhere"


def after(source: str, anchor: str, old: str, new: str) -> str:
    """`source` with the first `old` after `anchor` made `new`."""
    at = source.index(old, source.index(anchor))
    return source[:at] + new + source[at + len(old) :]


#: changes to a generated scenario of 41 nodes (n0-n38, then the two endings: the second half
#: starts at n20), each with a code that must be found (True) or not (False) either way
ACROSS: dict[str, tuple[list[tuple[str, str, str]], str, bool]] = {
    "a line id used again in the second half": ([("", "- id: l30\n", "- id: l3\n")], "SP020", True),
    "a choice id used again in the second half": (
        [("", "- id: c30a\n", "- id: c3a\n")],
        "SP022",
        True,
    ),
    "the expert path names a choice of the second half, and one of none": (
        [("", "expert_path:\n", "expert_path:\n- c33b\n- nope\n")],
        "SP031",
        True,
    ),
    "a node reached only from the second half": (
        [
            ("", "  n4:\n", "  lone:\n    next: n5\n  n4:\n"),
            ("  n30:", "goto: n31\n", "goto: lone\n"),
        ],
        "SP101",
        False,
    ),
    "a node no one reaches, in the second half": (
        [("", "  n30:\n", "  lone:\n    next: n31\n  n30:\n")],
        "SP101",
        True,
    ),
    "a variable written in the first half and read in the second": (
        [
            ("", "variables:\n", "variables:\n  mood:\n    type: int\n    initial: 0\n"),
            ("  n3:", "        trust: '+1'\n", "        trust: '+1'\n        mood: '+1'\n"),
            ("  n30:", "      when: trust >= 2\n", "      when: mood >= 2\n"),
        ],
        "SP103",
        False,
    ),
    "a variable never read": (
        [
            ("", "variables:\n", "variables:\n  mood:\n    type: int\n    initial: 0\n"),
            ("  n30:", "        trust: '+1'\n", "        trust: '+1'\n        mood: '+1'\n"),
        ],
        "SP103",
        True,
    ),
    "a validation error in each half": (
        [("", "- id: c3a\n", "- id: C3A\n"), ("", "- id: c30a\n", "- id: C30A\n")],
        "SP001",
        True,
    ),
    "a load error in the second half only": (
        [("  n30:", "speaker: p\n", "speaker: nobody\n")],
        "SP021",
        True,
    ),
}


@pytest.mark.parametrize("change", ACROSS.values(), ids=list(ACROSS))
def test_problems_across_the_halves(
    change: tuple[list[tuple[str, str, str]], str, bool], tmp_path: Path, halves: list[int]
) -> None:
    edits, code, found = change
    source = synthetic_yaml(40)
    for anchor, old, new in edits:
        source = after(source, anchor, old, new)
    result = assert_same_either_way(written(tmp_path, source))
    assert (code in {p.code for p in result.problems}) is found
    assert halves == [1]


def test_codes_revealed_in_one_half_and_noticed_in_the_other(
    tmp_path: Path, halves: list[int]
) -> None:
    source = synthetic_yaml(40).replace(
        "      reveals:\n      - IND.DECEPTION\n", "      reveals: []\n"
    )
    source = source.replace("      notices:\n      - IND.DECEPTION\n", "")
    source = after(source, "- id: l33\n", "reveals: []", "reveals: [IND.BEH_INSTRUCTED]")
    source = after(
        source, "- id: c3a\n", "      goto:", "      notices: [IND.BEH_INSTRUCTED]\n      goto:"
    )
    source = after(
        source, "- id: c4a\n", "      goto:", "      notices: [IND.BEH_INJURIES]\n      goto:"
    )
    result = assert_same_either_way(written(tmp_path, source))
    assert halves == [1]
    unrevealed = [p.message for p in result.problems if p.code == "SP111"]
    assert unrevealed == ["'IND.BEH_INJURIES' is noticed here but no line reveals it"]


def test_mutated_files(tmp_path: Path, halves: list[int]) -> None:
    base = synthetic_yaml(30)
    for seed in range(400):
        text = mutate(base, random.Random(seed))
        assert_same_either_way(written(tmp_path, text, f"m{seed}"))
    assert len(halves) > 50  # a sixth of the mutations still read as a mapping of nodes


def test_files_from_the_threshold_on_are_split(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    joined = counting_joins(monkeypatch)
    monkeypatch.setattr(split, "SPLIT_FROM_NODES", 51)  # synthetic_yaml(50) has 51 nodes
    assert_same_either_way(written(tmp_path, synthetic_yaml(50), "large"))
    assert joined == [1]
    lint_file(written(tmp_path, synthetic_yaml(49), "small"))
    assert joined == [1]


def test_a_failure_in_the_child_is_reported_with_its_traceback(
    tmp_path: Path, halves: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    original = split._check_half

    def failing(data: dict[str, Any], top: bool, *args: Any) -> Any:
        if not top:
            raise ValueError("a bug in a rule")
        return original(data, top, *args)

    monkeypatch.setattr(split, "_check_half", failing)
    with pytest.raises(split.HalfCheckError, match="a bug in a rule"):
        lint_file(written(tmp_path, synthetic_yaml(20)))


def test_a_child_that_dies_leaves_the_lint_to_one_process(
    tmp_path: Path, halves: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    original = split._check_half

    def dying(data: dict[str, Any], top: bool, *args: Any) -> Any:
        if not top:
            os._exit(9)  # as if killed
        return original(data, top, *args)

    monkeypatch.setattr(split, "_check_half", dying)
    path = written(tmp_path, synthetic_yaml(20).replace("- id: c12a\n", "- id: c2a\n"))
    problems = lint_file(path).problems
    assert halves == []  # nothing was joined: the lint ran in one process
    assert problems == lint_file(path, two_cores=False).problems
    assert "SP022" in {p.code for p in problems}


def test_a_system_that_will_not_fork_leaves_the_lint_to_one_process(
    tmp_path: Path, halves: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused() -> int:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    pipes: list[tuple[int, int]] = []
    real_pipe = os.pipe

    def recorded() -> tuple[int, int]:
        pipes.append(real_pipe())
        return pipes[-1]

    monkeypatch.setattr(os, "fork", refused)
    monkeypatch.setattr(os, "pipe", recorded)
    path = written(tmp_path, synthetic_yaml(20))
    assert lint_file(path).problems == lint_file(path, two_cores=False).problems
    assert halves == []
    assert len(pipes) == 1
    for end in pipes[0]:  # closed again
        with pytest.raises(OSError):
            os.fstat(end)
