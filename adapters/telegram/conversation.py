"""One update, start to finish: what it means, what the service says, what the trainee sees."""

from __future__ import annotations

import logging
from dataclasses import replace

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import CallbackQuery, Message, Update

from adapters.telegram.redact import safe_error
from adapters.telegram.render import Renderer
from adapters.telegram.updates import Input, Refusal, classify
from bot.app.commands import parse_command
from bot.app.i18n import LANGUAGES, t
from bot.app.messages import Incoming, Outgoing, TextOut
from bot.app.service import TrainingService

log = logging.getLogger(__name__)


def _texts(*keys: str) -> frozenset[str]:
    return frozenset(t(lang, key) for lang in LANGUAGES for key in keys)


#: replies that mean "nothing happened" to a pressed button (besides warnings)
_NOT_DONE = _texts("is_paused", "duplicate", "session_over", "no_session")
_NO_SESSION = _texts("no_session")
#: commands whose repeat must not be "recovered" by showing the session again
_NO_RECOVERY = frozenset({"pause", "quit", "forget", "language", "help"})


class Conversation:
    def __init__(self, bot: Bot, service: TrainingService, renderer: Renderer) -> None:
        self.bot = bot
        self.service = service
        self.renderer = renderer

    async def handle(self, update: Update, key: str, *, replayed: bool = False) -> None:
        action = classify(update, key)
        if isinstance(action, Refusal):
            await self._refuse(action)
        elif isinstance(action, Input):
            await self._input(action, replayed)

    async def _refuse(self, refusal: Refusal) -> None:
        text = t(refusal.language, refusal.key)
        if refusal.callback_id is not None:
            await self._answer(refusal.callback_id, text)
        else:
            await self.renderer.render(refusal.chat_id, [TextOut("info", text)])

    async def _input(self, item: Input, replayed: bool) -> None:
        incoming = self._number_as_button(item)
        query = item.callback
        message = query.message if query and isinstance(query.message, Message) else None
        if replayed and _recoverable(incoming) and await self._applied(incoming):
            # The turn was committed before a crash, but its answer may never have left:
            # show where the session stands (playing it again would be refused, or for a
            # scenario's start, would start it over).
            if query is not None:
                await self._answer(query.id, None)
            if message is not None:
                await self.renderer.strip(item.chat_id, message.message_id)
            await self.renderer.render(item.chat_id, await self._where_you_are(incoming))
            return
        replies = await self.service.handle(incoming)
        if query is None:
            await self.renderer.render(item.chat_id, replies)
            return
        refused = _refusal(replies)
        await self._answer(query.id, refused.text if refused else None)
        if refused is not None:
            if message is not None and refused.kind == "warning":
                await self._drop_stale(item.chat_id, message)
            return
        if message is not None:
            await self._mark(item.chat_id, message, query)
        await self.renderer.render(item.chat_id, replies)

    def _number_as_button(self, item: Input) -> Incoming:
        """A number typed while a turn's choices are shown means that choice, as in the
        terminal. Only a turn's: "1" must never answer "Delete all your data?"."""
        text = (item.incoming.text or "").strip()
        keyboard = self.renderer.turn_keyboard(item.chat_id)
        if keyboard is None or not text.isdigit() or len(text) > 2:
            return item.incoming
        buttons = keyboard.buttons.buttons
        index = int(text) - 1
        if not 0 <= index < len(buttons):
            return item.incoming
        return replace(item.incoming, text=None, button=buttons[index].data)

    async def _applied(self, incoming: Incoming) -> bool:
        """Whether the service already committed a turn for this input (its key is in the
        trainee's latest session). Asked of the session store behind the service, through its
        port, because the service has no such question (yet); only for replays, so rare."""
        if incoming.key is None:
            return False
        store = self.service.store
        trainee = await store.trainee(incoming.platform, incoming.user_id)
        sessions = await store.sessions_of(trainee.id)
        return bool(sessions) and await store.input_seen(sessions[-1].id, incoming.key)

    async def _where_you_are(self, incoming: Incoming) -> list[Outgoing]:
        ask = replace(incoming, text="/resume", button=None, key=None)
        replies = await self.service.handle(ask)
        if _is(replies, _NO_SESSION):  # that turn ended the session: show its result
            replies = await self.service.handle(replace(ask, text="/debrief"))
        return replies

    async def _mark(self, chat_id: int, message: Message, query: CallbackQuery) -> None:
        data = query.data or ""
        keyboard = self.renderer.keyboard(chat_id, message.message_id)
        if keyboard is not None:
            label = next((b.label for b in keyboard.buttons.buttons if b.data == data), None)
            html = keyboard.html
        else:  # a keyboard from before a restart: what Telegram shows is all we know
            rows = message.reply_markup.inline_keyboard if message.reply_markup else []
            label = next((b.text for row in rows for b in row if b.callback_data == data), None)
            html = message.html_text
        if label is not None:
            await self.renderer.mark_chosen(chat_id, message.message_id, html, label)
        else:
            await self.renderer.strip(chat_id, message.message_id)

    async def _drop_stale(self, chat_id: int, message: Message) -> None:
        """A button of a passed turn was pressed: its keyboard goes, unless it is the current."""
        if self.renderer.keyboard(chat_id, message.message_id) is None:
            await self.renderer.strip(chat_id, message.message_id)

    async def _answer(self, query_id: str, text: str | None) -> None:
        """Stop the button's spinner; a refusal is shown as a short notice above the chat."""
        try:
            await self.bot.answer_callback_query(query_id, text=text[:200] if text else None)
        except TelegramAPIError as error:  # too old (e.g. replayed after a restart)
            log.debug("callback not answered: %s", safe_error(error))


def _is(replies: list[Outgoing], texts: frozenset[str]) -> bool:
    return len(replies) == 1 and isinstance(replies[0], TextOut) and replies[0].text in texts


def _refusal(replies: list[Outgoing]) -> TextOut | None:
    """The reply that says a pressed button did nothing, else None."""
    if len(replies) != 1 or not isinstance(replies[0], TextOut):
        return None
    only = replies[0]
    return only if only.kind in ("warning", "error") or only.text in _NOT_DONE else None


def _recoverable(incoming: Incoming) -> bool:
    """Whether "where you are" answers a repeat of this input (a pause must not be resumed)."""
    command = parse_command(incoming.text or "") if incoming.button is None else None
    return command is None or command.name not in _NO_RECOVERY
