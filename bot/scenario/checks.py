"""Whole-file rules a single field cannot check: references, translations, codes, expressions.

These are errors: a scenario that breaks one of them cannot be played correctly, so it does not
load. Style and graph-quality warnings (unreachable nodes, unused variables...) belong to the
linter, which runs on scenarios that do load.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bot.scenario import model as m
from bot.scenario.codes import CRITICAL_CODES, INDICATOR_CODES, REFERRAL_CODES, RUBRIC_CODES
from bot.scenario.expr import ExpressionError, compile_expression, compile_update
from bot.scenario.languages import untranslated
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


@dataclass(frozen=True, slots=True)
class ScenarioParts:
    """Every line, choice and condition of a scenario, with its path, found once: the checks and
    the lint rules go through them many times (a large scenario has tens of thousands)."""

    lines: list[tuple[Path_, m.Line]]
    choices: list[tuple[Path_, str, m.Choice]]
    conditions: list[tuple[Path_, str]]


def parts_of(scenario: m.Scenario, top: bool = True) -> ScenarioParts:
    """In file order: the scenario's fallback lines (unless `top` is False: see `part_checks`),
    then for each node its lines (`say`, then `fallback`, then each choice's `reply`); each
    node's choices; and the conditions of the lines, then of the nodes' `next`, then of the
    choices. One walk, without generators."""
    fallback = scenario.fallback if top else []
    lines: Lines = [(("fallback", i), line) for i, line in enumerate(fallback)]
    choices: Choices = []
    next_conditions: list[tuple[Path_, str]] = []
    choice_conditions: list[tuple[Path_, str]] = []
    for node_id, node in scenario.nodes.items():
        lines += [(("nodes", node_id, "say", i), line) for i, line in enumerate(node.say)]
        lines += [(("nodes", node_id, "fallback", i), line) for i, line in enumerate(node.fallback)]
        if isinstance(node.next, list):
            next_conditions += _branch_conditions(node.next, ("nodes", node_id, "next"))
        for c, choice in enumerate(node.choices):
            path: Path_ = ("nodes", node_id, "choices", c)
            choices.append((path, node_id, choice))
            if choice.reply:
                lines += [((*path, "reply", i), line) for i, line in enumerate(choice.reply)]
            if choice.when:
                choice_conditions.append(((*path, "when"), choice.when))
            if isinstance(choice.goto, list):
                choice_conditions += _branch_conditions(choice.goto, (*path, "goto"))
    line_conditions: list[tuple[Path_, str]] = []
    for path, line in lines:
        if line.when:
            line_conditions.append(((*path, "when"), line.when))
        for i, variant in enumerate(line.variants):
            if variant.when:
                line_conditions.append(((*path, "variants", i, "when"), variant.when))
    return ScenarioParts(lines, choices, line_conditions + next_conditions + choice_conditions)


def check_scenario(
    scenario: m.Scenario, folder: Path | None, parts: ScenarioParts | None = None
) -> Iterator[Check]:
    """Every load error of `scenario`: those found node by node, then those of the whole file."""
    if parts is None:
        parts = parts_of(scenario)
    yield from part_checks(scenario, folder, parts, list(scenario.nodes), top=True)
    yield from whole_file_checks(scenario, ids_of(parts))


def part_checks(
    scenario: m.Scenario, folder: Path | None, parts: ScenarioParts, node_ids: list[str], top: bool
) -> Iterator[Check]:
    """The load errors found within a part of the nodes: `scenario` holds all of them, or (for
    the linter, which checks a large file in two processes) a part of them, the fields outside
    `nodes` too, and `parts` its parts; `node_ids` is every node of the file, and `top` says
    whether this part answers for the fields outside `nodes` (one part does)."""
    lines, choices = parts.lines, parts.choices
    yield from untranslated(scenario, top)
    yield from _speakers(scenario, lines, top)
    yield from _references(scenario, choices, node_ids, top)
    if top:
        yield from _variables(scenario)
    yield from _expressions(scenario, parts.conditions, choices)
    yield from _codes(scenario, lines, choices, top)
    yield from _shapes(scenario)
    if folder is not None:
        yield from _clips(lines, folder)


@dataclass(frozen=True, slots=True)
class Ids:
    """The line and choice ids of a part, each with its place, in file order: whether an id is
    used twice, or named in the expert path, is a question for the whole file."""

    lines: list[tuple[Path_, str]]
    choices: list[tuple[Path_, str]]

    def __add__(self, later: Ids) -> Ids:
        return Ids(self.lines + later.lines, self.choices + later.choices)


def ids_of(parts: ScenarioParts) -> Ids:
    return Ids(
        [(path, line.id) for path, line in parts.lines],
        [(path, choice.id) for path, _node, choice in parts.choices],
    )


def whole_file_checks(scenario: m.Scenario, ids: Ids) -> Iterator[Check]:
    """The load errors that only the ids of every part can tell (`scenario`: its top level)."""
    seen_lines: set[str] = set()
    for path, line_id in ids.lines:
        if line_id in seen_lines:
            message = f"the line id '{line_id}' is used twice"
            yield path, message, "give each line its own id", "SP020"
        seen_lines.add(line_id)
    seen_choices: set[str] = set()
    for path, choice_id in ids.choices:
        if choice_id in seen_choices:
            hint = "choice ids identify decisions in transcripts; make each unique"
            yield (*path, "id"), f"the choice id '{choice_id}' is used twice", hint, "SP022"
        seen_choices.add(choice_id)
    for i, choice_id in enumerate(scenario.expert_path):
        if choice_id not in seen_choices:
            hint = "list the choice ids of the model interview"
            yield ("expert_path", i), f"there is no choice '{choice_id}'", hint, "SP031"


Problem3 = tuple[str, str, str]  # message, hint, code
Lines = list[tuple[Path_, m.Line]]
Choices = list[tuple[Path_, str, m.Choice]]


def _speakers(scenario: m.Scenario, lines: Lines, top: bool) -> Iterator[Check]:
    speakers = {scenario.persona.id, NARRATOR, *(c.id for c in scenario.characters)}
    for path, line in lines:
        if line.speaker not in speakers:
            known = ", ".join(sorted(speakers))
            hint = f"declare it under 'characters' or use one of: {known}"
            yield (*path, "speaker"), f"the speaker '{line.speaker}' is not declared", hint, "SP021"
    ids = [c.id for c in scenario.characters]
    if top and (len(set(ids)) != len(ids) or scenario.persona.id in ids or NARRATOR in ids):
        hint = f"persona, characters and '{NARRATOR}' need distinct ids"
        yield ("characters",), "two speakers share an id", hint, "SP023"


def _missing_targets(target: m.Target | None, nodes: set[str]) -> list[tuple[Path_, str]]:
    """The targets of a `next` or `goto` that are not nodes, each with its place below it."""
    if isinstance(target, str):
        return [] if target in nodes else [((), target)]
    if target is None:
        return []
    return [((i, "to"), branch.to) for i, branch in enumerate(target) if branch.to not in nodes]


def _references(
    scenario: m.Scenario, choices: Choices, node_ids: list[str], top: bool
) -> Iterator[Check]:
    nodes = set(node_ids)
    # paths are made only for the targets that are missing: a large file has tens of thousands
    missing: list[tuple[Path_, str]] = []
    if top and scenario.start not in nodes:
        missing.append((("start",), scenario.start))
    for node_id, node in scenario.nodes.items():
        for sub, target in _missing_targets(node.next, nodes):
            missing.append((("nodes", node_id, "next", *sub), target))
    for path, _node, choice in choices:
        for sub, target in _missing_targets(choice.goto, nodes):
            missing.append(((*path, "goto", *sub), target))
    for path, target in missing:
        close = difflib.get_close_matches(target, node_ids, n=1)
        hint = f"did you mean '{close[0]}'?" if close else "add the node or fix the name"
        yield path, f"there is no node '{target}'", hint, "SP030"


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


def _expressions(
    scenario: m.Scenario, conditions: list[tuple[Path_, str]], choices: Choices
) -> Iterator[Check]:
    names = frozenset(scenario.variables)
    # scenarios repeat a few conditions and updates (`trust >= 3`, `trust: '+1'`) many times
    # over: each is checked once
    conditions_checked: dict[str, ExpressionError | None] = {}
    updates_checked: dict[tuple[str, type, int | bool | str], Problem3 | None] = {}
    for path, expr in conditions:
        if expr not in conditions_checked:
            conditions_checked[expr] = _condition_error(expr, names)
        error = conditions_checked[expr]
        if error is not None:
            hint = f"at character {error.column} of '{expr}'"
            yield path, f"condition: {error.message}", hint, "SP050"
    for path, updates in _updates(scenario, choices):
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
            memo_key = (var, type(value), value)
            if memo_key not in updates_checked:
                updates_checked[memo_key] = _update_problem(var, value, names)
            problem = updates_checked[memo_key]
            if problem is not None:
                yield (*path, var), *problem


def _condition_error(expr: str, names: frozenset[str]) -> ExpressionError | None:
    try:
        compile_expression(expr, names)
    except ExpressionError as exc:
        return exc
    return None


def _update_problem(var: str, value: int | bool | str, names: frozenset[str]) -> Problem3 | None:
    try:
        compile_update(value, var, names)
    except ExpressionError as exc:
        return f"update: {exc.message}", f"at character {exc.column}", "SP050"
    return None


def _branch_conditions(branches: list[m.Branch], path: Path_) -> list[tuple[Path_, str]]:
    return [((*path, i, "when"), b.when) for i, b in enumerate(branches) if b.when]


def _updates(
    scenario: m.Scenario, choices: Choices
) -> Iterator[tuple[Path_, dict[str, int | bool | str]]]:
    for node_id, node in scenario.nodes.items():
        if node.set:
            yield ("nodes", node_id, "set"), node.set
    for path, _node, choice in choices:
        if choice.set:
            yield (*path, "set"), choice.set


def _codes(scenario: m.Scenario, lines: Lines, choices: Choices, top: bool) -> Iterator[Check]:
    # each list is looked through only if it holds an unknown code: almost none does
    known = INDICATOR_CODES
    for path, line in lines:
        if not known.issuperset(line.reveals):
            for i, code in enumerate(line.reveals):
                if code not in known:
                    message = f"unknown indicator code '{code}'"
                    yield (*path, "reveals", i), message, _see("B"), "SP060"
        for v, variant in enumerate(line.variants):
            if not known.issuperset(variant.reveals):
                for i, code in enumerate(variant.reveals):
                    if code not in known:
                        message = f"unknown indicator code '{code}'"
                        yield (*path, "variants", v, "reveals", i), message, _see("B"), "SP060"
    languages = set(scenario.languages)
    for path, _node, choice in choices:
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
        if not known.issuperset(choice.notices):
            for i, code in enumerate(choice.notices):
                if code not in known:
                    message = f"unknown indicator code '{code}'"
                    yield (*path, "notices", i), message, _see("B"), "SP060"
        if not languages.issuperset(choice.examples):
            for lang in choice.examples:
                if lang not in languages:
                    yield (*path, "examples", lang), f"'{lang}' is not declared", "", "SP011"
    if top and sum(scenario.scoring.weights.values()) <= 0:
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
        if isinstance(node.next, list):
            yield from _unreachable_branches(node.next, (*path, "next"))
        for c, choice in enumerate(node.choices):
            if isinstance(choice.goto, list):
                yield from _unreachable_branches(choice.goto, (*path, "choices", c, "goto"))
        if isinstance(node.next, list) and node.next and node.next[-1].when is not None:
            hint = "end the list with a branch without 'when' so the story always goes on"
            yield (*path, "next"), "no branch is taken when no condition holds", hint, "SP073"


def _unreachable_branches(branches: list[m.Branch], path: Path_) -> Iterator[Check]:
    for i, branch in enumerate(branches[:-1]):
        if branch.when is None:
            hint = "only the last branch may omit 'when'"
            message = "the branches after this one can never be taken"
            yield (*path, i), message, hint, "SP072"


def _clips(lines: Lines, folder: Path) -> Iterator[Check]:
    for path, line in lines:
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
