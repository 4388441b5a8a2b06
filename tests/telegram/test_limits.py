"""The outgoing limiter: Telegram's real per-chat limit over HTTP, and its arithmetic on a
virtual clock (bot-wide rate, bursts queued in order, 429 pauses, retries)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from aiogram.methods import SendChatAction, SendMessage

from adapters.telegram.limiter import Bucket, FloodControl
from adapters.telegram.options import Limits, Retry, TelegramOptions
from tests.peers.telegram import BotApiPeer
from tests.telegram.harness import FAST, TOKEN, Harness, Phone


async def test_the_real_per_chat_limit(harness: Harness, peer: BotApiPeer) -> None:
    """Telegram's defaults: a chat gets three messages at once, then one a second (edits do
    not count), while another chat is served at the same time without waiting for it."""
    real = TelegramOptions(limits=Limits(), retry=FAST.retry, pacing=FAST.pacing, poll_timeout=5)
    await harness.start(options=real)
    one, two = Phone(peer, 1401), Phone(peer, 1402)
    await one.send("/start")  # welcome and consent, the languages: 2 of the 3 at once
    # then, all at once: the languages edited, "Language: English" and the scenarios; the
    # help; and another trainee's /start
    mark_one, mark_two = one.mark(), two.mark()
    peer.press(one.user_id, one.keyboard()["message_id"], "l:en")
    peer.send_text(one.user_id, "/help")
    peer.send_text(two.user_id, "/start")
    await two.answer(mark_two, "keyboard")
    await peer.wait_until(lambda: len(one.messages(mark_one)) == 3, within=10)
    await peer.wait_until(lambda: one.texts()[-1].startswith("Commands:"), within=10)

    def times(chat: int) -> list[float]:
        return [c.at for c in peer.calls if c.chat_id == chat and c.method == "sendMessage"]

    first = times(1401)
    assert len(first) == 5
    start = first[0]
    for k, at in enumerate(first):
        assert at >= start + max(0, k - 2) * 1.0 - 0.05, (k, at - start)
    assert first[-1] - start < 6  # queued, not dropped or stuck
    # the other trainee was answered at once, while the first one's messages still waited
    assert times(1402)[-1] < first[-1] - 1.0


# -- the arithmetic ------------------------------------------------------


class VirtualTime:
    """A clock that sleeping moves on (for one caller at a time)."""

    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)
        await asyncio.sleep(0)


def test_bucket_allows_a_burst_then_the_rate() -> None:
    bucket = Bucket(rate=1.0, burst=3)
    waits = [bucket.reserve(10.0) for _ in range(6)]
    assert waits == [0.0, 0.0, 0.0, 1.0, 2.0, 3.0]
    assert bucket.reserve(20.0) == 0.0  # rested: a new burst


class Recorder:
    """A fake Bot API: records when each request went out, fails as scripted."""

    def __init__(self, time: VirtualTime, failures: list[Exception] | None = None) -> None:
        self.time = time
        self.sent: list[tuple[float, Any]] = []
        self.failures = failures or []

    async def __call__(self, bot: Any, method: Any) -> Any:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append((self.time.now, getattr(method, "chat_id", None)))
        return True


def middleware(time: VirtualTime, limits: Limits, retry: Retry | None = None) -> FloodControl:
    return FloodControl(limits, retry or Retry(), clock=time.clock, sleep=time.sleep)


BOT = Bot(TOKEN)


async def test_the_bot_wide_rate_queues_a_burst_in_order() -> None:
    """200 a second (so the test is quick; the default is 30): 60 chats at once are sent in
    the order they asked, each no earlier than its slot, none dropped."""
    flood = FloodControl(Limits(per_second=200, burst=1), Retry())
    sent: list[tuple[float, int]] = []
    loop = asyncio.get_running_loop()

    async def api(bot: Any, method: Any) -> Any:
        sent.append((loop.time(), method.chat_id))
        return True

    begun = loop.time()
    burst = asyncio.gather(
        *(flood(api, BOT, SendMessage(chat_id=c, text="x")) for c in range(60))  # type: ignore[arg-type]
    )
    await asyncio.sleep(0.05)
    assert 40 <= flood.waiting < 60  # queued, visible to metrics
    await burst
    assert flood.waiting == 0
    assert [c for _, c in sent] == list(range(60))
    for k, (at, _) in enumerate(sent):
        assert at >= begun + k / 200 - 0.002, k
    assert sent[-1][0] - begun < 1.0


async def test_a_429_pauses_everything_for_retry_after() -> None:
    time = VirtualTime()
    flood = middleware(time, Limits(per_second=1000, burst=100, per_chat_per_second=1000))
    refusal = TelegramRetryAfter(SendMessage(chat_id=1, text="x"), "Too Many Requests", 7)
    api = Recorder(time, [refusal])
    await flood(api, BOT, SendMessage(chat_id=1, text="x"))  # type: ignore[arg-type]
    assert api.sent == [(7.0, 1)]
    await flood(api, BOT, SendMessage(chat_id=2, text="y"))  # type: ignore[arg-type]
    assert api.sent[1][0] >= 7.0
    assert flood.flood_waits == 1


async def test_failures_are_retried_with_growing_delays_then_given_up() -> None:
    time = VirtualTime()
    retry = Retry(attempts=4, first_delay=0.5, max_delay=10)
    flood = middleware(time, Limits(per_chat_per_second=1000, per_second=1000), retry)
    method = SendMessage(chat_id=1, text="x")
    errors: list[Exception] = [
        TelegramServerError(method, "Internal Server Error"),
        TelegramNetworkError(method, "ServerDisconnectedError"),
        TelegramServerError(method, "Bad Gateway"),
    ]
    api = Recorder(time, list(errors))
    await flood(api, BOT, method)  # type: ignore[arg-type]
    assert api.sent == [(0.5 + 1.0 + 2.0, 1)]
    api = Recorder(time, [*errors, TelegramServerError(method, "again")])
    with pytest.raises(TelegramServerError):
        await flood(api, BOT, method)  # type: ignore[arg-type]
    # a chat action is a courtesy: never repeated late
    action = SendChatAction(chat_id=1, action="typing")
    api = Recorder(time, [TelegramServerError(action, "Internal Server Error")])
    with pytest.raises(TelegramServerError):
        await flood(api, BOT, action)  # type: ignore[arg-type]


class Reported:
    """A telemetry port that keeps what it is told, as /metrics would show it."""

    def __init__(self) -> None:
        self.queue: list[int] = []
        self.retries: list[str] = []

    def queue_length(self, platform: str, length: int) -> None:
        assert platform == "telegram"
        self.queue.append(length)

    def retried(self, platform: str, reason: str) -> None:
        assert platform == "telegram"
        self.retries.append(reason)

    def error(self, kind: str) -> None:
        pass


async def test_queue_and_retries_are_reported_for_metrics() -> None:
    time = VirtualTime()
    reported = Reported()
    flood = FloodControl(
        Limits(per_second=1000, burst=100, per_chat_per_second=1, chat_burst=1),
        Retry(attempts=4, first_delay=0.1),
        clock=time.clock,
        sleep=time.sleep,
        telemetry=reported,
    )
    method = SendMessage(chat_id=1, text="x")
    api = Recorder(
        time,
        [
            TelegramRetryAfter(method, "Too Many Requests", 2),
            TelegramServerError(method, "Bad Gateway"),
            TelegramNetworkError(method, "ServerDisconnectedError"),
        ],
    )
    await asyncio.gather(*(flood(api, BOT, method) for _ in range(3)))  # type: ignore[arg-type]
    assert reported.retries == ["429", "5xx", "connection"]
    assert max(reported.queue) >= 2  # messages for one chat waited for their slots
    assert reported.queue[-1] == 0
