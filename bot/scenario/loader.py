"""Load scenarios: YAML -> validated model, every problem located in the file.

A scenario lives in `dialogues/<id>/scenario.yaml`, its clips below the same folder. Loading a
folder never lets one broken scenario stop the others: the catalogue keeps what loaded and lists
what did not, with every error's file, line and column.
"""

from __future__ import annotations

import difflib
import gc
import hashlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, TypeVar, get_args

from pydantic import BaseModel, ValidationError

from bot.scenario import model as m
from bot.scenario.checks import ScenarioParts, check_scenario, parts_of
from bot.scenario.courses import Course, load_courses
from bot.scenario.problems import Problem, ScenarioError
from bot.scenario.yamlsource import Located, Path_, YamlError, read_yaml

SCENARIO_FILE = "scenario.yaml"
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class LoadedScenario:
    scenario: m.Scenario
    source: str
    content_hash: str
    path: Path
    folder: Path

    @property
    def id(self) -> str:
        return self.scenario.id


@dataclass(slots=True)
class Catalogue:
    """Every scenario that loaded, by id, and every file that did not."""

    scenarios: dict[str, LoadedScenario] = field(default_factory=dict)
    failures: list[ScenarioError] = field(default_factory=list)
    courses: list[Course] = field(default_factory=list)

    def get(self, scenario_id: str) -> LoadedScenario | None:
        return self.scenarios.get(scenario_id)

    def __iter__(self) -> Iterator[LoadedScenario]:
        """Course by course in the trainers' order, then the scenarios in no course, by id."""
        order = {s: i for i, s in enumerate(s for c in self.courses for s in c.scenarios)}
        ranked = sorted(self.scenarios.values(), key=lambda s: (order.get(s.id, len(order)), s.id))
        return iter(ranked)

    def course_of(self, scenario_id: str) -> Course | None:
        return next((c for c in self.courses if scenario_id in c.scenarios), None)

    def __len__(self) -> int:
        return len(self.scenarios)


def content_hash(source: str) -> str:
    """The version of a scenario: the SHA-256 of its YAML text."""
    return hashlib.sha256(source.encode("utf-8")).hexdigest()


def load_scenario(path: Path, *, display_name: str | None = None) -> LoadedScenario:
    """Load one scenario file, raising `ScenarioError` with every problem found."""
    name = display_name or str(path)
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(name, [Problem(name, 1, 1, f"cannot read the file: {exc}")]) from None
    return load_scenario_text(source, name, folder=path.parent, path=path)


def load_scenario_text(
    source: str, name: str, *, folder: Path | None = None, path: Path | None = None
) -> LoadedScenario:
    """Load a scenario from its text (a stored version, a test); clips resolve in `folder`."""
    with collector_paused():
        return _load(source, name, folder, path)[0]


def load_read(
    path: Path, source: str, located: Located
) -> tuple[LoadedScenario, Located, ScenarioParts]:
    """`load_scenario` of a file whose text and YAML were read already (`read_source`,
    `read_mapping`), with the parts of the scenario the checks went through (for the linter,
    whose rules go through them again)."""
    with collector_paused():
        return _load(source, str(path), path.parent, path, located)


def read_source(path: Path) -> str:
    """The text of a scenario file, or a `ScenarioError` saying why it cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        name = str(path)
        raise ScenarioError(name, [Problem(name, 1, 1, f"cannot read the file: {exc}")]) from None


@contextmanager
def collector_paused() -> Iterator[None]:
    """Building a large scenario allocates hundreds of thousands of acyclic objects; the cyclic
    collector would rescan the growing heap over and over (a 10,000-node file took 13 s instead
    of 9 s with it running). Whoever wraps more work than loading (the linter) should let the
    scenario go before the end of the block: one collection still runs soon after, over every
    object made meanwhile that is still alive."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _load(
    source: str, name: str, folder: Path | None, path: Path | None, located: Located | None = None
) -> tuple[LoadedScenario, Located, ScenarioParts]:
    scenario, located = _validated(source, name, m.Scenario, "a scenario", located)
    parts = parts_of(scenario)
    problems = [
        Problem(name, *_where(located, path_), message, hint, code)
        for path_, message, hint, code in check_scenario(scenario, folder, parts)
    ]
    if problems:
        raise ScenarioError(name, problems)
    loaded = LoadedScenario(
        scenario=scenario,
        source=source,
        content_hash=content_hash(source),
        path=path or Path(name),
        folder=folder or Path(),
    )
    return loaded, located, parts


def load_document(source: str, name: str, model: type[M], what: str) -> tuple[M, Located]:
    """Any other YAML file of the authoring tools (scenario tests): validated, with positions."""
    with collector_paused():
        return _validated(source, name, model, what)


def _validated(
    source: str, name: str, model: type[M], what: str, located: Located | None = None
) -> tuple[M, Located]:
    if located is None:
        located = read_mapping(source, name, what)
    try:
        return model.model_validate(located.data), located
    except ValidationError as exc:
        raise ScenarioError(name, list(validation_problems(exc, located, name, model))) from None


def read_mapping(source: str, name: str, what: str = "a scenario") -> Located:
    """The YAML of `source`, located; a `ScenarioError` unless it is a mapping."""
    try:
        located = read_yaml(source)
    except YamlError as exc:
        problem = Problem(name, exc.position.line, exc.position.column, exc.message, exc.hint)
        raise ScenarioError(name, [problem]) from None
    if not isinstance(located.data, dict):
        message = f"{what} must be a mapping of fields such as 'id:'"
        raise ScenarioError(name, [Problem(name, 1, 1, message)])
    return located


def scenario_files(root: Path) -> list[Path]:
    """`root/<id>/scenario.yaml` for every scenario folder, or `root` itself if it is a file."""
    if root.is_file():
        return [root]
    return sorted(p for p in root.glob(f"*/{SCENARIO_FILE}") if p.is_file())


def load_catalogue(roots: Iterable[Path]) -> Catalogue:
    roots = list(roots)
    catalogue = Catalogue()
    for root in roots:
        for file in scenario_files(root):
            try:
                loaded = load_scenario(file)
            except ScenarioError as exc:
                catalogue.failures.append(exc)
                continue
            if (other := catalogue.scenarios.get(loaded.id)) is not None:
                message = f"the id '{loaded.id}' is already used by {other.path}"
                catalogue.failures.append(
                    ScenarioError(str(file), [Problem(str(file), 1, 1, message, "rename one id")])
                )
                continue
            catalogue.scenarios[loaded.id] = loaded
    for root in roots:
        if root.is_dir():
            courses, failures = load_courses(root, set(catalogue.scenarios))
            catalogue.courses += courses
            catalogue.failures += failures
    return catalogue


def _where(located: Located, path: Path_) -> tuple[int, int]:
    position = located.position_of(path)
    return position.line, position.column


def _data_path(loc: tuple[int | str, ...], data: Any) -> tuple[Path_, str | int | None]:
    """Drop pydantic's union/validator tags from `loc`, keeping the part that exists in data."""
    path: list[str | int] = []
    current = data
    for part in loc:
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current):
            current = current[part]  # a separate branch so mypy knows `part` is an int here
        elif isinstance(part, str) and _is_validator_tag(part):
            continue
        else:
            return tuple(path), part
        path.append(part)
    return tuple(path), None


def _is_validator_tag(part: str) -> bool:
    """pydantic names union members and validators in `loc` (`list[Branch]`, `function-after`)."""
    return "[" in part or "-" in part or part in {"int", "str", "bool"}


@cache
def _field_names(model: type[BaseModel]) -> list[str]:
    """Every field name of `model` and of the models nested in it: spelling suggestions."""
    names: set[str] = set()
    pending: list[Any] = [model]
    seen: set[Any] = set()
    while pending:
        item = pending.pop()
        if item in seen:
            continue
        seen.add(item)
        if isinstance(item, type) and issubclass(item, BaseModel):
            names.update(item.model_fields)
            pending.extend(f.annotation for f in item.model_fields.values())
        else:
            pending.extend(get_args(item))
    return sorted(names)


def validation_problems(
    exc: ValidationError, located: Located, name: str, model: type[BaseModel], within: str = ""
) -> Iterator[Problem]:
    """The errors of `exc`, located and explained; only those below the field `within`, if
    given (the linter validates a large scenario's nodes in two parts)."""
    seen: set[Path_] = set()
    for error in exc.errors(include_url=False):
        if within and error["loc"][:1] != (within,):
            continue
        path, missing = _data_path(tuple(error["loc"]), located.data)
        if path in seen:
            continue  # one message per place: unions report once per alternative
        seen.add(path)
        message, hint = _explain(error, path, missing, model)
        yield Problem(name, *_where(located, path), message, hint, "SP001")


def _explain(
    error: Any, path: Path_, missing: str | int | None, model: type[BaseModel]
) -> tuple[str, str]:
    kind = error["type"]
    where = _dotted(path)
    if kind == "missing":
        return f"'{missing}' is required in {where}", f"add '{missing}:' here"
    if kind == "extra_forbidden":
        unknown = str(path[-1]) if path else "?"
        close = difflib.get_close_matches(unknown, _field_names(model), n=1)
        hint = f"did you mean '{close[0]}'?" if close else "remove it or check the spelling"
        return f"unknown field '{unknown}'", hint
    if kind == "string_pattern_mismatch" and path and path[-1] == "id":
        return f"{where}: invalid id", "use lower-case letters, digits, '_', '-' and '.'"
    if kind == "string_pattern_mismatch" and path and path[-1] == "code":
        return f"{where}: '{error['input']}' is not a code of this kind", _code_hint(path)
    return f"{where}: {error['msg']}", ""


def _code_hint(path: Path_) -> str:
    parent = str(path[-2]) if len(path) > 1 else ""
    return {
        "critical": "critical errors are written CE.NAME, e.g. CE.TIPOFF",
        "referral": "referrals are written REF.NAME, e.g. REF.KCIK",
    }.get(parent, "rubric codes are written like Q+OPEN or S-PRESENT")


def _dotted(path: Path_) -> str:
    if not path:
        return "the scenario"
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text
