"""The checks' fast walks find exactly what plain, generic walks find.

`bot/scenario/languages.py` finds the texts of a scenario from its models' annotations and checks
the small models made only of texts in place, to go through a large scenario quickly. These tests
compare it with the straightforward walk it replaced (every field of every model, recursively) on
scenarios whose every text is wrong, so that a text it skipped would show.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel

from bot.scenario import model as m
from bot.scenario.languages import untranslated
from bot.scenario.synthetic import synthetic_yaml
from bot.scenario.yamlsource import read_yaml
from tests.conftest import DIALOGUES, MINI

Check = tuple[tuple[str | int, ...], str, str, str]
SOURCES = [*sorted(DIALOGUES.glob("*/scenario.yaml")), MINI]


def every_text(obj: object, path: tuple[str | int, ...], wanted: set[str]) -> Iterator[Check]:
    """The reference: every field of every model, every entry of every list and dict."""
    if isinstance(obj, BaseModel):
        localised = {n for n, a in type(obj).__annotations__.items() if "LocalText" in str(a)}
        for name in type(obj).model_fields:
            value = getattr(obj, name)
            if name not in localised:
                yield from every_text(value, (*path, name), wanted)
                continue
            texts = value if isinstance(value, list) else [value]
            for i, text in enumerate(texts):
                if isinstance(text, dict):
                    where = (*path, name, i) if isinstance(value, list) else (*path, name)
                    for lang in sorted(wanted - text.keys()):
                        message = f"the translation for '{lang}' is missing"
                        yield where, message, f"add '{lang}: ...'", "SP010"
                    for lang in sorted(text.keys() - wanted):
                        hint = "declare it in 'languages' or remove it"
                        message = f"'{lang}' is not one of the scenario's languages"
                        yield where, message, hint, "SP011"
    elif isinstance(obj, dict):
        for key, value in obj.items():
            yield from every_text(value, (*path, key), wanted)
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            yield from every_text(value, (*path, i), wanted)


def scenarios() -> Iterator[Any]:
    for source in [*(p.read_text(encoding="utf-8") for p in SOURCES), synthetic_yaml(20)]:
        yield read_yaml(source).data


@pytest.mark.parametrize("languages", [["en", "pl", "de"], ["en"], ["de"], ["pl", "en"]])
def test_every_text_is_checked(languages: list[str]) -> None:
    checked = 0
    for data in scenarios():
        scenario = m.Scenario.model_validate({**data, "languages": languages})
        expected = list(every_text(scenario, (), set(languages)))
        assert untranslated(scenario) == expected
        checked += len(expected)
    assert checked > 1_000 or languages == ["pl", "en"]


def test_the_reference_walk_sees_texts_at_every_depth() -> None:
    data = read_yaml(MINI.read_text(encoding="utf-8")).data
    scenario = m.Scenario.model_validate({**data, "languages": ["en", "pl", "de"]})
    depths = {len(path) for path, *_ in every_text(scenario, (), {"en", "pl", "de"})}
    assert max(depths) >= 7  # e.g. nodes.<id>.say.<i>.variants.<j>.text
