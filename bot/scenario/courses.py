"""Courses: trainers order and group scenarios, in `dialogues/courses.yaml`.

```yaml
courses:
  - id: border
    title: {en: "Border checks", pl: "Kontrole graniczne"}
    summary: {en: "...", pl: "..."}
    scenarios: [air-01, air-01-nv, chd-03, ctrl-05]
```

The catalogue lists scenarios course by course, in the order written; scenarios in no course
follow, by id. A course naming a scenario that does not exist is an error with its place.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from bot.scenario.model import LocalText
from bot.scenario.problems import Problem, ScenarioError

COURSES_FILE = "courses.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Course(_Strict):
    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=60)]
    title: LocalText
    summary: LocalText | None = None
    scenarios: list[str] = Field(min_length=1, description="Scenario ids, in teaching order.")


class Courses(_Strict):
    courses: list[Course] = Field(default_factory=list)


def load_courses(root: Path, known: set[str]) -> tuple[list[Course], list[ScenarioError]]:
    """The courses of a scenarios folder (none if it has no courses.yaml), and its errors."""
    from bot.scenario.loader import load_document  # the loader imports this module

    path = root / COURSES_FILE
    if not path.is_file():
        return [], []
    name = str(path)
    try:
        parsed, located = load_document(path.read_text(encoding="utf-8"), name, Courses, "courses")
    except ScenarioError as exc:
        return [], [exc]
    except (OSError, UnicodeDecodeError) as exc:
        return [], [ScenarioError(name, [Problem(name, 1, 1, f"cannot read the file: {exc}")])]
    problems: list[Problem] = []
    seen: set[str] = set()
    for i, course in enumerate(parsed.courses):
        if course.id in seen:
            where = located.position_of(("courses", i, "id"))
            message = f"the course id '{course.id}' is used twice"
            problems.append(Problem(name, where.line, where.column, message, "rename one", "SP131"))
        seen.add(course.id)
        for j, scenario_id in enumerate(course.scenarios):
            if scenario_id not in known:
                where = located.position_of(("courses", i, "scenarios", j))
                message = f"there is no scenario '{scenario_id}'"
                hint = f"known: {', '.join(sorted(known))}"
                problems.append(Problem(name, where.line, where.column, message, hint, "SP130"))
    if problems:
        return [], [ScenarioError(name, problems)]
    return list(parsed.courses), []
