"""A Telegram Bot API server for tests: real HTTP on 127.0.0.1, the methods Signpost's bot uses.

The bot under test is stock aiogram pointed here with `TelegramAPIServer.from_base(peer.url)`.
The peer keeps the chats as Telegram would (message ids, edits, keyboards, uploaded files and
their `file_id`s), answers errors the way Telegram does (`{"ok": false, "error_code", ...}`),
and delivers updates by long polling (offset and timeout honoured) or to a webhook (with the
secret header, retried until answered 200). The test side (`trainee.py`) injects what trainees
do and reads what the bot sent; `fail()` injects 429s with `retry_after`, 5xx answers, dropped
connections and requests that hang.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import json
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable
from typing import Any

import aiohttp
from aiohttp import web

from tests.peers.telegram.entities import EntityError, parse_html
from tests.peers.telegram.methods import MethodsMixin
from tests.peers.telegram.model import ApiError, Call, Chat, Fault, StoredFile
from tests.peers.telegram.trainee import TraineeSideMixin


class BotApiPeer(MethodsMixin, TraineeSideMixin):
    def __init__(self, token: str, *, username: str = "signpost_test_bot") -> None:
        self.token = token
        self.bot_user = {
            "id": int(token.split(":")[0]),
            "is_bot": True,
            "first_name": "Signpost",
            "username": username,
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self.chats: dict[int, Chat] = {}
        self.pending: list[dict[str, Any]] = []  # updates not confirmed yet
        self.history: dict[int, dict[str, Any]] = {}  # every update ever pushed
        self.update_ids = itertools.count(1)
        self.calls: list[Call] = []
        self.faults: dict[str, deque[Fault]] = defaultdict(deque)
        self.release = asyncio.Event()  # ends every "hang"
        self.actions: list[tuple[int, str]] = []
        self.callback_answers: dict[str, dict[str, Any]] = {}
        self.open_callbacks: set[str] = set()
        self.commands: dict[str | None, list[dict[str, Any]]] = {}
        self.files: dict[str, StoredFile] = {}
        self.uploads: Counter[str] = Counter()  # digest -> times its bytes were uploaded
        self.webhook: dict[str, Any] | None = None
        self.webhook_deliveries = 0
        self.webhook_refusals = 0
        self.changed = asyncio.Condition()
        self._updates_arrived = asyncio.Event()
        self._deliveries: dict[int, asyncio.Task[None]] = {}
        self._delivery_queues: dict[int, deque[dict[str, Any]]] = defaultdict(deque)
        self._runner: web.AppRunner | None = None
        self._client: aiohttp.ClientSession | None = None
        self.url = ""

    # -- lifecycle --------------------------------------------------------------------------

    async def start(self) -> str:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._serve)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        self._client = aiohttp.ClientSession()
        return self.url

    async def close(self) -> None:
        self.release.set()
        for task in self._deliveries.values():
            task.cancel()
        await asyncio.gather(*self._deliveries.values(), return_exceptions=True)
        if self._client is not None:
            await self._client.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # -- faults -----------------------------------------------------------------------------

    def fail(self, method: str, kind: str, *, times: int = 1, retry_after: int = 1) -> None:
        """The next `times` calls of `method` fail: "429" (with retry_after), "500", "drop"
        (the connection is closed without an answer) or "hang" (no answer until `release`)."""
        for _ in range(times):
            self.faults[method].append(Fault(kind, retry_after))

    # -- HTTP -------------------------------------------------------------------------------

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return _error(ApiError(401, "Unauthorized"))
        params = await self._params(request)
        call = Call(method, time.monotonic(), _int_or_none(params.get("chat_id")), "pending")
        await self._log(call)
        fault = self.faults[method].popleft() if self.faults.get(method) else None
        if fault is not None:
            call.outcome = fault.kind
            return await self._fault(request, fault)
        handler: Callable[..., Any] | None = getattr(self, f"api_{method.lower()}", None)
        try:
            if handler is None:
                raise ApiError(404, "Not Found")
            result = await handler(params)
        except ApiError as error:
            call.outcome = f"error {error.code}"
            await self._log(None)
            return _error(error)
        call.outcome = "ok"
        await self._log(None)
        return web.json_response({"ok": True, "result": result})

    async def _fault(self, request: web.Request, fault: Fault) -> web.StreamResponse:
        if fault.kind == "429":
            description = f"Too Many Requests: retry after {fault.retry_after}"
            return _error(ApiError(429, description, fault.retry_after))
        if fault.kind == "500":
            return _error(ApiError(500, "Internal Server Error"))
        if fault.kind == "hang":
            await self.release.wait()
        if request.transport is not None:
            request.transport.abort()
        return web.Response(status=500)

    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.method == "POST":
            if request.content_type == "application/json":
                params.update(await request.json())
            else:
                form = await request.post()
                for key, value in form.items():
                    params[key] = value
        return params

    async def _log(self, call: Call | None) -> None:
        """Note a call as it arrives (None: one finished); wake whoever waits for a change."""
        if call is not None:
            self.calls.append(call)
        async with self.changed:
            self.changed.notify_all()

    # -- shared helpers for the methods -----------------------------------------------------

    def chat(self, chat_id: Any) -> Chat:
        chat = self.chats.get(_int(chat_id, "chat_id"))
        if chat is None:
            raise ApiError(400, "Bad Request: chat not found")
        return chat

    def new_message(self, chat: Chat, sender: dict[str, Any], **content: Any) -> dict[str, Any]:
        message_id = next(chat.ids)
        message = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": chat.info,
            "from": sender,
            **content,
        }
        chat.messages[message_id] = message
        return message

    def formatted(self, params: dict[str, Any], key: str, limit: int) -> dict[str, Any]:
        text = params.get(key)
        if not isinstance(text, str) or not text:
            raise ApiError(400, f"Bad Request: {key} is empty")
        entities: list[dict[str, Any]] = []
        if str(params.get("parse_mode", "")).upper() == "HTML":
            try:
                text, entities = parse_html(text)
            except EntityError as error:
                raise ApiError(400, f"Bad Request: can't parse entities: {error}") from None
        if len(text) > limit:
            raise ApiError(400, f"Bad Request: {key} is too long")
        if not text.strip():
            raise ApiError(400, f"Bad Request: {key} must be non-empty")
        entity_key = "entities" if key == "text" else "caption_entities"
        return {key: text, entity_key: entities} if entities else {key: text}

    def keyboard(self, params: dict[str, Any]) -> dict[str, Any] | None:
        raw = params.get("reply_markup")
        if not raw:
            return None
        markup = json.loads(raw) if isinstance(raw, str) else raw
        rows = markup.get("inline_keyboard")
        if not isinstance(rows, list):
            raise ApiError(400, "Bad Request: only inline keyboards are supported here")
        for row in rows:
            for button in row:
                data = button.get("callback_data", "")
                if not button.get("text"):
                    raise ApiError(400, "Bad Request: text buttons are unallowed")
                if not 1 <= len(data.encode()) <= 64:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        return {"inline_keyboard": rows} if rows else None

    def store_file(self, kind: str, data: bytes) -> tuple[str, StoredFile]:
        digest = hashlib.sha256(data).hexdigest()
        self.uploads[digest] += 1
        file_id = f"{kind}-{digest[:12]}-{self.uploads[digest]}-{len(self.files)}"
        stored = StoredFile(kind, digest, len(data), digest[:16])
        self.files[file_id] = stored
        return file_id, stored

    # -- updates ----------------------------------------------------------------------------

    def push(self, update: dict[str, Any]) -> int:
        """Hand an update to the bot (by getUpdates or the webhook); returns its update_id."""
        if "update_id" not in update:
            update = {"update_id": next(self.update_ids), **update}
        self.history.setdefault(int(update["update_id"]), update)
        self.pending.append(update)
        self._updates_arrived.set()
        if self.webhook is not None:
            self._deliver(update)
        return int(update["update_id"])

    def resend(self, update_id: int) -> None:
        """Deliver an update again, same update_id (Telegram does, after a timeout)."""
        self.push(dict(self.history[update_id]))

    def confirm(self, offset: int) -> None:
        self.pending = [u for u in self.pending if u["update_id"] >= offset]

    async def wait_updates(self, seconds: float) -> None:
        self._updates_arrived.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._updates_arrived.wait(), seconds)

    def _deliver(self, update: dict[str, Any]) -> None:
        lane = _sender(update)
        self._delivery_queues[lane].append(update)
        if lane not in self._deliveries or self._deliveries[lane].done():
            self._deliveries[lane] = asyncio.create_task(self._deliver_lane(lane))

    async def _deliver_lane(self, lane: int) -> None:
        queue = self._delivery_queues[lane]
        assert self._client is not None
        while queue and self.webhook is not None:
            update = queue[0]
            hook = self.webhook
            headers = {"X-Telegram-Bot-Api-Secret-Token": hook.get("secret_token", "")}
            try:
                async with self._client.post(hook["url"], json=update, headers=headers) as reply:
                    ok = reply.status == 200
            except aiohttp.ClientError:
                ok = False
            if ok:
                queue.popleft()
                self.webhook_deliveries += 1
                self.pending = [u for u in self.pending if u is not update]
            else:  # Telegram tries again later
                self.webhook_refusals += 1
                await asyncio.sleep(0.05)

    def start_webhook(self, url: str, secret: str, drop_pending: bool) -> None:
        self.webhook = {"url": url, "secret_token": secret}
        if drop_pending:
            self.pending.clear()
        for update in self.pending:
            self._deliver(update)

    def stop_webhook(self, drop_pending: bool) -> None:
        self.webhook = None
        self._delivery_queues.clear()
        if drop_pending:
            self.pending.clear()


def _sender(update: dict[str, Any]) -> int:
    for kind in ("message", "edited_message", "callback_query"):
        if kind in update:
            return int(update[kind]["from"]["id"])
    return 0


def _error(error: ApiError) -> web.Response:
    body: dict[str, Any] = {
        "ok": False,
        "error_code": error.code,
        "description": error.description,
    }
    if error.retry_after is not None:
        body["parameters"] = {"retry_after": error.retry_after}
    return web.json_response(body, status=error.code)


def _int(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ApiError(400, f"Bad Request: {name} is invalid") from None


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
