"""One trainee's inputs are handled one at a time, in order, by whichever worker holds the gate.

In one process an asyncio lock per trainee is enough (`LocalGate`). With several bot processes
the gate is shared (storage.redis_gate.RedisGate): a lock with an expiry, so a dead worker does
not block a trainee for ever. A worker that stalled past the expiry and wakes up cannot write
over a newer turn: the store accepts each turn number of a session once (ConflictError), and a
worker that was not the last to hold the gate reloads the session before it acts.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Protocol

from bot.app.ports import StoreUnavailableError


class GateBusyError(Exception):
    """The trainee's gate could not be taken in time (another worker is slow or stuck)."""


class GateUnavailableError(StoreUnavailableError):
    """Where the gates are kept (Redis) does not answer: the input is not handled now, and the
    trainee is asked to send it again shortly, as when the database is away."""


class Gate(Protocol):
    def hold(self, trainee_id: str) -> AbstractAsyncContextManager[bool]:
        """`async with gate.hold(id) as fresh:` serialises the trainee's inputs; `fresh` is
        False when another worker held the gate since this one last did (drop any cache)."""
        ...


class LocalGate:
    """Per-trainee asyncio locks: enough when one process serves everyone."""

    def __init__(self) -> None:
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    @asynccontextmanager
    async def hold(self, trainee_id: str) -> AsyncIterator[bool]:
        lock = self._locks.get(trainee_id)
        if lock is None:
            lock = self._locks[trainee_id] = asyncio.Lock()
        async with lock:
            yield True
