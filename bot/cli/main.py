"""`signpost`: play, list scenarios, regenerate the schema, manage the database."""

# The command modules import their heavy dependencies (asyncio, settings, the app, scoring,
# the store) inside the commands that use them, so that `signpost lint` starts quickly
# (issue #5); tests/test_cli_startup.py keeps them out of `import bot.cli`.

from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console

from bot.cli import authoring, authoring_more, coordinators, ending
from bot.cli import catalogue as catalogue_cli
from bot.cli.run import run_app
from bot.scenario.courses import Courses
from bot.scenario.loader import load_catalogue
from bot.scenario.model import Scenario

if TYPE_CHECKING:
    from bot.config import Settings

app = typer.Typer(
    help="Signpost: role-play training for first-contact interviews.",
    no_args_is_help=True,
    add_completion=False,
)
db_app = typer.Typer(help="Database migrations (Alembic).", no_args_is_help=True)
app.add_typer(db_app, name="db")
out = Console()
err = Console(stderr=True)

SCHEMA_PATH = Path("dialogues/schema.json")


def settings() -> Settings:
    from bot.config import Settings

    try:
        return Settings()
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            name = "SIGNPOST_" + "_".join(str(p) for p in error["loc"]).upper()
            err.print(f"[red]configuration error:[/] {name}: {error['msg']}")
        raise typer.Exit(2) from None


@app.command()
def play(
    scenario: Annotated[
        str | None, typer.Argument(help="Scenario id (default: the configured one).")
    ] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue your last session.")] = False,
    script: Annotated[
        Path | None, typer.Option(help="Read the trainee's inputs from this file, one per line.")
    ] = None,
    language: Annotated[str | None, typer.Option(help="en or pl.")] = None,
    mode: Annotated[str | None, typer.Option(help="coach (feedback each turn) or exam.")] = None,
    trainee: Annotated[
        str | None, typer.Option(help="Who is playing (default: your login).")
    ] = None,
    from_node: Annotated[
        str | None, typer.Option("--from", help="Play-test: start at this node.")
    ] = None,
    preset: Annotated[
        list[str] | None, typer.Option("--set", help="Play-test: NAME=VALUE at the start.")
    ] = None,
    debug: Annotated[
        bool, typer.Option(help="Play-test: variables and points after every turn, /back.")
    ] = False,
) -> None:
    """Play a scenario in the terminal (or play-test it with --from, --set, --debug)."""
    config = settings()
    if from_node or preset or debug:
        _playtest(config, scenario, from_node, preset or [], language, script)
        return
    if language is not None and language not in ("en", "pl"):
        err.print("[red]--language must be en or pl[/]")
        raise typer.Exit(2)
    if mode is not None and mode not in ("coach", "exam"):
        err.print("[red]--mode must be coach or exam[/]")
        raise typer.Exit(2)
    lines: list[str] | None = None
    if script is not None:
        try:
            lines = script.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            err.print(f"[red]cannot read {script}: {exc}[/]")
            raise typer.Exit(2) from None
    import asyncio

    code = asyncio.run(
        _play(
            config,
            scenario or config.default_scenario,
            resume=resume,
            lines=lines,
            language=language or config.language,
            mode=mode,  # type: ignore[arg-type]
            trainee=trainee or _login(),
        )
    )
    raise typer.Exit(code)


def _playtest(
    config: Settings,
    scenario: str | None,
    node: str | None,
    presets: list[str],
    language: str | None,
    script: Path | None,
) -> None:
    from bot.authoring.playtest import PlayTest, PresetError, parse_presets, run
    from bot.authoring.runner import interview_for

    catalogue = load_catalogue([config.dialogues])
    loaded = catalogue.get(scenario or config.default_scenario)
    if loaded is None:
        err.print(f"[red]no scenario '{scenario}'[/] (known: {', '.join(catalogue.scenarios)})")
        raise typer.Exit(2)
    if node is not None and node not in loaded.scenario.nodes:
        err.print(f"[red]--from: '{loaded.id}' has no node '{node}'[/]")
        raise typer.Exit(2)
    try:
        values = parse_presets(presets, loaded)
    except PresetError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None
    playtest = PlayTest(interview_for(loaded), out)
    playtest.start(language or loaded.scenario.languages[0], node, values)
    if script is None:
        run(playtest, input)
        return
    lines = iter(script.read_text(encoding="utf-8").splitlines())

    def read(prompt: str) -> str:
        line = next(lines, None)
        if line is None:
            raise EOFError
        out.print(f"{prompt}{line}", highlight=False)
        return line

    run(playtest, read)


async def _play(
    config: Settings,
    scenario_id: str,
    *,
    resume: bool,
    lines: list[str] | None,
    language: str,
    mode: Literal["coach", "exam"] | None,
    trainee: str,
) -> int:
    # Imported here: listing scenarios or writing the schema should not load the whole stack.
    from adapters.console.console import PLATFORM, ConsoleSession
    from bot.bootstrap import runtime

    async with runtime(config) as rt:
        for failure in rt.catalogue.failures:
            err.print(f"[yellow]skipped a scenario that does not load:[/]\n{failure}")
        person = await rt.store.trainee(PLATFORM, trainee, language=language)
        session = ConsoleSession(rt.service, out, trainee, language)
        if resume:
            replies = await rt.service.resume(person)
        else:
            if rt.catalogue.get(scenario_id) is None:
                known = ", ".join(s.id for s in rt.catalogue) or "none"
                err.print(f"[red]no scenario '{scenario_id}'[/] (available: {known})")
                return 1
            replies = await rt.service.start(person, scenario_id, language=language, mode=mode)
        session.show(replies)
        if lines is not None:
            await session.scripted(iter(lines))
        else:
            await session.interactive()
    return 0


def schema_text(model: type[BaseModel] = Scenario, title: str = "Signpost scenario") -> str:
    schema = model.model_json_schema()
    description = {
        "Signpost scenario": "A role-play interview for Signpost (dialogues/<id>/scenario.yaml).",
        "Signpost courses": "How scenarios are ordered and grouped (dialogues/courses.yaml).",
    }[title]
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": title,
        "description": description,
        **{k: v for k, v in schema.items() if k not in ("title", "description")},
    }
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


@app.command()
def schema(
    check: Annotated[bool, typer.Option("--check", help="Fail if a file is out of date.")] = False,
    path: Annotated[Path, typer.Option(help="Where the scenario schema lives.")] = SCHEMA_PATH,
) -> None:
    """Write the JSON Schemas of the scenario and courses formats (for editors) from the models."""
    outputs = {
        path: schema_text(),
        path.with_name("courses.schema.json"): schema_text(Courses, "Signpost courses"),
    }
    stale = False
    for target, text in outputs.items():
        current = target.read_text(encoding="utf-8") if target.is_file() else ""
        if check:
            if current != text:
                err.print(f"[red]{target} is out of date:[/] run `signpost schema`")
                stale = True
            else:
                out.print(f"{target} is up to date")
        else:
            target.write_text(text, encoding="utf-8")
            out.print(f"wrote {target}")
    if stale:
        raise typer.Exit(1)


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    from storage.migrate import upgrade

    upgrade(settings().database_url.get_secret_value(), revision)
    out.print(f"database upgraded to {revision}")


@db_app.command("downgrade")
def db_downgrade(revision: str) -> None:
    """Undo migrations down to REVISION ('base' removes every table)."""
    from storage.migrate import downgrade

    downgrade(settings().database_url.get_secret_value(), revision)
    out.print(f"database downgraded to {revision}")


@db_app.command("current")
def db_current() -> None:
    """Show the database's migration revision."""
    from storage.migrate import current

    out.print(current(settings().database_url.get_secret_value()) or "(empty database)")


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "trainee"


authoring.register(app)
catalogue_cli.register(app, settings)
authoring_more.register(app)
coordinators.register(app)
app.add_typer(run_app, name="run")


def main() -> None:
    ending.running_as_program()
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
