"""A trainee driven with matrix-nio against the test homeserver: opens a DM with the bot, types,
reacts, and collects what the bot says (messages and typing notices) from its own sync loop.

Given a key `store` folder, the trainee's device does end-to-end encryption as a real client
would: it publishes its keys, keeps the devices of the people it shares rooms with up to date,
encrypts what it sends to an encrypted room, and decrypts what it receives."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nio import (  # type: ignore[import-untyped]
    AsyncClient,
    AsyncClientConfig,
    DownloadResponse,
    RoomCreateResponse,
    RoomPreset,
    RoomSendResponse,
    SyncResponse,
)

from tests.matrix.synapse import Account

_OPTION = re.compile(r"^(\d+)\. (.*)$")
_NOTHING = {"not_types": ["*"]}
#: what a trainee's client needs: its rooms' timelines and typing notices, nothing else
SYNC_FILTER = {
    "presence": _NOTHING,
    "account_data": _NOTHING,
    "room": {
        "state": {"lazy_load_members": True},
        "account_data": _NOTHING,
        "ephemeral": {"types": ["m.typing"]},
    },
}


def is_menu(event: dict[str, Any]) -> bool:
    content = event.get("content", {})
    return content.get("msgtype") == "m.text" and "<ol>" in content.get("formatted_body", "")


def is_debrief(event: dict[str, Any]) -> bool:
    content = event.get("content", {})
    return content.get("msgtype") == "m.notice" and content.get("body", "").startswith("Debrief")


def options(menu: dict[str, Any]) -> list[str]:
    """The labels of a menu, in order, read from its plain body."""
    found = []
    for line in menu["content"]["body"].split("\n"):
        match = _OPTION.match(line)
        if match:
            found.append(match.group(2))
    return found


def body(event: dict[str, Any]) -> str:
    return str(event.get("content", {}).get("body", ""))


@dataclass
class Trainee:
    url: str
    account: Account
    bot: str
    room: str = ""
    #: every bot event in the room, in the order the homeserver delivered them
    said: list[dict[str, Any]] = field(default_factory=list)
    #: (monotonic time, user ids typing) seen in the room
    typing: list[tuple[float, list[str]]] = field(default_factory=list)
    seen: int = 0
    #: a folder for this device's keys: end-to-end encryption on
    store: Path | None = None
    #: ids of the bot's events that arrived encrypted and were decrypted
    encrypted: set[str] = field(default_factory=set)
    client: AsyncClient = None
    _task: asyncio.Task[None] | None = None
    _news: asyncio.Condition = field(default_factory=asyncio.Condition)

    @property
    def user_id(self) -> str:
        return self.account.user_id

    async def start(self) -> Trainee:
        config = AsyncClientConfig(max_limit_exceeded=None, request_timeout=60)
        store = "" if self.store is None else str(self.store)
        if self.store is not None:
            self.store.mkdir(parents=True, exist_ok=True)
        self.client = AsyncClient(self.url, self.account.user_id, store_path=store, config=config)
        self.client.restore_login(  # with a store path, this opens the device's key store
            self.account.user_id, self.account.device_id, self.account.access_token
        )
        assert (self.client.olm is not None) == (self.store is not None)
        first = await self.client.sync(timeout=0)
        assert isinstance(first, SyncResponse), first
        await self.keep_keys()
        self._task = asyncio.create_task(self._sync(first.next_batch))
        return self

    async def _sync(self, since: str) -> None:
        while True:
            answer = await self.client.sync(timeout=30_000, since=since, sync_filter=SYNC_FILTER)
            if not isinstance(answer, SyncResponse):
                await asyncio.sleep(0.2)
                continue
            since = answer.next_batch
            await self.keep_keys()
            info = answer.rooms.join.get(self.room) if self.room else None
            if info is None:
                continue
            async with self._news:
                for event in info.timeline.events:
                    source = event.source
                    if source.get("sender") == self.bot and source.get("type") != "m.room.member":
                        self.said.append(source)
                        if getattr(event, "decrypted", False):
                            self.encrypted.add(str(source["event_id"]))
                for event in info.ephemeral:
                    source = getattr(event, "source", None) or {}
                    if source.get("type") == "m.typing" or hasattr(event, "users"):
                        users = list(getattr(event, "users", []) or [])
                        self.typing.append((time.monotonic(), users))
                self._news.notify_all()

    async def keep_keys(self) -> None:
        """The key work nio's sync_forever does between syncs (nothing without encryption)."""
        client = self.client
        if client.should_upload_keys:
            await client.keys_upload()
        if client.should_query_keys:
            await client.keys_query()
        if client.should_claim_keys:
            await client.keys_claim(client.get_users_for_key_claiming())
        await client.send_to_device_messages()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.client.close()

    # -- acting ---------------------------------------------------------------------------------

    async def open_dm(self, *, encrypted: bool = False, invite: bool = True) -> str:
        state = []
        if encrypted:
            state.append(
                {
                    "type": "m.room.encryption",
                    "state_key": "",
                    "content": {"algorithm": "m.megolm.v1.aes-sha2"},
                }
            )
        answer = await self.client.room_create(
            is_direct=True,
            preset=RoomPreset.trusted_private_chat,
            invite=[self.bot] if invite else [],
            initial_state=state,
        )
        assert isinstance(answer, RoomCreateResponse), answer
        self.room = answer.room_id
        return self.room

    async def send(self, content: dict[str, Any], event_type: str = "m.room.message") -> str:
        answer = await self.client.room_send(
            self.room, event_type, content, ignore_unverified_devices=True
        )
        assert isinstance(answer, RoomSendResponse), answer
        return str(answer.event_id)

    async def say(self, text: str) -> str:
        return await self.send({"msgtype": "m.text", "body": text})

    async def react(self, event_id: str, key: str) -> str:
        relates = {"rel_type": "m.annotation", "event_id": event_id, "key": key}
        return await self.send({"m.relates_to": relates}, "m.reaction")

    async def download(self, mxc: str) -> bytes:
        answer = await self.client.download(mxc=mxc)
        assert isinstance(answer, DownloadResponse), answer
        return bytes(answer.body)

    # -- waiting --------------------------------------------------------------------------------

    async def until(
        self, done: Any, within: float = 30.0, what: str = "the bot's answer"
    ) -> list[dict[str, Any]]:
        """The bot's events after the last ones read, up to the first one `done` accepts."""
        deadline = time.monotonic() + within
        async with self._news:
            while True:
                for index in range(self.seen, len(self.said)):
                    if done(self.said[index]):
                        batch = self.said[self.seen : index + 1]
                        self.seen = index + 1
                        return batch
                left = deadline - time.monotonic()
                if left <= 0:
                    recent = [body(e)[:80] for e in self.said[self.seen :]]
                    raise AssertionError(f"{self.user_id}: no {what} in {within} s; got {recent}")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._news.wait(), timeout=left)

    async def until_menu(self, within: float = 30.0) -> list[dict[str, Any]]:
        """Everything the bot says up to and including its next menu or debrief."""
        return await self.until(lambda e: is_menu(e) or is_debrief(e), within, "menu or debrief")

    async def quiet(self, seconds: float) -> list[dict[str, Any]]:
        """What the bot says within `seconds` (to check it says nothing)."""
        await asyncio.sleep(seconds)
        async with self._news:
            batch = self.said[self.seen :]
            self.seen = len(self.said)
            return batch
