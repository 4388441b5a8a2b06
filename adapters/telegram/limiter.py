"""Outgoing flood control for one bot token, as an aiogram request middleware.

Every request the bot makes passes through here. Messages to a chat are spaced to Telegram's
limits (one a second per chat after a short burst, about 30 a second per bot) by reserving a
slot in two queues, so a burst of 200 trainees is sent in order, late, but never dropped. A 429
answer (`TelegramRetryAfter`; aiogram does not retry it) pauses the whole bot for `retry_after`
seconds and the request is sent again; 5xx answers and dropped connections are retried with a
growing delay. getUpdates is left to the poller, which has its own loop.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

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

from adapters.telegram.options import Limits, Retry

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


class FloodControl(BaseRequestMiddleware):
    def __init__(
        self,
        limits: Limits,
        retry: Retry,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.limits = limits
        self.retry = retry
        self._clock = clock
        self._sleep = sleep
        self._bot = Bucket(limits.per_second, limits.burst)
        self._chats: dict[Any, Bucket] = {}
        self._paused_until = 0.0
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
            self.waiting += 1
            try:
                if is_message:
                    await self._chat_slot(chat)
                if in_bot_queue:
                    await self._bot_slot()
                await self._wait_pause()
            finally:
                self.waiting -= 1
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as error:
                waits += 1
                self.flood_waits += 1
                self._pause(error.retry_after)
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
                delay = min(self.retry.max_delay, self.retry.first_delay * 2 ** (failures - 1))
                log.warning(
                    "Telegram %s failed (%s); again in %.2f s",
                    type(method).__name__,
                    error.label,
                    delay,
                )
                await self._sleep(delay)

    def _pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    async def _wait_pause(self) -> None:
        while (left := self._paused_until - self._clock()) > 0:
            await self._sleep(left)

    async def _chat_slot(self, chat: Any) -> None:
        now = self._clock()
        bucket = self._chats.get(chat)
        if bucket is None:
            if len(self._chats) >= _CHATS_KEPT:
                self._chats = {k: b for k, b in self._chats.items() if not b.idle(now)}
            bucket = self._chats[chat] = Bucket(
                self.limits.per_chat_per_second, self.limits.chat_burst
            )
        if (wait := bucket.reserve(now)) > 0:
            await self._sleep(wait)

    async def _bot_slot(self) -> None:
        # Taken only once the chat's turn has come, so that one busy chat does not hold places
        # in the bot's queue that other chats could use.
        if (wait := self._bot.reserve(self._clock())) > 0:
            await self._sleep(wait)
