"""What the engine says: neutral output events, already in the session's language."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class ClipOut:
    kind: str
    path: Path
    caption: str
    fallback: str


@dataclass(frozen=True, slots=True)
class Said:
    line_id: str
    speaker: str
    #: the character's display name; None for the narrator (the adapter labels scene text)
    speaker_name: str | None
    speaker_role: str
    text: str
    clip: ClipOut | None = None
    reveals: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ChoiceOut:
    id: str
    label: str


@dataclass(frozen=True, slots=True)
class Ended:
    outcome: str
    verdict: str
    title: str
    summary: str
