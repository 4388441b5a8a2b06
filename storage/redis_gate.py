"""The trainee gate shared by several bot processes, in Redis.

A gate is `SET signpost:gate:<trainee> <token> NX PX <expiry>`, renewed while held and released
only by its holder (a Lua compare-and-delete). `signpost:last:<trainee>` names the worker that
took the gate last, written as it is taken (not as it is released: a worker killed while
holding it never releases it), so a worker knows when its cached session may be stale. Waiting
is bounded: a trainee whose gate stays taken gets GateBusyError (the adapter asks them to try
again) rather than a hung handler.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis.asyncio import Redis

from bot.app.gate import GateBusyError

#: how long a trainee's last holder is remembered (after that, any worker's cache is suspect)
_LAST_KEPT_MS = 24 * 3600 * 1000
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


class RedisGate:
    def __init__(
        self,
        redis: Redis,
        *,
        worker: str | None = None,
        expiry_ms: int = 10_000,
        wait_s: float = 15.0,
        prefix: str = "signpost",
    ) -> None:
        self.redis = redis
        self.worker = worker or secrets.token_hex(6)
        self.expiry_ms = expiry_ms
        self.wait_s = wait_s
        self.prefix = prefix
        self._release = redis.register_script(_RELEASE)
        self._renew = redis.register_script(_RENEW)

    @classmethod
    def from_url(cls, url: str, **options: object) -> RedisGate:
        return cls(Redis.from_url(url), **options)  # type: ignore[arg-type]

    @asynccontextmanager
    async def hold(self, trainee_id: str) -> AsyncIterator[bool]:
        key = f"{self.prefix}:gate:{trainee_id}"
        last = f"{self.prefix}:last:{trainee_id}"
        token = f"{self.worker}:{secrets.token_hex(8)}"
        deadline = asyncio.get_running_loop().time() + self.wait_s
        pause = 0.002
        while not await self.redis.set(key, token, nx=True, px=self.expiry_ms):
            if asyncio.get_running_loop().time() > deadline:
                raise GateBusyError(trainee_id)
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.05)
        previous = await self.redis.set(last, self.worker, px=_LAST_KEPT_MS, get=True)
        if isinstance(previous, bytes):
            previous = previous.decode()
        fresh = previous is None or previous == self.worker
        keeper = asyncio.create_task(self._keep(key, token))
        try:
            yield fresh
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
            await self._release(keys=[key], args=[token])
            # redis-py can swallow a cancellation that meets a command on the wire; the task
            # that was told to stop must still stop
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise asyncio.CancelledError

    async def _keep(self, key: str, token: str) -> None:
        """Renew the expiry while the handler runs, so only a dead worker's gate expires."""
        while True:
            await asyncio.sleep(self.expiry_ms / 3000)
            if not await self._renew(keys=[key], args=[token, self.expiry_ms]):
                return  # lost it (expired while this process stalled): the store fences writes

    async def close(self) -> None:
        await self.redis.aclose()
