"""The test side of the peer: what trainees do in their Telegram app, and what they see.

Trainees are private chats (chat id = user id). Injected actions become updates exactly as
Telegram would send them: a message with `from`, `chat` and `date`; a callback query with
`chat_instance` and the message its button is on.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tests.peers.telegram.model import Chat

if TYPE_CHECKING:
    from tests.peers.telegram.server import BotApiPeer

_query_ids = itertools.count(1)


class TraineeSideMixin:
    def user(
        self: BotApiPeer, user_id: int, *, first_name: str = "Trainee", language_code: str = "en"
    ) -> Chat:
        chat = self.chats.get(user_id)
        if chat is None:
            user = {
                "id": user_id,
                "is_bot": False,
                "first_name": first_name,
                "language_code": language_code,
            }
            info = {"id": user_id, "type": "private", "first_name": first_name}
            chat = self.chats[user_id] = Chat(info, user)
        return chat

    def group(self: BotApiPeer, chat_id: int, title: str = "Trainers") -> Chat:
        """A group the bot was added to (sessions are private: the bot says so there)."""
        chat = self.chats.get(chat_id)
        if chat is None:
            chat = self.chats[chat_id] = Chat({"id": chat_id, "type": "supergroup", "title": title})
        return chat

    def send_in_group(self: BotApiPeer, chat_id: int, user_id: int, text: str) -> int:
        message = self.new_message(self.group(chat_id), self.user(user_id).user, text=text)
        return self.push({"message": message})

    def send_text(self: BotApiPeer, user_id: int, text: str) -> int:
        return self.send_content(user_id, text=text)

    def send_content(self: BotApiPeer, user_id: int, **content: Any) -> int:
        """A message from the trainee: text=..., or sticker=..., location=..., document=..."""
        chat = self.user(user_id)
        if "text" in content and content["text"].startswith("/"):
            command = content["text"].split()[0]
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        message = self.new_message(chat, chat.user, **content)
        return self.push({"message": message})

    def edit_text(self: BotApiPeer, user_id: int, message_id: int, text: str) -> int:
        chat = self.user(user_id)
        message = chat.messages[message_id]
        assert message["from"]["id"] == user_id, "one edits only one's own messages"
        message.update(text=text, edit_date=int(time.time()))
        return self.push({"edited_message": dict(message)})

    def press(self: BotApiPeer, user_id: int, message_id: int, data: str) -> tuple[int, str]:
        """Press a button with `data` on message `message_id`; (update_id, callback query id).

        The data is sent as given, so a test can press buttons that are not there (forged)."""
        chat = self.user(user_id)
        message = chat.messages[message_id]
        query_id = f"q{next(_query_ids)}"
        self.open_callbacks.add(query_id)
        query = {
            "id": query_id,
            "from": chat.user,
            "message": dict(message),
            "chat_instance": f"ci{user_id}",
            "data": data,
        }
        return self.push({"callback_query": query}), query_id

    # -- what the trainee sees --------------------------------------------------------------

    def bot_messages(self: BotApiPeer, user_id: int) -> list[dict[str, Any]]:
        chat = self.chats.get(user_id)
        if chat is None:
            return []
        bot_id = self.bot_user["id"]
        return [m for m in chat.messages.values() if m["from"]["id"] == bot_id]

    def last_message_id(self: BotApiPeer, user_id: int) -> int:
        chat = self.chats.get(user_id)
        return max(chat.messages, default=0) if chat else 0

    def with_keyboard(self: BotApiPeer, user_id: int) -> list[dict[str, Any]]:
        return [m for m in self.bot_messages(user_id) if m.get("reply_markup")]

    async def wait_until(
        self: BotApiPeer, predicate: Callable[[], Any], within: float = 10.0, what: str = ""
    ) -> Any:
        """Wait for `predicate()` to be truthy (checked after every API call); its value."""
        deadline = asyncio.get_running_loop().time() + within
        async with self.changed:
            while not (value := predicate()):
                left = deadline - asyncio.get_running_loop().time()
                if left <= 0:
                    raise AssertionError(f"timed out waiting for {what or predicate}")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.changed.wait(), min(left, 0.5))
        return value


def buttons_of(message: dict[str, Any]) -> list[dict[str, Any]]:
    markup = message.get("reply_markup") or {}
    return [b for row in markup.get("inline_keyboard", []) for b in row]


def texts(messages: list[dict[str, Any]]) -> list[str]:
    return [m.get("text") or m.get("caption") or "" for m in messages]
