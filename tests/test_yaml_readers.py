"""The fast YAML reader agrees with libyaml's event reader on everything it accepts.

`bot/scenario/yamlfast.py` reads the usual layout of scenario files line by line and leaves any
other file to the event reader (`bot/scenario/yamlsource.py`). Whichever reads a file, every
problem must come out the same: same code, message, hint, severity, line and column. These tests
compare the two readers directly (data, positions) and through the loader and the linter, on
every shipped YAML file, on the broken-scenario and lint corpora, on thousands of mutated files
and on generated data written in every style PyYAML writes.

Every test runs twice: with the fast reader compiled (`_yamllines.c`) and in Python.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.authoring.lint import lint_file
from bot.scenario import yamlfast, yamlsource
from bot.scenario.loader import load_scenario, load_scenario_text
from bot.scenario.located import Located, _keys_and_items_in_python
from bot.scenario.problems import Problem, ScenarioError
from bot.scenario.synthetic import synthetic_yaml
from bot.scenario.yamlfast import read_common_yaml
from tests.conftest import DIALOGUES, MINI
from tests.reliability.test_fuzz import mutate
from tests.test_yamllines import assert_compiled_reader_built

DATA = Path(__file__).parent / "data"
SCENARIOS = sorted([*DIALOGUES.glob("*/scenario.yaml"), MINI, DIALOGUES / "courses.yaml"])
SUITES = sorted(DIALOGUES.glob("*/tests/*.yaml"))  # some wrap long flow lists: the event reader
CORPUS: list[dict[str, Any]] = [
    *yaml.safe_load((DATA / "broken_scenarios.yaml").read_text(encoding="utf-8")),
    *yaml.safe_load((DATA / "lint_cases.yaml").read_text(encoding="utf-8")),
]


@pytest.fixture(autouse=True, params=["compiled", "python"])
def fast_reader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "python":
        monkeypatch.setattr(yamlfast, "_compiled", None)
        monkeypatch.setattr("bot.scenario.located._keys_and_items", _keys_and_items_in_python)
    else:
        assert_compiled_reader_built()
    return str(request.param)


def by_events(text: str) -> Located | yamlsource.YamlError:
    try:
        return yamlsource.read_yaml(text, spans=True)  # spans: never the fast reader
    except yamlsource.YamlError as exc:
        return exc


def same_values(a: Any, b: Any) -> bool:
    """Equal, and of the same types all the way down (1, 1.0 and True are equal in Python)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same_values(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same_values(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b or (a != a and b != b))  # NaN is no number here, but stay exact


def assert_agree(text: str) -> bool:
    """The readers agree on `text`; False if the fast one left it to the event reader."""
    fast = read_common_yaml(text)
    if fast is None:
        return False
    slow = by_events(text)
    assert not isinstance(slow, yamlsource.YamlError), f"only the fast reader accepts it: {slow}"
    assert same_values(fast.data, slow.data)
    # ask for positions before they are built (the shortcut for the whole document) and after
    probes = [(), ("no such field",), ("nodes", "no such node", "choices"), *_sample(slow)]
    assert [fast.position_of(p) for p in probes] == [slow.position_of(p) for p in probes]
    assert list(fast.positions.items()) == list(slow.positions.items())
    return True


def _sample(located: Located) -> list[tuple[str | int, ...]]:
    paths = list(located.positions)
    chosen = random.Random(len(paths)).sample(paths, min(50, len(paths)))
    return [*chosen, *((*p, "missing", 0) for p in chosen[:5])]


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: str(p.relative_to(p.parents[2])))
def test_every_shipped_scenario_is_read_fast_and_the_same(path: Path) -> None:
    assert assert_agree(path.read_text(encoding="utf-8")), "the shipped layout is the fast one"


@pytest.mark.parametrize("path", SUITES, ids=lambda p: p.name)
def test_every_shipped_test_file_is_read_the_same(path: Path) -> None:
    assert_agree(path.read_text(encoding="utf-8"))


def test_a_generated_scenario_is_read_fast_and_the_same() -> None:
    assert assert_agree(synthetic_yaml(300))


def test_every_position_is_found_from_the_marks() -> None:
    text = synthetic_yaml(60)
    slow = by_events(text)
    fast = read_common_yaml(text)
    assert fast is not None and isinstance(slow, Located)
    paths = [*slow.positions, *((*p, "missing") for p in slow.positions), (5,), ("nodes", 3)]
    # asked in reverse, so that later collections are counted before the earlier ones
    assert [fast.position_of(p) for p in reversed(paths)] == [
        slow.position_of(p) for p in reversed(paths)
    ]


#: comments after values, each added to a line of the generated scenario: read fast (True), or
#: left to the event reader because a quote comes first on the line, or because what the comment
#: leaves is outside the common part (False)
COMMENTS = {
    ("      speaker: p\n", "      speaker: p # the persona\n"): True,
    ("      speaker: p\n", "      speaker: p   #  spaced  \n"): True,
    ("      once: true\n", "      once: true #\n"): True,
    ("      - IND.DECEPTION\n", "      - IND.DECEPTION # seen late\n"): True,
    ("      reveals: []\n", "      reveals: [] # none yet\n"): True,
    ("    say:\n", "    say: # the person speaks\n"): True,
    ("    - id: l5\n", "    - id: l5 # a line\n"): True,
    ("          en: open 5\n", "          en: open 5 # a comment with 'quotes'\n"): True,
    ("          en: open 5\n", "          en: open#5\n"): False,  # part of the text in YAML
    ("      trust: '+1'\n", "      trust: '+1' # quoted\n"): False,
    ("          en: open 5\n", "          en: 'open #5'\n"): True,  # no comment: quoted text
    ("          en: open 5\n", '          en: "open # 5"\n'): True,
    ("      reveals: []\n", "      reveals: [a, b # c\n"): False,  # a flow left open
    ("      speaker: p\n", "      speaker: p: q # c\n"): False,
}


@pytest.mark.parametrize("change", COMMENTS, ids=lambda change: change[1].strip())
def test_comments_after_values_are_read_the_same(change: tuple[str, str]) -> None:
    source = synthetic_yaml(12)
    assert change[0] in source
    text = source.replace(*change)
    assert assert_agree(text) is COMMENTS[change]


#: the text "open 5" written with whitespace around it, which every reader trims as it reads it
#: (YAML itself trims a plain text): read fast (True) or by the event reader (False)
TRIMMED = {
    "          en: '  open 5 '\n": True,
    '          en: " open 5\\t"\n': True,
    '        text: {en: " open 5  ", pl: otwarte 5}\n': True,
    "          en: |\n            open 5\n": False,  # a block keeps its last line break
    "          en: >-\n            open 5\n\n": False,
    "          ' en ': open 5\n": False,  # a quoted key
}


@pytest.mark.parametrize("written", TRIMMED, ids=str.strip)
def test_quoted_and_block_texts_are_trimmed_as_they_are_read(written: str) -> None:
    old = "          en: open 5\n"
    if written.startswith("        text:"):
        old = "        text:\n          en: open 5\n          pl: otwarte 5\n"
    source = synthetic_yaml(12)
    assert old in source
    text = source.replace(old, written)
    assert assert_agree(text) is TRIMMED[written]
    loaded = load_scenario_text(text, "trimmed.yaml")
    assert loaded.scenario.nodes["n5"].say[0].variants[0].text["en"] == "open 5"


@pytest.mark.parametrize("case", CORPUS, ids=[c["name"] for c in CORPUS])
def test_the_broken_corpus_is_read_the_same(case: dict[str, Any]) -> None:
    source = MINI.read_text(encoding="utf-8")
    assert_agree(source.replace(*case["replace"], 1))  # either reader may take it


def test_thousands_of_mutated_files_are_read_the_same() -> None:
    small = [synthetic_yaml(12), MINI.read_text(encoding="utf-8")]
    large = [p.read_text(encoding="utf-8") for p in sorted(DIALOGUES.glob("*/scenario.yaml"))]
    fast = 0
    for seed in range(3_000):
        rng = random.Random(seed)
        # mostly the small files (fast), every tenth a shipped scenario
        source = large[seed // 10 % len(large)] if seed % 10 == 0 else small[seed % 2]
        text = mutate(source, rng)
        try:
            fast += assert_agree(text)
        except AssertionError as exc:
            raise AssertionError(f"seed {seed}: {exc}") from None
    assert fast > 300, "the mutations no longer exercise the fast reader"


# -- generated data, written by PyYAML in each of its styles ------------------------------------

_WORDS = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=0, max_size=12
) | st.sampled_from(
    ["yes", "no", "~", "null", "True", "1e3", "-1", "+2", "0x1F", "1_000", ".5", "a: b", "#x"]
)
_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _WORDS
_KEYS = st.from_regex(r"[a-z][a-z0-9_.-]{0,8}", fullmatch=True)
_DATA = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_KEYS, inner, max_size=4),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(_KEYS, _DATA, min_size=1, max_size=5),
    st.sampled_from([False, None]),  # a flow root (True) is always the event reader's
    st.sampled_from([2, 4]),
)
def test_whatever_pyyaml_writes_is_read_the_same(data: Any, flow: bool | None, indent: int) -> None:
    text = yaml.safe_dump(
        data, default_flow_style=flow, indent=indent, allow_unicode=True, width=10_000
    )
    assert_agree(text)


# -- problems, whichever reader finds them ------------------------------------------------------


def problems_of(path: Path) -> list[Problem]:
    return lint_file(path).problems


def both_ways(path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[list[Problem], list[Problem]]:
    fast = problems_of(path)
    with monkeypatch.context() as patched:
        patched.setattr(yamlsource.yamlfast, "read_common_yaml", lambda text: None)
        slow = problems_of(path)
    return fast, slow


@pytest.mark.parametrize("case", CORPUS, ids=[c["name"] for c in CORPUS])
def test_lint_reports_the_same_problems_either_way(
    case: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = MINI.read_text(encoding="utf-8").replace(*case["replace"], 1)
    path = tmp_path / "mini" / "scenario.yaml"
    path.parent.mkdir()
    path.write_text(source, encoding="utf-8")
    fast, slow = both_ways(path, monkeypatch)
    assert fast == slow  # code, message, hint, severity, file, line and column
    assert fast, "every case of the corpora is a problem"


@pytest.mark.parametrize(
    "path", sorted(DIALOGUES.glob("*/scenario.yaml")), ids=lambda p: p.parent.name
)
def test_shipped_scenarios_load_the_same_either_way(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast, slow = both_ways(path, monkeypatch)
    assert fast == slow == []
    loaded = load_scenario(path).scenario
    with monkeypatch.context() as patched:
        patched.setattr(yamlsource.yamlfast, "read_common_yaml", lambda text: None)
        assert load_scenario(path).scenario == loaded


def test_a_problem_deep_in_a_large_file_is_placed_exactly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = synthetic_yaml(300)
    stays = "      once: true\n    - id: c250c"  # c250b stays on its node and can be pressed again
    assert stays in source
    source = source.replace(stays, stays.replace("true", "false"), 1)
    unknown = "      goto: n281\n"  # and c280a leads nowhere
    source = source.replace(unknown, "      goto: n28l\n", 1)
    assert read_common_yaml(source) is not None, "this layout must take the fast path"
    path = tmp_path / "big" / "scenario.yaml"
    path.parent.mkdir()
    path.write_text(source, encoding="utf-8")
    lines = source.split("\n")
    goto_line = lines.index("      goto: n28l") + 1
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    (problem,) = caught.value.problems
    assert (problem.code, problem.line, problem.column) == ("SP030", goto_line, 7)
    assert problem.message == "there is no node 'n28l'" and problem.hint == "did you mean 'n28'?"
    fast, slow = both_ways(path, monkeypatch)
    assert fast == slow == caught.value.problems
    source = source.replace("      goto: n28l\n", unknown, 1)  # loads now: the lint warning
    path.write_text(source, encoding="utf-8")
    choice_line = lines.index("    - id: c250b") + 1
    fast, slow = both_ways(path, monkeypatch)
    assert fast == slow
    stuck = [p for p in fast if p.code == "SP108"]
    assert [(p.line, p.column) for p in stuck] == [(choice_line, 7)]
    assert stuck[0].message == "'c250b' stays on this node and can be pressed again and again"


def test_a_number_too_long_for_python_is_a_located_problem(tmp_path: Path) -> None:
    """Python refuses to read an integer of over 4,300 digits (ValueError): it used to crash
    the loader. Both readers now keep it as text, which validation refuses where it stands."""
    text = MINI.read_text(encoding="utf-8").replace("\nminutes: 5\n", f"\nminutes: {'9' * 5000}\n")
    assert "minutes: 999" in text
    slow = by_events(text)
    assert not isinstance(slow, yamlsource.YamlError)
    assert slow.data["minutes"] == "9" * 5000
    fast = read_common_yaml(text)
    assert fast is None or fast.data["minutes"] == "9" * 5000
    path = tmp_path / "long" / "scenario.yaml"
    path.parent.mkdir()
    path.write_text(text, encoding="utf-8")
    problems = lint_file(path).problems
    line = text.split("\n").index(f"minutes: {'9' * 5000}") + 1
    assert any(p.line == line and p.severity == "error" for p in problems), problems
