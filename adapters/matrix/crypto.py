"""End-to-end encryption, when matrix-nio's `e2e` extra is installed (vodozemac and peewee).

nio does the cryptography and keeps the bot's keys in an SQLite file of its own (in the
folder SIGNPOST_MATRIX_STORE, one file per user and device). Its `sync_forever` would also do
the key work around every sync; the adapter has a sync loop of its own, so that work is here:
upload one-time keys when the server runs low, fetch the devices of people whose device list
changed, claim keys to repair a broken session, send queued to-device messages, and ask for a
room key the bot did not receive.

Trust: the bot encrypts for every device of the room's members that the homeserver lists,
without verifying any (nio's `ignore_unverified_devices`). A bot has nobody to compare emoji
with, so "verified" (or trust on first use, which would mark every first-seen device verified)
would claim a check that never happened; both share keys with the same devices anyway. What
this protects against: anyone who reads the homeserver's database or traffic. What it does not:
a homeserver administrator who adds a device to a trainee's account (the bot would encrypt for
it too). Training dialogues are not secrets of that kind; the limit is stated in the README.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any, Literal

from nio import (  # type: ignore[import-untyped]
    Api,
    ErrorResponse,
    LocalProtocolError,
    MegolmEvent,
)

log = logging.getLogger(__name__)

#: what opening the key store found: usable, or keys on the server that this folder lacks
StoreState = Literal["ready", "lost"]


def available() -> bool:
    """Whether nio can encrypt here (the `e2e` extra and its vodozemac wheel import)."""
    try:
        from nio.crypto import ENCRYPTION_ENABLED  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - nio itself is a dependency of the adapter
        return False
    return bool(ENCRYPTION_ENABLED)


def store_file(folder: Path, user_id: str, device_id: str) -> Path:
    """The file nio keeps a device's keys in (its DefaultStore naming)."""
    return folder / f"{user_id}_{device_id}.db"


async def open_store(nio: Any, folder: Path) -> StoreState:
    """Load (or create) the logged-in device's key store and publish its keys if needed.

    A device whose keys the server already has, but whose store file is missing here (the
    folder was lost or moved), cannot be used: its private keys are gone, and new ones would
    clash with the old one-time keys on the server. That is `lost`; the caller logs in as a
    new device instead. Raises the network errors of the one request it makes then."""
    known = await asyncio.to_thread(_has_store, folder, nio.user_id, nio.device_id)
    if not known and await _server_has_keys(nio):
        return "lost"
    nio.store_path = str(folder)
    nio.load_store()
    log.info("end-to-end encryption on: device %s, keys in %s", nio.device_id, folder)
    await chores(nio)
    return "ready"


def _has_store(folder: Path, user_id: str, device_id: str) -> bool:
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return store_file(folder, user_id, device_id).exists()


async def _server_has_keys(nio: Any) -> bool:
    method, path, data = Api.keys_query(nio.access_token, {nio.user_id})
    response = await nio.send(method, path, data, headers={"Content-Type": "application/json"})
    answer = await response.json(content_type=None)
    if response.status != 200 or not isinstance(answer, dict):
        raise OSError(f"keys/query answered {response.status}")
    devices = answer.get("device_keys", {}).get(nio.user_id, {})
    return isinstance(devices, dict) and nio.device_id in devices


def close_store(nio: Any) -> None:
    store = getattr(nio, "store", None)
    if store is not None:
        store.database.close()


async def chores(nio: Any) -> None:
    """What nio's `sync_forever` does between syncs. Failures are logged and tried again
    after the next sync: none of them is worth stopping the bot for."""
    jobs = []
    if nio.should_upload_keys:
        jobs.append(nio.keys_upload())
    if nio.should_query_keys:
        jobs.append(nio.keys_query())
    if nio.should_claim_keys:
        jobs.append(nio.keys_claim(nio.get_users_for_key_claiming()))
    if nio.outgoing_to_device_messages:
        jobs.append(nio.send_to_device_messages())
    for result in await asyncio.gather(*jobs, return_exceptions=True):
        if isinstance(result, BaseException) and not isinstance(result, Exception):
            raise result
        if isinstance(result, Exception | ErrorResponse):
            log.warning("encryption key upkeep failed (tried again later): %r", result)


async def request_keys(nio: Any, answer: Any) -> None:
    """Ask for the room keys of the messages nio could not decrypt in this sync.

    nio sends the request to the bot's own other devices and accepts a key forwarded only by
    one of those (verified): with a bot that has a single device this rarely brings the key.
    The trainee is told to send the message again, which most clients encrypt with a session
    they do share with the bot once they know its device."""
    for info in answer.rooms.join.values():
        for event in info.timeline.events:
            if not isinstance(event, MegolmEvent) or event.sender == nio.user_id:
                continue
            if not event.session_id or event.session_id in nio.outgoing_key_requests:
                continue
            log.info(
                "cannot decrypt %s from %s (session %s): requesting its key",
                event.event_id,
                event.sender,
                event.session_id,
            )
            try:
                sent = await nio.request_room_key(event)
            except LocalProtocolError:  # requested already in this run
                continue
            if isinstance(sent, ErrorResponse):
                log.warning("the room key request for %s failed: %s", event.event_id, sent)
