"""`signpost test`: find the scenario tests, run them, and measure what they cover."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bot.authoring.cases import TestFile
from bot.authoring.runner import Coverage, Outcome, interview_for, run_case, run_profile
from bot.scenario.loader import SCENARIO_FILE, LoadedScenario, load_document, load_scenario
from bot.scenario.problems import Problem, ScenarioError
from bot.scenario.yamlsource import read_yaml

TESTS_FOLDER = "tests"


@dataclass(frozen=True, slots=True)
class Gap:
    """Something of the scenario no test reached, with where it is written."""

    kind: str  # node, choice, intent, ending
    id: str
    line: int


@dataclass(slots=True)
class ScenarioReport:
    scenario_path: Path
    test_files: list[Path]
    loaded: LoadedScenario | None = None
    outcomes: list[Outcome] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    coverage: Coverage = field(default_factory=Coverage)
    totals: dict[str, int] = field(default_factory=dict)
    gaps: list[Gap] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems and all(o.passed for o in self.outcomes)

    def percent(self, kind: str) -> float:
        total = self.totals.get(kind, 0)
        missing = sum(1 for g in self.gaps if g.kind == kind)
        return 100.0 if total == 0 else 100.0 * (total - missing) / total

    @property
    def node_and_choice_percent(self) -> float:
        total = self.totals.get("node", 0) + self.totals.get("choice", 0)
        missing = sum(1 for g in self.gaps if g.kind in ("node", "choice"))
        return 100.0 if total == 0 else 100.0 * (total - missing) / total


def discover(paths: Iterable[Path]) -> list[ScenarioReport]:
    """Scenario folders and their test files, from folders of scenarios, scenario folders,
    scenario files or test files."""
    found: dict[Path, list[Path]] = {}
    for path in paths:
        if path.is_file() and path.name == SCENARIO_FILE:
            path = path.parent
        if path.is_file():
            scenario = path.parent.parent / SCENARIO_FILE
            found.setdefault(scenario, []).append(path)
        elif (path / SCENARIO_FILE).is_file():
            found.setdefault(path / SCENARIO_FILE, []).extend(_tests_of(path))
        else:
            for scenario in sorted(path.glob(f"*/{SCENARIO_FILE}")):
                found.setdefault(scenario, []).extend(_tests_of(scenario.parent))
    return [ScenarioReport(s, sorted(set(files))) for s, files in sorted(found.items())]


def _tests_of(folder: Path) -> list[Path]:
    tests = folder / TESTS_FOLDER
    return sorted([*tests.glob("*.yaml"), *tests.glob("*.yml")]) if tests.is_dir() else []


def run(report: ScenarioReport, progress: Callable[[str], None] | None = None) -> ScenarioReport:
    try:
        report.loaded = load_scenario(report.scenario_path)
    except ScenarioError as exc:
        report.problems += exc.problems
        return report
    interview = interview_for(report.loaded)
    for file in report.test_files:
        try:
            tests, located = load_document(
                file.read_text(encoding="utf-8"), str(file), TestFile, "a test file"
            )
        except ScenarioError as exc:
            report.problems += exc.problems
            continue
        except OSError as exc:
            report.problems.append(Problem(str(file), 1, 1, f"cannot read the file: {exc}"))
            continue
        if tests.scenario not in (None, report.loaded.id):
            message = f"these tests are for '{tests.scenario}', not '{report.loaded.id}'"
            report.problems.append(Problem(str(file), 1, 1, message, "move the file", "SP900"))
            continue
        for i, case in enumerate(tests.cases):
            if progress:
                progress(f"{report.loaded.id}: {case.name}")
            line = located.position_of(("cases", i)).line
            report.outcomes.append(run_case(interview, case, line, report.coverage))
            report.outcomes[-1].name = f"{file.name}: {case.name}"
        for i, profile in enumerate(tests.profiles):
            if progress:
                progress(f"{report.loaded.id}: {profile.name}")
            line = located.position_of(("profiles", i)).line
            outcome, _ = run_profile(interview, profile, line, report.coverage)
            outcome.name = f"{file.name}: {profile.name}"
            report.outcomes.append(outcome)
    _measure(report)
    return report


def _measure(report: ScenarioReport) -> None:
    assert report.loaded is not None
    scenario = report.loaded.scenario
    located = read_yaml(report.loaded.source)
    covered = report.coverage
    gaps: list[Gap] = []
    totals = {"node": 0, "choice": 0, "intent": 0, "ending": 0}
    for node_id, node in scenario.nodes.items():
        totals["node"] += 1
        line = located.position_of(("nodes", node_id)).line
        if node_id not in covered.nodes:
            gaps.append(Gap("node", node_id, line))
        if node.ending is not None:
            totals["ending"] += 1
            if node_id not in covered.endings:
                gaps.append(Gap("ending", node_id, line))
        for i, choice in enumerate(node.choices):
            where = located.position_of(("nodes", node_id, "choices", i)).line
            totals["choice"] += 1
            if choice.id not in covered.choices:
                gaps.append(Gap("choice", choice.id, where))
            if choice.examples:
                totals["intent"] += 1
                if choice.id not in covered.intents:
                    gaps.append(Gap("intent", choice.id, where))
    report.totals = totals
    report.gaps = gaps
