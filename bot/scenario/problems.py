"""Located problems in scenario files, as trainers read them and tools parse them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Problem:
    file: str
    line: int
    column: int
    message: str
    hint: str = ""
    code: str = "SP000"
    severity: Severity = "error"

    def __str__(self) -> str:
        text = f"{self.file}:{self.line}:{self.column}: {self.severity} {self.code}: {self.message}"
        return f"{text}\n    hint: {self.hint}" if self.hint else text


class ScenarioError(Exception):
    """A scenario that cannot be loaded, with every problem found in it."""

    def __init__(self, file: str, problems: list[Problem]) -> None:
        self.file = file
        self.problems = problems
        count = len(problems)
        super().__init__(f"{file}: {count} problem{'s' if count != 1 else ''}")

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems) or super().__str__()
