"""Telegram's limits for one bot token, shared by every process that sends for it, in Redis.

Telegram counts messages per token, so three workers each keeping "30 a second" would send 90.
Here the queues of `limiter.LocalSlots` (GCRA: one "theoretical arrival time" per queue) are
kept in Redis and advanced by a Lua script, atomically, on Redis's own clock (so the workers'
clocks need not agree): one key for the bot's queue, one per chat (expiring once idle), and one
for the pause after a 429, which every worker then honours.

Keys are `<prefix>:<digest>:bot|pause|chat:<id>`, where the digest is a hash of the token:
the token itself is never written to Redis, its logs or its key names.

When Redis does not answer, sending goes on with this process's own queues (the limits are
then per process, and a 429 from Telegram still pauses as told), and Redis is tried again a
few seconds later: a Redis outage slows nothing and stops nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from redis.asyncio import BlockingConnectionPool, Redis
from redis.exceptions import RedisError

from adapters.telegram.limiter import LocalSlots
from adapters.telegram.options import Limits

log = logging.getLogger(__name__)
PREFIX = "signpost:tg"
#: after Redis failed, this process keeps its own queues this long before trying it again
RETRY_REDIS_AFTER = 5.0
#: a hung Redis must not hold a message up for long
REDIS_TIMEOUT = 1.0
#: connections per process (sends, claims and beats share them)
POOL_SIZE = 64

# KEYS[1]: the queue, KEYS[2]: the pause; ARGV: interval and tolerance (microseconds).
# Returns the wait (µs) for the slot, or for the end of a pause if that is later: one round trip
# tells a sender both.
_RESERVE = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local free_at = tonumber(redis.call('GET', KEYS[1]) or '0')
local start = math.max(free_at, now)
local after = start + interval
local keep_ms = math.floor((after - now) / 1000) + 1000
redis.call('SET', KEYS[1], string.format('%.0f', after), 'PX', keep_ms)
local paused_ms = redis.call('PTTL', KEYS[2])
return math.max(0, start - tolerance - now, paused_ms * 1000)
"""
# KEYS[1]: the pause; ARGV[1]: its length (ms). A longer pause already running is kept.
_PAUSE = """
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
end
return 1
"""


#: what a Redis call raises when Redis is away or too slow
REDIS_DOWN = (RedisError, OSError)


def honour_cancellation() -> None:
    """Raise CancelledError if this task has been asked to stop.

    On Python 3.11, redis-py (through asyncio.wait_for) can swallow a cancellation that meets a
    command on the wire, or turn it into a ConnectionError: the task then carries on as if
    nothing happened, and whoever waits for it to end waits for ever. Called after every
    Redis call, so a task told to stop does stop.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


def connect(url: str) -> Redis:
    """A Redis client that gives up quickly (a hung Redis must not hold the bot up), with a
    bounded pool that a burst of sends waits for rather than failing at once."""
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=POOL_SIZE,
        timeout=REDIS_TIMEOUT,
        socket_timeout=REDIS_TIMEOUT,
        socket_connect_timeout=REDIS_TIMEOUT,
    )
    return Redis.from_pool(pool)  # the client owns the pool: closing it closes the pool


def token_digest(token: str) -> str:
    """Names the token's keys without revealing it (the token's secret is 35 random chars)."""
    return hashlib.sha256(token.encode()).hexdigest()[:16]


def _micro(seconds: float) -> int:
    return round(seconds * 1_000_000)


class RedisSlots:
    """`limiter.Slots` in Redis, for all the processes of one bot token."""

    def __init__(
        self,
        redis: Redis,
        token: str,
        limits: Limits,
        *,
        prefix: str = PREFIX,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.redis = redis
        self.key = f"{prefix}:{token_digest(token)}"
        self.limits = limits
        self.local = LocalSlots(limits, clock)
        self._clock = clock
        self._reserve = redis.register_script(_RESERVE)
        self._pause = redis.register_script(_PAUSE)
        bot_interval = 1.0 / limits.per_second if limits.per_second > 0 else 0.0
        chat_interval = 1.0 / limits.per_chat_per_second if limits.per_chat_per_second > 0 else 0.0
        self._bot_args = (
            _micro(bot_interval),
            _micro(max(0, limits.burst - 1) * bot_interval),
        )
        self._chat_args = (
            _micro(chat_interval),
            _micro(max(0, limits.chat_burst - 1) * chat_interval),
        )
        self._down_until = 0.0
        #: requests placed by the local queues because Redis did not answer (tests, logs)
        self.fallbacks = 0

    @classmethod
    def from_url(cls, url: str, token: str, limits: Limits, **options: Any) -> RedisSlots:
        return cls(connect(url), token, limits, **options)

    async def check(self) -> bool:
        """Whether Redis answers now (said once in the log at start)."""
        return await self._ask(self.redis.ping()) is not None

    async def close(self) -> None:
        await self.redis.aclose()

    # -- limiter.Slots ----------------------------------------------------------------------

    async def chat_slot(self, chat: Any) -> float:
        if not self._down():
            keys = [f"{self.key}:chat:{chat}", f"{self.key}:pause"]
            wait = await self._ask(self._reserve(keys=keys, args=self._chat_args))
            if wait is not None:
                return int(wait) / 1_000_000
        return self.local.chat_wait(chat)

    async def bot_slot(self) -> float:
        if not self._down():
            keys = [f"{self.key}:bot", f"{self.key}:pause"]
            wait = await self._ask(self._reserve(keys=keys, args=self._bot_args))
            if wait is not None:
                return int(wait) / 1_000_000
        return self.local.bot_wait()

    async def pause(self, seconds: float) -> None:
        self.local.pause_now(seconds)  # this process pauses whatever Redis says
        if not self._down():
            ms = max(1, round(seconds * 1000))
            await self._ask(self._pause(keys=[f"{self.key}:pause"], args=[ms]))

    async def paused_for(self) -> float:
        mine = self.local.pause_left()
        if self._down():
            return mine
        left_ms = await self._ask(self.redis.pttl(f"{self.key}:pause"))
        return max(mine, int(left_ms) / 1000) if left_ms is not None else mine

    async def _ask(self, call: Awaitable[Any]) -> Any | None:
        """What one Redis call answers, or None when Redis does not answer."""
        try:
            answer = await call
        except REDIS_DOWN as error:
            honour_cancellation()
            self._failed(error)
            return None
        honour_cancellation()
        self._answered()
        return answer

    # -- Redis down -------------------------------------------------------------------------

    def _down(self) -> bool:
        """True while Redis is given a rest after a failure (the local queues serve)."""
        if self._clock() < self._down_until:
            self.fallbacks += 1
            return True
        return False

    def _answered(self) -> None:
        if self._down_until:
            self._down_until = 0.0
            log.warning("Redis answers again: Telegram limits are shared between workers again")

    def _failed(self, error: BaseException) -> None:
        self.fallbacks += 1
        if not self._down_until:
            # the error's type only: its text may carry the Redis URL and its password
            log.warning(
                "Redis does not answer (%s): Telegram limits are kept per worker for now",
                type(error).__name__,
            )
        self._down_until = self._clock() + RETRY_REDIS_AFTER
