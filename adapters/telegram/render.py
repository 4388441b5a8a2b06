"""Sends a turn's replies to a chat, in order, the way a person would see them arrive.

Also keeps, per chat, the keyboards still open, so that a keyboard whose turn has passed loses
its buttons, and a typed number can stand for the button with that number.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from aiogram import Bot
from aiogram.enums import ChatAction
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest, TelegramEntityTooLarge
from aiogram.types import BufferedInputFile

from adapters.telegram import formatting
from adapters.telegram.media import UNCAPTIONED, MediaSender, action_for
from adapters.telegram.options import MAX_CAPTION, Pacing
from adapters.telegram.redact import safe_error
from bot.app.messages import (
    ButtonsOut,
    DebriefOut,
    DocumentOut,
    MediaOut,
    Outgoing,
    TextOut,
)

log = logging.getLogger(__name__)
#: kinds of text that a character or the coach "types", with a chat action before them
_SPOKEN = frozenset({"line", "narration", "feedback"})


@dataclass(frozen=True, slots=True)
class Keyboard:
    message_id: int
    html: str
    buttons: ButtonsOut

    @property
    def is_turn(self) -> bool:
        """A scenario turn's choices (as against a language, a scenario, a confirmation)."""
        return any(b.data.startswith("c:") for b in self.buttons.buttons)


class Renderer:
    def __init__(self, bot: Bot, media: MediaSender, pacing: Pacing) -> None:
        self.bot = bot
        self.media = media
        self.pacing = pacing
        #: chat -> keyboards still showing buttons, oldest first (at most a turn's and one more)
        self._open: dict[int, list[Keyboard]] = {}

    async def render(self, chat_id: int, replies: list[Outgoing]) -> None:
        for reply in formatting.coalesce(replies):
            match reply:
                case formatting.Notice():
                    for part in formatting.notice_messages(reply):
                        await self.bot.send_message(chat_id, part)
                case TextOut():
                    await self._text(chat_id, reply)
                case MediaOut():
                    await self._media(chat_id, reply)
                case ButtonsOut():
                    await self._buttons(chat_id, reply)
                case DebriefOut():
                    await self.close_keyboards(chat_id)
                    for part in formatting.debrief_messages(reply):
                        await self.bot.send_message(chat_id, part)
                case DocumentOut():
                    await self._document(chat_id, reply)

    # -- keyboards --------------------------------------------------------------------------

    def turn_keyboard(self, chat_id: int) -> Keyboard | None:
        """The current turn's choices, if they are still on screen."""
        return next((k for k in reversed(self._open.get(chat_id, ())) if k.is_turn), None)

    def keyboard(self, chat_id: int, message_id: int) -> Keyboard | None:
        return next((k for k in self._open.get(chat_id, ()) if k.message_id == message_id), None)

    def forget_keyboard(self, chat_id: int, message_id: int) -> None:
        kept = [k for k in self._open.get(chat_id, ()) if k.message_id != message_id]
        if kept:
            self._open[chat_id] = kept
        else:
            self._open.pop(chat_id, None)

    async def strip(self, chat_id: int, message_id: int) -> None:
        """Take the buttons off a message (its turn has passed); it may be gone already."""
        self.forget_keyboard(chat_id, message_id)
        try:
            await self.bot.edit_message_reply_markup(
                chat_id=chat_id, message_id=message_id, reply_markup=None
            )
        except TelegramBadRequest as error:  # "message is not modified", or too old to edit
            log.debug("keyboard %s not stripped: %s", message_id, safe_error(error))

    async def mark_chosen(self, chat_id: int, message_id: int, html: str, label: str) -> None:
        """Replace a pressed keyboard by what was chosen, so the chat reads as a transcript."""
        self.forget_keyboard(chat_id, message_id)
        try:
            await self.bot.edit_message_text(
                chat_id=chat_id,
                message_id=message_id,
                text=formatting.chosen(html, label),
                reply_markup=None,
            )
        except TelegramBadRequest as error:
            log.debug("choice on %s not marked: %s", message_id, safe_error(error))

    async def close_keyboards(self, chat_id: int) -> None:
        """The session is over: no button of it is any use now."""
        for keyboard in list(self._open.get(chat_id, ())):
            await self.strip(chat_id, keyboard.message_id)

    # -- parts ------------------------------------------------------------------------------

    async def _text(self, chat_id: int, reply: TextOut) -> None:
        for part in formatting.text_messages(reply):
            if reply.kind in _SPOKEN and len(reply.text) >= self.pacing.min_chars:
                await self._act(chat_id, ChatAction.TYPING, self.pacing.pause_for(reply.text))
            await self.bot.send_message(chat_id, part)

    async def _media(self, chat_id: int, reply: MediaOut) -> None:
        await self._act(chat_id, action_for(reply.kind), self.pacing.pause_for(reply.fallback))
        caption = formatting.caption(reply) if reply.caption else None
        uncaptioned = reply.kind in UNCAPTIONED
        try:
            sent = await self.media.send(
                chat_id, reply.kind, reply.path, None if uncaptioned else caption
            )
        except (TelegramBadRequest, TelegramEntityTooLarge) as error:
            log.warning("clip %s not sent: %s", reply.path, safe_error(error))
            sent = False
        if not sent:
            await self.bot.send_message(chat_id, formatting.fallback_message(reply))
        elif uncaptioned and caption:
            await self.bot.send_message(chat_id, caption)

    async def _document(self, chat_id: int, reply: DocumentOut) -> None:
        """A report or a transcript, as a file (never cached: each is made for one reader)."""
        await self._act(chat_id, ChatAction.UPLOAD_DOCUMENT, 0)
        caption = formatting.html(reply.caption[: MAX_CAPTION - 1]) if reply.caption else None
        document = BufferedInputFile(reply.data, filename=reply.filename)
        try:
            await self.bot.send_document(chat_id, document, caption=caption)
        except TelegramEntityTooLarge:
            log.warning("document %s too large for Telegram", reply.filename)
            await self.bot.send_message(chat_id, "⚠️ " + formatting.html(reply.caption))

    async def _buttons(self, chat_id: int, reply: ButtonsOut) -> None:
        text, markup = formatting.buttons_message(reply)
        if not markup.inline_keyboard:
            await self.bot.send_message(chat_id, text)
            return
        new = Keyboard(0, text, reply)
        # A new turn's choices end every older keyboard; another keyboard (a confirmation, the
        # languages) leaves the turn's buttons usable and replaces only its own kind.
        for keyboard in list(self._open.get(chat_id, ())):
            if new.is_turn or not keyboard.is_turn:
                await self.strip(chat_id, keyboard.message_id)
        message = await self.bot.send_message(chat_id, text, reply_markup=markup)
        self._open.setdefault(chat_id, []).append(Keyboard(message.message_id, text, reply))

    async def _act(self, chat_id: int, action: ChatAction, pause: float) -> None:
        try:
            await self.bot.send_chat_action(chat_id, action)
        except TelegramAPIError as error:  # only a courtesy
            log.debug("chat action not shown: %s", safe_error(error))
        if pause > 0:
            await asyncio.sleep(pause)
