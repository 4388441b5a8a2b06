"""Trainers' commands: lint, test, explore, strings (graph and new live in authoring_more)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bot.authoring import strings as string_tables
from bot.authoring.lint import LintResult, lint_courses, lint_file, scenario_paths
from bot.cli.ending import finish
from bot.scenario.codes import DIMENSION_CODES
from bot.scenario.loader import LoadedScenario, load_catalogue, load_scenario
from bot.scenario.problems import ScenarioError

if TYPE_CHECKING:
    from bot.authoring.explore import Exploration
    from bot.authoring.suite import ScenarioReport

out = Console()
err = Console(stderr=True)

Paths = Annotated[
    list[Path] | None,
    typer.Argument(help="Scenario folders, scenario files, test files, or folders of scenarios."),
]
Format = Annotated[str, typer.Option("--format", help="text or json.")]


def _paths(paths: list[Path] | None) -> list[Path]:
    chosen = paths or [Path("dialogues")]
    missing = [p for p in chosen if not p.exists()]
    if missing:
        err.print(f"[red]no such file or folder:[/] {', '.join(map(str, missing))}")
        raise typer.Exit(2)
    return chosen


def test(
    paths: Paths = None,
    fail_under: Annotated[
        float | None,
        typer.Option(help="Fail if node and choice coverage of any scenario is below PERCENT."),
    ] = None,
    output: Format = "text",
    show_gaps: Annotated[
        bool, typer.Option("--gaps/--no-gaps", help="List what no test reached.")
    ] = True,
) -> None:
    """Run the scenario tests (dialogues/<id>/tests/*.yaml) and report their coverage."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from bot.authoring.suite import discover, run

    reports = discover(_paths(paths))
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} scenarios"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=output == "json" or not err.is_terminal,
    ) as progress:
        task = progress.add_task("testing", total=len(reports))
        for report in reports:
            run(report, lambda text: progress.update(task, description=escape(text)))
            progress.advance(task)
    failed = [r for r in reports if not r.passed]
    low = [
        r
        for r in reports
        if fail_under is not None and r.loaded and r.node_and_choice_percent < fail_under
    ]
    if output == "json":
        out.print_json(json.dumps([_as_json(r) for r in reports]))
    else:
        for report in reports:
            _print_report(report, show_gaps)
        _print_summary(reports, fail_under)
    raise typer.Exit(1 if failed or low or not reports else 0)


def _print_report(report: ScenarioReport, show_gaps: bool) -> None:
    name = report.loaded.id if report.loaded else str(report.scenario_path)
    out.print(f"\n[bold]{escape(name)}[/]  ({len(report.test_files)} test files)")
    for problem in report.problems:
        out.print(f"  [red]✗[/] {escape(str(problem))}")
    if report.loaded and not report.test_files:
        out.print("  [yellow]no tests[/]: add tests/<name>.yaml (see dialogues/README.md)")
    for outcome in report.outcomes:
        mark = "[green]✓[/]" if outcome.passed else "[red]✗[/]"
        detail = f"  [dim]{escape(outcome.detail)}[/]" if outcome.detail else ""
        out.print(f"  {mark} {escape(outcome.name)}{detail}")
        for failure in outcome.failures[:10]:
            out.print(f"      [red]{escape(failure)}[/]")
        if len(outcome.failures) > 10:
            out.print(f"      ... and {len(outcome.failures) - 10} more")
    if not report.loaded:
        return
    coverage = ", ".join(
        f"{kind}s {report.percent(kind):.0f}% ({report.totals[kind]})"
        for kind in ("node", "choice", "intent", "ending")
    )
    out.print(f"  coverage: {coverage}")
    if show_gaps:
        path = report.scenario_path
        for gap in report.gaps:
            out.print(f"    [yellow]not reached[/] {gap.kind} '{gap.id}' at {path}:{gap.line}")


def _print_summary(reports: list[ScenarioReport], fail_under: float | None) -> None:
    table = Table(title="Scenario tests")
    for column in ("scenario", "cases", "failed", "nodes+choices", "intents", "endings"):
        table.add_column(column)
    for r in reports:
        if r.loaded is None:
            table.add_row(str(r.scenario_path), "-", "does not load", "-", "-", "-")
            continue
        failed = sum(not o.passed for o in r.outcomes) + len(r.problems)
        cover = f"{r.node_and_choice_percent:.1f}%"
        if fail_under is not None and r.node_and_choice_percent < fail_under:
            cover = f"[red]{cover} < {fail_under:g}%[/]"
        table.add_row(
            r.loaded.id,
            str(len(r.outcomes)),
            f"[red]{failed}[/]" if failed else "0",
            cover,
            f"{r.percent('intent'):.0f}%",
            f"{r.percent('ending'):.0f}%",
        )
    out.print(table)
    if not reports:
        err.print("[red]no scenarios found[/]")


def _as_json(report: ScenarioReport) -> dict[str, Any]:
    return {
        "scenario": report.loaded.id if report.loaded else None,
        "file": str(report.scenario_path),
        "tests": [str(f) for f in report.test_files],
        "passed": report.passed,
        "problems": [
            {
                "file": p.file,
                "line": p.line,
                "column": p.column,
                "code": p.code,
                "message": p.message,
            }
            for p in report.problems
        ],
        "outcomes": [
            {
                "name": o.name,
                "kind": o.kind,
                "line": o.line,
                "passed": o.passed,
                "failures": o.failures,
                "detail": o.detail,
            }
            for o in report.outcomes
        ],
        "coverage": {
            kind: {"total": total, "percent": round(report.percent(kind), 1)}
            for kind, total in report.totals.items()
        },
        "gaps": [{"kind": g.kind, "id": g.id, "line": g.line} for g in report.gaps],
    }


# -- lint -------------------------------------------------------------------------------------


def lint(
    paths: Paths = None,
    output: Format = "text",
    strict: Annotated[bool, typer.Option(help="Fail on warnings too.")] = False,
) -> None:
    """Check scenarios: load errors and graph warnings, each with a code, place and fix."""
    chosen = _paths(paths)
    kept: list[object] = []  # the last scenario, alive until the program ends (`finish`)
    results = [lint_file(f, keep=kept) for f in scenario_paths(chosen)]
    for folder in (p for p in chosen if p.is_dir()):
        if (courses := lint_courses(folder, results)) is not None:
            results.append(courses)
    errors = sum(r.errors for r in results)
    warnings = sum(r.warnings for r in results)
    if output == "json":
        out.print_json(json.dumps([_lint_json(r) for r in results]))
    else:
        for result in results:
            for problem in result.problems:
                colour = "red" if problem.severity == "error" else "yellow"
                out.print(f"[{colour}]{escape(str(problem))}[/]", highlight=False)
        verdict = "[red]failed[/]" if errors or (strict and warnings) else "[green]ok[/]"
        out.print(f"{verdict}: {len(results)} files, {errors} errors, {warnings} warnings")
    failed = errors > 0 or (strict and warnings > 0) or not results
    finish(1 if failed else 0)


def _lint_json(result: LintResult) -> dict[str, Any]:
    return {
        "file": str(result.file),
        "scenario": result.scenario_id,
        "problems": [
            {
                "code": p.code,
                "severity": p.severity,
                "line": p.line,
                "column": p.column,
                "message": p.message,
                "hint": p.hint,
            }
            for p in result.problems
        ],
    }


# -- explore ----------------------------------------------------------------------------------


def _scenario(reference: str, folder: Path | None = None) -> LoadedScenario:
    """A scenario by id (in the dialogues folder) or by path."""
    path = Path(reference)
    if path.exists():
        file = path / "scenario.yaml" if path.is_dir() else path
        try:
            return load_scenario(file)
        except ScenarioError as exc:
            err.print(f"[red]{escape(str(exc))}[/]")
            raise typer.Exit(1) from None
    catalogue = load_catalogue([folder or Path("dialogues")])
    loaded = catalogue.get(reference)
    if loaded is None:
        known = ", ".join(sorted(catalogue.scenarios)) or "none"
        err.print(f"[red]no scenario '{escape(reference)}'[/] (known: {known})")
        raise typer.Exit(2)
    return loaded


def explore(
    scenario: Annotated[str, typer.Argument(help="Scenario id or path.")],
    random_runs: Annotated[
        int, typer.Option("--random", help="Number of random playthroughs.")
    ] = 0,
    seed: Annotated[int, typer.Option(help="First seed of the random runs.")] = 1,
    exhaustive: Annotated[bool, typer.Option(help="Walk every reachable state.")] = False,
    max_depth: Annotated[int, typer.Option(help="Longest path walked (turns).")] = 60,
    max_states: Annotated[int, typer.Option(help="Most states walked.")] = 200_000,
    language: Annotated[str | None, typer.Option(help="Language to play in.")] = None,
    output: Format = "text",
) -> None:
    """Play a scenario many times, randomly or exhaustively, and report what can happen."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from bot.authoring.explore import explore_exhaustive, explore_random
    from bot.authoring.runner import interview_for

    loaded = _scenario(scenario)
    interview = interview_for(loaded)
    if not random_runs and not exhaustive:
        random_runs = 1000
    reports: dict[str, Exploration] = {}
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=output == "json" or not err.is_terminal,
    ) as progress:
        if random_runs:
            task = progress.add_task("random runs", total=random_runs)
            reports["random"] = explore_random(
                interview,
                random_runs,
                seed,
                language,
                lambda n: progress.update(task, completed=n),
            )
        if exhaustive:
            task = progress.add_task("states walked", total=None)
            reports["exhaustive"] = explore_exhaustive(
                interview,
                max_depth=max_depth,
                max_states=max_states,
                language=language,
                progress=lambda n: progress.update(task, completed=n),
            )
    if output == "json":
        out.print_json(json.dumps({k: _explore_json(v, interview) for k, v in reports.items()}))
    else:
        for kind, found in reports.items():
            _print_exploration(kind, found, loaded, interview)
    problems = any(f.findings or f.unreached(interview) for f in reports.values())
    raise typer.Exit(1 if problems else 0)


def _print_exploration(
    kind: str, found: Exploration, loaded: LoadedScenario, interview: Any
) -> None:
    what = f"{found.runs:,} runs" if kind == "random" else f"{found.states:,} states"
    out.print(f"\n[bold]{loaded.id}[/]: {kind} exploration, {what}")
    if found.bound_hit:
        out.print(f"  [yellow]bound hit:[/] {found.bound_hit}")
    table = Table(title="endings reached")
    table.add_column("outcome")
    table.add_column("times", justify="right")
    for outcome, times in found.endings.most_common():
        table.add_row(outcome, f"{times:,}")
    out.print(table)
    endings = {n.ending.outcome for n in loaded.scenario.nodes.values() if n.ending}
    if missing := sorted(endings - set(found.endings)):
        out.print(f"  [yellow]endings never reached:[/] {', '.join(missing)}")
    if unreached := found.unreached(interview):
        out.print(f"  [yellow]nodes never entered:[/] {', '.join(unreached)}")
    scores = ", ".join(
        f"{d} {lo:+d}..{hi:+d}"
        for d, lo, hi in zip(DIMENSION_CODES, found.low, found.high, strict=True)
    )
    out.print(f"  points per dimension: {scores}")
    if found.overall:
        note = " (over the states walked)" if kind == "exhaustive" else ""
        out.print(f"  overall: {found.overall[0]:.1f}% .. {found.overall[1]:.1f}%{note}")
    hits = ", ".join(f"{n} {c:,}" for n, c in found.node_hits.most_common(8))
    out.print(f"  most entered nodes: {hits}")
    for finding in found.findings[:20]:
        path = " > ".join(finding.path[-8:])
        out.print(f"  [red]{finding.kind}[/]: {escape(finding.detail)}  after: {escape(path)}")
    if len(found.findings) > 20:
        out.print(f"  ... and {len(found.findings) - 20} more")


def _explore_json(found: Exploration, interview: Any) -> dict[str, Any]:
    return {
        "runs": found.runs,
        "states": found.states,
        "bound_hit": found.bound_hit,
        "endings": dict(found.endings),
        "node_hits": dict(found.node_hits),
        "unreached": found.unreached(interview),
        "points": {
            d: [lo, hi] for d, lo, hi in zip(DIMENSION_CODES, found.low, found.high, strict=True)
        },
        "overall": list(found.overall) if found.overall else None,
        "findings": [
            {"kind": f.kind, "path": list(f.path), "detail": f.detail} for f in found.findings
        ],
    }


# -- strings ----------------------------------------------------------------------------------

strings_app = typer.Typer(help="String tables (CSV) for translators.", no_args_is_help=True)


@strings_app.command("export")
def strings_export(
    scenario: Annotated[str, typer.Argument(help="Scenario id or path.")],
    lang: Annotated[str, typer.Option("--lang", help="The language to translate into.")],
    source: Annotated[str | None, typer.Option(help="Translate from (default: first).")] = None,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Where to write (- for stdout).")
    ] = None,
) -> None:
    """Write the CSV table of every text, with its translation into LANG so far."""
    loaded = _scenario(scenario)
    if lang not in loaded.scenario.languages:
        err.print(f"[red]{loaded.id} does not declare '{lang}'[/]: add it to 'languages' first")
        raise typer.Exit(2)
    text = string_tables.export_table(loaded, lang, source or loaded.scenario.languages[0])
    if output is not None and str(output) == "-":
        typer.echo(text, nl=False)
        return
    target = output or string_tables.table_path(loaded, lang)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    rows = text.count("\n") - 1
    err.print(f"wrote {rows} texts to {target}")


@strings_app.command("import")
def strings_import(
    scenario: Annotated[str, typer.Argument(help="Scenario id or path.")],
    lang: Annotated[str, typer.Option("--lang", help="The language of the translations.")],
    table: Annotated[Path | None, typer.Option("--table", help="The CSV file.")] = None,
    dry_run: Annotated[bool, typer.Option(help="Only say what would change.")] = False,
) -> None:
    """Write a translated CSV table back into the scenario (only those texts change)."""
    loaded = _scenario(scenario)
    source = table or string_tables.table_path(loaded, lang)
    try:
        rows = string_tables.read_table(source.read_text(encoding="utf-8"), str(source))
        result = string_tables.import_table(loaded, lang, rows)
    except (OSError, ValueError) as exc:
        err.print(f"[red]{escape(str(exc))}[/]")
        raise typer.Exit(1) from None
    except ScenarioError as exc:
        err.print(f"[red]the result would not load; nothing written:[/]\n{escape(str(exc))}")
        raise typer.Exit(1) from None
    for key in result.unknown:
        err.print(f"[yellow]unknown key (ignored):[/] {key}")
    if not dry_run:
        loaded.path.write_text(result.text, encoding="utf-8")
        if table is not None and table != string_tables.table_path(loaded, lang):
            string_tables.table_path(loaded, lang).parent.mkdir(exist_ok=True)
            string_tables.table_path(loaded, lang).write_text(
                source.read_text(encoding="utf-8"), encoding="utf-8"
            )
    verb = "would change" if dry_run else "changed"
    out.print(f"{verb} {result.changed} and added {result.added} {lang} texts in {loaded.path}")


def register(app: typer.Typer) -> None:
    app.command()(lint)
    app.command()(test)
    app.command()(explore)
    app.add_typer(strings_app, name="strings")
