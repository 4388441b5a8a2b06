"""Coordinators' commands: `signpost cohort`, `signpost user`, `signpost audit`.

Every command acts as the person running it: an admin (whoever runs the command line holds
the database), or with `--as USER` as that user, with exactly their role's rights.
"""

from __future__ import annotations

import getpass
from collections.abc import Awaitable, Callable
from datetime import date
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from bot.app.access import Actor
    from bot.app.coordination import Coordination
    from bot.app.ports import MemberRole
    from bot.bootstrap import Runtime

T = TypeVar("T")
out = Console()
err = Console(stderr=True)

cohort_app = typer.Typer(help="Training groups and their enrolment codes.", no_args_is_help=True)
user_app = typer.Typer(help="Roles, and forgetting a person.", no_args_is_help=True)

AsUser = Annotated[
    str | None,
    typer.Option(
        "--as",
        help="Act as this user (alias or PLATFORM:ID), with their role's rights "
        "(default: you, as an admin).",
    ),
]


def login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "operator"


def run(as_user: str | None, work: Callable[[Coordination, Actor, Runtime], Awaitable[T]]) -> T:
    """Open the store, find who is acting, do `work`; bad input and refusals end with a short
    message and exit status 2 (bad input) or 3 (not allowed)."""
    import asyncio

    from bot.app.access import AccessDeniedError
    from bot.app.directory import UserError
    from bot.app.documents import RenderingUnavailableError
    from bot.app.ports import StoreUnavailableError
    from bot.bootstrap import runtime
    from bot.cli.main import settings

    config = settings()

    async def main() -> T:
        async with runtime(config) as rt:
            coordination = rt.service.coordination
            actor = coordination.operator(login())
            if as_user is not None:
                actor = await coordination.actor_for(as_user)
            return await work(coordination, actor, rt)

    try:
        return asyncio.run(main())
    except UserError as error:
        err.print(f"[red]{error}[/]")
        raise typer.Exit(2) from None
    except AccessDeniedError as error:
        err.print(f"[red]not allowed:[/] {error}")
        raise typer.Exit(3) from None
    except RenderingUnavailableError as error:
        err.print(f"[red]{error}[/]")
        raise typer.Exit(2) from None
    except StoreUnavailableError as error:
        err.print(f"[red]the database is unavailable:[/] {error}")
        raise typer.Exit(1) from None


def parse_day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        err.print(f"[red]{option}: {value!r} is not a date like 2026-03-31[/]")
        raise typer.Exit(2) from None


# -- cohorts ----------------------------------------------------------------------------------


@cohort_app.command("create")
def cohort_create(
    name: Annotated[str, typer.Argument(help="The group's name, e.g. 'SG Przemyśl 2026-03'.")],
    coordinator: Annotated[
        str | None, typer.Option(help="Its coordinator (alias or PLATFORM:ID).")
    ] = None,
    starts: Annotated[str | None, typer.Option(help="First day, YYYY-MM-DD.")] = None,
    ends: Annotated[
        str | None, typer.Option(help="Last day: the code stops working after.")
    ] = None,
    scenario: Annotated[
        list[str] | None, typer.Option(help="A scenario assigned (repeat; default: all).")
    ] = None,
    mode: Annotated[str | None, typer.Option(help="Feedback mode: coach or exam.")] = None,
    as_user: AsUser = None,
) -> None:
    """Create a cohort and print its enrolment code."""
    if mode is not None and mode not in ("coach", "exam"):
        err.print("[red]--mode must be coach or exam[/]")
        raise typer.Exit(2)
    first, last = parse_day(starts, "--starts"), parse_day(ends, "--ends")
    cohort = run(
        as_user,
        lambda c, actor, _rt: c.create_cohort(
            actor,
            name,
            coordinator=coordinator,
            starts_on=first,
            ends_on=last,
            scenarios=scenario or [],
            mode="exam" if mode == "exam" else "coach" if mode == "coach" else None,
        ),
    )
    out.print(f"created cohort [bold]{cohort.name}[/] with enrolment code [bold]{cohort.code}[/]")
    out.print(
        f"trainees join with /start {cohort.code} (Telegram) or !join {cohort.code} (Matrix)",
        highlight=False,
    )


@cohort_app.command("list")
def cohort_list(as_user: AsUser = None) -> None:
    """The cohorts you can see."""

    async def work(c: Coordination, actor: Actor, _rt: Runtime) -> Table:
        table = Table(title="Cohorts")
        for column in ("name", "code", "dates", "coordinator", "scenarios", "mode", "trainees"):
            table.add_column(column)
        for cohort in await c.cohorts(actor):
            members = await c.store.members(cohort.id)
            lead = await c.alias(cohort.coordinator_id) if cohort.coordinator_id else "–"
            table.add_row(
                cohort.name,
                cohort.code,
                f"{cohort.starts_on or '…'} – {cohort.ends_on or '…'}",
                lead,
                ", ".join(cohort.scenarios) or "all",
                cohort.mode or "default",
                str(sum(1 for m in members if m.role == "trainee")),
            )
        return table

    out.print(run(as_user, work))


@cohort_app.command("show")
def cohort_show(
    cohort: Annotated[str, typer.Argument(help="The cohort's name.")], as_user: AsUser = None
) -> None:
    """A cohort, its members and how far each has got."""

    async def work(c: Coordination, actor: Actor, _rt: Runtime) -> list[object]:
        found, members = await c.members(actor, cohort)
        lead = await c.alias(found.coordinator_id) if found.coordinator_id else "–"
        lines: list[object] = [
            f"[bold]{found.name}[/]  code {found.code}  "
            f"{found.starts_on or '…'} – {found.ends_on or '…'}  coordinator {lead}",
            f"scenarios: {', '.join(found.scenarios) or 'all'}  mode: {found.mode or 'default'}",
        ]
        table = Table()
        for column in ("member", "role", "joined", "sessions", "finished", "latest"):
            table.add_column(column)
        for member in members:
            sessions = await c.store.sessions_of(member.person.id)
            done = [s for s in sessions if s.state.finished and s.state.turn > 0]
            latest = max(sessions, key=lambda s: s.updated_at, default=None)
            table.add_row(
                member.person.alias,
                member.role,
                member.joined_at.strftime("%Y-%m-%d"),
                str(len(sessions)),
                str(len(done)),
                f"{latest.scenario_id} ({latest.status})" if latest else "–",
            )
        return [*lines, table]

    for line in run(as_user, work):
        out.print(line)


@cohort_app.command("add")
def cohort_add(
    cohort: Annotated[str, typer.Argument(help="The cohort's name.")],
    users: Annotated[list[str], typer.Argument(help="Aliases or PLATFORM:ID of the people.")],
    trainer: Annotated[bool, typer.Option(help="Add them as trainers, not trainees.")] = False,
    as_user: AsUser = None,
) -> None:
    """Add people to a cohort (a PLATFORM:ID not seen yet is created)."""
    role: MemberRole = "trainer" if trainer else "trainee"
    done = run(as_user, lambda c, actor, _rt: c.add(actor, cohort, users, role))
    for person, added in done:
        word = "added" if added else "already a member; role set"
        out.print(f"{person.alias}: {word} ({role})")


@cohort_app.command("remove")
def cohort_remove(
    cohort: Annotated[str, typer.Argument(help="The cohort's name.")],
    users: Annotated[list[str], typer.Argument(help="Aliases or PLATFORM:ID of the people.")],
    as_user: AsUser = None,
) -> None:
    """Take people out of a cohort (their sessions stay theirs)."""
    done = run(as_user, lambda c, actor, _rt: c.remove(actor, cohort, users))
    for person, removed in done:
        out.print(f"{person.alias}: {'removed' if removed else 'was not a member'}")


# -- users ------------------------------------------------------------------------------------


@user_app.command("grant")
def user_grant(
    role: Annotated[str, typer.Argument(help="trainee, trainer, coordinator or admin.")],
    user: Annotated[str, typer.Argument(help="Alias or PLATFORM:ID (e.g. telegram:42).")],
    as_user: AsUser = None,
) -> None:
    """Give a user a role (trainee takes every other role away)."""
    person = run(as_user, lambda c, actor, _rt: c.grant(actor, user, role))
    out.print(f"{person.alias} is now {role}")


@user_app.command("list")
def user_list(as_user: AsUser = None) -> None:
    """Everyone with a role other than trainee."""
    staff = run(as_user, lambda c, actor, _rt: c.staff(actor))
    table = Table(title="Roles")
    table.add_column("alias")
    table.add_column("role")
    for person, role in staff:
        table.add_row(person.alias, role)
    out.print(table)


@user_app.command("forget")
def user_forget(
    user: Annotated[str, typer.Argument(help="Alias or PLATFORM:ID.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    as_user: AsUser = None,
) -> None:
    """Delete a person's data everywhere (sessions, turns, roles, memberships); the audit
    entry saying so is kept."""
    if not yes:
        typer.confirm(f"Delete everything Signpost keeps about {user}?", abort=True)
    person, sessions = run(as_user, lambda c, actor, _rt: c.forget(actor, user))
    out.print(f"forgot {person.alias}: {sessions} sessions deleted")


def audit(
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="How many entries.")] = 50,
    subject: Annotated[
        str | None, typer.Option(help="Only entries about this session, alias or cohort.")
    ] = None,
    as_user: AsUser = None,
) -> None:
    """The audit log, newest first: every transcript read, report, grant and deletion."""

    async def work(c: Coordination, actor: Actor, _rt: Runtime) -> list[str]:
        await c.check(actor, "audit.read")
        lines = []
        for e in await c.store.audit_log(limit=limit, subject=subject):
            detail = " ".join(f"{k}={v}" for k, v in sorted(e.detail.items()))
            when = e.at.strftime("%Y-%m-%d %H:%M:%S")
            lines.append(f"{when}  {e.actor}  {e.action}  {e.subject}  {e.outcome}  {detail}")
        return lines

    for line in run(as_user, work):
        out.print(line.rstrip(), highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    from bot.cli import exports

    app.add_typer(cohort_app, name="cohort")
    app.add_typer(user_app, name="user")
    app.command()(audit)
    exports.register(app)
