"""Fuzzing the scenario loader and the expression language.

Every mutated file must either load or be rejected with located, readable problems: no other
exception, no hang, no blow-up. The mutations are seeded, so a failure names the seed that
reproduces it.
"""

from __future__ import annotations

import random
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.scenario.expr import ExpressionError, compile_expression
from bot.scenario.loader import load_scenario_text
from bot.scenario.problems import ScenarioError
from tests.conftest import DIALOGUES, MINI, REPORT

FILES = 10_000
#: the slowest a single hostile file may take to be loaded or rejected
BUDGET_S = 2.0

SNIPPETS = [
    "&anchor ",
    "*anchor",
    "<<: *base\n",
    "!!python/object/apply:os.system ['true']\n",
    "!custom ",
    "[" * 60 + "]" * 60,
    "{" * 60 + "}" * 60,
    "x" * 30_000,
    "\t",
    "\x00",
    "\ufeff",
    "\u202e",
    "%YAML 1.1\n---\n",
    "---\n",
    "? complex key\n: value\n",
    "key: value\nkey: again\n",
    "- [a, b\n",
    "'unclosed",
    '"\\x"',
    "yes",
    "0x1F",
    "1e400",
    "-.inf",
    "~",
    "__import__('os')",
    'when: "trust >= 3 or ().__class__"\n',
    'set: {trust: "+99999999999999999999"}\n',
]


def mutate(source: str, rng: random.Random) -> str:
    lines = source.split("\n")
    for _ in range(rng.randint(1, 4)):
        kind = rng.randrange(7)
        at = rng.randrange(len(lines))
        if kind == 0 and len(lines) > 1:  # drop a line
            del lines[at]
        elif kind == 1:  # duplicate a line
            lines.insert(at, lines[at])
        elif kind == 2:  # swap two lines
            other = rng.randrange(len(lines))
            lines[at], lines[other] = lines[other], lines[at]
        elif kind == 3:  # a hostile snippet inside a line
            line = lines[at]
            cut = rng.randrange(len(line) + 1)
            lines[at] = line[:cut] + rng.choice(SNIPPETS) + line[cut:]
        elif kind == 4:  # flip characters to YAML syntax
            line = list(lines[at])
            for _ in range(rng.randint(1, 3)):
                if line:
                    line[rng.randrange(len(line))] = rng.choice(":-[]{}&*!#|>'\"%@` \t")
            lines[at] = "".join(line)
        elif kind == 5:  # re-indent a line
            lines[at] = " " * rng.randrange(12) + lines[at].lstrip()
        else:  # truncate the file
            lines = lines[: at + 1]
            lines[-1] = lines[-1][: rng.randrange(len(lines[-1]) + 1)]
    return "\n".join(lines)


def test_ten_thousand_mutated_scenarios_load_or_fail_cleanly() -> None:
    sources = [MINI.read_text(encoding="utf-8")]
    sources.append((DIALOGUES / "air-01" / "scenario.yaml").read_text(encoding="utf-8"))
    loaded = rejected = 0
    slowest = 0.0
    for seed in range(FILES):
        rng = random.Random(seed)
        # mostly the small scenario (fast), every twentieth the large one
        text = mutate(sources[1 if seed % 20 == 0 else 0], rng)
        began = time.perf_counter()
        try:
            load_scenario_text(text, "fuzz.yaml")
            loaded += 1
        except ScenarioError as exc:
            rejected += 1
            assert exc.problems, f"seed {seed}: rejected without saying why"
            for problem in exc.problems:
                assert problem.line >= 1 and problem.column >= 1, f"seed {seed}: {problem}"
                assert problem.message and "Traceback" not in problem.message, f"seed {seed}"
                assert len(problem.message) < 2_000, f"seed {seed}: an unreadable message"
        except Exception as exc:  # anything else is a bug, reported with its seed
            pytest.fail(f"seed {seed}: {type(exc).__name__}: {exc}")
        slowest = max(slowest, time.perf_counter() - began)
    assert slowest < BUDGET_S
    REPORT.append(
        f"loader fuzz: {FILES:,} mutated files, {loaded:,} loaded, {rejected:,} rejected with "
        f"located errors, slowest {slowest * 1000:.0f} ms, 0 unhandled"
    )


NAMES = ["trust", "fear", "controller_near", "disclosure"]
TOKENS = [
    *NAMES,
    "and",
    "or",
    "not",
    "true",
    "false",
    "min",
    "max",
    "(",
    ")",
    ",",
    "+",
    "-",
    "*",
    "/",
    "**",
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "0",
    "1",
    "3",
    "99999999999999999999",
    "__import__",
    "lambda",
    "x",
    "[",
    "]",
    "{",
    "}",
    ":",
    ".",
    "__class__",
    "'s'",
    "if",
    "else",
    "for",
    "in",
    "os",
    "open",
    "\x00",
    " ",
]


@settings(max_examples=3_000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(TOKENS), max_size=25), st.text(max_size=30))
def test_expressions_compile_or_fail_cleanly_and_never_run_code(
    tokens: list[str], noise: str
) -> None:
    for source in (" ".join(tokens), "".join(tokens), noise):
        try:
            compiled = compile_expression(source, NAMES)
        except ExpressionError as exc:
            assert exc.message and exc.column >= 1
            continue
        assert compiled.names <= set(NAMES)
        env: dict[str, int | bool] = {
            "trust": 2,
            "fear": 5,
            "controller_near": True,
            "disclosure": 0,
        }
        result = compiled.evaluate(env)
        assert isinstance(result, int | bool)
