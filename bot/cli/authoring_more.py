"""Trainers' commands: `signpost graph` and `signpost new`."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from bot.authoring.graph import Overlay, to_dot, to_mermaid
from bot.authoring.scaffold import ScaffoldError, create
from bot.cli.authoring import _scenario
from bot.scenario.loader import LoadedScenario

out = Console()
err = Console(stderr=True)


def graph(
    scenario: Annotated[str, typer.Argument(help="Scenario id or path.")],
    output_format: Annotated[
        str, typer.Option("--format", help="dot, mermaid or svg (needs Graphviz's dot).")
    ] = "dot",
    output: Annotated[Path | None, typer.Option("-o", "--output", help="File to write.")] = None,
    session: Annotated[
        str | None, typer.Option(help="Draw this session's path (id from the database).")
    ] = None,
    coverage: Annotated[
        bool, typer.Option(help="Shade nodes by how often the scenario's tests enter them.")
    ] = False,
) -> None:
    """Draw a scenario as a graph, optionally with a session's path or test coverage over it."""
    if output_format not in ("dot", "mermaid", "svg"):
        err.print("[red]--format must be dot, mermaid or svg[/]")
        raise typer.Exit(2)
    loaded = _scenario(scenario)
    overlay = Overlay()
    if session is not None:
        import asyncio

        overlay = asyncio.run(_session_overlay(session, loaded))
    elif coverage:
        overlay = _coverage_overlay(loaded)
    if output_format == "mermaid":
        _write(to_mermaid(loaded.scenario, overlay), output)
        return
    dot = to_dot(loaded.scenario, overlay)
    if output_format == "dot":
        _write(dot, output)
        return
    program = shutil.which("dot")
    if program is None:
        err.print(
            "[red]SVG needs Graphviz[/]: install it (apt-get install graphviz), or use --format dot"
        )
        raise typer.Exit(2)
    done = subprocess.run(
        [program, "-Tsvg"], input=dot, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        err.print(f"[red]dot failed:[/] {done.stderr.strip()}")
        raise typer.Exit(1)
    _write(done.stdout, output)


def _write(text: str, output: Path | None) -> None:
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        err.print(f"wrote {output}")


async def _session_overlay(session_id: str, loaded: LoadedScenario) -> Overlay:
    from bot.cli.main import settings
    from storage import SqlStore

    store = await SqlStore.open(settings().database_url.get_secret_value())
    try:
        record = await store.get_session(session_id)
    finally:
        await store.close()
    if record is None:
        err.print(f"[red]no session '{session_id}'[/]")
        raise typer.Exit(1)
    if record.scenario_id != loaded.id:
        err.print(f"[red]session {session_id} is of '{record.scenario_id}', not '{loaded.id}'[/]")
        raise typer.Exit(1)
    if record.scenario_hash != loaded.content_hash:
        err.print("[yellow]the scenario changed since this session began; the path may differ[/]")
    state = record.state
    return Overlay(state.path, state.visited, title=f"{loaded.id}: session {session_id}")


def _coverage_overlay(loaded: LoadedScenario) -> Overlay:
    from bot.authoring.runner import Coverage
    from bot.authoring.suite import discover, run

    reports = discover([loaded.folder])
    hits: dict[str, int] = {}
    total = Coverage()
    for report in reports:
        run(report)
        total.merge(report.coverage)
    for node in total.nodes:
        hits[node] = hits.get(node, 0) + 1
    return Overlay(
        hits={n: (1 if n in total.nodes else 0) for n in loaded.scenario.nodes},
        title=f"{loaded.id}: nodes reached by its tests",
    )


def new(
    scenario_id: Annotated[str, typer.Argument(help="The new scenario's id, e.g. lab-07.")],
    folder: Annotated[Path, typer.Option(help="Where scenarios live.")] = Path("dialogues"),
) -> None:
    """Create a scenario folder with a minimal valid tree and a test."""
    try:
        files = create(folder, scenario_id)
    except (ScaffoldError, OSError) as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    for file in files:
        out.print(f"created {file}")
    out.print(f"next: signpost lint {folder / scenario_id} && signpost test {folder / scenario_id}")


def register(app: typer.Typer) -> None:
    app.command()(graph)
    app.command()(new)
