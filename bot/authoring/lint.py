"""`signpost lint`: load errors plus graph and quality warnings, each with a stable code.

Load errors (SP0xx) come from the loader; a scenario with one cannot be played. The rules
(SP1xx, `bot.authoring.rules`) run on scenarios that load and catch what makes a scenario play
badly. Every code is documented in dialogues/README.md.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bot.authoring import split
from bot.authoring.rules import Warning_, rules
from bot.scenario.checks import ScenarioParts
from bot.scenario.courses import COURSES_FILE, load_courses
from bot.scenario.loader import (
    SCENARIO_FILE,
    LoadedScenario,
    collector_paused,
    load_read,
    read_mapping,
    read_source,
)
from bot.scenario.problems import Problem, ScenarioError, Severity
from bot.scenario.yamlsource import Located, Path_, read_yaml


@dataclass(slots=True)
class LintResult:
    file: Path
    scenario_id: str | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(p.severity == "error" for p in self.problems)

    @property
    def warnings(self) -> int:
        return sum(p.severity == "warning" for p in self.problems)


def scenario_paths(paths: Iterable[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_file():
            found.append(path)
        elif (path / SCENARIO_FILE).is_file():
            found.append(path / SCENARIO_FILE)
        else:
            found.extend(sorted(path.glob(f"*/{SCENARIO_FILE}")))
    return found


def lint_courses(folder: Path, results: list[LintResult]) -> LintResult | None:
    """`courses.yaml` of a scenarios folder against the scenarios that loaded."""
    if not (folder / COURSES_FILE).is_file():
        return None
    known = {r.scenario_id for r in results if r.scenario_id is not None}
    known |= _ids_of_unloaded(folder, results)
    result = LintResult(folder / COURSES_FILE)
    _courses, failures = load_courses(folder, known)
    result.problems = [p for failure in failures for p in failure.problems]
    return result


def _ids_of_unloaded(folder: Path, results: list[LintResult]) -> set[str]:
    """A scenario that does not load is still there: its course entry is not the error."""
    return {r.file.parent.name for r in results if r.scenario_id is None}


def lint_file(
    path: Path, keep: list[object] | None = None, *, two_cores: bool = True
) -> LintResult:
    """The problems of one scenario file, in the order of the file. A large file is checked in
    two processes unless `two_cores` is False (`bot.authoring.split`). `keep` is for a program
    that ends after linting: the scenario is left in it instead of being freed (it holds the
    last file's only), and out of the collector's sight."""
    # The collector stays paused over the rules too (they make a few hundred thousand objects on
    # a large scenario), and `_lint_file` returns with the scenario already let go, or kept and
    # frozen, so that no collection has it to scan when the collector is back (0.5 s on 10,000
    # nodes).
    with collector_paused():
        result, kept = _lint_file(path, two_cores)
        if keep is not None:
            keep[:] = kept
            gc.freeze()
        del kept
    return result


def _lint_file(path: Path, two_cores: bool) -> tuple[LintResult, list[object]]:
    result = LintResult(path)
    try:
        source = read_source(path)
        located = read_mapping(source, str(path))
        if two_cores and (halves := split.lint_in_halves(path, source, located)) is not None:
            return _from_halves(result, halves, located), [located, *halves.kept]
        loaded, located, parts = load_read(path, source, located)
    except ScenarioError as exc:
        result.problems = in_file_order(exc.problems)
        return result, []
    result.scenario_id = loaded.id
    result.problems = lint_loaded(loaded, located, parts)
    return result, [loaded, located, parts]


def _from_halves(result: LintResult, halves: split.Halves, located: Located) -> LintResult:
    if halves.invalid:
        result.problems = in_file_order(halves.invalid)
    elif halves.errors:
        errors: list[Warning_] = [(p, m, h, code, "error") for p, m, h, code in halves.errors]
        result.problems = placed(result.file, located, errors)
    else:
        result.scenario_id = halves.scenario_id
        result.problems = placed(result.file, located, halves.warnings)
    return result


def lint_loaded(
    loaded: LoadedScenario, located: Located | None = None, parts: ScenarioParts | None = None
) -> list[Problem]:
    return placed(loaded.path, located or read_yaml(loaded.source), rules(loaded, parts))


def placed(path: Path, located: Located, found: Iterable[Warning_]) -> list[Problem]:
    """Problems with their lines and columns, in the order of the file."""
    name = str(path)
    return in_file_order(
        _problem(name, located, where, message, hint, code, severity)
        for where, message, hint, code, severity in found
    )


def in_file_order(problems: Iterable[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.line, p.column, p.code, p.message))


def _problem(
    name: str, located: Located, path: Path_, message: str, hint: str, code: str, sev: Severity
) -> Problem:
    where = located.position_of(path)
    return Problem(name, where.line, where.column, message, hint, code, sev)
