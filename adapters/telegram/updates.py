"""What a Telegram update means for Signpost: a trainee's input, a short refusal, or nothing.

Pure functions over aiogram's types, so the rules for bad input are in one place: only private
chats, only text and buttons; stickers, locations, files and edits are refused politely.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiogram.types import CallbackQuery, Message, Update, User

from adapters.telegram.options import PLATFORM
from bot.app.i18n import supported
from bot.app.messages import Incoming

#: content a person sends on purpose; anything else without text (a pinned-message notice, a
#: member joining) is a service message and is ignored without a reply
_USER_CONTENT = frozenset(
    {
        "animation",
        "audio",
        "contact",
        "dice",
        "document",
        "game",
        "location",
        "paid_media",
        "photo",
        "poll",
        "sticker",
        "story",
        "venue",
        "video",
        "video_note",
        "voice",
    }
)


@dataclass(frozen=True, slots=True)
class Input:
    """Something to hand to the service, and where the answer goes."""

    incoming: Incoming
    chat_id: int
    #: the callback query to answer, and the message its button was on
    callback: CallbackQuery | None = None


@dataclass(frozen=True, slots=True)
class Refusal:
    """Bad input: one short reply (a locale key), nothing else happens."""

    chat_id: int
    user_id: int
    key: str
    language: str
    callback_id: str | None = None


Action = Input | Refusal | None


def update_key(bot_id: int, update_id: int) -> str:
    """The update's id in the store's inbox; update ids are per bot, so the bot is part of it."""
    return f"{bot_id}:{update_id}"


def lane_of(update: Update) -> int | None:
    """Whose updates must be handled in order with this one: its sender's."""
    for event in (update.message, update.edited_message, update.callback_query):
        if event is not None and event.from_user is not None:
            return event.from_user.id
    return None


def classify(update: Update, key: str) -> Action:
    if update.message is not None:
        return _message(update.message, key)
    if update.edited_message is not None:
        edited = update.edited_message
        if edited.from_user is None or edited.from_user.is_bot or edited.chat.type != "private":
            return None
        return Refusal(edited.chat.id, edited.from_user.id, "tg_edited", _lang(edited.from_user))
    if update.callback_query is not None:
        return _callback(update.callback_query, key)
    return None  # channel posts, inline queries, membership changes: not for this bot


def _message(message: Message, key: str) -> Action:
    user = message.from_user
    if user is None or user.is_bot:
        return None
    lang = _lang(user)
    if message.chat.type != "private":
        if message.text is None or not message.text.startswith("/"):
            return None  # chatter in a group the bot was added to: stay quiet
        return Refusal(message.chat.id, user.id, "tg_private_only", lang)
    if message.text is None:
        if message.content_type in _USER_CONTENT:
            return Refusal(message.chat.id, user.id, "tg_only_text", lang)
        return None
    incoming = Incoming(PLATFORM, str(user.id), text=message.text, key=key, language=lang)
    return Input(incoming, message.chat.id)


def _callback(query: CallbackQuery, key: str) -> Action:
    user = query.from_user
    lang = _lang(user)
    message = query.message
    if message is None or message.chat.type != "private":
        return Refusal(user.id, user.id, "tg_private_only", lang, callback_id=query.id)
    if not query.data:
        return Refusal(message.chat.id, user.id, "bad_button", lang, callback_id=query.id)
    incoming = Incoming(PLATFORM, str(user.id), button=query.data, key=key, language=lang)
    return Input(incoming, message.chat.id, callback=query)


def _lang(user: User) -> str:
    return supported(user.language_code)
