"""What the bot does with each act of a trainee: record it, answer it, queue the answer.

A trainee is one Matrix user in one room (`<room_id>|<mxid>`), so a trainee playing in two
rooms has a session in each. Every act is recorded in the store (keyed by its event id) before
it is handled: an event the store already has is skipped, and one that was recorded but whose
answer was never sent (a stop or crash came between) is answered again at the next start.
"""

from __future__ import annotations

import hashlib
import logging
import time
from typing import Any

from adapters.matrix.events import Act, keycap_index, number_of
from adapters.matrix.menus import Menus
from adapters.matrix.options import PLATFORM, MatrixOptions
from adapters.matrix.outbox import Batch, Outbox
from adapters.matrix.render import Post, message, render
from bot.app.commands import parse_command
from bot.app.i18n import LANGUAGES, t
from bot.app.messages import (
    MAX_TEXT,
    ButtonsOut,
    DebriefOut,
    Incoming,
    Outgoing,
    TextOut,
)
from bot.app.service import TrainingService

log = logging.getLogger(__name__)

#: the service's answers to an input it had already applied (or that no longer applies)
_ALREADY = ("duplicate", "stale_button", "bad_button", "session_over", "no_session")
#: longest trainee identity the store keeps (trainee_identities.external_id)
MAX_IDENTITY = 128


def trainee_key(room_id: str, sender: str) -> str:
    """The trainee's id for the service: one per user per room."""
    key = f"{room_id}|{sender}"
    if len(key) <= MAX_IDENTITY:
        return key
    return "h:" + hashlib.sha256(key.encode()).hexdigest()


def already_applied(replies: list[Outgoing]) -> bool:
    texts = {t(lang, k) for lang in LANGUAGES for k in _ALREADY}
    return len(replies) == 1 and isinstance(replies[0], TextOut) and replies[0].text in texts


def _language_asked(payload: dict[str, Any]) -> str | None:
    """The language a trainee switched to with this act, if any."""
    button = payload.get("button")
    if isinstance(button, str) and button in ("l:en", "l:pl"):
        return button[2:]
    command = parse_command(str(payload.get("text") or ""))
    if command is not None and command.name == "language" and command.argument in LANGUAGES:
        return command.argument
    return None


class Conversations:
    def __init__(
        self,
        service: TrainingService,
        menus: Menus,
        outbox: Outbox,
        options: MatrixOptions,
        *,
        decrypts: bool = False,
    ) -> None:
        self.service = service
        self.store = menus.store
        self.menus = menus
        self.outbox = outbox
        self.options = options
        #: end-to-end encryption is on: a message still encrypted is one the bot had no key for
        self.decrypts = decrypts
        self._hinted: set[str] = set()
        self._encrypted_notice: dict[str, float] = {}

    # -- acts -----------------------------------------------------------------------------------

    async def act(self, act: Act) -> None:
        """Handle one act; a trainee's acts must come here one at a time, in order."""
        trainee = trainee_key(act.room_id, act.sender)
        payload = await self._resolve(trainee, act)
        if payload is None:
            return
        payload.update(room=act.room_id, sender=act.sender)
        if not await self.store.record_update(PLATFORM, act.event_id, payload):
            log.debug("event %s was handled before: skipped", act.event_id)
            return
        await self.answer(act.event_id, payload)

    async def _resolve(self, trainee: str, act: Act) -> dict[str, Any] | None:
        """The act as the payload to record and answer, or None to ignore it silently."""
        match act.kind:
            case "text":
                number = number_of(act.text)
                if number is None:
                    return {"text": act.text}
                pick = await self.menus.number(trainee, number)
                if pick.data is not None:
                    return {"button": pick.data, "text": act.text}
                if pick.problem == "range":
                    return {"local": "mx_no_option", "number": number, "count": pick.options}
                return {"text": act.text}
            case "reaction":
                pick = await self.menus.reaction(trainee, act.target, keycap_index(act.text))
                if pick.data is not None:
                    return {"button": pick.data}
                if pick.problem == "stale":
                    return {"local": "stale_button"}
                if pick.problem == "range":
                    number = (keycap_index(act.text) or 0) + 1
                    return {"local": "mx_no_option", "number": number, "count": pick.options}
                return None
            case "file":
                return {"local": "mx_only_text"}
            case "edit":
                return {"local": "mx_edited"}
            case "too_long":
                return {"local": "too_long", "length": act.length, "limit": MAX_TEXT}
            case "encrypted":
                last = self._encrypted_notice.get(act.room_id, -1e9)
                if time.monotonic() - last < self.options.encrypted_notice_seconds:
                    return None  # said recently: not again for every message
                return {"local": "mx_undecryptable" if self.decrypts else "mx_encrypted"}
        return None

    async def answer(
        self, key: str, payload: dict[str, Any], *, replayed: bool = False, last: bool = True
    ) -> None:
        """Answer a recorded act. `replayed`: after a restart; if it had been applied before,
        the trainee's `last` act shows where they are now, and earlier ones say nothing."""
        room, sender = str(payload["room"]), str(payload["sender"])
        trainee = trainee_key(room, sender)
        language = await self.menus.language(trainee)
        local = payload.get("local")
        if isinstance(local, str):
            if local in ("mx_encrypted", "mx_undecryptable"):
                await self.say_encrypted(room, key, local)
                await self.store.mark_processed(PLATFORM, key)
                return
            values = {
                k: v for k, v in payload.items() if k in ("number", "count", "length", "limit")
            }
            replies: list[Outgoing] = [TextOut("warning", t(language, local, **values))]
        else:
            button, text = payload.get("button"), payload.get("text")
            incoming = Incoming(
                PLATFORM,
                trainee,
                text=None if button else (str(text) if text is not None else None),
                button=str(button) if button else None,
                key=key,
            )
            replies = await self.service.handle(incoming)
            asked = _language_asked(payload)
            if asked is not None:
                await self.menus.set_language(trainee, asked)
                language = asked
            if replayed and already_applied(replies):
                replies = await self._where_they_are(trainee, payload) if last else []
        await self.say(room, trainee, key, replies, language)

    async def _where_they_are(self, trainee: str, payload: dict[str, Any]) -> list[Outgoing]:
        """After a restart, the answer to an act applied before it: where the session is now."""
        if parse_command(str(payload.get("text") or "")) is not None:
            return []  # a command's effect is done; repeating its answer adds nothing
        view = await self.service.handle(Incoming(PLATFORM, trainee, text="/resume"))
        if already_applied(view):  # the session ended with that act: its debrief
            view = await self.service.handle(Incoming(PLATFORM, trainee, text="/debrief"))
        return view

    async def say(
        self, room: str, trainee: str, key: str, replies: list[Outgoing], language: str
    ) -> None:
        """Queue `replies` for the room; the act `key` is marked processed once all are sent."""
        menus = [r for r in replies if isinstance(r, ButtonsOut)]
        if menus:
            await self.menus.shown(trainee, menus[-1])
        elif any(isinstance(r, DebriefOut) for r in replies):
            await self.menus.cleared(trainee)
        hint = bool(menus) and trainee not in self._hinted
        if hint:
            self._hinted.add(trainee)
        posts = render(replies, typing=self.options.typing, language=language, hint_menus=hint)

        async def done() -> None:
            await self.store.mark_processed(PLATFORM, key)

        async def sent(post: Post, event_id: str) -> None:
            if post.menu is not None:
                await self.menus.sent(trainee, post.menu, event_id)

        self.outbox.submit(Batch(room, key, posts, done=done, sent=sent))

    async def say_encrypted(self, room: str, key: str, text: str = "mx_encrypted") -> None:
        """What the bot cannot decrypt it cannot read: it says so, in both languages (it may
        not know the trainee's language yet). `mx_encrypted`: it reads no encrypted room;
        `mx_undecryptable`: it did not get the key of a message."""
        self._encrypted_notice[room] = time.monotonic()
        texts = [t(lang, text) for lang in LANGUAGES]
        rich = "".join(f"<p>{text}</p>" for text in texts)
        post = Post(message("m.notice", "\n\n".join(texts), rich))
        self.outbox.submit(Batch(room, key, [post]))

    # -- greeting -------------------------------------------------------------------------------

    async def greet(self, room: str, inviter: str, key: str) -> None:
        """The first screen for whoever invited the bot: consent, language, scenarios."""
        payload = {"room": room, "sender": inviter, "text": "/start"}
        if await self.store.record_update(PLATFORM, key, payload):
            await self.answer(key, payload)

    # -- after a restart ------------------------------------------------------------------------

    async def replay(self, pending: list[tuple[str, Any]]) -> int:
        """Answer the acts recorded but never answered before the last stop, oldest first.
        Only each trainee's last one is re-shown if it had been applied already."""
        last: dict[str, str] = {}
        for key, payload in pending:
            if isinstance(payload, dict) and "room" in payload and "sender" in payload:
                last[trainee_key(str(payload["room"]), str(payload["sender"]))] = key
        replayed = 0
        for key, payload in pending:
            if not (isinstance(payload, dict) and "room" in payload and "sender" in payload):
                await self.store.mark_processed(PLATFORM, key)
                continue
            trainee = trainee_key(str(payload["room"]), str(payload["sender"]))
            try:
                await self.answer(key, payload, replayed=True, last=last[trainee] == key)
                replayed += 1
            except Exception:
                log.exception("replaying event %s failed: dropped", key)
                await self.store.mark_processed(PLATFORM, key)
        return replayed
