"""Linting a large scenario on two cores.

Reading a scenario's YAML is quick (compiled); what follows is not: validating the models, the
load checks and the lint rules take three quarters of a lint of a generated 10,000-node file,
and they go node by node. So the nodes of a large file are split in two halves, checked at the
same time: here, and in a child process forked once the YAML is read, which shares the data
without copying it and sends back only what it found (a few hundred kilobytes at most).

Each half is validated with the fields outside `nodes`, and checked and linted on its own
(`checks.part_checks`, `rules.part_rules`); the questions about the whole file (an id used
twice, a node no one can reach, a variable never read, a code noticed but never revealed) are
answered here from the facts of both halves, joined in file order. So the problems are the same
as a lint in one process, problem for problem: tests/authoring/test_split.py compares the two on
every scenario and broken example the tests have.

Only where the system can fork, and from `SPLIT_FROM_NODES` nodes: below that, forking and
sending the findings back cost more than the second core saves.
"""

from __future__ import annotations

import os
import pickle
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from bot.authoring.rules import Facts, Warning_, part_rules, whole_file_rules
from bot.scenario import model as m
from bot.scenario.checks import Check, Ids, ids_of, part_checks, parts_of, whole_file_checks
from bot.scenario.loader import LoadedScenario, content_hash, validation_problems
from bot.scenario.problems import Problem
from bot.scenario.yamlsource import Located

#: from this many nodes, a file is checked in two processes
SPLIT_FROM_NODES = 2_000


@dataclass(slots=True)
class Halves:
    """What the two halves found, joined: validation errors (placed already), else the other
    load errors, else the warnings; `kept` holds this process's objects (see `lint_file`)."""

    scenario_id: str | None = None
    invalid: list[Problem] = field(default_factory=list)
    errors: list[Check] = field(default_factory=list)
    warnings: list[Warning_] = field(default_factory=list)
    kept: list[object] = field(default_factory=list)


@dataclass(slots=True)
class _Half:
    """What one half found; `scenario` only in this process (it does not travel back)."""

    invalid: list[Problem] = field(default_factory=list)
    errors: list[Check] = field(default_factory=list)
    ids: Ids = field(default_factory=lambda: Ids([], []))
    warnings: list[Warning_] = field(default_factory=list)
    facts: Facts | None = None
    scenario: m.Scenario | None = None


class HalfCheckError(RuntimeError):
    """The other half's check raised: a bug, reported with the child's traceback."""


def lint_in_halves(path: Path, source: str, located: Located) -> Halves | None:
    """The lint of a large scenario in two processes, or None where it is not worth it (a small
    file, no fork), the system would not fork, or the child ended without a word (killed): lint
    it in one process then."""
    data = located.data
    nodes = data.get("nodes") if isinstance(data, dict) else None
    if not hasattr(os, "fork") or not isinstance(nodes, dict) or len(nodes) < SPLIT_FROM_NODES:
        return None
    items = list(nodes.items())
    middle = len(items) // 2
    node_ids = [str(key) for key in nodes]
    first, second = {**data, "nodes": dict(items[:middle])}, {**data, "nodes": dict(items[middle:])}
    name = str(path)

    def check(half: dict[str, Any], top: bool) -> _Half:
        return _check_half(half, top, located, name, path.parent, node_ids)

    try:
        pid, pipe = _forked(lambda: check(second, top=False))
    except OSError:  # no process to spare (a limit on processes, or memory)
        return None
    answer = os.fdopen(pipe, "rb")
    try:
        head = check(first, top=True)
        tail = _read(answer)
        return None if tail is None else _joined(head, tail, path, source)
    finally:
        answer.close()  # a child still writing gets a broken pipe, not a wait for ever
        os.waitpid(pid, 0)  # after the joining, which the child's exit overlaps


def _check_half(
    data: dict[str, Any], top: bool, located: Located, name: str, folder: Path, node_ids: list[str]
) -> _Half:
    try:
        scenario = m.Scenario.model_validate(data)
    except ValidationError as exc:
        within = "" if top else "nodes"  # the other fields' errors are the first half's to tell
        return _Half(invalid=list(validation_problems(exc, located, name, m.Scenario, within)))
    parts = parts_of(scenario, top)
    half = _Half(ids=ids_of(parts), scenario=scenario if top else None)
    half.errors = list(part_checks(scenario, folder, parts, node_ids, top))
    if not half.errors:
        half.warnings, half.facts = part_rules(scenario, parts, folder)
    return half


def _joined(head: _Half, tail: _Half, path: Path, source: str) -> Halves:
    if head.invalid or tail.invalid:
        return Halves(invalid=head.invalid + tail.invalid)
    assert head.scenario is not None  # validated
    errors = head.errors + tail.errors
    errors += whole_file_checks(head.scenario, head.ids + tail.ids)
    if errors:
        return Halves(errors=errors, kept=[head.scenario])
    assert head.facts is not None and tail.facts is not None  # linted: no load errors
    loaded = LoadedScenario(head.scenario, source, content_hash(source), path, path.parent)
    warnings = head.warnings + tail.warnings
    warnings += whole_file_rules(loaded, head.facts + tail.facts)
    return Halves(loaded.id, warnings=warnings, kept=[loaded])


def _forked(work: Callable[[], _Half]) -> tuple[int, int]:
    """Run `work` in a child process; its pid, and the pipe its answer comes through."""
    reading, writing = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(reading)
        os.close(writing)
        raise
    if pid:
        os.close(writing)
        return pid, reading
    status = 1
    try:  # the child: answer, then end at once (no exit handlers, no flushing the parent's output)
        os.close(reading)
        try:
            said: tuple[str, Any] = ("done", work())
        except BaseException:  # anything the check raised is the parent's to report
            said = ("failed", traceback.format_exc())
        with os.fdopen(writing, "wb") as pipe:
            pickle.dump(said, pipe, protocol=pickle.HIGHEST_PROTOCOL)
        status = 0
    finally:
        os._exit(status)


def _read(answer: Any) -> _Half | None:
    try:
        kind, value = pickle.load(answer)
    except (EOFError, pickle.UnpicklingError):
        return None  # the child ended without answering
    if kind == "failed":
        raise HalfCheckError(f"checking the second half of the nodes failed:\n{value}")
    half: _Half = value
    return half
