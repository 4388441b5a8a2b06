"""The only module that talks to matrix-nio: login, sync, send, upload, join, typing.

nio answers server errors with response objects rather than exceptions, and retries rate
limits by itself unless told not to; here every answer becomes either a value or a `Failure`
the caller decides about, and nio's own retry of `M_LIMIT_EXCEEDED` is off (the outbox waits
per room instead, with the same transaction id).
"""

from __future__ import annotations

import io
import logging
from typing import Any

import aiohttp
from nio import (  # type: ignore[import-untyped]
    AsyncClient,
    AsyncClientConfig,
    ErrorResponse,
    JoinResponse,
    LoginResponse,
    RoomSendResponse,
    SyncResponse,
    UploadResponse,
    WhoamiResponse,
)

from adapters.matrix.outbox import Failure

log = logging.getLogger(__name__)

#: errors that will not go away by asking again
PERMANENT = frozenset(
    {"M_FORBIDDEN", "M_NOT_FOUND", "M_TOO_LARGE", "M_BAD_JSON", "M_NOT_JSON", "M_UNAUTHORIZED"}
)
NETWORK_ERRORS = (aiohttp.ClientError, TimeoutError, OSError)


def failure(response: Any) -> Failure:
    """A nio error response (or anything unexpected) as a `Failure`."""
    if not isinstance(response, ErrorResponse):
        return Failure(type(response).__name__)
    code = str(response.status_code or "M_UNKNOWN")
    if code == "M_UNKNOWN_TOKEN":
        return Failure(code, fatal=True)
    if code == "M_LIMIT_EXCEEDED":
        return Failure(code, retry_after=max(0.05, (response.retry_after_ms or 1000) / 1000))
    return Failure(code, permanent=code in PERMANENT)


def stripped_state(events: list[Any]) -> list[dict[str, Any]]:
    """An invite's state events as JSON. nio moves a member event's `content` out of its
    `source` (into attributes), so it is put back here."""
    found = []
    for event in events:
        source = dict(getattr(event, "source", None) or {})
        content = getattr(event, "content", None)
        if "content" not in source and isinstance(content, dict):
            source["content"] = content
        found.append(source)
    return found


class MatrixClient:
    """A logged-in bot account."""

    def __init__(self, homeserver: str, user: str, *, device_id: str | None = None) -> None:
        config = AsyncClientConfig(
            max_limit_exceeded=0,
            max_timeouts=1,
            request_timeout=60,
            store_sync_tokens=False,
            encryption_enabled=False,
        )
        self.nio = AsyncClient(homeserver, user, device_id=device_id, config=config)

    @property
    def user_id(self) -> str:
        return str(self.nio.user_id)

    @property
    def device_id(self) -> str:
        return str(self.nio.device_id or "")

    async def login(self, password: str | None, token: str | None) -> Failure | None:
        """Log in with the password, or check the access token; None on success."""
        try:
            if token:
                self.nio.access_token = token
                who = await self.nio.whoami()
                if not isinstance(who, WhoamiResponse):
                    return failure(who)
                self.nio.user_id = who.user_id
                self.nio.device_id = who.device_id
                return None
            answer = await self.nio.login(password=password, device_name="Signpost")
        except NETWORK_ERRORS as error:
            return Failure(f"network: {type(error).__name__}")
        return None if isinstance(answer, LoginResponse) else failure(answer)

    async def sync(
        self, since: str | None, timeout_ms: int, sync_filter: dict[str, Any]
    ) -> SyncResponse | Failure:
        try:
            answer = await self.nio.sync(timeout=timeout_ms, since=since, sync_filter=sync_filter)
        except NETWORK_ERRORS as error:
            return Failure(f"network: {type(error).__name__}")
        return answer if isinstance(answer, SyncResponse) else failure(answer)

    async def send(
        self, room_id: str, event_type: str, content: dict[str, Any], txn_id: str
    ) -> str | Failure:
        try:
            answer = await self.nio.room_send(room_id, event_type, content, tx_id=txn_id)
        except NETWORK_ERRORS as error:
            return Failure(f"network: {type(error).__name__}")
        return str(answer.event_id) if isinstance(answer, RoomSendResponse) else failure(answer)

    async def typing(self, room_id: str, seconds: float) -> None:
        try:
            await self.nio.room_typing(room_id, True, timeout=int(seconds * 1000) + 1000)
        except NETWORK_ERRORS as error:  # only a courtesy: never worth failing a message
            log.debug("typing notice to %s failed: %s", room_id, error)

    async def upload(self, data: bytes, content_type: str, name: str) -> str | Failure:
        try:
            answer, _ = await self.nio.upload(
                io.BytesIO(data), content_type=content_type, filename=name, filesize=len(data)
            )
        except NETWORK_ERRORS as error:
            return Failure(f"network: {type(error).__name__}")
        return str(answer.content_uri) if isinstance(answer, UploadResponse) else failure(answer)

    async def join(self, room_id: str) -> Failure | None:
        try:
            answer = await self.nio.join(room_id)
        except NETWORK_ERRORS as error:
            return Failure(f"network: {type(error).__name__}")
        return None if isinstance(answer, JoinResponse) else failure(answer)

    async def leave(self, room_id: str) -> None:
        try:
            await self.nio.room_leave(room_id)
        except NETWORK_ERRORS as error:
            log.warning("could not decline the invite to %s: %s", room_id, error)

    async def messages_before(
        self, room_id: str, start: str, end: str, limit: int
    ) -> list[dict[str, Any]] | Failure:
        """Timeline events between two sync tokens, oldest first (to fill a limited sync)."""
        collected: list[dict[str, Any]] = []
        token = start
        try:
            while len(collected) < limit:
                answer = await self.nio.room_messages(room_id, start=token, end=end, limit=100)
                if isinstance(answer, ErrorResponse):
                    return failure(answer)
                chunk = [e.source for e in answer.chunk]
                collected.extend(chunk)
                if not chunk or not answer.end or answer.end == token:
                    break
                token = answer.end
        except NETWORK_ERRORS as error:
            return Failure(f"network: {type(error).__name__}")
        return list(reversed(collected[:limit]))

    def room_encrypted(self, room_id: str) -> bool:
        room = self.nio.rooms.get(room_id)
        return bool(room is not None and room.encrypted)

    def member_count(self, room_id: str) -> int:
        room = self.nio.rooms.get(room_id)
        return int(room.member_count) if room is not None else 0

    async def close(self) -> None:
        await self.nio.close()
