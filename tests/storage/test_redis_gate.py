"""The trainee gate shared by bot processes, against the Redis server on 127.0.0.1:6379."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import BlockingConnectionPool, Redis

from bot.app.gate import GateBusyError, GateUnavailableError, LocalGate
from bot.app.ports import StoreUnavailableError
from storage.redis_gate import RedisGate
from tests.databases import REDIS_URL, answering
from tests.telegram.harness import free_port


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client = await answering(Redis.from_url(REDIS_URL))
    yield client
    await client.aclose()


def gates(redis: Redis, n: int, **options: object) -> list[RedisGate]:
    prefix = f"t{secrets.token_hex(4)}"
    return [RedisGate(redis, worker=f"w{i}", prefix=prefix, **options) for i in range(n)]  # type: ignore[arg-type]


async def test_holders_never_overlap_across_workers(redis: Redis) -> None:
    workers = gates(redis, 3)
    inside = 0
    most = 0
    order: list[int] = []

    async def work(gate: RedisGate, n: int) -> None:
        nonlocal inside, most
        async with gate.hold("trainee"):
            inside += 1
            most = max(most, inside)
            order.append(n)
            await asyncio.sleep(0.005)
            inside -= 1

    await asyncio.gather(*(work(workers[n % 3], n) for n in range(30)))
    assert most == 1 and sorted(order) == list(range(30))


async def test_fresh_says_whether_another_worker_held_it_since(redis: Redis) -> None:
    a, b = gates(redis, 2)
    async with a.hold("t") as fresh:
        assert fresh  # nobody held it before
    async with a.hold("t") as fresh:
        assert fresh
    async with b.hold("t") as fresh:
        assert not fresh  # a was last: b's cache may be stale
    async with a.hold("t") as fresh:
        assert not fresh


async def test_a_worker_killed_while_holding_leaves_the_next_holder_not_fresh(
    redis: Redis,
) -> None:
    a, b = gates(redis, 2, expiry_ms=150, wait_s=2.0)
    async with a.hold("t") as fresh:
        assert fresh
    killed = b.hold("t")
    assert not await killed.__aenter__()  # b takes the gate, may write a turn, then dies
    for task in asyncio.all_tasks():
        if task.get_coro().__qualname__ == "RedisGate._keep":  # type: ignore[union-attr]
            task.cancel()  # no renewal, and no release: the gate expires
    await asyncio.sleep(0.3)
    async with a.hold("t") as fresh:
        assert not fresh  # b held it last, although it never released it


async def test_a_dead_workers_gate_expires(redis: Redis) -> None:
    (gate,) = gates(redis, 1, expiry_ms=200, wait_s=2.0)
    await redis.set(f"{gate.prefix}:gate:t", "dead:1", px=200)  # a worker killed mid-turn
    began = asyncio.get_running_loop().time()
    async with gate.hold("t"):
        waited = asyncio.get_running_loop().time() - began
    assert 0.1 < waited < 1.0


async def test_a_stuck_gate_gives_up_in_bounded_time(redis: Redis) -> None:
    a, b = gates(redis, 2, wait_s=0.2)
    async with a.hold("t"):
        with pytest.raises(GateBusyError):
            async with b.hold("t"):
                pass


async def test_a_stalled_holder_cannot_release_a_newer_holders_gate(redis: Redis) -> None:
    a, b = gates(redis, 2, expiry_ms=150, wait_s=2.0)
    stalled = a.hold("t")
    await stalled.__aenter__()
    keeper_free = [t for t in asyncio.all_tasks() if t.get_coro().__qualname__ == "RedisGate._keep"]  # type: ignore[union-attr]
    for task in keeper_free:
        task.cancel()  # the process stalls: no renewal
    await asyncio.sleep(0.3)
    async with b.hold("t"):
        await stalled.__aexit__(None, None, None)  # the stalled worker wakes up and releases
        assert (await redis.get(f"{b.prefix}:gate:t") or b"").decode().startswith("w1:")


async def test_the_gate_is_let_go_even_when_redis_py_swallows_a_cancellation(
    redis: Redis,
) -> None:
    """redis-py can swallow a cancellation that meets a command on the wire (seen with three
    workers under load: a keeper renewed a gate for ever, the trainee got "still being
    handled" to every message, the worker could not stop). Here every renewal does that."""
    (gate,) = gates(redis, 1, expiry_ms=150)
    real_renew = gate._renew
    renewals = 0

    async def swallowing_renew(*args: object, **kwargs: object) -> object:
        nonlocal renewals
        renewals += 1
        with contextlib.suppress(asyncio.CancelledError):  # as redis-py may: the cancellation
            await asyncio.sleep(0.01)  # is lost
        return await real_renew(*args, **kwargs)  # type: ignore[arg-type]

    gate._renew = swallowing_renew  # type: ignore[assignment]

    async def turn() -> None:
        async with gate.hold("t"):
            await asyncio.sleep(0.3)  # long enough for several renewals

    await asyncio.wait_for(turn(), 5)
    assert renewals >= 2
    keepers = [t for t in asyncio.all_tasks() if t.get_name() == "gate-keeper"]
    await asyncio.sleep(0.2)
    assert all(k.done() for k in keepers)
    assert await redis.get(f"{gate.prefix}:gate:t") is None  # released, not renewed


@pytest.mark.parametrize("renewed_from", ["thread", "event loop"])
async def test_a_held_gate_outlives_a_stalled_event_loop(redis: Redis, renewed_from: str) -> None:
    """The loop stalls for three times the gate's expiry while a turn is handled (a burst of
    trainees on a small machine). Renewed from a thread, the gate is still this worker's
    afterwards; renewed from the loop, it expired, and another worker could have taken it and
    handled the trainee's input at the same time (seen: a scenario started twice)."""
    prefix = f"t{secrets.token_hex(4)}"
    if renewed_from == "thread":
        gate = RedisGate.from_url(REDIS_URL, prefix=prefix, worker="w", expiry_ms=300)
    else:
        gate = RedisGate(redis, prefix=prefix, worker="w", expiry_ms=300)
    key = f"{prefix}:gate:t"
    try:
        async with gate.hold("t"):
            time.sleep(1.0)  # noqa: ASYNC251 (the point: the loop stalls)
            holder = await redis.get(key)
    finally:
        if renewed_from == "thread":
            await gate.close()
    assert (holder is not None) == (renewed_from == "thread")
    assert await redis.get(key) is None  # released at the end either way


async def test_a_burst_waits_for_a_connection_instead_of_failing(redis: Redis) -> None:
    """300 trainees at once through a pool of 4 connections: each waits its turn for one
    (redis-py's default pool would raise "Too many connections" past its size)."""
    pool = BlockingConnectionPool.from_url(REDIS_URL, max_connections=4, timeout=10)
    gate = RedisGate(Redis.from_pool(pool), prefix=f"t{secrets.token_hex(4)}")
    served = 0

    async def trainee(n: int) -> None:
        nonlocal served
        async with gate.hold(f"trainee-{n}"):
            await asyncio.sleep(0.001)
            served += 1

    try:
        await asyncio.gather(*(trainee(n) for n in range(300)))
    finally:
        await gate.close()
    assert served == 300


async def test_without_redis_the_gate_says_so_quickly_and_clearly() -> None:
    gate = RedisGate.from_url(f"redis://:secret-pass@127.0.0.1:{free_port()}/0")
    began = asyncio.get_running_loop().time()
    try:
        with pytest.raises(GateUnavailableError) as caught:
            async with gate.hold("t"):
                raise AssertionError("held a gate without Redis")
    finally:
        await gate.close()
    assert asyncio.get_running_loop().time() - began < 5
    assert isinstance(caught.value, StoreUnavailableError)  # the service asks to resend
    assert "secret-pass" not in str(caught.value)


async def test_the_local_gate_serialises_in_one_process() -> None:
    gate = LocalGate()
    inside = most = 0

    async def work() -> None:
        nonlocal inside, most
        async with gate.hold("t") as fresh:
            assert fresh
            inside += 1
            most = max(most, inside)
            await asyncio.sleep(0)
            inside -= 1

    await asyncio.gather(*(work() for _ in range(20)))
    assert most == 1
