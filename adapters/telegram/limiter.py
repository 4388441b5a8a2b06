"""Outgoing flood control for one bot token, as an aiogram request middleware.

Every request the bot makes passes through here. Messages to a chat are spaced to Telegram's
limits (one a second per chat after a short burst, about 30 a second per bot) by reserving a
slot in two queues, so a burst of 200 trainees is sent in order, late, but never dropped. A 429
answer (`TelegramRetryAfter`; aiogram does not retry it) pauses the whole bot for `retry_after`
seconds and the request is sent again; 5xx answers and dropped connections are retried with a
growing delay. getUpdates is left to the poller, which has its own loop.

The queues and the pause live in a `Slots`: in this process (`LocalSlots`), or in Redis when
several processes send for the same token (adapters.telegram.shared_limits), since Telegram
counts per token, not per process.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import (
    TelegramEntityTooLarge,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import AnswerCallbackQuery, GetUpdates, SendChatAction, TelegramMethod
from aiogram.methods.base import TelegramType

from adapters.telegram.options import PLATFORM, Limits, Retry
from bot.app.telemetry import NullTelemetry, Telemetry

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.methods import Response

log = logging.getLogger(__name__)
#: idle per-chat queues are forgotten once there are this many
_CHATS_KEPT = 10_000


class Bucket:
    """A queue of send times at `rate` per second allowing `burst` at once (GCRA).

    `reserve` hands out the next free slot and returns how long to wait for it; callers that
    reserve in turn are served in turn.
    """

    def __init__(self, rate: float, burst: int) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.tolerance = max(0, burst - 1) * self.interval
        self.free_at = 0.0  # the theoretical arrival time of the next message

    def reserve(self, now: float) -> float:
        start = max(self.free_at, now)
        self.free_at = start + self.interval
        return max(0.0, start - self.tolerance - now)

    def idle(self, now: float) -> bool:
        return self.free_at <= now


class Slots(Protocol):
    """Where the queues and the 429 pause of one bot token are kept; waits are in seconds."""

    async def chat_slot(self, chat: Any) -> float:
        """Reserve the chat's next message slot; how long to wait for it (or for the end of a
        pause, if later)."""
        ...

    async def bot_slot(self) -> float:
        """Reserve the bot's next request slot; how long to wait for it (or for the end of a
        pause, if later)."""
        ...

    async def pause(self, seconds: float) -> None:
        """Telegram said 429: nothing is sent for `seconds` (a longer pause is kept)."""
        ...

    async def paused_for(self) -> float:
        """How long the current pause lasts yet (0: none)."""
        ...


class LocalSlots:
    """The queues of one process: right when one process sends for the token."""

    def __init__(self, limits: Limits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self._clock = clock
        self._bot = Bucket(limits.per_second, limits.burst)
        self._chats: dict[Any, Bucket] = {}
        self._paused_until = 0.0

    async def chat_slot(self, chat: Any) -> float:
        return max(self.chat_wait(chat), self.pause_left())

    async def bot_slot(self) -> float:
        return max(self.bot_wait(), self.pause_left())

    async def pause(self, seconds: float) -> None:
        self.pause_now(seconds)

    async def paused_for(self) -> float:
        return self.pause_left()

    # the same, without awaiting: for a caller that cannot reach its shared slots
    def chat_wait(self, chat: Any) -> float:
        now = self._clock()
        bucket = self._chats.get(chat)
        if bucket is None:
            if len(self._chats) >= _CHATS_KEPT:
                self._chats = {k: b for k, b in self._chats.items() if not b.idle(now)}
            bucket = self._chats[chat] = Bucket(
                self.limits.per_chat_per_second, self.limits.chat_burst
            )
        return bucket.reserve(now)

    def bot_wait(self) -> float:
        return self._bot.reserve(self._clock())

    def pause_now(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    def pause_left(self) -> float:
        return max(0.0, self._paused_until - self._clock())


class FloodControl(BaseRequestMiddleware):
    def __init__(
        self,
        limits: Limits,
        retry: Retry,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        slots: Slots | None = None,
        telemetry: Telemetry | None = None,
    ) -> None:
        self.limits = limits
        self.telemetry: Telemetry = telemetry or NullTelemetry()
        self.retry = retry
        self._sleep = sleep
        self.slots: Slots = slots or LocalSlots(limits, clock)
        #: counters for logs, metrics and tests; `waiting`: messages queued for their slot now
        self.flood_waits = 0
        self.retries = 0
        self.waiting = 0

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        if method.__api_method__ == GetUpdates.__api_method__:
            return await make_request(bot, method)
        chat = getattr(method, "chat_id", None)
        # Only new messages count against a chat's one a second (an edit adds nothing to the
        # chat), and everything with a chat against the bot's 30. Chat actions and callback
        # answers are courtesies: never repeated late (a stale "typing…" is worse than none).
        is_message = chat is not None and method.__api_method__.startswith("send")
        in_bot_queue = chat is not None and not isinstance(method, SendChatAction)
        best_effort = isinstance(method, SendChatAction | AnswerCallbackQuery)
        failures = waits = 0
        while True:
            self._waiting(+1)
            try:
                waited = 0.0
                if is_message:
                    waited += await self._wait(await self.slots.chat_slot(chat))
                # The bot's slot is taken only once the chat's turn has come, so that one busy
                # chat does not hold places in the bot's queue that other chats could use.
                if in_bot_queue:
                    waited += await self._wait(await self.slots.bot_slot())
                # A slot's answer says whether a pause was on then; after a wait (or with no
                # slot to take) a pause may have begun since.
                if waited or not (is_message or in_bot_queue):
                    while (left := await self.slots.paused_for()) > 0:
                        await self._sleep(left)
            finally:
                self._waiting(-1)
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as error:
                waits += 1
                self.flood_waits += 1
                self.telemetry.retried(PLATFORM, "429")
                await self.slots.pause(error.retry_after)
                log.warning(
                    "Telegram flood control: %s waits %s s (chat %s)",
                    type(method).__name__,
                    error.retry_after,
                    chat,
                )
                if best_effort or waits > self.retry.flood_waits:
                    raise
            except TelegramEntityTooLarge:
                raise
            except (TelegramServerError, TelegramNetworkError) as error:
                failures += 1
                if best_effort or failures >= self.retry.attempts:
                    raise
                self.retries += 1
                self.telemetry.retried(
                    PLATFORM, "5xx" if isinstance(error, TelegramServerError) else "connection"
                )
                delay = min(self.retry.max_delay, self.retry.first_delay * 2 ** (failures - 1))
                log.warning(
                    "Telegram %s failed (%s); again in %.2f s",
                    type(method).__name__,
                    error.label,
                    delay,
                )
                await self._sleep(delay)

    def _waiting(self, change: int) -> None:
        self.waiting += change
        self.telemetry.queue_length(PLATFORM, self.waiting)

    async def _wait(self, seconds: float) -> float:
        if seconds > 0:
            await self._sleep(seconds)
        return max(0.0, seconds)
