"""Whole-file rules a single field cannot check: references, translations, codes, expressions.

These are errors: a scenario that breaks one of them cannot be played correctly, so it does not
load. Style and graph-quality warnings (unreachable nodes, unused variables...) belong to the
linter, which runs on scenarios that do load.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from pydantic import BaseModel

from bot.scenario import model as m
from bot.scenario.codes import CRITICAL_CODES, INDICATOR_CODES, REFERRAL_CODES, RUBRIC_CODES
from bot.scenario.expr import ExpressionError, compile_expression, compile_update
from bot.scenario.yamlsource import Path_

Check = tuple[Path_, str, str, str]  # path, message, hint, code

NARRATOR = "narrator"
CLIP_SUFFIXES: dict[str, tuple[str, ...]] = {
    "photo": (".png", ".jpg", ".jpeg", ".webp"),
    "video": (".mp4",),
    "video_note": (".mp4",),
    "voice": (".ogg", ".oga", ".opus", ".mp3", ".m4a", ".wav"),
    "audio": (".ogg", ".oga", ".opus", ".mp3", ".m4a", ".wav"),
}


def check_scenario(scenario: m.Scenario, folder: Path | None) -> Iterator[Check]:
    yield from _translations(scenario, scenario, ())
    yield from _identities(scenario)
    yield from _references(scenario)
    yield from _variables(scenario)
    yield from _expressions(scenario)
    yield from _codes(scenario)
    yield from _shapes(scenario)
    if folder is not None:
        yield from _clips(scenario, folder)


def iter_lines(scenario: m.Scenario) -> Iterator[tuple[Path_, m.Line]]:
    for i, line in enumerate(scenario.fallback):
        yield ("fallback", i), line
    for node_id, node in scenario.nodes.items():
        for key in ("say", "fallback"):
            for i, line in enumerate(getattr(node, key)):
                yield ("nodes", node_id, key, i), line
        for c, choice in enumerate(node.choices):
            for i, line in enumerate(choice.reply):
                yield ("nodes", node_id, "choices", c, "reply", i), line


def iter_choices(scenario: m.Scenario) -> Iterator[tuple[Path_, str, m.Choice]]:
    for node_id, node in scenario.nodes.items():
        for c, choice in enumerate(node.choices):
            yield ("nodes", node_id, "choices", c), node_id, choice


@cache
def _localised_fields(model: type[BaseModel]) -> set[str]:
    # Annotations are strings here (postponed evaluation), which makes the alias easy to spot.
    return {n for n, a in model.__annotations__.items() if "LocalText" in str(a)}


def _translations(scenario: m.Scenario, obj: object, path: Path_) -> Iterator[Check]:
    wanted = set(scenario.languages)
    if isinstance(obj, BaseModel):
        localised = _localised_fields(type(obj))
        for name in type(obj).model_fields:
            value = getattr(obj, name)
            if name in localised:
                texts = value if isinstance(value, list) else [value]
                for i, text in enumerate(texts):
                    sub = (*path, name, i) if isinstance(value, list) else (*path, name)
                    if isinstance(text, dict):
                        yield from _coverage(text, wanted, sub)
            else:
                yield from _translations(scenario, value, (*path, name))
    elif isinstance(obj, dict):
        for key, value in obj.items():
            if isinstance(value, BaseModel | dict | list):
                yield from _translations(scenario, value, (*path, key))
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            yield from _translations(scenario, value, (*path, i))


def _coverage(text: dict[str, str], wanted: set[str], path: Path_) -> Iterator[Check]:
    for lang in sorted(wanted - text.keys()):
        yield path, f"the translation for '{lang}' is missing", f"add '{lang}: ...'", "SP010"
    for lang in sorted(text.keys() - wanted):
        hint = "declare it in 'languages' or remove it"
        yield path, f"'{lang}' is not one of the scenario's languages", hint, "SP011"


def _identities(scenario: m.Scenario) -> Iterator[Check]:
    speakers = {scenario.persona.id, NARRATOR, *(c.id for c in scenario.characters)}
    seen_lines: dict[str, Path_] = {}
    for path, line in iter_lines(scenario):
        if line.id in seen_lines:
            yield (
                path,
                f"the line id '{line.id}' is used twice",
                "give each line its own id",
                "SP020",
            )
        seen_lines.setdefault(line.id, path)
        if line.speaker not in speakers:
            known = ", ".join(sorted(speakers))
            hint = f"declare it under 'characters' or use one of: {known}"
            yield (*path, "speaker"), f"the speaker '{line.speaker}' is not declared", hint, "SP021"
    seen_choices: set[str] = set()
    for path, _node, choice in iter_choices(scenario):
        if choice.id in seen_choices:
            hint = "choice ids identify decisions in transcripts; make each unique"
            yield (*path, "id"), f"the choice id '{choice.id}' is used twice", hint, "SP022"
        seen_choices.add(choice.id)
    ids = [c.id for c in scenario.characters]
    if len(set(ids)) != len(ids) or scenario.persona.id in ids or NARRATOR in ids:
        hint = f"persona, characters and '{NARRATOR}' need distinct ids"
        yield ("characters",), "two speakers share an id", hint, "SP023"


def _targets(target: m.Target | None, path: Path_) -> Iterator[tuple[Path_, str]]:
    if isinstance(target, str):
        yield path, target
    elif target is not None:
        for i, branch in enumerate(target):
            yield (*path, i, "to"), branch.to


def _references(scenario: m.Scenario) -> Iterator[Check]:
    nodes = scenario.nodes
    refs: list[tuple[Path_, str]] = [(("start",), scenario.start)]
    for node_id, node in nodes.items():
        refs.extend(_targets(node.next, ("nodes", node_id, "next")))
    for path, _node, choice in iter_choices(scenario):
        refs.extend(_targets(choice.goto, (*path, "goto")))
    for path, target in refs:
        if target not in nodes:
            close = difflib.get_close_matches(target, list(nodes), n=1)
            hint = f"did you mean '{close[0]}'?" if close else "add the node or fix the name"
            yield path, f"there is no node '{target}'", hint, "SP030"
    choice_ids = {c.id for _p, _n, c in iter_choices(scenario)}
    for i, choice_id in enumerate(scenario.expert_path):
        if choice_id not in choice_ids:
            hint = "list the choice ids of the model interview"
            yield ("expert_path", i), f"there is no choice '{choice_id}'", hint, "SP031"


def _variables(scenario: m.Scenario) -> Iterator[Check]:
    for name, var in scenario.variables.items():
        path: Path_ = ("variables", name)
        if var.type == "bool":
            if not isinstance(var.initial, bool):
                yield (*path, "initial"), f"'{name}' is a bool: use true or false", "", "SP040"
            if var.min is not None or var.max is not None:
                yield path, f"'{name}' is a bool and cannot have min or max", "", "SP041"
            continue
        if isinstance(var.initial, bool):
            yield (*path, "initial"), f"'{name}' is an int: use a number", "", "SP040"
        elif (var.min is not None and var.initial < var.min) or (
            var.max is not None and var.initial > var.max
        ):
            hint = "keep the initial value within the bounds"
            yield (
                (*path, "initial"),
                f"{name} starts at {var.initial}, outside its bounds",
                hint,
                "SP042",
            )
        if var.min is not None and var.max is not None and var.min > var.max:
            yield path, f"'{name}' has min greater than max", "", "SP043"


def _expressions(scenario: m.Scenario) -> Iterator[Check]:
    names = list(scenario.variables)
    for path, expr in _conditions(scenario):
        try:
            compile_expression(expr, names)
        except ExpressionError as exc:
            hint = f"at character {exc.column} of '{expr}'"
            yield path, f"condition: {exc.message}", hint, "SP050"
    for path, updates in _updates(scenario):
        for var, value in updates.items():
            declared = scenario.variables.get(var)
            if declared is None:
                hint = "declare it under 'variables'"
                yield (*path, var), f"'{var}' is not a declared variable", hint, "SP051"
                continue
            if declared.type == "bool" and not isinstance(value, bool | str):
                yield (*path, var), f"'{var}' is a bool: set it to true or false", "", "SP052"
            if declared.type == "int" and isinstance(value, bool):
                yield (*path, var), f"'{var}' is an int: set a number or '+1'", "", "SP052"
            try:
                compile_update(value, var, names)
            except ExpressionError as exc:
                yield (*path, var), f"update: {exc.message}", f"at character {exc.column}", "SP050"


def _conditions(scenario: m.Scenario) -> Iterator[tuple[Path_, str]]:
    for path, line in iter_lines(scenario):
        if line.when:
            yield (*path, "when"), line.when
        for i, variant in enumerate(line.variants):
            if variant.when:
                yield (*path, "variants", i, "when"), variant.when
    for node_id, node in scenario.nodes.items():
        if isinstance(node.next, list):
            yield from _branch_conditions(node.next, ("nodes", node_id, "next"))
    for path, _node, choice in iter_choices(scenario):
        if choice.when:
            yield (*path, "when"), choice.when
        if isinstance(choice.goto, list):
            yield from _branch_conditions(choice.goto, (*path, "goto"))


def _branch_conditions(branches: list[m.Branch], path: Path_) -> Iterator[tuple[Path_, str]]:
    for i, branch in enumerate(branches):
        if branch.when:
            yield (*path, i, "when"), branch.when


def _updates(scenario: m.Scenario) -> Iterator[tuple[Path_, dict[str, int | bool | str]]]:
    for node_id, node in scenario.nodes.items():
        yield ("nodes", node_id, "set"), dict(node.set)
    for path, _node, choice in iter_choices(scenario):
        yield (*path, "set"), dict(choice.set)


def _codes(scenario: m.Scenario) -> Iterator[Check]:
    for path, line in iter_lines(scenario):
        reveals: list[tuple[Path_, str]] = [(("reveals", i), c) for i, c in enumerate(line.reveals)]
        for v, variant in enumerate(line.variants):
            reveals += [(("variants", v, "reveals", i), c) for i, c in enumerate(variant.reveals)]
        for sub, code in reveals:
            if code not in INDICATOR_CODES:
                yield (*path, *sub), f"unknown indicator code '{code}'", _see("B"), "SP060"
    for path, _node, choice in iter_choices(scenario):
        for i, delta in enumerate(choice.score):
            if delta.code not in RUBRIC_CODES:
                hint = _see("A.2")
                yield (
                    (*path, "score", i, "code"),
                    f"unknown rubric code '{delta.code}'",
                    hint,
                    "SP061",
                )
        if choice.critical and choice.critical.code not in CRITICAL_CODES:
            code = choice.critical.code
            yield (
                (*path, "critical", "code"),
                f"unknown critical error '{code}'",
                _see("A.3"),
                "SP062",
            )
        if choice.referral and choice.referral.code not in REFERRAL_CODES:
            code = choice.referral.code
            hint = "see REFERRALS in bot/scenario/codes.py"
            yield (*path, "referral", "code"), f"unknown referral '{code}'", hint, "SP063"
        for i, code in enumerate(choice.notices):
            if code not in INDICATOR_CODES:
                yield (*path, "notices", i), f"unknown indicator code '{code}'", _see("B"), "SP060"
        for lang in choice.examples:
            if lang not in scenario.languages:
                yield (*path, "examples", lang), f"'{lang}' is not declared", "", "SP011"
    if sum(scenario.scoring.weights.values()) <= 0:
        yield (
            ("scoring", "weights"),
            "the weights add up to zero",
            "give a dimension weight",
            "SP064",
        )


def _see(section: str) -> str:
    return f"use a code from section {section} of the domain reference"


def _shapes(scenario: m.Scenario) -> Iterator[Check]:
    for node_id, node in scenario.nodes.items():
        path: Path_ = ("nodes", node_id)
        if node.ending is not None and (node.choices or node.next is not None):
            hint = "remove 'choices' and 'next' from an ending"
            yield path, f"'{node_id}' is an ending but goes on", hint, "SP070"
        if node.ending is None and not node.choices and node.next is None:
            hint = "add choices, a 'next', or an 'ending'"
            yield path, f"'{node_id}' leads nowhere", hint, "SP071"
        targets = [((*path, "next"), node.next)]
        targets += [((*path, "choices", c, "goto"), ch.goto) for c, ch in enumerate(node.choices)]
        for target_path, target in targets:
            if isinstance(target, list):
                for i, branch in enumerate(target[:-1]):
                    if branch.when is None:
                        hint = "only the last branch may omit 'when'"
                        message = "the branches after this one can never be taken"
                        yield (*target_path, i), message, hint, "SP072"
        if isinstance(node.next, list) and node.next and node.next[-1].when is not None:
            hint = "end the list with a branch without 'when' so the story always goes on"
            yield (*path, "next"), "no branch is taken when no condition holds", hint, "SP073"


def _clips(scenario: m.Scenario, folder: Path) -> Iterator[Check]:
    for path, line in iter_lines(scenario):
        clip = line.clip
        if clip is None:
            continue
        file = (folder / clip.file).resolve()
        if folder.resolve() not in file.parents:
            yield (*path, "clip", "file"), "a clip must be inside the scenario folder", "", "SP080"
        elif not file.is_file():
            hint = f"looked for {file}"
            yield (*path, "clip", "file"), f"the clip '{clip.file}' does not exist", hint, "SP081"
        elif file.suffix.lower() not in CLIP_SUFFIXES[clip.kind]:
            allowed = ", ".join(CLIP_SUFFIXES[clip.kind])
            yield (*path, "clip", "file"), f"a {clip.kind} clip must be {allowed}", "", "SP082"
