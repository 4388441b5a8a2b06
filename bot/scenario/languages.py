"""Every text of a scenario in exactly its declared languages (SP010, SP011).

A text is a `LocalText` field of any model, at any depth. The walk finds them from the models'
fields, so a text field added to the format is checked without being listed here; it skips the
fields that cannot hold a text (ids, codes, numbers, conditions), because a large scenario has a
few hundred thousand models and all but a few of their texts are fine.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from types import UnionType
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel

from bot.scenario import model as m
from bot.scenario.yamlsource import Path_

Check = tuple[Path_, str, str, str]  # path, message, hint, code


@cache
def _localised_fields(model: type[BaseModel]) -> set[str]:
    # Annotations are strings here (postponed evaluation), which makes the alias easy to spot.
    return {n for n, a in model.__annotations__.items() if "LocalText" in str(a)}


# what a field holds, for the walk: a text, a model (or None), a list of models, a dict of
# models, or something else that may hold models (walked without knowing its shape)
_TEXT, _MODEL, _MODELS, _MODEL_MAP, _OTHER = range(5)


@cache
def _text_fields(model: type[BaseModel]) -> tuple[tuple[str, int, tuple[str, ...]], ...]:
    """The fields of `model` that are texts or may hold models with texts, in order, each with
    what it holds and, for a model holding nothing but single texts (a score's `why`), their
    names: the walk checks those in place. It skips the other fields (ids, codes, numbers...)."""
    localised = _localised_fields(model)
    return tuple(
        (name, kind, _single_texts(info.annotation) if kind in (_MODEL, _MODELS) else ())
        for name, info in model.model_fields.items()
        if name in localised or _may_hold_texts(info.annotation)
        for kind in [_TEXT if name in localised else _holds(info.annotation)]
    )


def _single_texts(annotation: Any) -> tuple[str, ...]:
    """The fields of the model in `annotation` if all are single texts (or nothing), else ()."""
    held = next((arg for arg in (annotation, *get_args(annotation)) if _is_model(arg)), None)
    if held is None:
        return ()
    fields = _text_fields(held)
    annotations = held.__annotations__
    if all(kind == _TEXT and "list[" not in str(annotations[n]) for n, kind, _ in fields):
        return tuple(name for name, _kind, _texts in fields)
    return ()


def _may_hold_texts(annotation: Any) -> bool:
    if _is_model(annotation):
        return bool(_text_fields(annotation))
    return any(_may_hold_texts(arg) for arg in get_args(annotation))


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _holds(annotation: Any) -> int:
    origin, args = get_origin(annotation), get_args(annotation)
    if _is_model(annotation):
        return _MODEL
    if origin in (Union, UnionType) and len(args) == 2 and type(None) in args:
        return _MODEL if any(_is_model(arg) for arg in args) else _OTHER
    if origin is list and _is_model(args[0]):
        return _MODELS
    if origin is dict and _is_model(args[1]):
        return _MODEL_MAP
    return _OTHER


def untranslated(scenario: m.Scenario, top: bool = True) -> list[Check]:
    """Every text in exactly the declared languages, in the order of the fields; only the
    nodes' if `top` is False (another part of a split check has the rest: see `part_checks`)."""
    found: list[Check] = []
    wanted = set(scenario.languages)
    if top:
        _walk_texts(scenario, (), wanted, found)
    else:
        for node_id, node in scenario.nodes.items():
            _walk_texts(node, ("nodes", node_id), wanted, found)
    return found


def _walk_texts(model: BaseModel, path: Path_, wanted: set[str], found: list[Check]) -> None:
    # A plain recursive function over the models (a large scenario has a few hundred thousand)
    # that knows from the annotations what each field holds, and checks the models made of
    # single texts without a call: it finds a problem in almost none of them.
    for name, holds, texts in _text_fields(type(model)):
        value = getattr(model, name)
        if value is None:
            continue
        if holds == _TEXT:
            if isinstance(value, dict):
                if value.keys() != wanted:
                    found += _coverage(value, wanted, (*path, name))
            elif isinstance(value, list):
                for i, text in enumerate(value):
                    if isinstance(text, dict) and text.keys() != wanted:
                        found += _coverage(text, wanted, (*path, name, i))
        elif holds == _MODELS:
            for i, entry in enumerate(value):
                if not texts:
                    _walk_texts(entry, (*path, name, i), wanted, found)
                    continue
                for text_name in texts:
                    text = getattr(entry, text_name)
                    if text is not None and text.keys() != wanted:
                        found += _coverage(text, wanted, (*path, name, i, text_name))
        elif holds == _MODEL:
            if not texts:
                _walk_texts(value, (*path, name), wanted, found)
                continue
            for text_name in texts:
                text = getattr(value, text_name)
                if text is not None and text.keys() != wanted:
                    found += _coverage(text, wanted, (*path, name, text_name))
        elif holds == _MODEL_MAP:
            for key, entry in value.items():
                _walk_texts(entry, (*path, name, key), wanted, found)
        else:
            _walk_containers(value, (*path, name), wanted, found)


def _walk_containers(value: object, path: Path_, wanted: set[str], found: list[Check]) -> None:
    """Models inside nested lists and dictionaries (the format has none today)."""
    if isinstance(value, BaseModel):
        _walk_texts(value, path, wanted, found)
    elif isinstance(value, dict):
        for key, entry in value.items():
            if isinstance(entry, BaseModel | dict | list):
                _walk_containers(entry, (*path, key), wanted, found)
    elif isinstance(value, list):
        for i, entry in enumerate(value):
            _walk_containers(entry, (*path, i), wanted, found)


def _coverage(text: dict[str, str], wanted: set[str], path: Path_) -> Iterator[Check]:
    for lang in sorted(wanted - text.keys()):
        yield path, f"the translation for '{lang}' is missing", f"add '{lang}: ...'", "SP010"
    for lang in sorted(text.keys() - wanted):
        hint = "declare it in 'languages' or remove it"
        yield path, f"'{lang}' is not one of the scenario's languages", hint, "SP011"
