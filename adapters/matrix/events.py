"""Raw Matrix events -> what a trainee did, or nothing. Pure: no client, no I/O.

Everything is read from the event's JSON (nio keeps it in `event.source`), so an event nio
cannot parse, a custom type or a malformed body is classified here like any other, and never
raises.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from bot.app.messages import MAX_TEXT

#: number emoji a trainee may react with, index 0 = option 1
KEYCAPS = (*(f"{n}\ufe0f\u20e3" for n in range(1, 10)), "\U0001f51f")
_NUMBER = re.compile(r"^\s*#?(\d{1,3})\s*[.)]?\s*$")

ActKind = Literal["text", "reaction", "file", "edit", "encrypted", "too_long"]


@dataclass(frozen=True, slots=True)
class Act:
    """Something a trainee did in a room, as the adapter handles it."""

    kind: ActKind
    room_id: str
    sender: str
    event_id: str
    #: the text typed (text), or the reaction's key (reaction)
    text: str = ""
    #: the event a reaction points at
    target: str = ""
    #: the length of a message too long to be read
    length: int = 0


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def strip_reply_fallback(body: str) -> str:
    """Drop the quoted '> <@someone> ...' lines a client puts before a reply's own text."""
    lines = body.split("\n")
    if not lines or not lines[0].startswith("> "):
        return body
    rest = lines[:]
    while rest and rest[0].startswith(">"):
        rest.pop(0)
    if rest and not rest[0].strip():
        rest.pop(0)
    return "\n".join(rest)


def classify(room_id: str, event: dict[str, Any]) -> Act | None:
    """The act in a timeline event, or None for what the bot ignores silently.

    Ignored: state events, redactions, notices (bots talk in notices: answering them could
    start a loop between two bots), unknown types and anything malformed.
    """
    kind = _str(event.get("type"))
    sender = _str(event.get("sender"))
    event_id = _str(event.get("event_id"))
    content = event.get("content")
    if not sender or not event_id or not isinstance(content, dict):
        return None
    if "state_key" in event:
        return None
    relates = content.get("m.relates_to")
    relates = relates if isinstance(relates, dict) else {}
    if kind == "m.room.encrypted":
        return Act("encrypted", room_id, sender, event_id)
    if kind == "m.reaction":
        if relates.get("rel_type") != "m.annotation":
            return None
        key, target = _str(relates.get("key")), _str(relates.get("event_id"))
        if not key or not target:
            return None
        return Act("reaction", room_id, sender, event_id, text=key[:16], target=target)
    if kind == "m.sticker":
        return Act("file", room_id, sender, event_id)
    if kind != "m.room.message":
        return None
    if relates.get("rel_type") == "m.replace":
        return Act("edit", room_id, sender, event_id)
    msgtype = _str(content.get("msgtype"))
    if msgtype in ("m.image", "m.file", "m.audio", "m.video", "m.location"):
        return Act("file", room_id, sender, event_id)
    if msgtype not in ("m.text", "m.emote"):
        return None
    body = content.get("body")
    if not isinstance(body, str):
        return None
    if "m.in_reply_to" in relates:
        body = strip_reply_fallback(body)
    if len(body) > MAX_TEXT:
        return Act("too_long", room_id, sender, event_id, length=len(body))
    return Act("text", room_id, sender, event_id, text=body)


def number_of(text: str) -> int | None:
    """'2', '2.', '#2' or ' 2) ' -> 2; anything else -> None."""
    match = _NUMBER.match(text)
    return int(match.group(1)) if match else None


def keycap_index(key: str) -> int | None:
    """The option a number emoji stands for (0-based), with or without the variation selector."""
    plain = key.replace("\ufe0f", "")
    for index, keycap in enumerate(KEYCAPS):
        if plain == keycap.replace("\ufe0f", ""):
            return index
    return None


def is_new_own_join(event: dict[str, Any], me: str) -> bool:
    """The bot's own membership turning to 'join' (not a profile change while joined)."""
    if event.get("type") != "m.room.member" or event.get("state_key") != me:
        return False
    content = event.get("content")
    if not isinstance(content, dict) or content.get("membership") != "join":
        return False
    unsigned = event.get("unsigned")
    previous = unsigned.get("prev_content") if isinstance(unsigned, dict) else None
    return not (isinstance(previous, dict) and previous.get("membership") == "join")


def inviter_of(events: list[dict[str, Any]], me: str) -> str | None:
    """Who invited the bot, from an invite's stripped state or a joined room's history."""
    for event in reversed(events):
        content = event.get("content")
        if (
            event.get("type") == "m.room.member"
            and event.get("state_key") == me
            and isinstance(content, dict)
            and content.get("membership") == "invite"
            and isinstance(event.get("sender"), str)
        ):
            return str(event["sender"])
    return None


def is_encrypted_room(events: list[dict[str, Any]]) -> bool:
    return any(e.get("type") == "m.room.encryption" for e in events)


def allowed(allow: list[str], user_id: str) -> bool:
    """Empty allow-list: everyone. Else the user (@a:example.org) or their server (example.org)."""
    if not allow:
        return True
    server = user_id.split(":", 1)[1] if ":" in user_id else ""
    wanted = {a.strip().lower() for a in allow if a.strip()}
    return user_id.lower() in wanted or server.lower() in wanted
