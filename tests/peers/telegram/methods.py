"""The Bot API methods the peer answers, with Telegram's checks and Telegram's error texts.

`api_<method>` (lower case) gets the request's parameters as sent (multipart or urlencoded
form, or JSON) and returns the `result`, or raises ApiError.
"""

from __future__ import annotations

import json
import re
import time
from typing import TYPE_CHECKING, Any

from aiohttp.web_request import FileField

from tests.peers.telegram.model import ApiError

if TYPE_CHECKING:
    from tests.peers.telegram.server import BotApiPeer

CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_COMMAND = re.compile(r"^[a-z0-9_]{1,32}$")
_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
MEDIA = {
    "sendphoto": "photo",
    "sendvideo": "video",
    "sendvoice": "voice",
    "sendvideonote": "video_note",
    "senddocument": "document",
    "sendaudio": "audio",
}


class MethodsMixin:
    # -- the bot itself ---------------------------------------------------------------------

    async def api_getme(self: BotApiPeer, params: dict[str, Any]) -> Any:
        return self.bot_user

    async def api_setmycommands(self: BotApiPeer, params: dict[str, Any]) -> Any:
        commands = _json(params.get("commands"), "commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise ApiError(400, "Bad Request: commands are invalid")
        for command in commands:
            if not _COMMAND.match(str(command.get("command", ""))):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands[params.get("language_code") or None] = commands
        return True

    async def api_getmycommands(self: BotApiPeer, params: dict[str, Any]) -> Any:
        return self.commands.get(params.get("language_code") or None, [])

    # -- updates ----------------------------------------------------------------------------

    async def api_getupdates(self: BotApiPeer, params: dict[str, Any]) -> Any:
        if self.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = int(params.get("offset") or 0)
        limit = min(100, max(1, int(params.get("limit") or 100)))
        timeout = float(params.get("timeout") or 0)
        if offset:
            self.confirm(offset)
        deadline = time.monotonic() + timeout
        while True:
            ready = [u for u in self.pending if u["update_id"] >= offset]
            left = deadline - time.monotonic()
            if ready or left <= 0:
                return ready[:limit]
            await self.wait_updates(left)

    async def api_setwebhook(self: BotApiPeer, params: dict[str, Any]) -> Any:
        url = str(params.get("url") or "")
        if not url:
            self.stop_webhook(drop_pending=False)
            return True
        secret = str(params.get("secret_token") or "")
        if secret and not _SECRET.match(secret):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        self.start_webhook(url, secret, _flag(params.get("drop_pending_updates")))
        return True

    async def api_deletewebhook(self: BotApiPeer, params: dict[str, Any]) -> Any:
        self.stop_webhook(_flag(params.get("drop_pending_updates")))
        return True

    async def api_getwebhookinfo(self: BotApiPeer, params: dict[str, Any]) -> Any:
        hook = self.webhook or {}
        return {
            "url": hook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self.pending),
        }

    # -- messages ---------------------------------------------------------------------------

    async def api_sendmessage(self: BotApiPeer, params: dict[str, Any]) -> Any:
        chat = self.chat(params.get("chat_id"))
        content = self.formatted(params, "text", 4096)
        markup = self.keyboard(params)
        if markup:
            content["reply_markup"] = markup
        return self.new_message(chat, self.bot_user, **content)

    async def api_editmessagetext(self: BotApiPeer, params: dict[str, Any]) -> Any:
        message = self._own_message(params)
        content = self.formatted(params, "text", 4096)
        markup = self.keyboard(params)  # none given: the keyboard goes, as on Telegram
        if (
            content.get("text") == message.get("text")
            and content.get("entities") == message.get("entities")
            and markup == message.get("reply_markup")
        ):
            raise ApiError(400, "Bad Request: message is not modified")
        message.pop("entities", None)
        message.pop("reply_markup", None)
        message.update(content, edit_date=int(time.time()))
        if markup:
            message["reply_markup"] = markup
        return message

    async def api_editmessagereplymarkup(self: BotApiPeer, params: dict[str, Any]) -> Any:
        message = self._own_message(params)
        markup = self.keyboard(params)
        if markup == message.get("reply_markup"):
            raise ApiError(400, "Bad Request: message is not modified")
        message.pop("reply_markup", None)
        if markup:
            message["reply_markup"] = markup
        message["edit_date"] = int(time.time())
        return message

    def _own_message(self: BotApiPeer, params: dict[str, Any]) -> dict[str, Any]:
        chat = self.chat(params.get("chat_id"))
        message = chat.messages.get(int(params.get("message_id") or 0))
        if message is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        if message["from"]["id"] != self.bot_user["id"]:
            raise ApiError(400, "Bad Request: message can't be edited")
        return message

    async def api_answercallbackquery(self: BotApiPeer, params: dict[str, Any]) -> Any:
        query_id = str(params.get("callback_query_id") or "")
        if query_id not in self.open_callbacks:
            raise ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        self.open_callbacks.discard(query_id)
        text = params.get("text")
        if text is not None and len(text) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        self.callback_answers[query_id] = {
            "text": text,
            "show_alert": _flag(params.get("show_alert")),
        }
        return True

    async def api_sendchataction(self: BotApiPeer, params: dict[str, Any]) -> Any:
        chat = self.chat(params.get("chat_id"))
        action = str(params.get("action"))
        if action not in CHAT_ACTIONS:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        self.actions.append((chat.info["id"], action))
        return True

    # -- media ------------------------------------------------------------------------------

    async def _send_media(self: BotApiPeer, params: dict[str, Any], kind: str) -> Any:
        chat = self.chat(params.get("chat_id"))
        value = params.get(kind)
        if isinstance(value, str) and value.startswith("attach://"):
            value = params.get(value.removeprefix("attach://"))
        if isinstance(value, FileField):
            data = value.file.read()
            if not data:
                raise ApiError(400, "Bad Request: file must be non-empty")
            file_id, stored = self.store_file(kind, data)
            uploaded = True
        elif isinstance(value, str) and value in self.files:
            file_id, stored, uploaded = value, self.files[value], False
            if stored.kind != kind:
                raise ApiError(400, f"Bad Request: can't use file of type {stored.kind} as {kind}")
        else:
            raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        content: dict[str, Any] = {kind: _file_object(kind, file_id, stored)}
        if params.get("caption"):
            if kind == "video_note":
                raise ApiError(400, "Bad Request: video notes can't have a caption")
            content.update(self.formatted(params, "caption", 1024))
        markup = self.keyboard(params)
        if markup:
            content["reply_markup"] = markup
        message = self.new_message(chat, self.bot_user, **content)
        message["_uploaded"] = uploaded  # for the tests only; aiogram ignores extra fields
        return message

    async def api_sendphoto(self: BotApiPeer, params: dict[str, Any]) -> Any:
        return await self._send_media(params, "photo")

    async def api_sendvideo(self: BotApiPeer, params: dict[str, Any]) -> Any:
        return await self._send_media(params, "video")

    async def api_sendvoice(self: BotApiPeer, params: dict[str, Any]) -> Any:
        return await self._send_media(params, "voice")

    async def api_sendvideonote(self: BotApiPeer, params: dict[str, Any]) -> Any:
        return await self._send_media(params, "video_note")

    async def api_senddocument(self: BotApiPeer, params: dict[str, Any]) -> Any:
        return await self._send_media(params, "document")

    async def api_sendaudio(self: BotApiPeer, params: dict[str, Any]) -> Any:
        return await self._send_media(params, "audio")


def _file_object(kind: str, file_id: str, stored: Any) -> Any:
    base = {"file_id": file_id, "file_unique_id": stored.unique_id, "file_size": stored.size}
    if kind == "photo":
        thumb = base | {"file_id": file_id + "-s", "width": 90, "height": 90, "file_size": 999}
        return [thumb, base | {"width": 1280, "height": 960}]
    if kind == "video":
        return base | {"width": 640, "height": 360, "duration": 5}
    if kind == "video_note":
        return base | {"length": 240, "duration": 5}
    if kind in ("voice", "audio"):
        return base | {"duration": 5}
    return base | {"file_name": "clip"}


def _json(value: Any, name: str) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise ApiError(400, f"Bad Request: can't parse {name} JSON object") from None
    return value


def _flag(value: Any) -> bool:
    return str(value).lower() in ("true", "1")
