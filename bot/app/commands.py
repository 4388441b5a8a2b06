"""Commands typed by trainees: `/hint`, `!hint`, `/start@SignpostBot CODE` all work."""

from __future__ import annotations

import re
from dataclasses import dataclass

COMMANDS = frozenset(
    {
        "start",
        "scenarios",
        "hint",
        "pause",
        "resume",
        "restart",
        "quit",
        "debrief",
        "language",
        "help",
        "forget",
        # cohorts (issue #6): trainees join; coordinators ask for reports
        "join",
        "cohorts",
        "report",
        "transcript",
    }
)
_COMMAND = re.compile(r"^[/!]([A-Za-z_]{1,32})(?:@\w{1,64})?(?:\s+(.*))?$", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    argument: str
    raw: str


def parse_command(text: str) -> Command | None:
    """A command, or None if `text` is not one (unknown commands come back as 'unknown')."""
    stripped = text.strip()
    if not stripped or stripped[0] not in "/!":
        return None
    match = _COMMAND.match(stripped)
    if match is None:
        return Command("unknown", "", stripped.split()[0] if stripped.split() else stripped)
    name = match.group(1).lower()
    argument = (match.group(2) or "").strip()[:200]
    return Command(name if name in COMMANDS else "unknown", argument, "/" + name)
