"""Neutral outgoing messages -> Matrix event contents (plain `body` and HTML `formatted_body`).

Every piece of text put into HTML is escaped here, whatever its source: scenario text, a
trainee's echoed command, a display name. Consecutive system texts (intro, coach feedback,
warnings) go out as one `m.notice`, because a homeserver lets a sender post only a few events
per second; each character's line is a message of its own with the speaker's name.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

from adapters.matrix.events import KEYCAPS
from bot.app.i18n import t
from bot.app.messages import ButtonsOut, DebriefOut, DocumentOut, MediaOut, Outgoing, TextOut

#: text kinds said by the system rather than a character: grouped into one notice
SYSTEM_KINDS = frozenset({"info", "warning", "error", "hint", "feedback"})
_MARK = {"warning": "⚠️ ", "error": "⛔ ", "hint": "💡 "}
#: Matrix message types per clip kind (a voice note is audio marked as voice, MSC3245)
MSGTYPES = {
    "photo": "m.image",
    "video": "m.video",
    "video_note": "m.video",
    "voice": "m.audio",
    "audio": "m.audio",
}


@dataclass(frozen=True, slots=True)
class Typing:
    """How long the bot 'types' before a character's line: longer lines, longer pause."""

    seconds_per_char: float = 0.01
    max_seconds: float = 1.5
    min_chars: int = 120

    def before(self, text: str) -> float:
        if self.seconds_per_char <= 0 or len(text) < self.min_chars:
            return 0.0
        return min(self.max_seconds, len(text) * self.seconds_per_char)


@dataclass(frozen=True, slots=True)
class Post:
    """One event to send to a room. A clip's content is completed once it is uploaded."""

    content: dict[str, Any]
    clip: MediaOut | None = None
    #: a report or transcript to upload and send as a file
    document: DocumentOut | None = None
    typing: float = 0.0
    #: set when this post shows a menu of numbered options
    menu: ButtonsOut | None = None
    event_type: str = "m.room.message"


@dataclass
class _Notice:
    plain: list[str] = field(default_factory=list)
    rich: list[str] = field(default_factory=list)


def escape(text: str) -> str:
    """Text -> HTML: escaped, line breaks kept."""
    return html.escape(text, quote=True).replace("\n", "<br>")


def message(msgtype: str, plain: str, rich: str) -> dict[str, Any]:
    return {
        "msgtype": msgtype,
        "body": plain,
        "format": "org.matrix.custom.html",
        "formatted_body": rich,
    }


def _system(reply: TextOut) -> tuple[str, str]:
    mark = _MARK.get(reply.kind, "")
    if reply.kind == "feedback" and reply.speaker:
        return (
            f"{reply.speaker}:\n{reply.text}",
            f"<b>{escape(reply.speaker)}</b><br>{escape(reply.text)}",
        )
    return mark + reply.text, escape(mark + reply.text)


def line(reply: TextOut) -> dict[str, Any]:
    """A character's line (or the narrator's), with the speaker's name."""
    speaker = reply.speaker or ""
    rich_text = escape(reply.text)
    if reply.kind == "narration":
        rich_text = f"<i>{rich_text}</i>"
    if not speaker:
        return message("m.text", reply.text, rich_text)
    return message("m.text", f"{speaker}: {reply.text}", f"<b>{escape(speaker)}</b>: {rich_text}")


def menu(reply: ButtonsOut, answer_hint: str | None) -> dict[str, Any]:
    """Numbered options; the trainee answers by number, by number emoji or in their words."""
    plain = [reply.prompt] + [f"{i}. {b.label}" for i, b in enumerate(reply.buttons, 1)]
    items = "".join(f"<li>{escape(b.label)}</li>" for b in reply.buttons)
    rich = f"<p>{escape(reply.prompt)}</p><ol>{items}</ol>"
    if answer_hint:
        plain.append(f"({answer_hint})")
        rich += f"<p><i>{escape(answer_hint)}</i></p>"
    return message("m.text", "\n".join(plain), rich)


def answer_hint(language: str, options: int) -> str:
    last = KEYCAPS[min(options, len(KEYCAPS)) - 1]
    return t(language, "mx_how_to_answer", first=KEYCAPS[0], last=last)


def debrief(reply: DebriefOut) -> dict[str, Any]:
    first, _, rest = reply.text.partition("\n")
    rich_lines = [
        "&nbsp;&nbsp;" + escape(text.lstrip()) if text.startswith("  ") else escape(text)
        for text in rest.split("\n")
    ]
    return message("m.notice", reply.text, f"<b>{escape(first)}</b><br>" + "<br>".join(rich_lines))


def clip(reply: MediaOut, url: str, info: dict[str, Any]) -> dict[str, Any]:
    """A clip event: the caption is its body (Matrix 1.10 captions), the file its filename."""
    caption = reply.caption or reply.fallback or reply.path.name
    rich = escape(caption)
    if reply.speaker:
        rich = f"<b>{escape(reply.speaker)}</b>: {rich}"
    content = message(MSGTYPES.get(reply.kind, "m.file"), caption, rich)
    content.update({"url": url, "filename": reply.path.name, "info": info})
    if reply.kind == "voice":
        content["org.matrix.msc3245.voice"] = {}
        if "duration" in info:
            content["org.matrix.msc1767.audio"] = {"duration": info["duration"]}
    return content


def document(reply: DocumentOut, url: str) -> dict[str, Any]:
    """An m.file event; the caption is its body, as for clips."""
    content = message("m.file", reply.caption or reply.filename, escape(reply.caption or ""))
    content.update(
        {
            "url": url,
            "filename": reply.filename,
            "info": {"mimetype": reply.media_type, "size": len(reply.data)},
        }
    )
    return content


def encrypted_document(reply: DocumentOut, file: dict[str, Any]) -> dict[str, Any]:
    """An m.file event in an encrypted room: the file was encrypted before upload, and `file`
    (its URL and key) replaces `url`."""
    content = document(reply, "")
    del content["url"]
    content["file"] = file
    return content


def document_fallback(reply: DocumentOut) -> dict[str, Any]:
    text = f"{reply.caption} ({reply.filename}): the file could not be uploaded; try again later."
    return message("m.notice", text, escape(text))


def clip_fallback(reply: MediaOut) -> dict[str, Any]:
    """What is said where a clip cannot be sent (upload refused, file missing)."""
    text = f"[{reply.caption}] {reply.fallback}" if reply.caption else reply.fallback
    speaker = reply.speaker or ""
    plain = f"{speaker}: {text}" if speaker else text
    rich = f"<b>{escape(speaker)}</b>: {escape(text)}" if speaker else escape(text)
    return message("m.text", plain, rich)


def render(
    replies: list[Outgoing], *, typing: Typing, language: str, hint_menus: bool
) -> list[Post]:
    """The posts for one batch of replies, in order."""
    posts: list[Post] = []
    notice = _Notice()

    def flush() -> None:
        if notice.plain:
            rich = "".join(f"<p>{r}</p>" for r in notice.rich)
            posts.append(Post(message("m.notice", "\n\n".join(notice.plain), rich)))
            notice.plain.clear()
            notice.rich.clear()

    for reply in replies:
        match reply:
            case TextOut() if reply.kind in SYSTEM_KINDS:
                plain, rich = _system(reply)
                notice.plain.append(plain)
                notice.rich.append(rich)
                continue
            case TextOut():
                flush()
                posts.append(Post(line(reply), typing=typing.before(reply.text)))
            case ButtonsOut():
                flush()
                hint = answer_hint(language, len(reply.buttons)) if hint_menus else None
                posts.append(Post(menu(reply, hint), menu=reply))
            case DebriefOut():
                flush()
                posts.append(Post(debrief(reply)))
            case MediaOut():
                flush()
                posts.append(Post({}, clip=reply))
            case DocumentOut():
                flush()
                posts.append(Post({}, document=reply))
    flush()
    return posts
