"""`signpost play SCENARIO --from NODE --set trust=3 --debug`: play-testing for authors.

No database and no trainee: the engine is driven directly, a session can start at any node
with preset variables, every turn shows the variables and the score changes with their codes,
and `/back` undoes a turn (the history is a stack of immutable states, so nothing is replayed).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from rich.console import Console
from rich.table import Table

from bot.engine.engine import EngineError
from bot.engine.state import Value
from bot.scenario.codes import DIMENSION_CODES
from bot.scenario.loader import LoadedScenario
from bot.scoring.interview import Interview, TurnResult

HELP = "number: press a button · text: say it · /back · /vars · /hint · /path · /quit"


class PresetError(ValueError):
    pass


def parse_presets(items: Iterable[str], loaded: LoadedScenario) -> dict[str, Value]:
    """`trust=3`, `controller_near=false` -> typed values, checked against the declarations."""
    presets: dict[str, Value] = {}
    for item in items:
        name, sep, raw = item.partition("=")
        name, raw = name.strip(), raw.strip()
        variable = loaded.scenario.variables.get(name)
        if not sep or variable is None:
            known = ", ".join(loaded.scenario.variables) or "none"
            raise PresetError(f"--set {item!r}: write NAME=VALUE with a declared NAME ({known})")
        if variable.type == "bool":
            if raw.lower() not in ("true", "false"):
                raise PresetError(f"--set {item!r}: '{name}' is a bool: true or false")
            presets[name] = raw.lower() == "true"
        else:
            try:
                presets[name] = int(raw)
            except ValueError:
                raise PresetError(f"--set {item!r}: '{name}' is a number") from None
    return presets


@dataclass
class PlayTest:
    interview: Interview
    console: Console
    debug: bool = True
    history: list[TurnResult] = field(default_factory=list)

    def start(self, language: str, node: str | None, preset: Mapping[str, Value]) -> None:
        result = self.interview.start(seed=1, language=language, node=node, preset=preset)
        self.history = [result]
        self._show(result, None)

    @property
    def current(self) -> TurnResult:
        return self.history[-1]

    def handle(self, line: str) -> bool:
        """One input; False when the play-test is over."""
        text = line.strip()
        state = self.current.state
        if not text:
            return True
        if text in ("/quit", "/exit"):
            return False
        if text == "/back":
            if len(self.history) > 1:
                self.history.pop()
                self.console.print("[cyan]back one turn[/]")
                self._show(self.current, None)
            else:
                self.console.print("[yellow]already at the start[/]")
            return True
        if text == "/vars":
            self._variables()
            return True
        if text == "/path":
            self.console.print(" > ".join(state.path) or "(no choices yet)")
            return True
        if text == "/hint":
            self.console.print(f"[green]hint:[/] {self.interview.engine.hint(state) or '(none)'}")
            return True
        if state.finished:
            self.console.print("[yellow]the session has ended:[/] /back or /quit")
            return True
        try:
            if text.isdigit() and 1 <= int(text) <= len(self.current.buttons):
                result = self.interview.press(state, self.current.buttons[int(text) - 1].id)
            else:
                result = self.interview.say(state, text)
        except EngineError as exc:
            self.console.print(f"[red]{exc}[/]")
            return True
        before = self.current
        self.history.append(result)
        self._show(result, before)
        return not result.state.finished or self.debug

    def _show(self, result: TurnResult, before: TurnResult | None) -> None:
        for said in result.said:
            name = said.speaker_name or ""
            prefix = f"[bold]{name}:[/] " if name else ""
            self.console.print(f"{prefix}{said.text}", highlight=False)
            if said.clip is not None:
                self.console.print(f"  [dim]📎 {said.clip.kind}: {said.clip.caption}[/]")
        if result.resolution is not None:
            r = result.resolution
            self.console.print(
                f"[dim]understood as {r.choice_id or 'nothing'} "
                f"(score {r.match_score}), question form {r.assessment.form}[/]"
            )
        for delta in result.deltas:
            colour = "green" if delta.points > 0 else "red"
            self.console.print(f"  [{colour}]{delta.points:+d} {delta.code}[/] {delta.reason}")
        if result.hint:
            self.console.print(f"[green]hint:[/] {result.hint}")
        if self.debug:
            self._variables(before)
        if result.debrief is not None:
            d = result.debrief
            verdict = "passed" if d.passed else "failed"
            self.console.print(f"[bold]ending {d.outcome}: {d.overall:.1f}%, {verdict}[/]")
        for number, button in enumerate(result.buttons, start=1):
            self.console.print(f"  {number}. {button.label}  [dim]({button.id})[/]")

    def _variables(self, before: TurnResult | None = None) -> None:
        state = self.current.state
        table = Table(box=None, show_header=False, padding=(0, 1))
        env = self.interview.compiled.env(state.values)
        old = self.interview.compiled.env(before.state.values) if before else env
        cells = [
            f"{name}={value}" + (f" [yellow](was {old[name]})[/]" if old[name] != value else "")
            for name, value in env.items()
        ]
        scores = " ".join(f"{d}{p:+d}" for d, p in zip(DIMENSION_CODES, state.scores, strict=True))
        table.add_row(f"[dim]node[/] {state.node}", "  ".join(cells))
        table.add_row("[dim]points[/]", scores)
        if state.critical:
            table.add_row("[dim]critical[/]", "[red]" + ", ".join(state.critical) + "[/]")
        self.console.print(table)


def run(playtest: PlayTest, read: Callable[[str], str]) -> None:
    playtest.console.print(f"[dim]{HELP}[/]")
    while True:
        try:
            line = read("> ")
        except EOFError:
            return
        if not playtest.handle(line):
            return
