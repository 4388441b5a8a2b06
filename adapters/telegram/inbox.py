"""No update lost, none handled twice, each trainee's in order.

An update is written to the store's inbox before Telegram is told it arrived (the next
getUpdates offset, or the webhook's 200). Then it waits in its sender's lane: one lane per
Telegram user, handled one update at a time in `update_id` order, lanes side by side. Once
handled it is marked processed. Whatever was recorded but not marked (a crash, a stop that could
not wait) is replayed at the next start; a duplicate `update_id` is recorded once and dropped.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram.exceptions import (
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import Update

from adapters.telegram.options import PLATFORM, Retry
from adapters.telegram.redact import safe_error
from adapters.telegram.updates import lane_of, update_key
from bot.app.ports import AdapterStore, StoreError, StoreUnavailableError

log = logging.getLogger(__name__)

Process = Callable[[Update, str, bool], Awaitable[None]]
#: failures worth trying the whole update again for: the turn may be committed, its answer not
_TRANSIENT = (TelegramNetworkError, TelegramServerError, TelegramRetryAfter, StoreUnavailableError)
#: pending updates read back at one start
REPLAY_LIMIT = 100_000


def payload_of(update: Update) -> dict[str, Any]:
    return update.model_dump(mode="json", exclude_none=True, by_alias=True)


class Inbox:
    def __init__(self, store: AdapterStore, process: Process, bot_id: int, retry: Retry) -> None:
        self.store = store
        self.process = process
        self.bot_id = bot_id
        self.retry = retry
        self._lanes: dict[int, list[tuple[int, int, str, Update, bool]]] = {}
        self._workers: dict[int, asyncio.Task[None]] = {}
        self._order = itertools.count()
        self.processed = 0
        self.duplicates = 0

    async def receive(self, update: Update, payload: dict[str, Any] | None = None) -> bool:
        """Keep `update` durably and queue it; False for a duplicate. Raises StoreError if it
        could not be kept: then it must not be acknowledged."""
        key = update_key(self.bot_id, update.update_id)
        if not await self.store.record_update(PLATFORM, key, payload or payload_of(update)):
            self.duplicates += 1
            log.info("duplicate update %s ignored", update.update_id)
            return False
        self._queue(update, key, replayed=False)
        return True

    async def receive_all(self, updates: list[Update]) -> None:
        """A getUpdates batch: kept together (one group commit), queued in order. Raises
        StoreError if any could not be kept, after queueing those that were (a kept update is
        a duplicate when Telegram sends the batch again)."""
        results = await asyncio.gather(*(self._record(u) for u in updates), return_exceptions=True)
        failure: BaseException | None = None
        for update, result in zip(updates, results, strict=True):
            if isinstance(result, BaseException):
                failure = failure or result
            elif result is not None:
                self._queue(update, result, replayed=False)
        if failure is not None:
            raise failure

    async def replay(self) -> int:
        """Queue what an earlier run recorded but did not finish; returns how many."""
        count = await self._requeue(await self._pending())
        if count:
            log.warning("replaying %d update(s) left unfinished by the last run", count)
        return count

    async def _pending(self) -> list[tuple[str, dict[str, Any]]]:
        """This bot's updates recorded but not marked processed, oldest first."""
        mine = f"{self.bot_id}:"
        pending = await self.store.pending_updates(PLATFORM, REPLAY_LIMIT)
        return [(key, payload) for key, payload in pending if key.startswith(mine)]

    async def _requeue(self, pending: list[tuple[str, dict[str, Any]]]) -> int:
        """Queue stored updates again (marked as replayed); how many. One that no longer
        reads as an update is dropped, and marked so that it is not read again."""
        count = 0
        for key, payload in pending:
            try:
                update = Update.model_validate(payload)
            except ValueError as error:
                log.error("stored update %s unreadable (%s); dropped", key, safe_error(error))
                await self.store.mark_processed(PLATFORM, key)
                continue
            self._queue(update, key, replayed=True)
            count += 1
        return count

    @property
    def busy(self) -> int:
        return sum(len(lane) for lane in self._lanes.values()) + len(self._workers)

    async def drain(self, within: float) -> bool:
        """Wait up to `within` seconds for every queued update to be handled; True if all were."""
        if self._workers:
            await asyncio.wait(list(self._workers.values()), timeout=within)
        if not self._workers:
            return True
        log.warning("stopping with %d update(s) unfinished; they are replayed next time", self.busy)
        await self.cancel()
        return False

    async def cancel(self) -> None:
        workers = list(self._workers.values())
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        self._workers.clear()
        self._lanes.clear()

    # -- internals --------------------------------------------------------------------------

    async def _record(self, update: Update) -> str | None:
        key = update_key(self.bot_id, update.update_id)
        if await self.store.record_update(PLATFORM, key, payload_of(update)):
            return key
        self.duplicates += 1
        return None

    def _queue(self, update: Update, key: str, *, replayed: bool) -> None:
        lane = lane_of(update) or 0
        entry = (update.update_id, next(self._order), key, update, replayed)
        heapq.heappush(self._lanes.setdefault(lane, []), entry)
        if lane not in self._workers:
            self._workers[lane] = asyncio.create_task(self._work(lane), name=f"tg-lane-{lane}")

    async def _work(self, lane: int) -> None:
        try:
            queue = self._lanes[lane]
            while queue:
                _, _, key, update, replayed = heapq.heappop(queue)
                await self._handle(update, key, replayed)
        finally:
            self._workers.pop(lane, None)
            if not self._lanes.get(lane):
                self._lanes.pop(lane, None)

    async def _handle(self, update: Update, key: str, replayed: bool) -> None:
        for attempt in range(1, self.retry.attempts + 1):
            try:
                await self.process(update, key, replayed or attempt > 1)
                break
            except _TRANSIENT as error:
                if attempt == self.retry.attempts:
                    log.error("update %s left for replay: %s", key, safe_error(error))
                    return  # not marked: the next start tries again
                delay = min(self.retry.max_delay, self.retry.first_delay * 2**attempt)
                log.warning("update %s failed (%s); again in %.1f s", key, safe_error(error), delay)
                await asyncio.sleep(delay)
            except TelegramForbiddenError:
                log.info("update %s: the trainee blocked the bot", key)
                break
            except Exception as error:  # a bug must not stop the other trainees' lanes
                log.exception("update %s failed: %s", key, safe_error(error))
                break
        try:
            await self.store.mark_processed(PLATFORM, key)
        except StoreError as error:  # replayed later: the service applies it once anyway
            log.warning("update %s not marked processed: %s", key, safe_error(error))
        self.processed += 1
