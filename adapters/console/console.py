"""The terminal adapter: plays a scenario with Rich, from the keyboard or from a script file."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from bot.app.messages import (
    ButtonsOut,
    DebriefOut,
    DocumentOut,
    Incoming,
    MediaOut,
    Outgoing,
    TextOut,
)
from bot.app.service import TrainingService

PLATFORM = "console"
_STYLES = {
    "persona": "bold magenta",
    "interpreter": "bold cyan",
    "companion": "bold red",
    "manager": "bold red",
    "officer": "bold blue",
    "colleague": "bold blue",
}
_KIND_STYLE = {"info": "dim", "warning": "yellow", "error": "bold red", "hint": "green"}


@dataclass
class ConsoleSession:
    """The terminal conversation of one trainee with the service."""

    service: TrainingService
    console: Console
    user_id: str
    language: str = "en"
    read_line: Callable[[str], str] = input
    #: where documents sent to the chat (reports, transcripts) are saved
    documents: Path = field(default_factory=lambda: Path("signpost-documents"))
    _buttons: ButtonsOut | None = field(default=None, init=False)
    _finished: bool = field(default=False, init=False)

    async def send(self, *, text: str | None = None, button: str | None = None) -> list[Outgoing]:
        incoming = Incoming(
            PLATFORM, self.user_id, text=text, button=button, language=self.language
        )
        replies = await self.service.handle(incoming)
        self.show(replies)
        return replies

    async def say(self, line: str) -> list[Outgoing]:
        """A line the trainee typed: a number picks a button, anything else is sent as text."""
        stripped = line.strip()
        if stripped.isdigit() and self._buttons is not None:
            index = int(stripped) - 1
            if 0 <= index < len(self._buttons.buttons):
                return await self.send(button=self._buttons.buttons[index].data)
        return await self.send(text=line)

    async def interactive(self) -> None:
        while True:
            try:
                line = await asyncio.to_thread(self.read_line, "> ")
            except (EOFError, KeyboardInterrupt):
                self.console.print(
                    "\n[dim]Bye. Your session is saved: `signpost play --resume`.[/]"
                )
                return
            if self.finished and not line.strip():
                return
            await self.say(line)
            if self.finished or line.strip().lower() in ("/quit", "!quit"):
                return

    async def scripted(self, lines: Iterator[str]) -> None:
        for line in lines:
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            self.console.print(Text(f"> {line.rstrip()}", style="bold"))
            await self.say(line.rstrip("\n"))
            if self.finished or line.strip().lower() in ("/quit", "!quit"):
                return

    @property
    def finished(self) -> bool:
        return self._finished

    def show(self, replies: list[Outgoing]) -> None:
        for reply in replies:
            match reply:
                case TextOut():
                    self._text(reply)
                case MediaOut():
                    self.console.print(
                        Text.assemble(
                            ("  📎 ", ""),
                            (f"[{reply.kind}] ", "bold"),
                            (reply.caption, "italic"),
                            (f"  ({reply.path})", "dim"),
                        )
                    )
                case ButtonsOut():
                    self._buttons = reply
                    self.console.print(Text(reply.prompt, style="bold"))
                    for i, button in enumerate(reply.buttons, 1):
                        self.console.print(f"  [bold]{i}.[/] {button.label}", highlight=False)
                case DebriefOut():
                    self._buttons = None
                    self._finished = True
                    self._debrief(reply)
                case DocumentOut():
                    self._document(reply)

    def _text(self, reply: TextOut) -> None:
        if reply.kind == "line":
            style = _STYLES.get(reply.speaker_role or "", "bold")
            self.console.print(Text.assemble((f"{reply.speaker}: ", style), reply.text))
        elif reply.kind == "narration":
            self.console.print(Text(reply.text, style="italic"))
        elif reply.kind == "feedback":
            self.console.print(Panel(reply.text, title=reply.speaker, border_style="green"))
        else:
            self.console.print(Text(reply.text, style=_KIND_STYLE.get(reply.kind, "")))

    def _document(self, reply: DocumentOut) -> None:
        """A terminal cannot show a file: save it and say where."""
        name = Path(reply.filename).name or "document"
        target = self.documents / name
        try:
            self.documents.mkdir(parents=True, exist_ok=True)
            target.write_bytes(reply.data)
        except OSError as error:
            self.console.print(Text(f"{reply.caption}: cannot save {target}: {error}", "red"))
            return
        size = f"{len(reply.data) / 1024:.1f} KiB"
        self.console.print(
            Text.assemble(("  📄 ", ""), (reply.caption, "bold"), (f"  {target} ({size})", "dim"))
        )

    def _debrief(self, reply: DebriefOut) -> None:
        d = reply.debrief
        verdict = "[bold green]PASSED[/]" if d.passed else "[bold red]NOT PASSED[/]"
        table = Table(title=f"{reply.title}: {d.overall}% {verdict}", show_lines=False)
        table.add_column("Dimension")
        table.add_column("Points", justify="right")
        table.add_column("Expert", justify="right")
        table.add_column("Score", justify="right")
        for dim in d.dimensions:
            score = f"{dim.percent:.0f}%" if dim.percent is not None else "–"
            table.add_row(f"{dim.code} {dim.name}", str(dim.points), str(dim.expert_points), score)
        self.console.print(table)
        self.console.print(reply.text, highlight=False)
