"""`signpost run matrix`: log in, then sync until stopped.

The loop is the adapter's own rather than nio's `sync_forever`, which stops at the first
exception a callback raises: here each event is handled in its own `try`, a failed sync is
retried with a growing pause, and only a login the server no longer knows
(`M_UNKNOWN_TOKEN`) stops the bot. The sync token (`next_batch`) is saved after the events
of a sync were handled, never before, so a crash makes the homeserver send them again, and
the store's record of handled event ids keeps them from being answered twice.

Old history is never answered: the first sync of a bot that never ran is skipped, and in a
room the bot has just joined only what follows its join counts.

End-to-end encryption is on when matrix-nio's `e2e` extra is installed and a key store folder
is given (SIGNPOST_MATRIX_STORE): messages nio decrypted take the same path as clear ones.
Without it, an encrypted room gets a notice that the bot cannot read it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from adapters.matrix.client import MatrixClient, stripped_state
from adapters.matrix.conversation import Conversations
from adapters.matrix.events import (
    Act,
    allowed,
    classify,
    inviter_of,
    is_encrypted_room,
    is_new_own_join,
)
from adapters.matrix.login import connect
from adapters.matrix.media import EncryptedUploader, MediaRepository, Uploader
from adapters.matrix.menus import Menus
from adapters.matrix.options import PLATFORM, MatrixOptions
from adapters.matrix.outbox import Failure, Outbox, Retry
from bot.app.ports import AdapterStore
from bot.app.service import TrainingService

log = logging.getLogger(__name__)

#: seconds between two prunings of the store's record of handled events
PRUNE_EVERY = 6 * 3600.0

_NOTHING: dict[str, Any] = {"not_types": ["*"]}
SYNC_FILTER: dict[str, Any] = {
    "presence": _NOTHING,
    "account_data": _NOTHING,
    "room": {
        "timeline": {"limit": 100},
        "ephemeral": _NOTHING,
        "account_data": _NOTHING,
        "state": {"lazy_load_members": True},
    },
}
#: the first sync of a bot that never ran: only where things stand, no history
FIRST_SYNC_FILTER: dict[str, Any] = {
    **SYNC_FILTER,
    "room": {**SYNC_FILTER["room"], "timeline": {"limit": 1}},
}


class MatrixBot:
    def __init__(
        self,
        client: MatrixClient,
        conversations: Conversations,
        store: AdapterStore,
        allow: list[str],
        options: MatrixOptions,
    ) -> None:
        self.client = client
        self.conversations = conversations
        self.store = store
        self.allow = allow
        self.options = options
        self.me = client.user_id
        self.cursor_name = f"{PLATFORM}:{self.me}:next_batch"
        self._inviters: dict[str, str] = {}
        self._slots = asyncio.Semaphore(options.concurrency)
        self._pruned_at = -PRUNE_EVERY

    async def run(self, stop: asyncio.Event, fatal: asyncio.Event) -> None:
        since = await self.store.cursor(self.cursor_name)
        pause = self.options.sync_backoff_first
        while not stop.is_set() and not fatal.is_set():
            first = since is None
            answer = await _until(
                self.client.sync(
                    since,
                    0 if first else self.options.sync_timeout_ms,
                    FIRST_SYNC_FILTER if first else SYNC_FILTER,
                ),
                stop,
                fatal,
            )
            if answer is None:
                return
            if isinstance(answer, Failure):
                if answer.fatal:
                    log.critical(
                        "the homeserver no longer accepts the bot's login (%s): stopping. "
                        "Log in again: set SIGNPOST_MATRIX_PASSWORD, or a new "
                        "SIGNPOST_MATRIX_TOKEN.",
                        answer.code,
                    )
                    fatal.set()
                    return
                wait = answer.retry_after if answer.retry_after is not None else pause
                log.warning("sync failed (%s): retrying in %.1f s", answer.code, wait)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=wait)
                pause = min(self.options.sync_backoff_max, pause * 2)
                continue
            pause = self.options.sync_backoff_first
            await self.process(answer, since)
            since = str(answer.next_batch)
            # If the store cannot keep it now, going on is still safe: after a crash the
            # homeserver sends those events again and the store's record of them skips them.
            await self._guard(self.store.set_cursor(self.cursor_name, since))
            await self._prune_now_and_then()

    async def _prune_now_and_then(self) -> None:
        """Forget old handled events' ids, at start and every few hours."""
        if time.monotonic() - self._pruned_at < PRUNE_EVERY:
            return
        self._pruned_at = time.monotonic()
        before = datetime.now(UTC) - timedelta(days=self.options.keep_days)
        await self._guard(self.store.prune_updates(PLATFORM, before))

    async def process(self, answer: Any, since: str | None) -> None:
        """Everything in one sync answer: invites, greetings, and trainees' acts."""
        for room_id, info in answer.rooms.invite.items():
            await self._guard(self._invited(room_id, stripped_state(info.invite_state)))
        if since is None:  # the first start: what is in the rooms already is history
            return
        work: dict[str, list[Any]] = defaultdict(list)
        for room_id, info in answer.rooms.join.items():
            events = [e.source for e in info.timeline.events]
            joined = [i for i, e in enumerate(events) if is_new_own_join(e, self.me)]
            if joined:
                history = events[: joined[-1]] + [e.source for e in info.state]
                join_event = events[joined[-1]]
                events = events[joined[-1] + 1 :]
                inviter = inviter_of(history, self.me) or self._inviters.pop(room_id, None)
                encrypted = not self.client.encrypts and (
                    is_encrypted_room(history) or self.client.room_encrypted(room_id)
                )
                greeting = self._greeting(room_id, inviter, str(join_event["event_id"]), encrypted)
                work[f"{room_id}|{inviter}"].append(greeting)
            elif info.timeline.limited and info.timeline.prev_batch:
                events = await self._backfill(room_id, info.timeline.prev_batch, since) + events
            for event in events:
                act = classify(room_id, event)
                if act is None or act.sender == self.me or not allowed(self.allow, act.sender):
                    continue
                work[f"{room_id}|{act.sender}"].append(self._act(act))
        await asyncio.gather(*(self._in_order(items) for items in work.values()))

    async def _in_order(self, items: list[Any]) -> None:
        async with self._slots:
            for item in items:
                await self._guard(item)

    async def _guard(self, coroutine: Any) -> None:
        """Run one event's handling: whatever goes wrong is logged, and the sync goes on."""
        try:
            await coroutine
        except Exception:
            log.exception("handling a Matrix event failed; going on with the next")

    async def _act(self, act: Act) -> None:
        try:
            await self.conversations.act(act)
        except Exception:
            log.exception("event %s in %s could not be handled", act.event_id, act.room_id)
            await self.store.mark_processed(PLATFORM, act.event_id)

    async def _greeting(self, room_id: str, inviter: str | None, key: str, encrypted: bool) -> None:
        if encrypted:
            log.info("joined the encrypted room %s: saying it cannot be read", room_id)
            payload = {"room": room_id, "sender": inviter or "", "local": "mx_encrypted"}
            if await self.store.record_update(PLATFORM, key, payload):
                await self.conversations.answer(key, payload)
            return
        if inviter is None or not allowed(self.allow, inviter):
            log.info("joined %s without knowing who invited the bot: no greeting", room_id)
            return
        await self.conversations.greet(room_id, inviter, key)

    async def _invited(self, room_id: str, state: list[dict[str, Any]]) -> None:
        inviter = inviter_of(state, self.me)
        if inviter is None or not allowed(self.allow, inviter):
            log.info("declining the invite to %s from %s (not allowed)", room_id, inviter)
            await self.client.leave(room_id)
            return
        self._inviters[room_id] = inviter
        attempt = 0
        while (problem := await self.client.join(room_id)) is not None:
            if not await self.conversations.outbox.retry(problem, attempt, f"joining {room_id}"):
                return
            attempt += problem.retry_after is None
        log.info("joined %s, invited by %s", room_id, inviter)

    async def _backfill(self, room_id: str, start: str, since: str) -> list[dict[str, Any]]:
        """The events a limited sync left out (more news in a room than one sync returns)."""
        older = await self.client.messages_before(
            room_id, start, since, self.options.backfill_limit
        )
        if isinstance(older, Failure):
            log.warning("could not fetch the gap in %s (%s): some messages missed", room_id, older)
            return []
        return older


async def _until(work: Any, stop: asyncio.Event, fatal: asyncio.Event) -> Any:
    """The result of `work`, or None if `stop` or `fatal` is set first (work is cancelled)."""
    task = asyncio.ensure_future(work)
    waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(fatal.wait())]
    try:
        await asyncio.wait({task, *waiters}, return_when=asyncio.FIRST_COMPLETED)
    finally:  # also when we are cancelled: nothing may outlive this call
        for waiter in waiters:
            waiter.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    return None if task.cancelled() else task.result()


async def serve(
    service: TrainingService,
    store: AdapterStore,
    *,
    homeserver: str,
    user: str,
    password: str | None,
    token: str | None,
    allow: list[str],
    stop: asyncio.Event,
    options: MatrixOptions | None = None,
    crypto_store: str | Path | None = None,
) -> None:
    """Run the bot until `stop` is set (answers in flight are sent first) or the login is
    rejected (logged as critical). `crypto_store`: the folder of the bot's encryption keys;
    encrypted rooms work when it is given and nio's `e2e` extra is installed."""
    options = options or MatrixOptions()
    # nio logs every event at INFO, and peewee (its key store) every query with its values,
    # pickled keys included, at DEBUG: neither belongs in a bot's log unless asked for
    for name in ("nio", "peewee"):
        if logging.getLogger(name).level == logging.NOTSET:
            logging.getLogger(name).setLevel(logging.WARNING)
    device_cursor = f"{PLATFORM}:{user}:device"
    client: MatrixClient | None = None
    outbox: Outbox | None = None
    flush = options.flush_seconds
    try:
        client, problem = await connect(
            homeserver,
            user,
            device_id=await store.cursor(device_cursor),
            password=password,
            token=token,
            crypto_store=crypto_store,
        )
        if problem is not None:
            log.critical("cannot log in to %s as %s: %s", homeserver, user, problem.code)
            return
        if not token:  # the same device next time: the server keeps its transaction ids
            await store.set_cursor(device_cursor, client.device_id)
        server = client.user_id.split(":", 1)[-1]
        retry = Retry(options.limits)
        media = MediaRepository(
            store,
            f"{PLATFORM}:{server}",
            _uploader(client, retry),
            upload_encrypted=_encrypted_uploader(client, retry) if client.encrypts else None,
        )
        retry.telemetry = service.telemetry
        outbox = Outbox(client, media, retry)
        conversations = Conversations(
            service, Menus(store), outbox, options, decrypts=client.encrypts
        )
        bot = MatrixBot(client, conversations, store, allow, options)
        replayed = await conversations.replay(await store.pending_updates(PLATFORM))
        log.info("logged in as %s; %d pending answer(s) replayed", client.user_id, replayed)
        await bot.run(stop, retry.fatal)
    except asyncio.CancelledError:
        flush = 0  # cancelled: stop at once, as a crash would; pending answers wait for next start
        raise
    finally:
        if outbox is not None:
            await outbox.close(flush)
        if client is not None:
            await client.close()


def _uploader(client: MatrixClient, retry: Retry) -> Uploader:
    async def upload(data: bytes, content_type: str, name: str) -> str | None:
        attempt = 0
        while True:
            result = await client.upload(data, content_type, name)
            if isinstance(result, str):
                return result
            if not await retry(result, attempt, f"uploading {name}"):
                return None
            attempt += result.retry_after is None

    return upload


def _encrypted_uploader(client: MatrixClient, retry: Retry) -> EncryptedUploader:
    async def upload(data: bytes, content_type: str, name: str) -> dict[str, Any] | None:
        attempt = 0
        while True:
            result = await client.upload_encrypted(data, content_type, name)
            if not isinstance(result, Failure):
                return result
            if not await retry(result, attempt, f"uploading {name} (encrypted)"):
                return None
            attempt += result.retry_after is None

    return upload
