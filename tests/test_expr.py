"""The expression language: what it computes, and everything it refuses."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.scenario.expr import ExpressionError, compile_expression, compile_update

NAMES = ["trust", "fear", "near"]
ENV = {"trust": 3, "fear": 1, "near": False}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("trust >= 3", True),
        ("trust >= 3 and not near", True),
        ("trust > 3 or near", False),
        ("1 <= trust < 4", True),
        ("trust - fear == 2", True),
        ("max(trust, fear, 5)", 5),
        ("min(trust + 1, 2)", 2),
        ("-fear", -1),
        ("true", True),
        ("False", False),
        ("trust != 3", False),
    ],
)
def test_evaluates(source: str, expected: object) -> None:
    assert compile_expression(source, NAMES).evaluate(ENV) == expected


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("__import__('os')", "only min(...) and max(...) may be called"),
        ("open('x')", "only min(...) and max(...) may be called"),
        ("trust.__class__", "not allowed"),
        ("trust[0]", "not allowed"),
        ("trust * 1000", "only + and -"),
        ("2 ** 100000", "only + and -"),
        ("'text'", "use whole numbers, true or false"),
        ("1.5 > trust", "use whole numbers"),
        ("lambda: 1", "not allowed"),
        ("[x for x in ()]", "not allowed"),
        ("courage > 1", "unknown variable 'courage'"),
        ("trust in (1, 2)", "only ==, !=, <, <=, >, >= compare values"),
        ("max(trust)", "needs at least two values"),
        ("trust >=", "not a valid expression"),
        ("", "empty"),
        ("x" * 600, "longer than"),
        ("10000000 > trust", "numbers are limited"),
        ("trust if near else fear", "not allowed"),
    ],
)
def test_refuses(source: str, message: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_expression(source, NAMES)
    assert message in caught.value.message


def test_deep_nesting_is_bounded() -> None:
    source = " + ".join(["trust"] * 60)
    with pytest.raises(ExpressionError, match="nested too deeply"):
        compile_expression(source, NAMES)


def test_error_column_points_into_the_expression() -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_expression("trust > 1 and courage", NAMES)
    assert caught.value.column == 15


@pytest.mark.parametrize(
    ("value", "expected"), [("+1", 4), ("-2", 1), (0, 0), (True, True), ("fear + 2", 3)]
)
def test_updates(value: object, expected: object) -> None:
    assert compile_update(value, "trust", NAMES).evaluate(ENV) == expected  # type: ignore[arg-type]


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=120))
def test_arbitrary_text_is_compiled_or_refused_cleanly(source: str) -> None:
    try:
        compiled = compile_expression(source, NAMES)
    except ExpressionError as exc:
        assert exc.message and exc.column >= 1
        return
    value = compiled.evaluate(ENV)
    assert isinstance(value, bool | int)
