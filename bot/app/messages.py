"""Neutral messages between the use cases and the adapters.

Adapters turn a platform update into an `Incoming` and render each `Outgoing` natively (a
Telegram photo with a caption, a Matrix `m.image`, a Rich panel). Nothing here knows a platform.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from bot.scoring.debrief import Debrief

#: longest free text accepted, in characters (Telegram's own message limit is 4,096)
MAX_TEXT = 4000


@dataclass(frozen=True, slots=True)
class Incoming:
    platform: str
    user_id: str
    #: typed text, including commands such as "/hint"
    text: str | None = None
    #: data of a pressed button, as produced by `ButtonOut.data`
    button: str | None = None
    #: the platform's id of this message or update: the same key is applied once
    key: str | None = None
    #: the client's UI language, if the platform tells it
    language: str | None = None


TextKind = Literal["line", "narration", "feedback", "hint", "info", "warning", "error"]


@dataclass(frozen=True, slots=True)
class TextOut:
    kind: TextKind
    text: str
    speaker: str | None = None
    speaker_role: str | None = None


@dataclass(frozen=True, slots=True)
class MediaOut:
    kind: str  # photo, video, video_note, voice, audio
    path: Path
    caption: str
    fallback: str
    speaker: str | None = None
    speaker_role: str | None = None


@dataclass(frozen=True, slots=True)
class ButtonOut:
    label: str
    #: opaque, short (under Telegram's 64-byte limit) and checked against the current turn
    data: str


@dataclass(frozen=True, slots=True)
class ButtonsOut:
    prompt: str
    buttons: tuple[ButtonOut, ...]


@dataclass(frozen=True, slots=True)
class DebriefOut:
    debrief: Debrief
    title: str
    #: the debrief as plain text in the session's language, for adapters without rich layout
    text: str


@dataclass(frozen=True, slots=True)
class DocumentOut:
    """A file for the chat: a report or a transcript (HTML, PDF, Markdown, CSV, JSON)."""

    filename: str
    #: e.g. text/html, application/pdf
    media_type: str
    data: bytes
    #: one line about it, in the reader's language
    caption: str


Outgoing = TextOut | MediaOut | ButtonsOut | DebriefOut | DocumentOut
