"""The lint rules (SP1xx): what makes a scenario that loads play badly.

Parts no one can reach, loops with no way out, a moment where no button is left, variables and
codes that do nothing, clips the messengers will refuse, stale translations. Every rule is
documented in dialogues/README.md.

Most rules look at one node at a time; the others need the whole file. The first kind runs on a
part of the nodes (`part_rules`), which also gathers the facts the second kind needs
(`Facts`), and the second kind answers from the facts of every part (`whole_file_rules`):
`signpost lint` checks the two halves of a large file in two processes (`bot.authoring.split`).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from bot.authoring import strings
from bot.scenario import model as m
from bot.scenario.checks import ScenarioParts, parts_of
from bot.scenario.codes import DIMENSION_CODES, Dimension
from bot.scenario.expr import CompiledExpression, compile_expression, compile_update
from bot.scenario.loader import LoadedScenario
from bot.scenario.problems import Severity
from bot.scenario.yamlsource import Path_

#: Bot API upload limits (https://core.telegram.org/bots/api#sending-files): photos 10 MB,
#: other files 50 MB. Matrix homeservers default to 50 MB as well.
UPLOAD_LIMITS = {"photo": 10 * 1024 * 1024}
DEFAULT_UPLOAD_LIMIT = 50 * 1024 * 1024
#: conditions are checked against every combination of their variables' values up to this many
MAX_COMBINATIONS = 50_000

Warning_ = tuple[Path_, str, str, str, Severity]  # path, message, hint, code, severity
Lines = list[tuple[Path_, m.Line]]
Choices = list[tuple[Path_, str, m.Choice]]
Conditions = list[tuple[Path_, str]]  # where, and the condition's text


def rules(loaded: LoadedScenario, parts: ScenarioParts | None = None) -> Iterator[Warning_]:
    """Every warning about a scenario that loads: node by node, then about the whole file."""
    if parts is None:  # not found by the loader already
        parts = parts_of(loaded.scenario)
    found, facts = part_rules(loaded.scenario, parts, loaded.folder)
    yield from found
    yield from whole_file_rules(loaded, facts)


@dataclass(slots=True)
class Facts:
    """What the rules about the whole file need to know of a part of its nodes, gathered where
    the part is checked (a large file is checked in two processes: `bot.authoring.split`)."""

    edges: dict[str, set[str]]  # where each node can lead, in file order
    endings: list[str]
    read: set[str]  # variables some condition or update reads
    written: set[str]  # variables some update changes
    scored: set[str]  # the rubric dimensions some choice scores
    notices: bool  # whether some choice follows up an indicator
    revealed: set[str]  # the indicator codes some line reveals
    unrevealed: list[tuple[Path_, str]]  # notices of codes no line of the part reveals

    def __add__(self, later: Facts) -> Facts:
        return Facts(
            self.edges | later.edges,
            self.endings + later.endings,
            self.read | later.read,
            self.written | later.written,
            self.scored | later.scored,
            self.notices or later.notices,
            self.revealed | later.revealed,
            self.unrevealed + later.unrevealed,
        )


def part_rules(
    scenario: m.Scenario, parts: ScenarioParts, folder: Path
) -> tuple[list[Warning_], Facts]:
    """The warnings found within a part of the nodes (`scenario` holds that part, and `parts`
    its parts, as for `checks.part_checks`), and what the part tells of the whole file."""
    lines, choices, conditions = parts.lines, parts.choices, parts.conditions
    found = [
        *_conditions(scenario, conditions),
        *_stuck_nodes(scenario),
        *_repeatable(choices),
        *_clip_sizes(lines, folder),
    ]
    read, written = _reads_and_writes(scenario, conditions, choices)
    scored, revealed, unrevealed = _codes_used(lines, choices)
    facts = Facts(
        edges=edges(scenario),
        endings=[n for n, node in scenario.nodes.items() if node.ending is not None],
        read=read,
        written=written,
        scored=scored,
        notices=any(c.notices for _p, _n, c in choices),
        revealed=revealed,
        unrevealed=unrevealed,
    )
    return found, facts


def whole_file_rules(loaded: LoadedScenario, facts: Facts) -> Iterator[Warning_]:
    """The warnings that only every part's facts can tell (`loaded.scenario`: its top level)."""
    scenario = loaded.scenario
    yield from _reachability(scenario.start, facts.edges, facts.endings)
    yield from _never_read_or_changed(list(scenario.variables), facts)
    yield from _unused_codes(scenario.scoring.weights, facts)
    for path, message, hint, code in strings.stale_translations(loaded):
        yield path, message, hint, code, "warning"


# -- the graph ---------------------------------------------------------------------------------


def edges(scenario: m.Scenario) -> dict[str, set[str]]:
    """Where each node can lead, whatever the conditions."""
    graph: dict[str, set[str]] = {}
    for node_id, node in scenario.nodes.items():
        graph[node_id] = following = set()
        for target in (node.next, *(choice.goto for choice in node.choices)):
            if isinstance(target, str):
                following.add(target)
            elif target is not None:
                following.update(branch.to for branch in target)
    return graph


def _reach(graph: dict[str, set[str]], start: Iterable[str]) -> set[str]:
    seen = set(start)
    frontier = list(seen)
    while frontier:
        for following in graph.get(frontier.pop(), ()):
            if following not in seen:
                seen.add(following)
                frontier.append(following)
    return seen


def _reachability(start: str, graph: dict[str, set[str]], endings: list[str]) -> Iterator[Warning_]:
    reachable = _reach(graph, [start])
    for node_id in graph:
        if node_id not in reachable:
            hint = "lead to it from another node, or delete it"
            message = f"'{node_id}' cannot be reached from the start"
            yield ("nodes", node_id), message, hint, "SP101", "warning"
    backwards: dict[str, set[str]] = {node_id: set() for node_id in graph}
    for source, targets in graph.items():
        for target in targets:
            backwards.setdefault(target, set()).add(source)
    can_end = _reach(backwards, endings)
    for node_id in graph:
        if node_id in reachable and node_id not in can_end:
            message = f"no ending can be reached from '{node_id}': a trainee there is trapped"
            hint = "give the loop a way out to an ending"
            yield ("nodes", node_id), message, hint, "SP102", "error"


# -- variables and conditions -----------------------------------------------------------------


def _reads_and_writes(
    scenario: m.Scenario, conditions: Conditions, choices: Choices
) -> tuple[set[str], set[str]]:
    names = list(scenario.variables)
    read: set[str] = set()
    for source in {source for _path, source in conditions}:  # a few, written many times over
        read |= compile_expression(source, names).names
    written: set[str] = set()
    expressions: set[tuple[str, str]] = set()  # a few, written many times over
    for updates in _all_updates(scenario, choices):
        for target, value in updates.items():
            written.add(target)
            if isinstance(value, str):
                expressions.add((target, value))
    for target, value in expressions:
        read |= compile_update(value, target, names).names - {target}
    return read, written


def _never_read_or_changed(names: list[str], facts: Facts) -> Iterator[Warning_]:
    read, written = facts.read, facts.written
    for name in names:
        path = ("variables", name)
        if name not in read:
            hint = "use it in a 'when' condition, or remove it"
            yield path, f"the variable '{name}' is never read", hint, "SP103", "warning"
        if name not in written:
            hint = "change it with 'set:' somewhere, or make it a constant in the text"
            yield path, f"the variable '{name}' is never changed", hint, "SP104", "warning"


def _all_updates(scenario: m.Scenario, choices: Choices) -> Iterator[dict[str, int | bool | str]]:
    for node in scenario.nodes.values():
        yield node.set
    for _path, _node, choice in choices:
        yield choice.set


def _domains(scenario: m.Scenario) -> dict[str, list[int | bool] | None]:
    """Every value a variable can take, or None where it is unbounded."""
    domains: dict[str, list[int | bool] | None] = {}
    for name, variable in scenario.variables.items():
        if variable.type == "bool":
            domains[name] = [False, True]
        elif variable.min is not None and variable.max is not None:
            domains[name] = list(range(variable.min, variable.max + 1))
        else:
            domains[name] = None
    return domains


def _assignments(
    names: Iterable[str], domains: dict[str, list[int | bool] | None]
) -> list[dict[str, int | bool]] | None:
    """Every combination of values of `names`, or None if there are too many or some are
    unbounded."""
    chosen = sorted(names)
    values = [domains.get(n) for n in chosen]
    if any(v is None for v in values):
        return None
    count = 1
    for v in values:
        count *= len(v or ())
    if count > MAX_COMBINATIONS:
        return None
    return [dict(zip(chosen, combo, strict=True)) for combo in itertools.product(*values)]  # type: ignore[arg-type]


def _conditions(scenario: m.Scenario, conditions: Conditions) -> Iterator[Warning_]:
    names = list(scenario.variables)
    domains = _domains(scenario)
    outcomes: dict[str, set[bool] | None] = {}  # by source: a condition is written many times
    for path, source in conditions:
        if source not in outcomes:
            outcomes[source] = _outcomes(compile_expression(source, names), domains)
        results = outcomes[source]
        if results is None:
            continue
        if results == {False}:
            hint = "check the numbers against the variables' min and max"
            yield path, f"'{source}' can never hold", hint, "SP105", "warning"
        elif results == {True} and path[-2] != "variants":
            hint = "remove the condition, or check it against min and max"
            yield path, f"'{source}' always holds", hint, "SP106", "warning"


def _outcomes(
    compiled: CompiledExpression, domains: dict[str, list[int | bool] | None]
) -> set[bool] | None:
    """What a condition comes to over every combination of its variables' values (None when it
    reads none, or they are too many)."""
    cases = _assignments(compiled.names, domains)
    if cases is None or not compiled.names:
        return None
    return {bool(compiled.evaluate(case)) for case in cases}


def _stuck_nodes(scenario: m.Scenario) -> Iterator[Warning_]:
    """A node whose every way out is conditional: find values that close them all."""
    names = list(scenario.variables)
    domains = _domains(scenario)
    for node_id, node in scenario.nodes.items():
        if node.ending is not None or node.next is not None or not node.choices:
            continue
        exits = [c for c in node.choices if c.goto is not None]
        if not exits or any(c.when is None for c in exits):
            continue
        compiled = [compile_expression(c.when or "true", names) for c in exits]
        used = set().union(*(c.names for c in compiled))
        for case in _assignments(used, domains) or []:
            if not any(c.evaluate(case) for c in compiled):
                values = ", ".join(f"{k}={v}" for k, v in sorted(case.items()))
                message = f"with {values} no choice leads out of '{node_id}'"
                hint = "add a way out for that case (a choice with the opposite condition)"
                yield ("nodes", node_id, "choices"), message, hint, "SP107", "error"
                break


def _repeatable(choices: Choices) -> Iterator[Warning_]:
    for path, _node, choice in choices:
        if choice.goto is None and not choice.once:
            message = f"'{choice.id}' stays on this node and can be pressed again and again"
            hint = "add 'once: true', or a 'goto'"
            yield path, message, hint, "SP108", "warning"


# -- codes ------------------------------------------------------------------------------------


def _codes_used(
    lines: Lines, choices: Choices
) -> tuple[set[str], set[str], list[tuple[Path_, str]]]:
    """The rubric dimensions scored, the indicator codes revealed, and the notices of codes
    that none of these lines reveals."""
    scored = {d.code[0] for _p, _n, c in choices for d in c.score}
    revealed = {code for _p, line in lines for code in line.reveals}
    revealed |= {code for _p, line in lines for v in line.variants for code in v.reveals}
    unrevealed = [
        ((*path, "notices", i), code)
        for path, _node, choice in choices
        for i, code in enumerate(choice.notices)
        if code not in revealed
    ]
    return scored, revealed, unrevealed


def _unused_codes(weights: dict[Dimension, int], facts: Facts) -> Iterator[Warning_]:
    scored = facts.scored | {"Q"}  # typed questions are scored on Q whatever the choices say
    if facts.notices:
        scored |= {"I"}  # following up an indicator scores I+FOLLOWUP, missing it I-MISSED
    for dimension in DIMENSION_CODES:
        if weights.get(dimension, 0) > 0 and dimension not in scored:
            message = f"no choice scores the rubric dimension {dimension}"
            hint = "score it somewhere, or set its weight to 0 in scoring.weights"
            yield ("scoring",), message, hint, "SP110", "warning"
    for path, code in facts.unrevealed:
        if code not in facts.revealed:
            message = f"'{code}' is noticed here but no line reveals it"
            hint = "add it to the 'reveals' of the line that shows it"
            yield path, message, hint, "SP111", "warning"


# -- clips ------------------------------------------------------------------------------------


def _clip_sizes(lines: Lines, folder: Path) -> Iterator[Warning_]:
    for path, line in lines:
        clip = line.clip
        if clip is None:
            continue
        file = folder / clip.file
        if not file.is_file():
            continue  # the loader reports missing clips
        size = file.stat().st_size
        limit = UPLOAD_LIMITS.get(clip.kind, DEFAULT_UPLOAD_LIMIT)
        if size > limit:
            message = (
                f"'{clip.file}' is {size / 1e6:.1f} MB: messengers refuse a {clip.kind} "
                f"over {limit // (1024 * 1024)} MB"
            )
            yield (*path, "clip", "file"), message, "make it smaller", "SP112", "error"
