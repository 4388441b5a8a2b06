"""Telegram's limits shared by several workers of one token, in the Redis on 127.0.0.1:6379.

Each "worker" here is a FloodControl with its own Redis connection, as a process has; the
requests go to a recorder instead of Telegram, so the times measured are the limiter's alone.
"""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import SendMessage
from redis.asyncio import Redis

from adapters.telegram.limiter import FloodControl
from adapters.telegram.options import Limits, Retry
from adapters.telegram.shared_limits import RedisSlots, token_digest
from tests.databases import REDIS_URL, answering
from tests.telegram.harness import TOKEN, free_port

BOT = Bot(TOKEN)


@pytest.fixture
async def prefix() -> AsyncIterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards."""
    client = await answering(Redis.from_url(REDIS_URL))
    name = f"tglim{secrets.token_hex(4)}"
    yield name
    keys = [key async for key in client.scan_iter(f"{name}:*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


class Workers:
    """`n` workers of one token sharing its limits; `sent` is (time, worker, chat) per request."""

    def __init__(self, prefix: str, limits: Limits, n: int = 2, token: str = TOKEN) -> None:
        self.slots = [
            RedisSlots.from_url(REDIS_URL, token, limits, prefix=prefix) for _ in range(n)
        ]
        self.floods = [FloodControl(limits, Retry(), slots=s) for s in self.slots]
        self.sent: list[tuple[float, int, int]] = []
        self.refusals: list[Exception] = []

    def api(self, worker: int) -> Any:
        async def request(bot: Any, method: Any) -> Any:
            if worker == 0 and self.refusals:
                raise self.refusals.pop(0)
            self.sent.append((asyncio.get_running_loop().time(), worker, method.chat_id))
            return True

        return request

    async def send(self, worker: int, chat: int) -> None:
        await self.floods[worker](self.api(worker), BOT, SendMessage(chat_id=chat, text="x"))

    async def close(self) -> None:
        for slots in self.slots:
            await slots.close()


async def test_workers_of_one_token_share_the_bots_rate(prefix: str) -> None:
    """100 a second for the token: two workers sending 40 each take 0.8 s together, where
    each alone at 100 a second would be done in 0.4 s (limits per process: 200 a second)."""
    workers = Workers(prefix, Limits(per_second=100, burst=1, per_chat_per_second=1000))
    try:
        await workers.send(0, 999)  # warm the connections: the clock starts at a slot
        workers.sent.clear()
        await asyncio.gather(*(workers.send(n % 2, n) for n in range(80)))
    finally:
        await workers.close()
    times = sorted(at for at, _, _ in workers.sent)
    assert len(times) == 80 and {w for _, w, _ in workers.sent} == {0, 1}
    begun = times[0]
    for k, at in enumerate(times):
        assert at >= begun + k / 100 - 0.015, (k, at - begun)
    assert 0.77 <= times[-1] - begun < 1.5


async def test_a_chat_is_paced_whichever_worker_sends(prefix: str) -> None:
    """A chat gets its burst of 2, then one message per 0.1 s, though the workers take turns."""
    workers = Workers(
        prefix, Limits(per_second=1000, burst=100, per_chat_per_second=10, chat_burst=2)
    )
    try:
        await workers.send(0, 1)
        await workers.send(1, 1)
        for n in range(4):
            await workers.send(n % 2, 1)
    finally:
        await workers.close()
    times = [at for at, _, _ in workers.sent]
    assert [w for _, w, _ in workers.sent] == [0, 1, 0, 1, 0, 1]
    for k, at in enumerate(times):
        assert at >= times[0] + max(0, k - 1) * 0.1 - 0.015, (k, at - times[0])
    assert times[-1] - times[0] < 0.7


async def test_a_429_at_one_worker_pauses_every_worker(prefix: str) -> None:
    workers = Workers(prefix, Limits(per_second=1000, burst=100, per_chat_per_second=1000))
    method = SendMessage(chat_id=1, text="x")
    workers.refusals.append(TelegramRetryAfter(method, "Too Many Requests", 1))
    loop = asyncio.get_running_loop()
    try:
        refused = asyncio.create_task(workers.send(0, 1))  # 429: waits 1 s, then sent
        await asyncio.sleep(0.1)
        begun = loop.time()
        await workers.send(1, 2)  # another process, another chat: waits for the pause too
        other = loop.time() - begun
        await refused
    finally:
        await workers.close()
    assert 0.8 < other < 1.5
    assert workers.floods[0].flood_waits == 1 and workers.floods[1].flood_waits == 0
    assert sorted(w for _, w, _ in workers.sent) == [0, 1]


async def test_other_tokens_keep_their_own_queues(prefix: str) -> None:
    limits = Limits(per_second=20, burst=1, per_chat_per_second=1000)
    busy = Workers(prefix, limits, n=1)
    other = Workers(prefix, limits, n=1, token="987654321:AAHanother-token-0123456789abcdefghi")
    loop = asyncio.get_running_loop()
    try:
        await asyncio.gather(*(busy.send(0, n) for n in range(10)))  # fills 0.5 s of its queue
        begun = loop.time()
        await other.send(0, 1)
        waited = loop.time() - begun
    finally:
        await busy.close()
        await other.close()
    assert waited < 0.04


async def test_keys_name_a_hash_of_the_token_and_expire(prefix: str) -> None:
    workers = Workers(prefix, Limits(per_second=1000, burst=100, per_chat_per_second=10))
    client = Redis.from_url(REDIS_URL)
    try:
        await workers.send(0, 5)
        await workers.slots[1].pause(1.5)  # as after a 429
        keys = sorted([key.decode() async for key in client.scan_iter(f"{prefix}:*")])
        ttls = [await client.pttl(key) for key in keys]
    finally:
        await workers.close()
        await client.aclose()
    digest = token_digest(TOKEN)
    assert keys == [f"{prefix}:{digest}:{name}" for name in ("bot", "chat:5", "pause")]
    secret = TOKEN.split(":", 1)[1]
    assert not any(secret in key or TOKEN.split(":")[0] in key for key in keys)
    assert all(0 < ttl <= 2000 for ttl in ttls), ttls  # an idle queue leaves nothing behind


async def test_without_redis_each_worker_keeps_its_own_queues(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Redis gone (nothing listens): messages still go, paced by the process itself; the log
    says so once and shows neither the URL nor its password."""
    caplog.set_level(logging.WARNING)
    url = f"redis://:redis-password-42@127.0.0.1:{free_port()}/0"
    limits = Limits(per_second=50, burst=1, per_chat_per_second=1000)
    slots = RedisSlots.from_url(url, TOKEN, limits)
    flood = FloodControl(limits, Retry(), slots=slots)
    sent: list[float] = []
    loop = asyncio.get_running_loop()

    async def api(bot: Any, method: Any) -> Any:
        sent.append(loop.time())
        return True

    try:
        assert not await slots.check()
        await asyncio.gather(
            *(flood(api, BOT, SendMessage(chat_id=c, text="x")) for c in range(10))
        )
    finally:
        await slots.close()
    assert len(sent) == 10 and sent[-1] - sent[0] >= 9 / 50 - 0.01
    assert slots.fallbacks >= 10
    warnings = [r.getMessage() for r in caplog.records if "Redis does not answer" in r.getMessage()]
    assert len(warnings) == 1
    assert "redis-password-42" not in caplog.text and "127.0.0.1" not in warnings[0]


async def test_a_sender_told_to_stop_stops_even_inside_a_redis_call(prefix: str) -> None:
    """redis-py on Python 3.11 can swallow a cancellation that meets a command on the wire;
    the limiter must not: a stopping bot waits for its senders to end."""
    slots = RedisSlots.from_url(REDIS_URL, TOKEN, Limits(), prefix=prefix)
    rng = random.Random(3)
    over = asyncio.Event()  # ends the senders should the test fail

    async def sender() -> None:
        while not over.is_set():
            await slots.chat_slot(1)
            await slots.paused_for()
            await asyncio.sleep(0)

    try:
        for _ in range(100):
            senders = [asyncio.create_task(sender()) for _ in range(5)]
            await asyncio.sleep(rng.random() * 0.005)
            for task in senders:
                task.cancel()
            _, going_on = await asyncio.wait(senders, timeout=2)
            assert not going_on, "a cancelled sender went on sending"
    finally:
        over.set()
        await asyncio.sleep(0.1)
        await slots.close()
