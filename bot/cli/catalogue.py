"""`signpost scenarios`: the catalogue, course by course, and one scenario in full."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bot.scenario.loader import Catalogue, LoadedScenario, load_catalogue

if TYPE_CHECKING:
    from bot.config import Settings

out = Console()
err = Console(stderr=True)


def _text(texts: dict[str, str] | None, language: str) -> str:
    if not texts:
        return ""
    return texts.get(language) or next(iter(texts.values()))


def _row(table: Table, loaded: LoadedScenario, language: str) -> None:
    s = loaded.scenario
    table.add_row(
        s.id,
        _text(s.title, language),
        _text(s.role, language),
        f"{s.minutes} min",
        s.difficulty,
        ", ".join(s.languages),
        str(len(s.nodes)),
    )


def _table(catalogue: Catalogue, root: Path, language: str) -> Table:
    table = Table(title=f"Scenarios in {root}")
    for column in ("id", "title", "trainee's role", "length", "difficulty", "languages", "nodes"):
        table.add_column(column)
    listed: set[str] = set()
    for course in catalogue.courses:
        table.add_row(f"[bold]{escape(_text(course.title, language))}[/]", end_section=False)
        for scenario_id in course.scenarios:
            if (loaded := catalogue.get(scenario_id)) is not None and scenario_id not in listed:
                _row(table, loaded, language)
                listed.add(scenario_id)
        table.add_section()
    rest = [s for s in catalogue if s.id not in listed]
    if rest and catalogue.courses:
        table.add_row("[bold]Not in a course[/]")
    for loaded in rest:
        _row(table, loaded, language)
    return table


def _details(catalogue: Catalogue, loaded: LoadedScenario, language: str) -> None:
    s = loaded.scenario
    course = catalogue.course_of(s.id)
    out.print(f"[bold]{escape(_text(s.title, language))}[/]  ({s.id})")
    out.print(escape(_text(s.summary, language)))
    rows = [
        ("trainee's role", _text(s.role, language)),
        ("setting", _text(s.setting, language)),
        ("difficulty", s.difficulty),
        ("length", f"about {s.minutes} minutes, {len(s.nodes)} nodes"),
        ("languages", ", ".join(s.languages)),
        ("content warning", _text(s.content_warning, language)),
        ("course", _text(course.title, language) if course else "-"),
    ]
    table = Table(show_header=False, box=None)
    for name, value in rows:
        table.add_row(f"[dim]{name}[/]", escape(value))
    out.print(table)
    out.print("[dim]learning objectives[/]")
    for objective in s.objectives:
        out.print(f"  • {escape(_text(objective, language))}")


def register(app: typer.Typer, settings: Callable[[], Settings]) -> None:
    @app.command()
    def scenarios(
        scenario: Annotated[str | None, typer.Argument(help="Show this scenario in full.")] = None,
        folder: Annotated[Path | None, typer.Option(help="Scenarios folder.")] = None,
        language: Annotated[str, typer.Option(help="en or pl.")] = "en",
    ) -> None:
        """The catalogue course by course; with an id, one scenario in full."""
        root = folder or settings().dialogues
        catalogue = load_catalogue([root])
        if scenario is not None:
            loaded = catalogue.get(scenario)
            if loaded is None:
                known = ", ".join(sorted(catalogue.scenarios)) or "none"
                err.print(f"[red]no scenario '{escape(scenario)}'[/] (known: {known})")
                raise typer.Exit(2)
            _details(catalogue, loaded, language)
        else:
            out.print(_table(catalogue, root, language))
        for failure in catalogue.failures:
            err.print(f"[red]does not load:[/]\n{escape(str(failure))}")
        raise typer.Exit(1 if catalogue.failures else 0)
