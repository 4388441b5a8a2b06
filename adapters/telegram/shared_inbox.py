"""The inbox of one worker among several: each kept update has an owner, and only the updates
of a worker that is gone are taken over.

Behind a load balancer every worker records the updates it is given in the one store, and a
pending update there may be in the hands of a live worker (queued or being handled right now)
or left behind by a worker that was killed. The plain `Inbox` replays every pending update at
start, which is right for one process; with several it would handle live workers' updates a
second time (the service applies a turn once, but the trainee sees "where you are" again, and
a button of that screen may already be stale). So, in Redis:

- before an update is recorded, its worker claims it (`held:<key>` = the worker's id; kept
  for an hour while it waits, a minute once it is handled), unless a live worker holds it
  already (the same update delivered twice);
- each worker says it is alive (`alive:<id>`, renewed every 2 s, expiring after 6 s), from a
  thread of its own when given the Redis URL (adapters.telegram.heartbeat: a busy event loop
  must not pass for a dead worker);
- at start and then every 2 s, a worker adopts the pending updates whose owner is no longer
  alive (or that nobody owns), atomically, so exactly one worker replays each of them.

A killed worker's updates are therefore handled by another worker within about 8 s (and its
trainees' gates free themselves within 10 s), whether or not it is started again. Keys are
named by a hash of the token (never the token). If Redis does not answer, the worker behaves as
a single one would: it handles what it records, and at start replays every pending update (the
service's once-only turns keep that safe).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from typing import Any

from aiogram.types import Update
from redis.asyncio import Redis

from adapters.telegram.heartbeat import Heartbeat
from adapters.telegram.inbox import Inbox, Process, payload_of
from adapters.telegram.options import PLATFORM, Retry
from adapters.telegram.redact import safe_error
from adapters.telegram.shared_limits import (
    PREFIX,
    REDIS_DOWN,
    REDIS_TIMEOUT,
    honour_cancellation,
    token_digest,
)
from adapters.telegram.updates import update_key
from bot.app.ports import AdapterStore

log = logging.getLogger(__name__)
#: pending updates looked at per script call (a long backlog must not block Redis)
_ADOPT_AT_ONCE = 500

# KEYS: the held:<key> of pending updates. ARGV: me, claim ms, the alive: prefix.
# Returns the 1-based positions of the keys adopted by `me`.
_ADOPT = """
local adopted = {}
for i, held in ipairs(KEYS) do
  local owner = redis.call('GET', held)
  if not owner or (owner ~= ARGV[1] and redis.call('EXISTS', ARGV[3] .. owner) == 0) then
    redis.call('SET', held, ARGV[1], 'PX', ARGV[2])
    adopted[#adopted + 1] = i
  end
end
return adopted
"""
# KEYS[1]: held:<key>. ARGV: me, claim ms, the alive: prefix. Claim an update unless a live
# worker holds it: a claim left by a stopped worker must not outlast the update's recording,
# or adoption could take the update from its live worker in between.
_CLAIM = """
local owner = redis.call('GET', KEYS[1])
if owner and owner ~= ARGV[1] and redis.call('EXISTS', ARGV[3] .. owner) == 1 then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""
# KEYS[1]: held:<key>; ARGV[1]: me. Drop my claim (an update recorded by another worker).
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class SharedInbox(Inbox):
    def __init__(
        self,
        store: AdapterStore,
        process: Process,
        bot_id: int,
        retry: Retry,
        *,
        redis: Redis,
        token: str,
        prefix: str = PREFIX,
        worker: str | None = None,
        alive_ms: int = 6_000,
        adopt_every: float = 2.0,
        claim_ms: int = 3_600_000,
        settled_ms: int = 60_000,
        redis_url: str | None = None,
    ) -> None:
        super().__init__(store, process, bot_id, retry)
        self.redis = redis
        self.worker = worker or secrets.token_hex(6)
        base = f"{prefix}:{token_digest(token)}"
        self._held = f"{base}:held:"
        self._alive = f"{base}:alive:"
        self.alive_ms = alive_ms
        self.adopt_every = adopt_every
        #: a claim outlives any wait in a live worker's queue; after it, the update is adopted
        self.claim_ms = claim_ms
        #: once handled, a claim is kept this long (a round of adoption that read the update as
        #: pending just before must still find its owner), then it expires
        self.settled_ms = settled_ms
        self._adopting = True
        self._stopping = False
        self._adopt = redis.register_script(_ADOPT)
        self._claim_if_free = redis.register_script(_CLAIM)
        self._release = redis.register_script(_RELEASE)
        self._watch: asyncio.Task[None] | None = None
        #: updates this worker took over from others (tests, logs)
        self.adopted = 0
        self._redis_answers = True
        self.heartbeat = (
            Heartbeat(redis_url, self._alive + self.worker, alive_ms) if redis_url else None
        )

    # -- recording: claim first, so that a pending update always has an owner ---------------

    async def receive(self, update: Update, payload: dict[str, Any] | None = None) -> bool:
        key = await self._keep(update, payload or payload_of(update))
        if key is None:
            return False
        self._queue(update, key, replayed=False)
        return True

    async def _record(self, update: Update) -> str | None:  # getUpdates batches
        return await self._keep(update, payload_of(update))

    async def _keep(self, update: Update, payload: dict[str, Any]) -> str | None:
        key = update_key(self.bot_id, update.update_id)
        claimed = await self._claim(key)  # unless a live worker holds it
        try:
            recorded = await self.store.record_update(PLATFORM, key, payload)
        except BaseException:
            if claimed:
                await self._unclaim(key)
            raise
        if not recorded:
            if claimed:  # the other worker's update: its claim, if any, stays
                await self._unclaim(key)
            self.duplicates += 1
            log.info("duplicate update %s ignored", update.update_id)
            return None
        if not claimed:  # another worker claimed it but this one recorded it: it is ours
            await self._claim(key, force=True)
        return key

    async def _claim(self, key: str, *, force: bool = False) -> bool:
        try:
            if force:
                done = await self.redis.set(self._held + key, self.worker, px=self.claim_ms)
            else:
                done = await self._claim_if_free(
                    keys=[self._held + key], args=[self.worker, self.claim_ms, self._alive]
                )
        except REDIS_DOWN as error:
            honour_cancellation()
            log.warning("update %s not claimed in Redis: %s", key, type(error).__name__)
            return False
        honour_cancellation()
        return bool(done)

    async def _unclaim(self, key: str) -> None:
        with contextlib.suppress(*REDIS_DOWN):  # else it expires
            await self._release(keys=[self._held + key], args=[self.worker])
        honour_cancellation()

    async def _handle(self, update: Update, key: str, replayed: bool) -> None:
        await super()._handle(update, key, replayed)
        # Handled (or left for replay after repeated failures: then, once the claim expires,
        # some worker, maybe this one, adopts it and tries again).
        with contextlib.suppress(*REDIS_DOWN):  # else it expires after an hour
            await self.redis.pexpire(self._held + key, self.settled_ms)
        honour_cancellation()

    # -- liveness and adoption --------------------------------------------------------------

    async def replay(self) -> int:
        """At start: say this worker is alive, then adopt what dead workers left pending."""
        count: int | None = None
        try:
            if await self._beat():
                count = await self.adopt_orphans()
        except REDIS_DOWN:
            honour_cancellation()
        if count is None:
            log.warning("Redis does not answer: replaying every pending update")
            count = await super().replay()
        self._stopping = False
        if self.heartbeat is not None:
            self.heartbeat.start()
        self._watch = asyncio.create_task(self._keep_watch(), name="tg-inbox-watch")
        return count

    async def adopt_orphans(self) -> int:
        pending = await self._pending()
        if not pending:
            return 0
        adopted: list[tuple[str, dict[str, Any]]] = []
        for start in range(0, len(pending), _ADOPT_AT_ONCE):
            chunk = pending[start : start + _ADOPT_AT_ONCE]
            positions = await self._adopt(
                keys=[self._held + key for key, _ in chunk],
                args=[self.worker, self.claim_ms, self._alive],
            )
            honour_cancellation()
            adopted += [chunk[int(p) - 1] for p in positions]
        count = await self._requeue(adopted)
        if count:
            self.adopted += count
            log.warning("took over %d update(s) left unfinished by a stopped worker", count)
        return count

    async def drain(self, within: float) -> bool:
        """On stop: adopt nothing more, but stay alive while what is queued here is finished."""
        self._adopting = False
        return await super().drain(within)

    async def leave(self) -> None:
        """After a stop: no longer alive, so what is still pending here is adopted elsewhere."""
        self._stopping = True
        watch, self._watch = self._watch, None
        if watch is not None:
            watch.cancel()
            await asyncio.wait({watch}, timeout=2 * REDIS_TIMEOUT)  # ends at the flag anyway
        if self.heartbeat is not None:
            await asyncio.to_thread(self.heartbeat.stop)  # and the key deleted
            return
        with contextlib.suppress(*REDIS_DOWN):
            await self.redis.delete(self._alive + self.worker)

    async def cancel(self) -> None:
        await super().cancel()
        await self.leave()

    async def _beat(self) -> bool:
        if self.heartbeat is not None:
            return await asyncio.to_thread(self.heartbeat.beat)
        try:
            await self.redis.set(self._alive + self.worker, "1", px=self.alive_ms)
        except REDIS_DOWN as error:
            honour_cancellation()
            if self._redis_answers:
                log.warning("Redis does not answer (%s)", type(error).__name__)
            self._redis_answers = False
            return False
        honour_cancellation()
        if not self._redis_answers:
            log.warning("Redis answers again: this worker's updates have an owner again")
        self._redis_answers = True
        return True

    async def _keep_watch(self) -> None:
        beat = self.alive_ms / 3000
        loop = asyncio.get_running_loop()
        next_adoption = loop.time() + self.adopt_every
        while not self._stopping:
            await asyncio.sleep(min(beat, self.adopt_every))
            if self._stopping:
                break
            if self.heartbeat is not None:  # the thread beats; adopt only while Redis answers
                if not self.heartbeat.answers:
                    continue
            elif not await self._beat():
                continue
            if self._adopting and loop.time() >= next_adoption:
                next_adoption = loop.time() + self.adopt_every
                try:
                    await self.adopt_orphans()
                except REDIS_DOWN as error:
                    honour_cancellation()
                    log.warning("orphaned updates not checked: %s", type(error).__name__)
                except Exception as error:  # e.g. the store is down: next time
                    log.warning("orphaned updates not checked: %s", safe_error(error))
