"""The driver's side of `bench.bench_core`: the worker processes, the trainees, the pipe's cost.

`Pool` starts the workers (`bench.core_worker`), each with the settings `signpost run` would get,
and routes each input to one of them; `Crowd` is the trainees, who play air-01 as those of
`bench.bench_e2e` do (/start, English, the scenario, then the button of each choice of their
path, found by its label, until the debrief); `echo` weighs the pipe alone; `telegram_updates`
turns the trainees' inputs into the Telegram updates that would have carried them.
"""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.bench_e2e import (
    REPLY_TIMEOUT,
    RETRIES,
    ROOT,
    SCENARIO,
    TOKEN,
    Barrier,
    NoAnswerError,
    cpu_seconds,
    rss_bytes,
)
from bench.common import percentile
from bench.core_worker import Link, Reply
from storage import SqlStore

#: echo requests per run, to weigh the pipe
ECHOES = 3000


@dataclass
class Pool:
    """The worker processes of a run, their sockets, and the store read back afterwards."""

    url: str
    workers: int
    folder: Path
    #: the Redis the workers share their gate through, if any
    redis: str | None = None
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    store: SqlStore | None = None

    async def start(self) -> None:
        migrated = await SqlStore.open(self.url)  # the schema, once, before the workers race
        await migrated.close()
        env = {k: v for k, v in os.environ.items() if not k.startswith("SIGNPOST_")}
        env.update(
            SIGNPOST_DATABASE_URL=self.url,
            SIGNPOST_DIALOGUES=str(ROOT / "dialogues"),
            SIGNPOST_LOG_LEVEL=os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
        )
        if self.redis:
            env["SIGNPOST_REDIS_URL"] = self.redis
        sockets = [self.folder / f"worker{n}.sock" for n in range(self.workers)]
        self.processes = [self._spawn(socket, env) for socket in sockets]
        deadline = time.monotonic() + 60
        for process, socket in zip(self.processes, sockets, strict=True):
            while True:
                try:
                    self.links.append(await Link.open(str(socket)))
                    break
                except (FileNotFoundError, ConnectionRefusedError):
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"a worker did not start:\n{self.log_tail()}") from None
                    await asyncio.sleep(0.05)
        self.store = await SqlStore.open(self.url, migrate=False)

    def _spawn(self, socket: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
        with socket.with_suffix(".log").open("wb") as log:
            command = [sys.executable, "-m", "bench.core_worker", str(socket)]
            return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)

    def route(self, user: int, sent: int) -> Link:
        return self.links[(user + sent) % len(self.links)]

    async def resident(self) -> int:
        """The workers' resident memory, read once each has collected and trimmed its heap."""
        await asyncio.gather(*(link.call({"op": "trim"}) for link in self.links))
        return sum(rss_bytes(p.pid) for p in self.processes)

    def cpu(self) -> float:
        return sum(cpu_seconds(p.pid) for p in self.processes)

    def log_tail(self) -> str:
        return "\n".join(
            f"--- {p.name}\n" + "\n".join(p.read_text(errors="replace").splitlines()[-15:])
            for p in sorted(self.folder.glob("*.log"))
        )

    async def close(self) -> None:
        for link in self.links:
            await link.close()
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                await asyncio.to_thread(process.wait, 30)
            except subprocess.TimeoutExpired:
                process.kill()
                await asyncio.to_thread(process.wait)
        if self.store is not None:
            await self.store.close()


async def echo(pool: Pool, clients: int) -> dict[str, float]:
    """The pipe alone, with requests and replies shaped as turns but skipping the service:
    the workers' CPU per request with `clients` in flight at once (as many as the run will
    have: messages that arrive together are read together, and cost less each), and the round
    trip of a request alone."""
    latencies: list[float] = []

    async def client(n: int, requests: int) -> None:
        for k in range(requests):
            request = {"op": "echo", "u": str(n), "k": f"{n}:{k}", "b": "c:12:1"}
            began = time.perf_counter()
            await pool.route(n, k).call(request)
            latencies.append((time.perf_counter() - began) * 1000)

    await client(0, 200)
    alone = percentile(latencies, 50)
    latencies.clear()
    cpu0 = pool.cpu()
    await asyncio.gather(*(client(n, max(1, ECHOES // clients)) for n in range(clients)))
    return {"pipe_ms": 1000 * (pool.cpu() - cpu0) / len(latencies), "echo_p50_ms": alone}


@dataclass
class Crowd:
    """N trainees playing at once; what they measured and what they sent."""

    pool: Pool
    labels: dict[str, str]
    #: trainees whose inputs (each with the keyboard it answered) are kept for aiogram
    sampled: set[int] = field(default_factory=set)
    latencies: list[float] = field(default_factory=list)
    #: the same, split: /start, the language and the scenario; then the scenario's choices
    onboarding: list[float] = field(default_factory=list)
    choosing: list[float] = field(default_factory=list)
    #: per trainee, the keys of the inputs that started its scenario and chose
    sent: dict[int, list[str]] = field(default_factory=dict)
    requests: Counter[int] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)
    unanswered: list[str] = field(default_factory=list)
    debriefs: Counter[int] = field(default_factory=Counter)
    inputs: dict[int, list[tuple[dict[str, str], Reply | None]]] = field(default_factory=dict)

    async def step(
        self,
        user: int,
        request: dict[str, str],
        shown: Reply | None,
        think: float,
        rng: random.Random,
        *,
        session: bool = False,
        choice: bool = False,
    ) -> Reply:
        """Think, send, wait for the next keyboard or the debrief. A notice instead (busy...)
        is counted and the input sent again, as a new message, as a person would."""
        if think:
            await asyncio.sleep(rng.uniform(0.5, 1.5) * think)
        began = time.perf_counter()
        for _ in range(RETRIES + 1):
            count = self.requests[user] = self.requests[user] + 1
            key = f"{user}:{count}"
            link = self.pool.route(user, count)
            call = link.call({"op": "turn", "u": str(user), "k": key, **request})
            if session:
                self.sent.setdefault(user, []).append(key)
            try:
                reply = await asyncio.wait_for(call, REPLY_TIMEOUT)
            except TimeoutError:
                self.unanswered.append(f"trainee {user} waited for {request}")
                raise NoAnswerError(user) from None
            if reply["b"] or reply["d"]:
                self.latencies.append((time.perf_counter() - began) * 1000)
                (self.choosing if choice else self.onboarding).append(self.latencies[-1])
                self.debriefs[user] += reply["d"]
                if user in self.sampled:
                    self.inputs.setdefault(user, []).append((request, shown))
                return reply
            if session:  # refused: applied by nobody, so it must be in no log
                self.sent[user].pop()
            self.refused[reply["n"]] += 1
            await asyncio.sleep(0.5)
        self.unanswered.append(f"trainee {user}: refused {RETRIES + 1} times")
        raise NoAnswerError(user)

    async def play(
        self,
        user: int,
        path: tuple[str, ...],
        think: float,
        rng: random.Random,
        barrier: Barrier | None = None,
    ) -> None:
        try:
            try:
                shown = await self.step(user, {"t": "/start"}, None, think, rng)
                pick = {"b": press(shown, data="l:en")}
                shown = await self.step(user, pick, shown, think, rng)
                pick = {"b": press(shown, data=f"s:{SCENARIO}")}
                shown = await self.step(user, pick, shown, think, rng, session=True)
            finally:  # arrived, or gave up: the others must not wait for this one
                if barrier is not None:
                    barrier.arrive()
            if barrier is not None:
                await barrier.released.wait()
            for choice in path:
                pick = {"b": press(shown, label=self.labels[choice])}
                shown = await self.step(user, pick, shown, think, rng, session=True, choice=True)
        except NoAnswerError:
            return


def press(shown: Reply, *, data: str | None = None, label: str | None = None) -> str:
    """The data of the offered button with that label (or that data, checked to be offered)."""
    for shown_label, shown_data in shown["b"]:
        if shown_label == label or shown_data == data:
            return str(shown_data)
    raise LookupError(f"{label or data!r} is not offered")


async def telegram_updates(inputs: dict[int, list[tuple[dict[str, str], Reply | None]]]) -> Any:
    """The Telegram updates that would carry these inputs: /start as a message, each button as a
    callback query on the keyboard message the Telegram adapter would have sent (its own
    formatting) into the tests' Bot API peer, which shapes them as Telegram does."""
    from adapters.telegram.formatting import buttons_message
    from bot.app.messages import ButtonOut, ButtonsOut
    from tests.peers.telegram import BotApiPeer

    peer = BotApiPeer(TOKEN)
    for user, steps in inputs.items():
        peer.user(user, first_name=f"Trainee {user}", language_code="en")
        for request, shown in steps:
            if shown is None:
                peer.send_text(user, request["t"])
                continue
            offered = tuple(ButtonOut(label, data) for label, data in shown["b"])
            text, markup = buttons_message(ButtonsOut(shown["p"], offered))
            params = {"chat_id": user, "text": text, "parse_mode": "HTML"}
            params["reply_markup"] = markup.model_dump(exclude_none=True)
            message = await peer.api_sendmessage(params)
            peer.press(user, message["message_id"], request["b"])
    return list(peer.history.values())


def clean_redis(url: str) -> bool:
    """Remove the gates' keys of earlier runs from the benchmark's Redis database; False if
    Redis does not answer."""
    import redis

    try:
        client = redis.Redis.from_url(url, socket_timeout=2)
        keys = list(client.scan_iter("signpost:*", count=1000))
        for start in range(0, len(keys), 1000):
            client.delete(*keys[start : start + 1000])
        client.close()
    except (redis.RedisError, OSError):
        return False
    return True
