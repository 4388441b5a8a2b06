"""`signpost transcripts export`, `signpost report session|trainee|cohort` and
`signpost retention apply`. Each read of a transcript is written to the audit log."""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime, timedelta
from datetime import time as day_time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from bot.cli.coordinators import AsUser, parse_day, run

if TYPE_CHECKING:
    from bot.app.access import Actor
    from bot.app.coordination import Coordination, RetentionPlan
    from bot.app.documents import Document
    from bot.bootstrap import Runtime

out = Console()
err = Console(stderr=True)

transcripts_app = typer.Typer(
    help="Transcripts of sessions, for coordinators.", no_args_is_help=True
)
report_app = typer.Typer(help="Debrief and cohort reports.", no_args_is_help=True)
retention_app = typer.Typer(help="The retention period of transcripts.", no_args_is_help=True)

Language = Annotated[str, typer.Option(help="Language of the report's labels: en or pl.")]


def _language(value: str) -> str:
    if value not in ("en", "pl"):
        err.print("[red]--language must be en or pl[/]")
        raise typer.Exit(2)
    return value


def _write(document: Document, output: str | None, seconds: float, sessions: int | None) -> None:
    """To `output`: a file, a folder (existing, or named with a trailing /), or - for standard
    output; by default the document's own name in the current folder."""
    size = f"{len(document.data) / 1024:.1f} KiB"
    what = f"{sessions} sessions, " if sessions is not None else ""
    if output == "-":
        sys.stdout.buffer.write(document.data)
        sys.stdout.flush()
        err.print(f"{what}{size} in {seconds:.2f} s")
        return
    target = Path(output or document.filename)
    if output and (output.endswith(("/", "\\")) or target.is_dir()):
        target = target / document.filename
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(document.data)
    except OSError as error:
        err.print(f"[red]cannot write {target}: {error}[/]")
        raise typer.Exit(2) from None
    err.print(f"wrote {target}: {what}{size} in {seconds:.2f} s")


@transcripts_app.command("export")
def export(
    session: Annotated[
        list[str] | None, typer.Option(help="A session id or its first 6+ characters (repeat).")
    ] = None,
    trainee: Annotated[str | None, typer.Option(help="Every session of this user.")] = None,
    cohort: Annotated[str | None, typer.Option(help="Every session of this cohort.")] = None,
    since: Annotated[
        str | None, typer.Option(help="Sessions started on or after YYYY-MM-DD.")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Sessions started on or before YYYY-MM-DD.")
    ] = None,
    output_format: Annotated[
        str, typer.Option("--format", help="md, html, json, csv or xapi.")
    ] = "md",
    output: Annotated[
        str | None,
        typer.Option("-o", "--output", help="File, folder (ending in /) or - for standard output."),
    ] = None,
    redact: Annotated[
        bool, typer.Option(help="Replace names and numbers in what trainees typed.")
    ] = False,
    with_platform_ids: Annotated[
        bool, typer.Option(help="Include Telegram/Matrix ids (admins only; audited).")
    ] = False,
    language: Language = "en",
    as_user: AsUser = None,
) -> None:
    """Export transcripts: every turn with time, speaker, words, question form, score changes,
    indicators, referral decisions and the debrief. Trainees appear by alias."""
    from bot.app.documents import EXPORT_FORMATS
    from bot.app.exports import Selection

    if output_format not in EXPORT_FORMATS:
        err.print(f"[red]--format must be one of {', '.join(EXPORT_FORMATS)}[/]")
        raise typer.Exit(2)
    if sum(x is not None for x in (trainee, cohort)) + bool(session) > 1:
        err.print("[red]choose one of --session, --trainee and --cohort[/]")
        raise typer.Exit(2)
    first, last = parse_day(since, "--since"), parse_day(until, "--until")
    selection = Selection(
        sessions=tuple(session or ()),
        trainee=trainee,
        cohort=cohort,
        since=datetime.combine(first, day_time(), tzinfo=UTC) if first else None,
        until=datetime.combine(last, day_time(), tzinfo=UTC) + timedelta(days=1) if last else None,
    )
    lang = _language(language)
    started = time.perf_counter()
    document, count = run(
        as_user,
        lambda c, actor, _rt: c.export(
            actor,
            selection,
            output_format,
            lang,
            identities=with_platform_ids,
            redact=redact,
        ),
    )
    _write(document, output, time.perf_counter() - started, count)


@report_app.command("session")
def report_session(
    session: Annotated[str, typer.Argument(help="Session id or its first 6+ characters.")],
    output_format: Annotated[str, typer.Option("--format", help="html or pdf.")] = "html",
    output: Annotated[
        str | None, typer.Option("-o", "--output", help="File, or folder ending in /.")
    ] = None,
    redact: Annotated[bool, typer.Option(help="Replace names and numbers typed.")] = False,
    language: Language = "en",
    as_user: AsUser = None,
) -> None:
    """The debrief report of one session: charts, timeline, paths, critical errors, notes."""
    if output_format not in ("html", "pdf"):
        err.print("[red]--format must be html or pdf[/]")
        raise typer.Exit(2)
    lang = _language(language)
    started = time.perf_counter()
    document = run(
        as_user,
        lambda c, actor, _rt: c.session_report(
            actor, session, "pdf" if output_format == "pdf" else "html", lang, redact=redact
        ),
    )
    _write(document, output, time.perf_counter() - started, None)


@report_app.command("trainee")
def report_trainee(
    user: Annotated[str, typer.Argument(help="Alias or PLATFORM:ID.")],
    output: Annotated[
        str | None, typer.Option("-o", "--output", help="File, or folder ending in /.")
    ] = None,
    language: Language = "en",
    as_user: AsUser = None,
) -> None:
    """The debrief report (HTML) of a trainee's latest finished session."""
    lang = _language(language)
    started = time.perf_counter()
    document = run(
        as_user,
        lambda c, actor, _rt: c.latest_report(actor, user, lang, action="report.session"),
    )
    _write(document, output, time.perf_counter() - started, None)


@report_app.command("cohort")
def report_cohort(
    cohort: Annotated[str, typer.Argument(help="The cohort's name.")],
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Folder for report.html, charts/ and CSV.")
    ] = Path("cohort-report"),
    language: Language = "en",
    as_user: AsUser = None,
) -> None:
    """The cohort report: participation, completion, pass rate, scores per dimension, where
    points are lost, indicators missed, referral accuracy, first against latest attempts."""
    from bot.reports import cohort as cohort_files

    lang = _language(language)
    started = time.perf_counter()

    async def work(c: Coordination, actor: Actor, _rt: Runtime) -> dict[str, bytes]:
        report = await c.cohort_report_data(actor, cohort)
        return cohort_files.files(report, lang, c.clock())

    files = run(as_user, work)
    try:
        for name, data in files.items():
            target = output / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    except OSError as error:
        err.print(f"[red]cannot write to {output}: {error}[/]")
        raise typer.Exit(2) from None
    total = sum(len(d) for d in files.values()) / 1024
    err.print(
        f"wrote {len(files)} files to {output}/ ({total:.1f} KiB) "
        f"in {time.perf_counter() - started:.2f} s"
    )
    for name in files:
        out.print(f"  {output / name}", highlight=False)


@retention_app.command("apply")
def retention_apply(
    execute: Annotated[
        bool, typer.Option("--execute", help="Really delete or anonymise (default: a dry run).")
    ] = False,
    days: Annotated[
        int | None, typer.Option(min=1, help="Override SIGNPOST_RETENTION_DAYS.")
    ] = None,
    action: Annotated[
        str | None, typer.Option(help="delete or anonymise (default SIGNPOST_RETENTION_ACTION).")
    ] = None,
    as_user: AsUser = None,
) -> None:
    """Delete or anonymise sessions untouched for longer than the retention period."""
    from bot.cli.main import settings

    config = settings()
    chosen = action or config.retention_action
    if chosen not in ("delete", "anonymise"):
        err.print("[red]--action must be delete or anonymise[/]")
        raise typer.Exit(2)
    period = days or config.retention_days
    plan: RetentionPlan = run(
        as_user,
        lambda c, actor, _rt: c.retention(
            actor,
            days=period,
            action="delete" if chosen == "delete" else "anonymise",
            execute=execute,
        ),
    )
    table = Table(title=f"Sessions untouched since {plan.cutoff:%Y-%m-%d %H:%M} UTC")
    for column in ("session", "scenario", "status", "last turn"):
        table.add_column(column)
    for s in plan.sessions[:20]:
        table.add_row(s.id[:12], s.scenario_id, s.status, s.updated_at.strftime("%Y-%m-%d"))
    if plan.sessions:
        out.print(table)
    more = " (first 20 shown)" if len(plan.sessions) > 20 else ""
    verb = {"delete": "deleted", "anonymise": "anonymised"}[plan.action]
    if execute:
        out.print(f"{len(plan.sessions)} sessions ({plan.turns} turns) {verb}{more}")
    else:
        out.print(
            f"dry run: {len(plan.sessions)} sessions ({plan.turns} turns) would be {verb}{more}; "
            "run again with --execute to do it"
        )


def register(app: typer.Typer) -> None:
    app.add_typer(transcripts_app, name="transcripts")
    app.add_typer(report_app, name="report")
    app.add_typer(retention_app, name="retention")
