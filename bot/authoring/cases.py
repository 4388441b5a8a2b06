"""The format of scenario tests: `dialogues/<id>/tests/*.yaml`.

A file holds `cases` (scripted playthroughs with expectations after any step) and `profiles`
(simulated trainees: a policy over the choices, played many times with seeds, each run expected
to land in a band of overall score and critical errors). Documented in dialogues/README.md.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from bot.scenario.model import Identifier, LanguageCode

#: a number, a bool, or a comparison such as ">= 3"
Expected = int | bool | str
_COMPARISON = re.compile(r"^\s*(==|!=|>=|<=|>|<)\s*(-?\d+(?:\.\d+)?)\s*$")
_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
}


def matches(expected: Expected | float, actual: float | bool | None) -> bool:
    """Whether `actual` satisfies `expected` (an exact value or a comparison string)."""
    if actual is None:
        return False
    if isinstance(expected, str):
        found = _COMPARISON.match(expected)
        if found is None:
            return False
        return _OPERATORS[found.group(1)](float(actual), float(found.group(2)))
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual  # a flag is true or false, never 1 or 0
    return float(expected) == float(actual)


def _check_comparison(value: Expected) -> Expected:
    if isinstance(value, str) and _COMPARISON.match(value) is None:
        raise ValueError(f"'{value}' is not a comparison: write e.g. '>= 3', '< 1' or '== 2'")
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Expect(_Strict):
    """What must hold after a step (every field is optional; only what is written is checked)."""

    node: Identifier | None = None
    choice: Identifier | None = Field(
        default=None, description="What typed text resolved to; null: it was not understood."
    )
    form: str | None = Field(default=None, description="The question form found in typed text.")
    said: list[Identifier] = Field(default_factory=list)
    vars: dict[Identifier, Expected] = Field(default_factory=dict)
    scores: dict[Literal["Q", "T", "S", "R", "L", "I", "F", "P"], Expected] = Field(
        default_factory=dict
    )
    critical: list[str] | None = None
    revealed: list[str] = Field(default_factory=list)
    noticed: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _comparisons(self) -> Expect:
        for value in (*self.vars.values(), *self.scores.values()):
            _check_comparison(value)
        return self


class End(Expect):
    """What must hold when the case's steps are done."""

    ending: Identifier | None = Field(default=None, description="Outcome id of the ending.")
    ended: bool | None = None
    passed: bool | None = None
    overall: Expected | None = None
    referrals: dict[str, Literal["right", "acceptable", "harmful"]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _overall(self) -> End:
        if self.overall is not None:
            _check_comparison(self.overall)
        return self


class Step(_Strict):
    choose: Identifier | None = None
    say: Annotated[str, StringConstraints(min_length=1, max_length=4000)] | None = None
    hint: bool = False
    expect: Expect | None = None

    @model_validator(mode="after")
    def _one_action(self) -> Step:
        actions = (self.choose is not None) + (self.say is not None) + self.hint
        if actions > 1:
            raise ValueError("a step does one thing: 'choose', 'say' or 'hint'")
        if actions == 0 and self.expect is None:
            raise ValueError("a step needs 'choose', 'say', 'hint' or 'expect'")
        return self


class Start(_Strict):
    node: Identifier | None = None
    set: dict[Identifier, int | bool] = Field(default_factory=dict)


class Case(_Strict):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    language: LanguageCode | None = None
    mode: Literal["coach", "exam"] = "coach"
    seed: int = 1
    start: Start | None = None
    check_examples: bool = Field(
        default=False,
        description="Before each `choose`, type every example of that choice in the case's "
        "language and check that each is understood as that choice.",
    )
    steps: list[Step] = Field(default_factory=list)
    end: End | None = None


class Typing(_Strict):
    rate: Annotated[float, Field(ge=0, le=1)]
    samples: Annotated[list[str], Field(min_length=1)]


class Band(_Strict):
    overall: tuple[float, float] | None = None
    critical: tuple[int, int] | None = None
    passed: Literal["always", "never"] | None = None


class Profile(_Strict):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    runs: Annotated[int, Field(ge=1, le=10_000)] = 20
    seed: int = 1
    language: LanguageCode | None = None
    mode: Literal["coach", "exam"] = "coach"
    take: list[Identifier] = Field(default_factory=list)
    never: list[Identifier] = Field(default_factory=list)
    otherwise: Literal["best", "worst", "random"] = "random"
    type: Typing | None = None
    expect: Band


class TestFile(_Strict):
    scenario: str | None = Field(
        default=None, description="The scenario id; by default the one of the folder above."
    )
    cases: list[Case] = Field(default_factory=list)
    profiles: list[Profile] = Field(default_factory=list)
