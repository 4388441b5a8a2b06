"""The trainee gate shared by several bot processes, in Redis.

A gate is `SET signpost:gate:<trainee> <token> NX PX <expiry>`, renewed while held (from a
thread, storage.gate_renewer, when the gate is made from a URL: a busy event loop must not let a
held gate expire) and released only by its holder (a Lua compare-and-delete).
`signpost:last:<trainee>` names the worker that took the gate last, written as it is taken (not
as it is released: a worker killed while holding it never releases it), so a worker knows when
its cached session may be stale. Waiting is bounded: a trainee whose gate stays taken gets
GateBusyError (the adapter asks them to try again) rather than a hung handler.

Redis failing is not a reason to lose an input or a turn. The client waits briefly for one of a
bounded set of connections (a burst of trainees queues instead of failing) and gives up on a
Redis that does not answer within seconds. If the gate cannot be taken, GateUnavailableError:
the input is not handled and the trainee is asked to send it again. Once held, a failed renewal
or release is only logged: the gate then expires by itself, and the store's turn numbers fence
any worker that acts on a gate it no longer holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from redis.asyncio import BlockingConnectionPool, Redis
from redis.exceptions import RedisError

from bot.app.gate import GateBusyError, GateUnavailableError
from storage.gate_renewer import GateRenewer

log = logging.getLogger(__name__)
#: how long a trainee's last holder is remembered (after that, any worker's cache is suspect)
_LAST_KEPT_MS = 24 * 3600 * 1000
#: what a Redis call raises when Redis is away, too slow, or every connection is busy too long
_REDIS_FAILED = (RedisError, OSError)
#: connections per process: enough for every trainee being served at once, bounded so that a
#: burst waits for a free one (for up to POOL_WAIT s) rather than opening thousands
POOL_SIZE = 64
POOL_WAIT = 5.0
#: a command unanswered this long means Redis is in trouble
COMMAND_TIMEOUT = 2.0

# KEYS: the gate, the last holder; ARGV: the token, the worker, the gate's expiry, the last
# holder's. Taking the gate and reading (then writing) who took it last is one round trip.
# Returns false when the gate is taken; else {previous holder or false}.
_TAKE = """
if not redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[3]) then
  return false
end
local previous = redis.call('get', KEYS[2])
redis.call('set', KEYS[2], ARGV[2], 'PX', ARGV[4])
return {previous}
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""


def connect(url: str) -> Redis:
    """A client with a bounded, waiting pool and timeouts (see the module's docstring)."""
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=POOL_SIZE,
        timeout=POOL_WAIT,
        socket_timeout=COMMAND_TIMEOUT,
        socket_connect_timeout=COMMAND_TIMEOUT,
    )
    return Redis.from_pool(pool)  # the client owns the pool: closing it closes the pool


def _honour_cancellation() -> None:
    """redis-py can swallow a cancellation that meets a command on the wire: re-raise it."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


class RedisGate:
    def __init__(
        self,
        redis: Redis,
        *,
        worker: str | None = None,
        expiry_ms: int = 10_000,
        wait_s: float = 15.0,
        prefix: str = "signpost",
        renew_from: str | None = None,
    ) -> None:
        self.redis = redis
        self.worker = worker or secrets.token_hex(6)
        self.expiry_ms = expiry_ms
        self.wait_s = wait_s
        self.prefix = prefix
        self._take_script = redis.register_script(_TAKE)
        self._release = redis.register_script(_RELEASE)
        self._renew = redis.register_script(_RENEW)
        #: with a URL, held gates are renewed from a thread (storage.gate_renewer), else from
        #: the event loop
        self.renewer = (
            GateRenewer(renew_from, _RENEW, expiry_ms, timeout=COMMAND_TIMEOUT)
            if renew_from
            else None
        )

    @classmethod
    def from_url(cls, url: str, **options: Any) -> RedisGate:
        return cls(connect(url), renew_from=url, **options)

    @asynccontextmanager
    async def hold(self, trainee_id: str) -> AsyncIterator[bool]:
        key = f"{self.prefix}:gate:{trainee_id}"
        token = f"{self.worker}:{secrets.token_hex(8)}"
        try:
            fresh = await self._take(trainee_id, key, token)
        except _REDIS_FAILED as error:
            _honour_cancellation()
            # the type only: the text of a connection error may carry the URL and its password
            log.warning("trainee gate not taken: Redis failed (%s)", type(error).__name__)
            raise GateUnavailableError(type(error).__name__) from None
        if self.renewer is not None:
            self.renewer.hold(key, token)
            try:
                yield fresh
            finally:
                self.renewer.let_go(key)
                await self._let_go(key, token)
            return
        done = asyncio.Event()
        keeper = asyncio.create_task(self._keep(key, token, done), name="gate-keeper")
        try:
            yield fresh
        finally:
            # The flag, not only the cancellation, ends the keeper: redis-py can swallow a
            # cancellation that meets a command on the wire, and a keeper that went on would
            # renew the gate for ever (the trainee locked out, the worker unable to stop).
            done.set()
            keeper.cancel()
            await asyncio.wait({keeper}, timeout=2 * COMMAND_TIMEOUT)
            await self._let_go(key, token)

    async def _let_go(self, key: str, token: str) -> None:
        try:
            await self._release(keys=[key], args=[token])
        except _REDIS_FAILED as error:
            log.warning("trainee gate not released (it expires): %s", type(error).__name__)
        _honour_cancellation()

    async def _take(self, trainee_id: str, key: str, token: str) -> bool:
        """Wait for the gate (bounded); whether this worker held it last."""
        keys = [key, f"{self.prefix}:last:{trainee_id}"]
        args: list[str | int] = [token, self.worker, self.expiry_ms, _LAST_KEPT_MS]
        deadline = asyncio.get_running_loop().time() + self.wait_s
        pause = 0.002
        while not (taken := await self._take_script(keys=keys, args=args)):
            if asyncio.get_running_loop().time() > deadline:
                raise GateBusyError(trainee_id)
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.05)
        previous = taken[0] if taken else None
        if isinstance(previous, bytes):
            previous = previous.decode()
        return previous is None or previous == self.worker

    async def _keep(self, key: str, token: str, done: asyncio.Event) -> None:
        """Renew the expiry while the handler runs, so only a dead worker's gate expires."""
        beat = self.expiry_ms / 3000
        while not done.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), beat)
            if done.is_set():
                return
            try:
                renewed = await self._renew(keys=[key], args=[token, self.expiry_ms])
            except _REDIS_FAILED as error:
                log.warning("trainee gate not renewed: %s", type(error).__name__)
                continue  # tried again at the next beat; the expiry is three beats away
            if not renewed:
                return  # lost it (expired while this process stalled): the store fences writes

    async def close(self) -> None:
        if self.renewer is not None:
            await asyncio.to_thread(self.renewer.close)
        await self.redis.aclose()
