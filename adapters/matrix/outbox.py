"""Sending: one queue per room, in order, rate limits honoured, a retry never doubles a message.

Each post gets its transaction id before its first try, derived from the incoming event it
answers and its place in the answer, so a retry (after `M_LIMIT_EXCEEDED`, a time-out, or even
a restart that answers the same event again) is the same request to the homeserver, which
keeps one event per transaction id. `M_LIMIT_EXCEEDED` is waited out for as long as the server
asks (`retry_after_ms`); other failures are retried a few times with a growing pause, then
the post is dropped and logged. A batch's `done` runs only once every post of it was sent, so
an answer cut short by a stop stays pending in the store and is said again at the next start.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from adapters.matrix.media import MediaRepository
from adapters.matrix.render import (
    Post,
    clip,
    clip_fallback,
    document,
    document_fallback,
    encrypted_document,
)
from bot.app.telemetry import NullTelemetry, Telemetry

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Failure:
    """Why a request to the homeserver did not succeed."""

    code: str
    #: seconds the server asked to wait (rate limited), else None
    retry_after: float | None = None
    #: the login is gone (M_UNKNOWN_TOKEN): nothing more can be done
    fatal: bool = False
    #: the server refused this request for good (e.g. the bot was removed from the room)
    permanent: bool = False


class Transport(Protocol):
    async def send(
        self, room_id: str, event_type: str, content: dict[str, Any], txn_id: str
    ) -> str | Failure: ...

    async def typing(self, room_id: str, seconds: float) -> None: ...

    async def encrypted(self, room_id: str) -> bool | Failure: ...


@dataclass
class Batch:
    """The posts answering one incoming event (or a greeting), sent together in order."""

    room_id: str
    key: str
    posts: list[Post]
    #: after every post was sent (e.g. mark the incoming event processed)
    done: Callable[[], Awaitable[None]] | None = None
    #: after a post was sent, with its event id (e.g. remember a menu's event)
    sent: Callable[[Post, str], Awaitable[None]] | None = None


def transaction_id(key: str, index: int) -> str:
    return f"sp{hashlib.sha256(key.encode()).hexdigest()[:24]}.{index}"


@dataclass
class Limits:
    attempts: int = 6
    backoff_first: float = 0.5
    backoff_max: float = 30.0

    def pause(self, attempt: int) -> float:
        return float(min(self.backoff_max, self.backoff_first * 2 ** (attempt - 1)))


@dataclass
class Retry:
    """Whether and when to try a failed request again; shared by sends, uploads and joins."""

    limits: Limits = field(default_factory=Limits)
    #: set when the login is gone: the runner stops
    fatal: asyncio.Event = field(default_factory=asyncio.Event)
    #: set when stopping and out of time: every wait ends and nothing is tried again
    abandon: asyncio.Event = field(default_factory=asyncio.Event)
    #: M_LIMIT_EXCEEDED answers received (tests and logs)
    rate_limited: int = 0
    #: where retries are reported for /metrics
    telemetry: Telemetry = field(default_factory=NullTelemetry)

    async def __call__(self, failure: Failure, attempt: int, what: str) -> bool:
        """Wait before trying again; False when it should not be tried again."""
        if failure.fatal:
            log.error("%s: %s: the bot's login is no longer valid; stopping", what, failure.code)
            self.fatal.set()
            return False
        if failure.retry_after is not None:
            self.rate_limited += 1
            self.telemetry.retried("matrix", "429")
            log.warning("%s: rate limited, retrying in %.1f s", what, failure.retry_after)
            return await self.wait(failure.retry_after)
        if failure.permanent or attempt + 1 >= self.limits.attempts:
            log.error("%s: %s; giving up after %d attempt(s)", what, failure.code, attempt + 1)
            return False
        log.warning("%s: %s; retrying", what, failure.code)
        self.telemetry.retried("matrix", str(failure.code))
        return await self.wait(self.limits.pause(attempt + 1))

    @property
    def halted(self) -> bool:
        return self.abandon.is_set() or self.fatal.is_set()

    async def wait(self, seconds: float) -> bool:
        """Sleep, unless abandoned meanwhile; False if it was (or the login is gone)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.abandon.wait(), timeout=seconds)
        return not self.halted


@dataclass
class Outbox:
    transport: Transport
    media: MediaRepository
    retry: Retry = field(default_factory=Retry)
    _queues: dict[str, asyncio.Queue[Batch | None]] = field(default_factory=dict)
    _workers: dict[str, asyncio.Task[None]] = field(default_factory=dict)

    def submit(self, batch: Batch) -> None:
        queue = self._queues.get(batch.room_id)
        if queue is None:
            queue = self._queues[batch.room_id] = asyncio.Queue()
            self._workers[batch.room_id] = asyncio.create_task(
                self._work(batch.room_id, queue), name=f"matrix-send:{batch.room_id}"
            )
        queue.put_nowait(batch)
        self.retry.telemetry.queue_length("matrix", self.waiting)

    @property
    def waiting(self) -> int:
        """Answers queued in every room, not yet sent."""
        return sum(queue.qsize() for queue in self._queues.values())

    async def close(self, flush_seconds: float) -> None:
        """Send what is queued for up to `flush_seconds`, then give up on the rest (it stays
        pending in the store and is answered at the next start)."""
        for queue in self._queues.values():
            queue.put_nowait(None)
        late: set[asyncio.Task[None]] = set(self._workers.values())
        if late and flush_seconds > 0:
            _, late = await asyncio.wait(late, timeout=flush_seconds)
        if late:
            log.warning("stopping with %d room(s) still sending: left for next start", len(late))
            self.retry.abandon.set()
            if flush_seconds > 0:  # let them end where they are: a send in flight completes
                _, late = await asyncio.wait(late, timeout=5)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        self._queues.clear()
        self._workers.clear()

    async def _work(self, room_id: str, queue: asyncio.Queue[Batch | None]) -> None:
        while True:
            batch = await queue.get()
            if batch is None:
                return
            try:
                await self._send_batch(batch)
            except asyncio.CancelledError:
                raise
            except Exception:  # one bad batch must not stop the room's queue
                log.exception("sending to %s failed", room_id)

    async def _send_batch(self, batch: Batch) -> None:
        complete = True
        for index, post in enumerate(batch.posts):
            if self.retry.halted:
                return
            event_id = await self._deliver(batch.room_id, post, transaction_id(batch.key, index))
            if event_id is None:
                complete = complete and not self.retry.halted
                continue
            if batch.sent is not None:
                await batch.sent(post, event_id)
        if complete and batch.done is not None:
            await batch.done()

    async def _content(self, room_id: str, post: Post) -> dict[str, Any]:
        if post.document is not None:
            sent = post.document
            # when the room's encryption cannot be told now, encrypting is the safe side
            if self.media.encrypts and await self.transport.encrypted(room_id) is not False:
                file = await self.media.upload_document_encrypted(
                    sent.data, sent.media_type, sent.filename
                )
                return document_fallback(sent) if file is None else encrypted_document(sent, file)
            url = await self.media.upload_document(sent.data, sent.media_type, sent.filename)
            return document_fallback(sent) if url is None else document(sent, url)
        if post.clip is None:
            return post.content
        prepared = await self.media.prepare(post.clip.path)
        if prepared is None:
            return clip_fallback(post.clip)
        url, info = prepared
        return clip(post.clip, url, info)

    async def _deliver(self, room_id: str, post: Post, txn_id: str) -> str | None:
        content = await self._content(room_id, post)
        if post.typing > 0:
            await self.transport.typing(room_id, post.typing)
            if not await self.retry.wait(post.typing):
                return None
        attempt = 0
        while True:
            result = await self.transport.send(room_id, post.event_type, content, txn_id)
            if isinstance(result, str):
                return result
            if not await self.retry(result, attempt, f"sending to {room_id}"):
                return None
            attempt += result.retry_after is None
