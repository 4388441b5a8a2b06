"""The only module that talks to matrix-nio (with crypto.py for its encryption part): login,
sync, send, upload, join, typing.

nio answers server errors with response objects rather than exceptions, and retries rate
limits by itself unless told not to; here every answer becomes either a value or a `Failure`
the caller decides about, and nio's own retry of `M_LIMIT_EXCEEDED` is off (the outbox waits
per room instead, with the same transaction id).

With encryption on, nio decrypts a sync's events in place before the sync returns, so the
runner reads decrypted messages exactly as clear ones; what it cannot decrypt stays an
`m.room.encrypted` event. Sending to an encrypted room encrypts (nio shares the room key with
the members' devices first).
"""

from __future__ import annotations

import io
import logging
from pathlib import Path
from typing import Any

import aiohttp
from nio import (  # type: ignore[import-untyped]
    AsyncClient,
    AsyncClientConfig,
    EncryptionError,
    ErrorResponse,
    GroupEncryptionError,
    JoinResponse,
    LocalProtocolError,
    LoginResponse,
    MatrixRoom,
    OlmTrustError,
    RoomGetStateEventResponse,
    RoomSendResponse,
    SyncResponse,
    UploadResponse,
    WhoamiResponse,
)

from adapters.matrix import crypto
from adapters.matrix.outbox import Failure

log = logging.getLogger(__name__)

#: errors that will not go away by asking again
PERMANENT = frozenset(
    {"M_FORBIDDEN", "M_NOT_FOUND", "M_TOO_LARGE", "M_BAD_JSON", "M_NOT_JSON", "M_UNAUTHORIZED"}
)
NETWORK_ERRORS = (aiohttp.ClientError, TimeoutError, OSError)
#: what nio raises when it cannot encrypt a message (yet): retried like a server error
ENCRYPTION_ERRORS = (LocalProtocolError, EncryptionError, GroupEncryptionError, OlmTrustError)


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

    def __init__(
        self, homeserver: str, user: str, *, device_id: str | None = None, e2e: bool = False
    ) -> None:
        """`e2e`: able to encrypt once `open_key_store` has loaded the device's keys (nio's
        `e2e` extra must be installed)."""
        config = AsyncClientConfig(
            max_limit_exceeded=0,
            max_timeouts=1,
            request_timeout=60,
            store_sync_tokens=False,
            encryption_enabled=e2e,
        )
        # no store path yet: nio would open the key store at login, before the adapter could
        # check that the folder holds this device's keys (see crypto.open_store)
        self.nio = AsyncClient(homeserver, user, device_id=device_id, store_path="", config=config)
        #: rooms whose encryption was asked of the server in this run
        self._checked: set[str] = set()

    @property
    def encrypts(self) -> bool:
        """Whether the device's keys are loaded: encrypted rooms are read and written."""
        return self.nio.olm is not None

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
        if not isinstance(answer, SyncResponse):
            return failure(answer)
        if self.encrypts:
            # nio has taken this answer in (its sync token moved on): it must reach the runner
            # whatever happens to the key upkeep, which is tried again after the next sync
            try:
                if since is not None:  # on the very first sync, what is there is history
                    await crypto.request_keys(self.nio, answer)
                await crypto.chores(self.nio)
            except Exception:
                log.exception("encryption key upkeep failed (tried again after the next sync)")
        return answer

    async def open_key_store(self, folder: Path) -> crypto.StoreState | Failure:
        """After login: load this device's keys from `folder` (created the first time) and
        publish them; `lost` if the server has keys for this device that the folder lacks."""
        try:
            return await crypto.open_store(self.nio, folder)
        except NETWORK_ERRORS as error:
            return Failure(f"network: {type(error).__name__}")
        except Exception as error:  # e.g. a damaged key store file: said, not a traceback
            log.exception("the key store in %s cannot be opened", folder)
            return Failure(f"key store: {type(error).__name__}")

    async def send(
        self, room_id: str, event_type: str, content: dict[str, Any], txn_id: str
    ) -> str | Failure:
        try:
            if self.encrypts and (unknown := await self._know_room(room_id)) is not None:
                return unknown
            # nio encrypts for an encrypted room; unverified devices get the key too (why:
            # crypto.py). The same transaction id is the same event, however it was encrypted.
            answer = await self.nio.room_send(
                room_id, event_type, content, tx_id=txn_id, ignore_unverified_devices=True
            )
        except NETWORK_ERRORS as error:
            return Failure(f"network: {type(error).__name__}")
        except ENCRYPTION_ERRORS as error:
            log.warning("cannot encrypt for %s yet: %r", room_id, error)
            return Failure(f"encryption: {type(error).__name__}")
        return str(answer.event_id) if isinstance(answer, RoomSendResponse) else failure(answer)

    async def encrypted(self, room_id: str) -> bool | Failure:
        """Whether what is sent to the room is encrypted (so its files should be too)."""
        if not self.encrypts:
            return False
        try:
            unknown = await self._know_room(room_id)
        except NETWORK_ERRORS as error:
            return Failure(f"network: {type(error).__name__}")
        return unknown if unknown is not None else bool(self.nio.rooms[room_id].encrypted)

    async def _know_room(self, room_id: str) -> Failure | None:
        """Whether a room is encrypted, from the server, before the first message to it in
        this run, unless nio already knows it is. nio learns it from the room's state in a
        sync, which an incremental sync does not repeat: a room joined before this key store
        existed (a new device, or encryption just turned on) would look clear to it, and nio
        would send clear text there. nio also refuses to send to a room it has not seen in a
        sync yet (an answer replayed at start)."""
        room = self.nio.rooms.get(room_id)
        if room_id in self._checked or (room is not None and room.encrypted):
            return None
        encrypted = room_id in self.nio.encrypted_rooms
        if not encrypted:
            answer = await self.nio.room_get_state_event(room_id, "m.room.encryption")
            if isinstance(answer, RoomGetStateEventResponse):
                encrypted = bool(answer.content.get("algorithm"))
            elif not (isinstance(answer, ErrorResponse) and answer.status_code == "M_NOT_FOUND"):
                return failure(answer)
        room = self.nio.rooms.get(room_id)  # a sync may have brought it meanwhile
        if room is None:
            room = self.nio.rooms[room_id] = MatrixRoom(room_id, self.nio.user_id, encrypted)
        if encrypted:
            room.encrypted = True
            if room_id not in self.nio.encrypted_rooms:
                self.nio.encrypted_rooms.add(room_id)
                self.nio.store.save_encrypted_rooms({room_id})
        self._checked.add(room_id)
        return None

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

    async def upload_encrypted(
        self, data: bytes, content_type: str, name: str
    ) -> dict[str, Any] | Failure:
        """Encrypt `data` here (AES-CTR, a new key per file) and upload the ciphertext: the
        `file` object of an event in an encrypted room (its URL and the key to read it)."""
        try:
            answer, keys = await self.nio.upload(
                io.BytesIO(data),
                content_type=content_type,
                filename=name,
                encrypt=True,
                filesize=len(data),
            )
        except NETWORK_ERRORS as error:
            return Failure(f"network: {type(error).__name__}")
        if not isinstance(answer, UploadResponse) or not keys:
            return failure(answer)
        return {"url": str(answer.content_uri), **keys}

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
        crypto.close_store(self.nio)
