"""End to end through Telegram: simulated trainees play air-01 to the end against real workers.

Everything a trainee's turn goes through in production is in the loop:

    trainee -> Bot API peer (tests/peers, HTTP on 127.0.0.1) -> getUpdates or a webhook POST
    [-> a round-robin balancer] -> a Signpost worker process (`bench.e2e_procs worker`: the
    settings, `bot.bootstrap.runtime` and `adapters.telegram.runner.serve` of `signpost run
    telegram`) -> inbox -> service -> SQLite or PostgreSQL [and the Redis gate] -> aiogram ->
    sendMessage, editMessageText, ... -> the peer

The trainees live in this process, inside the peer: each sends /start, picks English and air-01,
then presses the button of each choice of its path (read off the numbered list in the message,
as a person does) until the debrief. A turn's latency runs from the update being handed to the
peer to the message with the next choices (or the debrief) arriving at the peer. Between the
onboarding and the scenario every trainee waits at a barrier, where the workers' resident
memory is read: its growth over a warmed-up baseline, divided by the trainees, is the memory of
an active session. CPU is read from /proc/<pid>/stat for the workers, the balancer, PostgreSQL
and Redis, and with `time.process_time` for this process (the peer and the trainees).

A press the bot refuses with a notice ("busy, try again") is counted and pressed again, as a
person would; an answer that does not come in REPLY_TIMEOUT is counted and the trainee stops.
After each run every trainee's turn log is read back from the database: a turn missing from a
log, or a turn stored twice (a repeated sequence number or input key), is counted; so are
answers and debriefs that did not arrive or arrived twice, updates never marked processed, and
warnings in the workers' logs.

The same updates are then fed to a stock aiogram `Dispatcher` whose handlers do nothing (no
network, Update objects made beforehand): Signpost's CPU per turn is reported as a multiple of
that dispatch. Last, a stock aiogram bot that answers each update with as many Bot API calls as
Signpost made per turn, and does nothing else (`bench.e2e_procs echo`), shows how much of a
turn is aiogram sending the answer.

BENCH_LOGS=folder keeps the processes' logs there; BENCH_PROFILE=file profiles the workers.

`python -m bench.bench_e2e` runs only this benchmark and prints its section of BENCHMARKS.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.bench_service import fresh_postgres
from bench.common import percentile
from bot.scenario.loader import LoadedScenario, load_scenario
from storage import SqlStore
from tests.peers.telegram import BotApiPeer, buttons_of

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = "air-01"
TOKEN = "987654321:AAbench-token-Signpost-e2e-0123456789abcdef"
SECRET = "bench-webhook-secret-0123456789"
#: the PostgreSQL database each run gets afresh (next to SIGNPOST_TEST_POSTGRES_URL's)
DATABASE = "signpost_bench_e2e"
REDIS = os.environ.get("SIGNPOST_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
DEBRIEF = "📊"
#: the boyfriend interprets: a critical error that ends the scenario after four choices
SHORT = ("plan_private", "brief_interpreter", "begin_talk", "let_marek_translate")
#: trainees that play once through before anything is measured (compiles, pools, caches)
WARMUP = 3
#: a reply that does not come within this long is counted as lost, and the trainee gives up
REPLY_TIMEOUT = 60.0
#: a press refused with a notice ("busy, try again") is repeated this many times at most
RETRIES = 5
CLOCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True, slots=True)
class Setup:
    backend: str  # "SQLite" or "PostgreSQL"
    workers: int
    webhook: bool

    @property
    def label(self) -> str:
        mode = "webhook" if self.webhook else "long polling"
        if self.workers > 1:
            mode += ", round-robin balancer, Redis"
        return f"{self.backend}, {self.workers} worker{'s' if self.workers > 1 else ''} ({mode})"


@dataclass(frozen=True, slots=True)
class Load:
    trainees: int
    path: str  # "expert" (26 choices) or "short" (4)
    #: mean seconds a trainee thinks before each input; 0: a closed loop (answer, send again)
    think: float = 0.0

    @property
    def label(self) -> str:
        if not self.think:
            return "closed loop"
        return f"think ~{self.think:g} s"


#: 10 and 100 trainees find capacity in a closed loop; 1,000 think as readers do (~10 s: about
#: 100 turns/s at most, which one worker here can take). A closed loop of 1,000 would only show
#: Little's law (p99 = 1,000 / throughput: seconds, here) and add four minutes to `make bench`.
LOADS = [Load(10, "expert"), Load(100, "expert"), Load(1000, "short", think=10.0)]
PLAN: list[tuple[Setup, list[Load]]] = [
    (Setup("SQLite", 1, webhook=False), LOADS),
    (Setup("PostgreSQL", 1, webhook=False), LOADS),
    # what webhook mode alone costs, to tell it from what three workers cost
    (Setup("PostgreSQL", 1, webhook=True), [Load(100, "expert")]),
    (Setup("PostgreSQL", 3, webhook=True), LOADS),
]


# -- the peer, timing replies --------------------------------------------------------------


class BenchPeer(BotApiPeer):
    """The tests' Bot API peer, which also tells a waiting trainee when its answer arrives."""

    def __init__(self) -> None:
        super().__init__(TOKEN)
        self.waiters: dict[int, asyncio.Future[tuple[float, dict[str, Any]]]] = {}
        #: per chat: messages that ended a turn (a keyboard or a debrief), and debriefs
        self.answers: dict[int, int] = {}
        self.debriefs: dict[int, int] = {}
        #: per chat: the first line of each answer, for telling what came twice
        self.answer_lines: dict[int, list[str]] = {}
        #: callback query -> the trainee who pressed
        self.pressed: dict[str, int] = {}

    def press(self, user_id: int, message_id: int, data: str) -> tuple[int, str]:
        update_id, query_id = super().press(user_id, message_id, data)
        self.pressed[query_id] = user_id
        return update_id, query_id

    async def api_answercallbackquery(self, params: dict[str, Any]) -> Any:
        """A button answered with a notice did nothing ("busy, try again", "duplicate"):
        the trainee waiting for that press is told at once."""
        result = await super().api_answercallbackquery(params)
        text = params.get("text")
        user = self.pressed.pop(str(params.get("callback_query_id")), None)
        if text and user is not None:
            waiter = self.waiters.pop(user, None)
            if waiter is not None and not waiter.done():
                waiter.set_result((time.perf_counter(), {"refused": text}))
        return result

    async def api_sendmessage(self, params: dict[str, Any]) -> Any:
        message = await super().api_sendmessage(params)
        debrief = str(message.get("text", "")).startswith(DEBRIEF)
        if message.get("reply_markup") or debrief:
            chat = int(message["chat"]["id"])
            self.answers[chat] = self.answers.get(chat, 0) + 1
            first = str(message.get("text", "")).split("\n", 1)[0][:60]
            self.answer_lines.setdefault(chat, []).append(first)
            if debrief:
                self.debriefs[chat] = self.debriefs.get(chat, 0) + 1
            waiter = self.waiters.pop(chat, None)
            if waiter is not None and not waiter.done():
                waiter.set_result((time.perf_counter(), message))
        return message


# -- /proc ---------------------------------------------------------------------------------


def _stat(pid: int) -> list[str]:
    text = Path(f"/proc/{pid}/stat").read_text()
    return text.rsplit(")", 1)[1].split()  # fields from the 3rd (state) on


def cpu_seconds(pid: int, *, children: bool = False) -> float:
    """utime + stime (+ cutime + cstime) of a process, in seconds."""
    try:
        fields = _stat(pid)
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    ticks = int(fields[11]) + int(fields[12])
    if children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / CLOCK


def rss_bytes(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
    except (FileNotFoundError, ProcessLookupError):
        return 0


def machine_cpu() -> float:
    """CPU seconds every process on the machine has used (user, nice, system, interrupts)."""
    user, nice, system, _idle, _iowait, irq, softirq = Path("/proc/stat").read_text().split()[1:8]
    return (int(user) + int(nice) + int(system) + int(irq) + int(softirq)) / CLOCK


def servers_cpu(database: str | None, redis: bool) -> float:
    """CPU of the PostgreSQL backends serving `database` and of Redis: other clients of the
    same servers (this machine runs test suites too) are left out, except in Redis."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        mine = (
            database is not None
            and command.startswith("postgres:")
            and (f" {database} " in command)
        )
        if mine or (redis and command.startswith("redis-server")):
            total += cpu_seconds(int(entry.name))
    return total


# -- the rig: database, peer, balancer, workers --------------------------------------------


def spawn(args: list[str], log: Path, extra: dict[str, str]) -> subprocess.Popen[bytes]:
    """`python -m bench.e2e_procs ARGS`, with only the `SIGNPOST_*` settings in `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIGNPOST_")}
    env.update(extra)
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "bench.e2e_procs", *args],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Rig:
    setup: Setup
    url: str
    logs: Path
    peer: BenchPeer = field(default_factory=BenchPeer)
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    balancer: subprocess.Popen[bytes] | None = None
    store: SqlStore | None = None

    async def start(self) -> None:
        migrated = await SqlStore.open(self.url)  # the schema, once, before the workers race
        await migrated.close()
        await self.peer.start()
        ports = [free_port() for _ in range(self.setup.workers)]
        hook = None
        if self.setup.webhook:
            public = ports[0]
            if self.setup.workers > 1:
                public = free_port()
                backends = [f"http://127.0.0.1:{p}" for p in ports]
                self.balancer = self._spawn("balancer", [str(public), *backends], "balancer")
            hook = f"http://127.0.0.1:{public}/telegram/hook"
        for n, port in enumerate(ports):
            env = {
                "SIGNPOST_DATABASE_URL": self.url,
                "SIGNPOST_DIALOGUES": str(ROOT / "dialogues"),
                "SIGNPOST_TELEGRAM_TOKEN": TOKEN,
                "SIGNPOST_TELEGRAM_API_URL": self.peer.url,
                "SIGNPOST_TELEGRAM_WEBHOOK_SECRET": SECRET,
                "SIGNPOST_TELEGRAM_WEBHOOK_HOST": "127.0.0.1",
                "SIGNPOST_TELEGRAM_WEBHOOK_PORT": str(port),
                "SIGNPOST_LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
            }
            if self.setup.workers > 1:
                env["SIGNPOST_REDIS_URL"] = REDIS
            if hook:
                env["BENCH_WEBHOOK_URL"] = hook
            self.workers.append(self._spawn("worker", [], f"worker{n}", env))
        ready = "setWebhook" if self.setup.webhook else "getUpdates"
        deadline = time.monotonic() + 60
        while sum(c.method == ready for c in self.peer.calls) < self.setup.workers:
            for process in self._processes():
                if process.poll() is not None:
                    raise RuntimeError(f"a process exited at start:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the workers did not start:\n{self.log_tail()}")
            await asyncio.sleep(0.05)
        self.store = await SqlStore.open(self.url, migrate=False)

    def _spawn(
        self, role: str, args: list[str], name: str, extra: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        return spawn([role, *args], self.logs / f"{name}.log", extra or {})

    def _processes(self) -> list[subprocess.Popen[bytes]]:
        return [*self.workers, *([self.balancer] if self.balancer else [])]

    def log_tail(self) -> str:
        return "\n".join(
            f"--- {p.name}\n" + "\n".join(p.read_text(errors="replace").splitlines()[-15:])
            for p in sorted(self.logs.glob("*.log"))
        )

    async def settled(self, within: float = 60.0) -> int:
        """Wait until the workers have marked every update processed; how many are left."""
        assert self.store is not None
        deadline = time.monotonic() + within
        while pending := await self.store.pending_updates("telegram"):
            if time.monotonic() > deadline:
                return len(pending)
            await asyncio.sleep(0.05)
        return 0

    async def resident(self) -> int:
        """The workers' resident memory, read once each has collected and trimmed its heap."""
        for worker in self.workers:
            worker.send_signal(signal.SIGUSR1)
        await asyncio.sleep(0.3)
        return self.worker_rss()

    def worker_cpu(self) -> float:
        return sum(cpu_seconds(w.pid) for w in self.workers)

    def worker_rss(self) -> int:
        return sum(rss_bytes(w.pid) for w in self.workers)

    def balancer_cpu(self) -> float:
        return cpu_seconds(self.balancer.pid) if self.balancer else 0.0

    async def close(self) -> None:
        for process in self._processes():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self._processes():
            try:
                await asyncio.to_thread(process.wait, 30)
            except subprocess.TimeoutExpired:
                process.kill()
                await asyncio.to_thread(process.wait)
        if self.store is not None:
            await self.store.close()
        await self.peer.close()


# -- trainees ------------------------------------------------------------------------------


class NoAnswerError(Exception):
    pass


@dataclass
class Crowd:
    """N trainees playing at once; what they measured."""

    peer: BenchPeer
    labels: dict[str, str]
    latencies: list[float] = field(default_factory=list)
    #: answers that never came (the trainee gave up), with what the chat showed last
    unanswered: list[str] = field(default_factory=list)
    #: presses the bot refused with a notice (then pressed again, as a person would)
    refused: Counter[str] = field(default_factory=Counter)
    #: per trainee, the inbox keys of the updates that started its scenario and chose
    sent: dict[int, list[str]] = field(default_factory=dict)

    async def step(
        self,
        user_id: int,
        act: Callable[[], object],
        think: float,
        rng: random.Random,
        *,
        session: bool = False,
    ) -> dict[str, Any]:
        """Think, do `act`, wait for the answer (a keyboard or the debrief); that message.
        Latency runs from the first try to the answer."""
        if think:
            await asyncio.sleep(rng.uniform(0.5, 1.5) * think)
        began = time.perf_counter()
        for _ in range(RETRIES + 1):
            waiter = asyncio.get_running_loop().create_future()
            self.peer.waiters[user_id] = waiter
            done = act()
            update_id = done[0] if isinstance(done, tuple) else done
            try:
                arrived, message = await asyncio.wait_for(waiter, REPLY_TIMEOUT)
            except TimeoutError:
                if session:  # maybe applied, never answered: its turn is looked for
                    self.sent.setdefault(user_id, []).append(
                        f"{self.peer.bot_user['id']}:{update_id}"
                    )
                shown = [m.get("text") or m.get("caption") for m in self.peer.bot_messages(user_id)]
                last = str(shown[-1] if shown else "").split("\n", 1)[0][:50]
                self.unanswered.append(f"trainee {user_id} waited after “{last}”")
                raise NoAnswerError(user_id) from None
            if "refused" not in message:
                if session:
                    self.sent.setdefault(user_id, []).append(
                        f"{self.peer.bot_user['id']}:{update_id}"
                    )
                self.latencies.append((arrived - began) * 1000)
                return message  # type: ignore[no-any-return]
            self.refused[message["refused"]] += 1
            await asyncio.sleep(0.5)
        self.unanswered.append(f"{user_id}: refused {RETRIES + 1} times")
        raise NoAnswerError(user_id)

    async def play(
        self,
        user_id: int,
        path: tuple[str, ...],
        think: float,
        rng: random.Random,
        barrier: Barrier | None = None,
    ) -> None:
        peer = self.peer
        peer.user(user_id, first_name=f"Trainee {user_id}", language_code="en")

        press = self._press
        try:
            try:  # with thinking, the first /start come over one thinking time
                shown = await self.step(
                    user_id, lambda: peer.send_text(user_id, "/start"), think, rng
                )
                shown = await self.step(user_id, press(user_id, shown, "l:en"), think, rng)
                start = press(user_id, shown, f"s:{SCENARIO}")
                shown = await self.step(user_id, start, think, rng, session=True)
            finally:  # arrived, or gave up: the others must not wait for this one
                if barrier is not None:
                    barrier.arrive()
            if barrier is not None:
                await barrier.released.wait()
            for choice in path:
                data = self.button(shown, self.labels[choice])
                shown = await self.step(
                    user_id, press(user_id, shown, data), think, rng, session=True
                )
        except NoAnswerError:
            return

    async def press_on(self, user_id: int, turns: int) -> None:
        """For the yardstick bot: /start, then press the first button shown, `turns` times."""
        peer, rng = self.peer, random.Random(0)
        peer.user(user_id, first_name=f"Trainee {user_id}", language_code="en")
        try:
            shown = await self.step(user_id, lambda: peer.send_text(user_id, "/start"), 0, rng)
            for _ in range(turns - 1):
                data = str(buttons_of(shown)[0]["callback_data"])
                shown = await self.step(user_id, self._press(user_id, shown, data), 0, rng)
        except NoAnswerError:
            return

    def _press(self, user_id: int, message: dict[str, Any], data: str) -> Callable[[], object]:
        return lambda: self.peer.press(user_id, message["message_id"], data)

    @staticmethod
    def button(message: dict[str, Any], label: str) -> str:
        """The data of the button numbered as the line that reads `label`."""
        for line in str(message.get("text", "")).splitlines():
            number, _, rest = line.partition(". ")
            if rest == label and number.isdigit():
                return str(buttons_of(message)[int(number) - 1]["callback_data"])
        raise LookupError(f"{label!r} is not offered")


class Barrier:
    """Every trainee waits here after onboarding until `release`; `all_in` when all arrived."""

    def __init__(self, parties: int) -> None:
        self.parties = parties
        self.arrived = 0
        self.all_in = asyncio.Event()
        self.released = asyncio.Event()

    def arrive(self) -> None:
        self.arrived += 1
        if self.arrived == self.parties:
            self.all_in.set()


# -- one run -------------------------------------------------------------------------------


@dataclass
class Audit:
    """What the turn logs say about the inputs the trainees sent."""

    stored: int = 0
    #: inputs sent (and acknowledged) whose turn is in no log
    lost: int = 0
    #: turns stored for an input that already had one, and turns nobody's input asked for
    doubled: int = 0
    #: sessions' logs whose turn numbers have a gap or do not start at 0
    gaps: int = 0
    examples: list[str] = field(default_factory=list)


async def check_logs(
    store: SqlStore, sent: dict[int, list[str]], platform: str = "telegram"
) -> Audit:
    """Read back every trainee's sessions and match their turns with the updates it sent (the
    turn of a scenario's start or of a choice keeps its update's key)."""
    audit = Audit()
    limit = asyncio.Semaphore(8)

    async def one(user: int, keys: list[str]) -> None:
        async with limit:
            trainee = await store.trainee(platform, str(user))
            sessions = [
                (session, list(await store.turns(session.id)))
                for session in await store.sessions_of(trainee.id)
            ]
        applied = Counter(t.input_key for _, log in sessions for t in log if t.input_key)
        lost = sum(key not in applied for key in keys)
        doubled = sum(n - 1 for n in applied.values()) + sum(k not in keys for k in applied)
        # a start applied twice ends the first session: that "quit" was asked by nobody
        doubled += sum(not t.input_key and t.kind == "quit" for _, log in sessions for t in log)
        gaps = sum([t.seq for t in log] != list(range(len(log))) for _, log in sessions)
        audit.stored += sum(len(log) for _, log in sessions)
        audit.lost += lost
        audit.doubled += doubled
        audit.gaps += gaps
        if (lost or doubled or gaps) and len(audit.examples) < 2:
            shown = "; ".join(
                f"session {n + 1}: {', '.join(f'{t.seq} {t.kind} {t.input}' for t in log)}"
                f" ({session.status})"
                for n, (session, log) in enumerate(sessions)
            )
            audit.examples.append(f"trainee {user}: {shown}")

    await asyncio.gather(*(one(user, keys) for user, keys in sent.items()))
    return audit


async def measure(rig: Rig, load: Load, labels: dict[str, str], expert: tuple[str, ...]) -> Any:
    peer = rig.peer
    assert rig.store is not None
    # warm up: every worker compiles air-01, fills its pools and caches
    warm = Crowd(peer, labels)
    rng = random.Random(0)
    await asyncio.gather(*(warm.play(9_000_000 + n, expert, 0, rng) for n in range(WARMUP)))
    await rig.settled()
    await asyncio.sleep(0.2)

    path = expert if load.path == "expert" else SHORT
    users = [1_000_000 + n for n in range(load.trainees)]
    first_update = max(peer.history, default=0) + 1
    calls_before = len(peer.calls)
    crowd = Crowd(peer, labels)
    barrier = Barrier(load.trainees)
    memory: dict[str, float] = {}

    async def at_barrier() -> None:
        await barrier.all_in.wait()
        began = time.perf_counter()
        await asyncio.sleep(0.2)  # the last onboarding's bookkeeping (marking, edits) ends
        before = rig.worker_cpu()
        memory["rss"] = await rig.resident()
        memory["trim_cpu"] = rig.worker_cpu() - before
        memory["pause"] = time.perf_counter() - began
        barrier.released.set()

    database = DATABASE if rig.setup.backend == "PostgreSQL" else None
    redis = rig.setup.workers > 1

    def servers() -> float:
        return servers_cpu(database, redis)

    rss0 = await rig.resident()
    cpu0, servers0, balancer0 = rig.worker_cpu(), servers(), rig.balancer_cpu()
    own0, machine0 = time.process_time(), machine_cpu()
    began = time.perf_counter()
    rng = random.Random(1)
    watcher = asyncio.create_task(at_barrier())
    await asyncio.gather(*(crowd.play(u, path, load.think, rng, barrier) for u in users), watcher)
    wall = time.perf_counter() - began - memory.get("pause", 0.0)
    left = await rig.settled()
    cpu = rig.worker_cpu() - cpu0 - memory.get("trim_cpu", 0.0)
    served = servers() - servers0
    balancer = rig.balancer_cpu() - balancer0
    own = time.process_time() - own0
    elsewhere = machine_cpu() - machine0 - cpu - served - balancer - own

    audit = await check_logs(rig.store, {u: crowd.sent.get(u, []) for u in users})
    replies = sum(peer.answers.get(u, 0) for u in users)
    expected_replies = load.trainees * (len(path) + 3)
    twice = [u for u in users if peer.answers.get(u, 0) > len(path) + 3]
    twice_examples = [f"trainee {u} was answered {peer.answer_lines[u]}" for u in twice[:2]]
    debriefs = [peer.debriefs.get(u, 0) for u in users]
    turns = len(crowd.latencies)
    updates = [u for i, u in peer.history.items() if i >= first_update]
    return {
        "turns": turns,
        "stored": audit.stored,
        "seconds": wall,
        "turns_per_s": turns / wall,
        "p50_ms": percentile(crowd.latencies, 50),
        "p99_ms": percentile(crowd.latencies, 99),
        "max_ms": max(crowd.latencies, default=float("nan")),
        "cpu_ms": 1000 * cpu / max(turns, 1),
        "servers_ms": 1000 * served / max(turns, 1) if database or redis else None,
        "balancer_ms": 1000 * balancer / max(turns, 1),
        "driver_ms": 1000 * own / max(turns, 1),
        "cpu_busy": cpu / wall,
        "elsewhere_cores": max(0.0, elsewhere) / wall,
        "kib_per_session": (memory.get("rss", rss0) - rss0) / 1024 / load.trainees,
        "lost": audit.lost,
        "doubled": audit.doubled,
        "gaps": audit.gaps,
        "log_examples": audit.examples,
        "unanswered": len(crowd.unanswered),
        "unanswered_examples": crowd.unanswered[:3],
        "refused": sum(crowd.refused.values()),
        "refusals": dict(crowd.refused),
        "missing_replies": max(0, expected_replies - replies),
        "extra_replies": max(0, replies - expected_replies),
        "extra_examples": twice_examples,
        "no_debrief": sum(d == 0 for d in debriefs),
        "two_debriefs": sum(d > 1 for d in debriefs),
        "unprocessed": left,
        "api_calls_per_turn": (len(peer.calls) - calls_before) / max(turns, 1),
        "updates": updates,
    }


async def one_run(setup: Setup, load: Load, url: str, scenario: LoadedScenario) -> Any:
    labels = {
        choice.id: choice.text["en"]
        for node in scenario.scenario.nodes.values()
        for choice in node.choices
    }
    expert = tuple(scenario.scenario.expert_path)
    with tempfile.TemporaryDirectory() as folder:
        logs = log_folder(folder)
        rig = Rig(setup, url, logs)
        try:
            await rig.start()
            measured = await measure(rig, load, labels, expert)
        except Exception:
            print(rig.log_tail(), file=sys.stderr)
            raise
        finally:
            await rig.close()
        measured["warnings"], measured["warning_examples"] = warnings_in(logs)
        return measured


def log_folder(default: str) -> Path:
    """Where the processes' logs go: `default` (removed after the run), or BENCH_LOGS."""
    logs = Path(os.environ.get("BENCH_LOGS") or default)
    logs.mkdir(parents=True, exist_ok=True)
    return logs


def warnings_in(logs: Path) -> tuple[int, list[str]]:
    """How many warnings and errors the processes logged, and the commonest (numbers elided)."""
    found: Counter[str] = Counter()
    for log in logs.glob("*.log"):
        for line in log.read_text(errors="replace").splitlines():
            level = next((w for w in (" WARNING ", " ERROR ") if w in line), None)
            if level is not None:
                found[re.sub(r"\d+", "N", line.split(level, 1)[1]).strip()[:120]] += 1
    return sum(found.values()), [f"{n}× “{text}”" for text, n in found.most_common(2)]


# -- aiogram's bare dispatch ---------------------------------------------------------------


async def aiogram_dispatch(payloads: list[dict[str, Any]], at_least: float = 0.5) -> Any:
    """CPU seconds per update of a stock Dispatcher with handlers that do nothing: fed Update
    objects made beforehand (bound to the bot, as aiogram's own polling makes them), and fed
    the raw dicts (aiogram's parsing included, as its webhook handler does)."""
    from aiogram import Bot, Dispatcher
    from aiogram.types import CallbackQuery, Message, Update

    bot = Bot(TOKEN)
    dispatcher = Dispatcher()
    seen = 0

    @dispatcher.message()
    async def on_message(message: Message) -> None:
        nonlocal seen
        seen += 1

    @dispatcher.callback_query()
    async def on_button(query: CallbackQuery) -> None:
        nonlocal seen
        seen += 1

    updates = [Update.model_validate(p, context={"bot": bot}) for p in payloads]

    async def timed(feed: Callable[[Any], Any], items: list[Any]) -> float:
        for item in items[:100]:  # warm
            await feed(item)
        count = 0
        began = time.process_time()
        while (spent := time.process_time() - began) < at_least:
            for item in items:
                await feed(item)
            count += len(items)
        return spent / count

    try:
        bare = await timed(lambda u: dispatcher.feed_update(bot, u), updates)
        raw = await timed(lambda p: dispatcher.feed_raw_update(bot, p), payloads)
    finally:
        await bot.session.close()
    assert seen > 0
    return {"dispatch_ms": bare * 1000, "parse_dispatch_ms": raw * 1000}


# -- a stock aiogram bot making the same calls ----------------------------------------------


async def yardstick(calls: float, trainees: int = 100, turns: int = 29) -> dict[str, Any]:
    """CPU per update of `bench.e2e_procs echo`: aiogram answering each update with `calls` Bot
    API calls and nothing else, `trainees` pressing its buttons in a closed loop."""
    peer = BenchPeer()
    await peer.start()
    with tempfile.TemporaryDirectory() as logs:
        log = Path(logs) / "echo.log"
        env = {"SIGNPOST_TELEGRAM_TOKEN": TOKEN, "BENCH_API_URL": peer.url}
        process = spawn(["echo", str(calls)], log, env)
        try:
            deadline = time.monotonic() + 60
            while not any(c.method == "getUpdates" for c in peer.calls):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the aiogram bot did not start:\n{log.read_text()}")
                await asyncio.sleep(0.05)
            warm = Crowd(peer, {})
            await asyncio.gather(*(warm.press_on(9_000_000 + n, turns) for n in range(WARMUP)))
            await asyncio.sleep(0.2)
            crowd = Crowd(peer, {})
            made = len(peer.calls)
            cpu0 = cpu_seconds(process.pid)
            began = time.perf_counter()
            await asyncio.gather(*(crowd.press_on(1_000_000 + n, turns) for n in range(trainees)))
            wall = time.perf_counter() - began
            await asyncio.sleep(0.2)
            cpu = cpu_seconds(process.pid) - cpu0
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(process.wait, 30)
            except subprocess.TimeoutExpired:
                process.kill()
            await peer.close()
    done = len(crowd.latencies)
    return {
        "calls": calls,
        "trainees": trainees,
        "turns": done,
        "turns_per_s": done / wall,
        "p50_ms": percentile(crowd.latencies, 50),
        "p99_ms": percentile(crowd.latencies, 99),
        "cpu_ms": 1000 * cpu / max(done, 1),
        "api_calls_per_turn": (len(peer.calls) - made) / max(done, 1),
        "unanswered": len(crowd.unanswered) + sum(crowd.refused.values()),
    }


# -- all runs ------------------------------------------------------------------------------


async def _postgres(base: str | None) -> str | None:
    if not base:
        return None
    return await fresh_postgres(base, name=DATABASE)


def _redis_answers() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS, socket_timeout=2).ping())
    except (redis.RedisError, OSError):
        return False


def run(postgres_url: str | None, progress: Callable[[str], None] = print) -> dict[str, Any]:
    scenario = load_scenario(ROOT / "dialogues" / SCENARIO / "scenario.yaml")
    results: dict[str, Any] = {"runs": [], "skipped": [], "scenario": scenario}
    began = time.perf_counter()
    redis_up = _redis_answers()
    for setup, loads in PLAN:
        if setup.workers > 1 and not redis_up:
            results["skipped"].append(f"{setup.label}: Redis at {REDIS} does not answer")
            continue
        for load in loads:
            with tempfile.TemporaryDirectory() as folder:
                if setup.backend == "SQLite":
                    url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
                else:
                    fresh = asyncio.run(_postgres(postgres_url))
                    if fresh is None:
                        results["skipped"].append(f"{setup.label}: PostgreSQL is not reachable")
                        break
                    url = fresh
                progress(f"  {setup.label}: {load.trainees:,} trainees, {load.label} ...")
                measured = asyncio.run(one_run(setup, load, url, scenario))
            updates = measured.pop("updates")
            measured.update(asyncio.run(aiogram_dispatch(updates)))
            measured["times_aiogram"] = measured["cpu_ms"] / measured["dispatch_ms"]
            results["runs"].append((setup, load, measured))
            progress(
                f"    {measured['turns']:,} turns, {measured['turns_per_s']:,.0f}/s, "
                f"p50 {measured['p50_ms']:.1f} ms, p99 {measured['p99_ms']:.1f} ms, "
                f"{measured['cpu_ms']:.2f} ms CPU/turn "
                f"({measured['times_aiogram']:,.0f}x aiogram's dispatch), "
                f"{measured['kib_per_session']:.1f} KiB/session, lost {measured['lost']}, "
                f"doubled {measured['doubled']}"
            )
    made = [r["api_calls_per_turn"] for _, _, r in results["runs"]]
    calls = round(sum(made) / len(made), 2) if made else 6.5
    progress(f"  a stock aiogram bot making {calls} Bot API calls per update ...")
    results["yardstick"] = asyncio.run(yardstick(calls))
    progress(
        f"    {results['yardstick']['cpu_ms']:.2f} ms CPU/update, "
        f"{results['yardstick']['turns_per_s']:,.0f} updates/s"
    )
    results["seconds"] = time.perf_counter() - began
    return results


# -- BENCHMARKS.md -------------------------------------------------------------------------


def _workers(runs: list[tuple[Setup, Load, dict[str, Any]]]) -> list[str]:
    """One worker against three, at 100 trainees in a closed loop (capacity)."""

    def at_100(workers: int, webhook: bool) -> dict[str, Any] | None:
        return next(
            (
                r
                for setup, load, r in runs
                if setup.backend == "PostgreSQL"
                and (setup.workers, setup.webhook) == (workers, webhook)
                and load.trainees == 100
                and not load.think
            ),
            None,
        )

    polling, webhook, three = at_100(1, False), at_100(1, True), at_100(3, True)
    if polling is None or webhook is None or three is None:
        return []
    return [
        "**Three workers on two cores.** With 100 trainees in a closed loop on PostgreSQL, one "
        f"worker took {polling['turns_per_s']:,.0f} turns/s by long polling and "
        f"{webhook['turns_per_s']:,.0f} by webhook ({polling['cpu_ms']:.2f} and "
        f"{webhook['cpu_ms']:.2f} ms of CPU per turn); three workers behind the balancer took "
        f"{three['turns_per_s']:,.0f} turns/s at {three['cpu_ms']:.2f} ms per turn, plus "
        f"{three['servers_ms']:.2f} ms in PostgreSQL and Redis. Here the three workers, the "
        "balancer, the peer and PostgreSQL share two cores, so more workers cannot add "
        "capacity; what they add to each turn is what the workers share through Redis (each "
        "trainee's gate, and whatever the adapter keeps there) and, whenever the trainee's "
        "previous input went to another worker (most of the time, under round robin), the "
        "session read back from the database.",
        "",
    ]


#: a run during which other processes on the machine used more than this many cores is marked
BUSY_ELSEWHERE = 0.25
_CHECKS = {
    "lost": "turns lost",
    "doubled": "turns doubled",
    "gaps": "session logs with a gap",
    "unanswered": "answers that never came (the trainee stopped)",
    "refused": "presses refused with a notice (pressed again)",
    "missing_replies": "answers missing",
    "extra_replies": "answers sent twice",
    "no_debrief": "trainees without a debrief",
    "two_debriefs": "trainees with two debriefs",
    "unprocessed": "updates never marked processed",
    "warnings": "warnings in the workers' logs",
}


#: where a check's examples are
_EXAMPLES = {
    "lost": "log_examples",
    "doubled": "log_examples",
    "gaps": "log_examples",
    "unanswered": "unanswered_examples",
    "extra_replies": "extra_examples",
    "warnings": "warning_examples",
}


def _problems(r: dict[str, Any]) -> str:
    said = []
    shown: set[str] = set()
    for key, what in _CHECKS.items():
        if not r.get(key):
            continue
        where = _EXAMPLES.get(key, "")
        examples = r.get(where) if where not in shown else None
        shown.add(where)
        if key == "refused":
            examples = [f"{n}× “{text}”" for text, n in r["refusals"].items()]
        said.append(f"{r[key]} {what}" + (f" ({'; '.join(examples[:2])})" if examples else ""))
    return ", ".join(said)


def _mode(setup: Setup) -> str:
    if not setup.webhook:
        return "long polling"
    return "webhook + balancer" if setup.workers > 1 else "webhook"


def _row(setup: Setup, load: Load, r: dict[str, Any]) -> str:
    servers = "–" if r["servers_ms"] is None else f"{r['servers_ms']:.2f}"
    busy = " †" if r["elsewhere_cores"] > BUSY_ELSEWHERE else ""
    return (
        f"| {setup.backend} | {setup.workers} | {_mode(setup)} | {load.trainees:,} | "
        f"{load.label}{busy} | {r['turns']:,} | {r['turns_per_s']:,.0f} | {r['p50_ms']:.1f} | "
        f"{r['p99_ms']:.1f} | {r['cpu_ms']:.2f} | {servers} | {r['kib_per_session']:,.1f} | "
        f"{r['times_aiogram']:,.0f}× | {r['lost']} / {r['doubled']} |"
    )


def _span(values: list[float], digits: int, scale: float = 1.0) -> str:
    low, high = min(values) * scale, max(values) * scale
    if f"{low:.{digits}f}" == f"{high:.{digits}f}":
        return f"{low:.{digits}f}"
    return f"{low:.{digits}f}-{high:.{digits}f}"


def render(results: dict[str, Any]) -> list[str]:
    runs: list[tuple[Setup, Load, dict[str, Any]]] = results["runs"]
    scenario = results["scenario"]
    expert = len(scenario.scenario.expert_path)
    paced = next((load for _, loads in PLAN for load in loads if load.think), None)
    lines = [
        "## End to end through Telegram (`bench/bench_e2e.py`)",
        "",
        f"Simulated trainees play `{SCENARIO}` to the end through the Telegram adapter: each "
        "sends /start, picks English and the scenario, then presses the button of each choice "
        "(found by its label in the message, as a person does) until the debrief. The Bot API "
        "is the tests' HTTP peer (`tests/peers/telegram`) on loopback, in the benchmark's "
        "process with the trainees. The bot runs as separate worker processes wired as "
        "`signpost run telegram` wires them (`bench/e2e_procs.py`), with its pauses and flood "
        "control turned off. 1 worker takes updates by long polling (and once by webhook, to "
        "tell the mode's cost from the workers'); 3 workers share PostgreSQL and Redis behind a "
        "round-robin balancer (a fourth process) in webhook mode, so that consecutive updates "
        "of one trainee reach different workers. Each run has a fresh database and fresh "
        f"workers, warmed up by {WARMUP} trainees playing once through.",
        "",
        f"- A *turn* is one input of a trainee and the bot's answer to it: the 3 onboarding "
        f"steps, then one per choice. With 10 and 100 trainees each takes the expert path "
        f"({expert} choices, {expert + 3} turns); with 1,000, to keep `make bench` short, each "
        f"takes the path that ends in a critical error after {len(SHORT)} choices "
        f"({len(SHORT) + 3} turns).",
        "- *Closed loop*: a trainee sends again as soon as it is answered. This finds capacity "
        "(turns/s); latency is then about trainees / throughput. *Think ~T s*: a trainee reads "
        "and thinks 0.5-1.5 × T s before each input; turns/s is then set by the trainees' pace, "
        "not by the bot, and latency is what a trainee sees at that load.",
        "- *p50 / p99*: from the trainee's update being handed to the peer to the bot's message "
        "with the next choices (or the debrief) arriving at the peer.",
        "- *CPU ms/turn*: user + system CPU of all Signpost worker processes over the run, per "
        "turn (SQLite runs inside them); *DB*: the same for the PostgreSQL backends of the "
        "benchmark's database and for Redis.",
        "- *KiB/session*: growth of the workers' resident memory (summed, each having collected "
        "garbage and trimmed its heap) while every trainee has a session open (all wait at a "
        "barrier after onboarding), over the warmed-up baseline, per trainee. It includes "
        "what the heap kept from the busiest moment, so it is highest when many turns were in "
        "flight at once (the closed loops) and meaningless with 10 trainees.",
        "- *× aiogram*: CPU ms/turn divided by aiogram's own dispatch of the same updates to "
        "handlers that do nothing (a stock `Dispatcher`, `Update` objects made beforehand, no "
        "network), measured in the same run.",
        "- *lost / doubled*: turns missing from, or stored twice in, the trainees' turn logs, "
        "read back from the database after each run.",
        "",
        "Targets (issue #8): a full turn at most 3× aiogram's bare dispatch; at 1,000 trainees "
        "p99 under 100 ms on PostgreSQL; no turn lost or doubled.",
        "",
        "| backend | workers | updates by | trainees | load | turns | turns/s | p50 ms | "
        "p99 ms | CPU ms/turn | DB ms/turn | KiB/session | × aiogram | lost / doubled |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        *(_row(setup, load, r) for setup, load, r in runs),
        "",
    ]
    for note in results["skipped"]:
        lines += [f"Not run: {note}.", ""]
    if not runs:
        return lines
    lines += _findings(runs, results.get("yardstick"), paced)
    return lines


def _findings(
    runs: list[tuple[Setup, Load, dict[str, Any]]],
    bot: dict[str, float] | None,
    paced: Load | None,
) -> list[str]:
    dispatch = [r["dispatch_ms"] for _, _, r in runs]
    parse = [r["parse_dispatch_ms"] for _, _, r in runs]
    times = [r["times_aiogram"] for _, _, r in runs]
    calls = [r["api_calls_per_turn"] for _, _, r in runs]
    big = [
        (setup, r)
        for setup, load, r in runs
        if setup.backend == "PostgreSQL" and load.trainees >= 1000
    ]
    lost = sum(r["lost"] for _, _, r in runs)
    doubled = sum(r["doubled"] for _, _, r in runs)
    p99 = "; ".join(
        f"{setup.workers} worker{'s' if setup.workers > 1 else ''}: {r['p99_ms']:,.0f} ms"
        for setup, r in big
    )
    met = [r["p99_ms"] < 100 for _, r in big]
    lines = [
        "**Against the targets.** "
        f"*3× aiogram's dispatch*: not met; a full turn costs {_span(times, 0)}× "
        f"({_span(dispatch, 0, 1000)} µs per update for aiogram, "
        f"{_span(parse, 0, 1000)} µs when it also parses the update from its JSON dict). "
        f"*p99 under 100 ms at 1,000 trainees on PostgreSQL* "
        + (f"({paced.label})" if paced else "")
        + ": "
        + ("met" if met and all(met) else "not met" if not any(met) else "met in part")
        + f" ({p99 or 'not run'}). "
        f"*No turn lost or doubled*: {'met' if not lost and not doubled else 'not met'} "
        f"({lost} lost and {doubled} doubled over {sum(r['stored'] for _, _, r in runs):,} "
        "stored turns"
        + (
            f"; but {twice} answers reached a trainee twice, see *Checks*)."
            if (twice := sum(r["extra_replies"] for _, _, r in runs))
            else ")."
        ),
        "",
    ]
    if bot is not None:
        closed = [
            r["cpu_ms"] / bot["cpu_ms"]
            for setup, load, r in runs
            if setup.workers == 1 and not setup.webhook and load.trainees == bot["trainees"]
        ]
        lines += [
            f"**Where a turn's CPU goes.** Each turn made {_span(calls, 1)} Bot API calls "
            "(answer the button, mark the choice in its message, chat actions, lines, clips, "
            "the next keyboard, stripping old keyboards). As a yardstick, a stock aiogram bot "
            f"that answers each update with {bot['calls']:.1f} such calls on average and does "
            "nothing else (`bench/e2e_procs.py echo`: its own `Dispatcher` and long polling, no "
            f"storage; {bot['trainees']:,.0f} trainees in a closed loop) used "
            f"{bot['cpu_ms']:.2f} ms of CPU per update ({bot['turns_per_s']:,.0f} updates/s), "
            f"{bot['cpu_ms'] / (min(dispatch)):,.0f}× aiogram's bare dispatch: sending the "
            "answer through aiogram's HTTP client (building each request, parsing each reply "
            "into pydantic objects) is most of any aiogram bot's turn, so no bot that answers "
            "like this one can come near 3× a dispatch that sends nothing."
            + (
                f" Signpost's turn with one worker at the same load costs {_span(closed, 1)}× "
                "that bot's: the rest is keeping every update before it is acknowledged and "
                "marking it after, the turn itself (engine, scoring, durable commit) and "
                "rendering."
                if closed
                else ""
            ),
            "",
        ]
    lines += _workers(runs)
    problems = [
        f"{setup.label}, {load.trainees:,} trainees, {load.label}: {_problems(r)}"
        for setup, load, r in runs
        if any(r.get(k) for k in _CHECKS)
    ]
    driver = [r["driver_ms"] for _, _, r in runs]
    balancer = [r["balancer_ms"] for setup, _, r in runs if setup.workers > 1]
    elsewhere = [r["elsewhere_cores"] for _, _, r in runs]
    lines += [
        "**Checks.** Besides the turn logs, each run checks that every answer and every "
        "debrief arrived once, that every update was marked processed and that the workers "
        "logged no warning: " + ("all did." if not problems else "; ".join(problems) + "."),
        "",
        f"**The rest of the machine.** The peer and the trainees used {_span(driver, 2)} ms of "
        "CPU per turn in the benchmark's own process"
        + (f", the balancer {_span(balancer, 2)} ms" if balancer else "")
        + ", on the same two cores as the workers and the database. Other processes used "
        f"{_span(elsewhere, 2)} cores on average during the runs"
        + (
            f"; runs marked † shared the machine with more than {BUSY_ELSEWHERE} of a core of "
            "other work (test suites of other sessions), so their figures are pessimistic."
            if any(e > BUSY_ELSEWHERE for e in elsewhere)
            else "."
        ),
        "",
    ]
    return lines


def main() -> int:
    postgres = os.environ.get("SIGNPOST_TEST_POSTGRES_URL")
    results = run(postgres)
    print("\n".join(render(results)))
    print(f"({results['seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
