"""Neutral messages as Telegram HTML: speaker names, the coach's box, keyboards, long texts split.

Pure functions, no I/O. Everything from the service is plain text, so it is escaped here.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from adapters.telegram.options import MAX_CALLBACK_DATA, MAX_CAPTION, MAX_MESSAGE
from bot.app.messages import ButtonsOut, DebriefOut, MediaOut, Outgoing, TextOut

#: labels longer than this are listed in the message and shortened on their buttons, since
#: phones cut button text at about this width
SHORT_LABEL = 32
_MARKS = {"hint": "💡 ", "warning": "⚠️ ", "error": "❗ "}
#: notices (not said by anyone) that follow each other are sent as one message, up to this
#: length: a scenario's introduction is one message instead of six, which also keeps it
#: inside a chat's burst allowance
_NOTICES = frozenset({"info", "warning", "error", "hint"})
_MERGED = 2000


def html(text: str) -> str:
    return escape(text, quote=False)


def split(text: str, limit: int = MAX_MESSAGE) -> list[str]:
    """`text` in pieces of at most `limit` characters, cut at line ends where possible."""
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit)
        if cut <= 0:
            cut = rest.rfind(" ", 0, limit)
        if cut <= 0:
            cut = limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip("\n ")
    if rest or not pieces:
        pieces.append(rest)
    return pieces


@dataclass(frozen=True, slots=True)
class Notice:
    """Notices in a row (not said by anyone), sent as one message, each with its mark."""

    text: str


def coalesce(replies: list[Outgoing]) -> list[Outgoing | Notice]:
    out: list[Outgoing | Notice] = []
    for reply in replies:
        if not (isinstance(reply, TextOut) and reply.kind in _NOTICES):
            out.append(reply)
            continue
        marked = _MARKS.get(reply.kind, "") + reply.text
        previous = out[-1] if out else None
        if isinstance(previous, Notice) and len(previous.text) + len(marked) < _MERGED:
            out[-1] = Notice(f"{previous.text}\n\n{marked}")
        else:
            out.append(Notice(marked))
    return out


def notice_messages(notice: Notice) -> list[str]:
    return [html(part) for part in split(notice.text, MAX_MESSAGE - 200)]


def text_messages(out: TextOut) -> list[str]:
    """One or more HTML messages for a line, a narration, the coach, a hint or a notice."""
    # The header is kept short (a name) so that split parts still fit with it.
    limit = MAX_MESSAGE - 200
    parts = split(out.text, limit)
    if out.kind == "line" and out.speaker:
        head = f"<b>{html(out.speaker)}:</b> "
        return [head + html(parts[0])] + [html(p) for p in parts[1:]]
    if out.kind == "narration":
        return [f"<i>{html(p)}</i>" for p in parts]
    if out.kind == "feedback":
        title = f"🧭 <b>{html(out.speaker or 'Coach')}</b>\n"
        return [title + f"<blockquote>{html(p)}</blockquote>" for p in parts]
    mark = _MARKS.get(out.kind, "")
    return [mark + html(parts[0])] + [html(p) for p in parts[1:]]


def caption(out: MediaOut) -> str:
    text = out.caption if len(out.caption) <= MAX_CAPTION - 10 else out.caption[:1000] + "…"
    return f"<i>{html(text)}</i>"


def fallback_message(out: MediaOut) -> str:
    """What is said instead of a clip that cannot be sent."""
    return f"🎞 <i>{html(out.fallback or out.caption)}</i>"


def buttons_message(out: ButtonsOut) -> tuple[str, InlineKeyboardMarkup]:
    listed = any(len(b.label) > SHORT_LABEL for b in out.buttons)
    lines = [f"<b>{html(out.prompt)}</b>"]
    if listed:
        lines += [f"{i}. {html(b.label)}" for i, b in enumerate(out.buttons, 1)]
    rows = [
        [InlineKeyboardButton(text=button_text(i, b.label, listed), callback_data=b.data)]
        for i, b in enumerate(out.buttons, 1)
        if 0 < len(b.data.encode()) <= MAX_CALLBACK_DATA
    ]
    text = "\n".join(lines)
    if len(text) > MAX_MESSAGE:
        text = text[: MAX_MESSAGE - 1] + "…"
    return text, InlineKeyboardMarkup(inline_keyboard=rows)


def button_text(number: int, label: str, listed: bool) -> str:
    if not listed:
        return label[:64] or str(number)
    short = label if len(label) <= SHORT_LABEL else label[: SHORT_LABEL - 1].rstrip() + "…"
    return f"{number}. {short}"


def debrief_messages(out: DebriefOut) -> list[str]:
    parts = split(out.text, MAX_MESSAGE - 100)
    first = parts[0].split("\n", 1)
    head = f"📊 <b>{html(first[0])}</b>"
    if len(first) > 1:
        head += "\n" + html(first[1])
    return [head] + [html(p) for p in parts[1:]]


def chosen(message_html: str, label: str) -> str:
    """A turn's message once its button was pressed: the question, then what was chosen."""
    text = f"{message_html}\n\n✅ <b>{html(label)}</b>"
    return text if len(text) <= MAX_MESSAGE else f"✅ <b>{html(label[: MAX_MESSAGE - 40])}</b>"


def label_of(markup: InlineKeyboardMarkup | None, data: str) -> str | None:
    """The full label behind a pressed button, as listed in its message if it was shortened."""
    if markup is None:
        return None
    for row in markup.inline_keyboard:
        for button in row:
            if button.callback_data == data:
                return button.text
    return None
