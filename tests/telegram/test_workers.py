"""Three real bot processes behind a load balancer, one PostgreSQL, one Redis, 200 trainees,
and one worker killed with SIGKILL in the middle of it all, then started again.

Each worker is `signpost run telegram --webhook <balancer URL>` in its own process, on its own
loopback port. The Bot API peer posts every update to the balancer, which deals them out in
turn, so a trainee's consecutive updates land on different workers. What must hold: every
transcript complete, in order, without a doubled turn; every trainee at the debrief; every
worker registered the balancer's URL (not its own); a 429 that one worker gets pauses all three,
since Telegram's limits are per token, not per process.

The trainees behave as people do: they read the newest screen, press again when told a button
is stale, and type /resume when nothing new has come for 15 s; how often each happened is in
the figures. After a kill a screen may be shown twice (the killed worker may have sent it
before dying, and the worker that takes its update over sends it again), never a turn applied
twice or lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from adapters.telegram.shared_limits import PREFIX, token_digest
from bot.scenario.loader import LoadedScenario
from storage import SqlStore
from tests.conftest import REPORT, SECRETS
from tests.databases import REDIS_URL, answering
from tests.peers.telegram import buttons_of
from tests.telegram.cluster import Balancer, ClusterPeer, Worker, worker_env
from tests.telegram.harness import Phone, free_port, is_debrief, scenario_path

TRAINEES = 200
WORKERS = 3
USERS = 40_000  # the trainees' Telegram ids: 40000, 40001, ...
#: a token and a secret of this run's own: its limiter keys in Redis are its own too
TOKEN = f"{7_000_000_000 + secrets.randbelow(10**9)}:AAH{secrets.token_hex(16)}"
SECRET = f"cluster-{secrets.token_hex(12)}"
SECRETS.update({TOKEN.split(":", 1)[1], SECRET})
#: limits that do not slow the test down (tests/telegram/test_shared_limits.py measures them
#: across workers); a 429 shows here that the workers keep them together
PER_SECOND = 1000
PER_CHAT = 100
CHAT_BURST = 100
#: two paths through air-01: most trainees let the boyfriend interpret (a critical error that
#: ends it early), every tenth takes the expert path (26 choices) to the end
SHORT = ["plan_private", "brief_interpreter", "begin_talk", "let_marek_translate"]
WAIT = 60.0  # for one answer; a turn caught by the kill waits for the gate's 10 s expiry
NUDGE = 15.0  # a trainee with nothing new to do for this long types /resume


@dataclass
class Cluster:
    peer: ClusterPeer
    balancer: Balancer
    workers: list[Worker]
    store: SqlStore
    hook: str
    done: int = 0  # steps answered so far, over all trainees
    milestones: dict[int, asyncio.Event] = field(default_factory=dict)
    pressed_again: int = 0  # a stale button pressed (a screen shown twice), then the newest
    recoveries: int = 0  # /resume or /debrief typed by a trainee left waiting

    def step_done(self) -> None:
        self.done += 1
        for steps, reached in self.milestones.items():
            if self.done >= steps:
                reached.set()

    async def after(self, steps: int) -> None:
        """Return once `steps` steps are done, over all trainees."""
        await self.milestones.setdefault(steps, asyncio.Event()).wait()


@pytest.fixture
async def cluster(database_url: str, tmp_path: Path) -> AsyncIterator[Cluster]:
    redis = await answering(Redis.from_url(REDIS_URL))
    store = await SqlStore.open(database_url)  # the schema, before three processes race for it
    dialogues = tmp_path / "dialogues"
    dialogues.mkdir()
    (dialogues / "air-01").symlink_to(scenario_path("air-01").parent)  # quicker to start
    peer = ClusterPeer(TOKEN)
    await peer.start()
    env = worker_env(
        database_url=database_url,
        redis_url=REDIS_URL,
        dialogues=str(dialogues),
        telegram_token=TOKEN,
        telegram_api_url=peer.url,
        telegram_webhook_secret=SECRET,
        telegram_webhook_host="127.0.0.1",
        telegram_pause="0",
        telegram_per_second=str(PER_SECOND),
        telegram_per_chat_per_second=str(PER_CHAT),
        telegram_chat_burst=str(CHAT_BURST),
        log_level="WARNING",
    )
    workers = [Worker(f"worker{n}", free_port(), env, tmp_path) for n in range(WORKERS)]
    balancer = Balancer([w.url for w in workers])
    hook = await balancer.start() + "/telegram/hook"
    rig = Cluster(peer, balancer, workers, store, hook)
    try:
        for worker in workers:
            await worker.start(hook)
        await _until_registered(rig, WORKERS)
        yield rig
    finally:
        codes = [await worker.stop() for worker in workers]
        await balancer.close()
        await peer.close()
        await _forget(redis, store)
        await redis.aclose()
        await store.close()
    assert codes == [0] * WORKERS, "a worker did not stop cleanly on SIGTERM"


async def _until_registered(rig: Cluster, count: int) -> None:
    def ready() -> bool:
        for worker in rig.workers:
            if worker.process is not None and worker.process.returncode is not None:
                raise AssertionError(f"{worker.name} exited:\n{worker.log_text(4000)}")
        return len(rig.peer.registered) >= count

    await rig.peer.wait_until(ready, 60, what=f"{count} setWebhook calls")


async def _forget(redis: Redis, store: SqlStore) -> None:
    """Leave nothing of this run in the shared Redis: the limiter's keys, the gates' marks."""
    keys = [k async for k in redis.scan_iter(f"{PREFIX}:{token_digest(TOKEN)}:*")]
    for n in range(TRAINEES):
        with contextlib.suppress(Exception):
            trainee = await store.trainee("telegram", str(USERS + n))
            keys += [f"signpost:gate:{trainee.id}", f"signpost:last:{trainee.id}"]
    if keys:
        await redis.delete(*keys)


def label_of(scenario: LoadedScenario, choice_id: str) -> str:
    for node in scenario.scenario.nodes.values():
        for choice in node.choices:
            if choice.id == choice_id:
                return choice.text["en"]
    raise KeyError(choice_id)


Found = Callable[[list[dict[str, Any]]], Any]


def with_data(data: str) -> Found:
    """The newest keyboard with a button `data`."""

    def find(messages: list[dict[str, Any]]) -> Any:
        for message in reversed(messages):
            if any(b["callback_data"] == data for b in buttons_of(message)):
                return message, data
        return None

    return find


def turn_of(data: str) -> int:
    """The turn a choice button belongs to (`c:<turn>:<index>`); -1 for other buttons."""
    return int(data.split(":")[1]) if data.startswith("c:") else -1


def with_label(label: str, newer_than: int = -1) -> Found:
    """The newest keyboard listing `label` for a turn after `newer_than`, and the data of its
    button, read as a trainee does: the number in front of the label, then that button. (A
    screen shown again after a take-over may be an earlier turn's, listing the label too.)"""

    def find(messages: list[dict[str, Any]]) -> Any:
        for message in reversed(messages):
            buttons = buttons_of(message)
            for line in str(message.get("text", "")).splitlines():
                number, _, rest = line.partition(". ")
                if rest == label and number.isdigit() and int(number) <= len(buttons):
                    data = str(buttons[int(number) - 1]["callback_data"])
                    if turn_of(data) > newer_than:
                        return message, data
        return None

    find.what = label  # type: ignore[attr-defined]
    return find


def button(what: str, newer_than: int) -> Found:
    """The finder of what a trainee presses: a language or scenario button, or a choice."""
    return with_data(what) if what in ("l:en", "s:air-01") else with_label(what, newer_than)


def debrief(messages: list[dict[str, Any]]) -> Any:
    return any(is_debrief(m) for m in messages)


def _screen(rig: Cluster, phone: Phone) -> str:
    """What the trainee sees, what they did and what the bot did: for a failure's message."""
    peer = rig.peer
    shown = [
        f"#{m['message_id']} {'[keys] ' if buttons_of(m) else ''}{(m.get('text') or '')[:60]!r}"
        for m in phone.messages()
    ]
    routes = {u: (w[-5:], s) for u, w, s in rig.balancer.routes}
    did = []
    for update_id, update in sorted(peer.history.items()):
        query = update.get("callback_query") or {}
        sender = (query or update.get("message") or {}).get("from", {}).get("id")
        if sender == phone.user_id:
            answer = peer.callback_answers.get(query.get("id", ""), "-") if query else ""
            on = query.get("message", {}).get("message_id") if query else ""
            data = query.get("data", "text")
            did.append(f"u{update_id} {data}@{on} {routes.get(update_id)} {answer}")
    calls = [f"{c.method} {c.outcome}" for c in peer.calls if c.chat_id == phone.user_id]
    return "\n".join(shown[-12:] + did[-8:]) + "\ncalls: " + ", ".join(calls[-30:])


async def until(
    rig: Cluster,
    phone: Phone,
    mark: int,
    found: Found,
    query: str = "",
    recover: str = "/resume",
) -> Any:
    """Wait for what `found` looks for among the bot's messages after message `mark`; None if
    the button pressed (callback `query`) was refused instead. A press counts once the bot has
    answered it without a refusal. A trainee left without what they expect for a while types
    `recover` (/resume shows where the session stands), as the bot's help tells them."""
    arrived = rig.peer.arrival(phone.user_id)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    nudge = loop.time() + NUDGE
    while True:
        arrived.clear()
        answer = rig.peer.callback_answers.get(query) if query else {}
        if answer is not None:
            if answer.get("text"):
                return None
            if value := found(phone.messages(mark)):
                return value
        if loop.time() >= nudge:
            rig.peer.send_text(phone.user_id, recover)
            rig.recoveries += 1
            nudge = loop.time() + NUDGE
        left = deadline - loop.time()
        if left <= 0:
            raise AssertionError(
                f"trainee {phone.user_id} waited in vain for {getattr(found, 'what', found)}:\n"
                + _screen(rig, phone)
            )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(arrived.wait(), min(left, 0.5))


async def play(rig: Cluster, phone: Phone, labels: list[str]) -> None:
    """/start, English, air-01, then the choices of `labels` by reading the screen. A button
    refused as stale (pressed on a screen shown again, after the newer one) is pressed again
    on the newest screen, as a trainee would."""
    peer, user = rig.peer, phone.user_id
    mark = phone.mark()
    peer.send_text(user, "/start")
    found = await until(rig, phone, mark, with_data("l:en"))
    rig.step_done()
    presses = ["l:en", "s:air-01", *labels]
    for step, what in enumerate(presses):
        following = presses[step + 1] if step + 1 < len(presses) else None
        for _ in range(3):
            message, data = found
            target = button(following, turn_of(data)) if following else debrief
            mark = phone.mark()
            _, query = peer.press(user, message["message_id"], data)
            recover = "/resume" if following else "/debrief"
            if (answer := await until(rig, phone, mark, target, query, recover)) is not None:
                break
            rig.pressed_again += 1  # the newest screen with this step's button, then
            found = await until(rig, phone, 0, button(what, turn_of(data)))
        else:
            raise AssertionError(f"trainee {user} refused thrice:\n" + _screen(rig, phone))
        found = answer
        rig.step_done()


async def kill_and_restart(rig: Cluster, at: int) -> tuple[float, float]:
    """Once `at` steps are done, SIGKILL worker 1 and start it again; (when it was killed, how
    long until it registered its webhook again)."""
    await rig.after(at)
    victim = rig.workers[1]
    killed = time.perf_counter()
    await victim.kill()
    await asyncio.sleep(0.5)  # meanwhile the balancer finds it gone and skips it
    registered = len(rig.peer.registered)
    await victim.start(rig.hook)
    await _until_registered(rig, registered + 1)
    return killed, time.perf_counter() - killed


async def refuse_once(rig: Cluster, at: int) -> None:
    """Once `at` steps are done, the next sendMessage (from whichever worker) gets a 429 with
    retry_after 1: that worker pauses, and so must the other two."""
    await rig.after(at)
    rig.peer.fail("sendMessage", "429", retry_after=1)


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_200_trainees_over_three_workers_one_killed_and_restarted(
    cluster: Cluster, air01: LoadedScenario
) -> None:
    rig = cluster
    expert = list(air01.scenario.expert_path)
    paths = [expert if n % 10 == 0 else SHORT for n in range(TRAINEES)]
    phones = [Phone(rig.peer, USERS + n) for n in range(TRAINEES)]
    total_steps = sum(len(p) + 3 for p in paths)

    begun = time.perf_counter()
    killer = asyncio.create_task(kill_and_restart(rig, int(total_steps * 0.35)))
    refusal = asyncio.create_task(refuse_once(rig, int(total_steps * 0.15)))
    await asyncio.gather(
        *(
            play(rig, p, [label_of(air01, c) for c in path])
            for p, path in zip(phones, paths, strict=True)
        )
    )
    played = time.perf_counter() - begun
    killed_at, restart = await asyncio.wait_for(killer, 60)
    await refusal

    # every webhook registration named the balancer, never a worker's own address
    assert rig.peer.registered == [rig.hook] * (WORKERS + 1)
    assert rig.peer.webhook is not None and rig.peer.webhook["url"] == rig.hook
    # every update kept was handled, the killed worker's too
    deadline = time.monotonic() + 30
    while await rig.store.pending_updates("telegram"):
        assert time.monotonic() < deadline, "updates left unprocessed"
        await asyncio.sleep(0.05)

    turns = doubled = screens_again = 0
    for phone, path in zip(phones, paths, strict=True):
        trainee = await rig.store.trainee("telegram", str(phone.user_id))
        [session] = await rig.store.sessions_of(trainee.id)
        log = list(await rig.store.turns(session.id))
        assert [t.seq for t in log] == list(range(len(path) + 1)), phone.user_id
        assert [t.kind for t in log] == ["start"] + ["choice"] * len(path), phone.user_id
        assert [t.input for t in log[1:]] == path, phone.user_id
        keys = [t.input_key for t in log if t.input_key]
        doubled += len(keys) - len(set(keys))
        assert session.state.status == "ended", phone.user_id
        shown = sum(is_debrief(m) for m in phone.messages())
        assert shown >= 1, phone.user_id
        screens_again += shown - 1
        turns += len(log)
    assert doubled == 0

    # One worker got a 429 (retry_after 1): for that second no worker sent anything, once the
    # refused one had told Redis and the requests already on their way had arrived. Paused
    # per process, the other two would have gone on (some 100 requests in that window).
    [refused] = [c for c in rig.peer.calls if c.outcome == "429"]
    # (The peer stamps a request when its own loop gets to it: under load, requests sent
    # before the pause may be stamped a few hundred ms late, hence the margins.)
    during = [c for c in rig.peer.calls if refused.at + 0.5 < c.at < refused.at + 0.95]
    assert len(during) <= 20, [(c.method, round(c.at - refused.at, 3)) for c in during]
    resumed = min(c.at for c in rig.peer.calls if c.at > refused.at + 0.5) - refused.at

    logs = "\n".join(w.log_text() for w in rig.workers)
    assert "Traceback" not in logs, logs[-8000:]
    assert TOKEN.split(":", 1)[1] not in logs and SECRET not in logs
    # the killed worker's unfinished updates were taken over, by another worker or its next run
    taken_over = sum(int(n) for n in re.findall(r"took over (\d+) update", logs))
    assert taken_over > 0, logs[-8000:]
    forwarded = sorted(rig.balancer.forwarded.values())
    REPORT.append(
        f"telegram workers: {WORKERS} processes behind a balancer, {TRAINEES} trainees, "
        f"{total_steps} steps, {turns} turns complete and in order, {doubled} doubled; "
        f"1 SIGKILL at {killed_at - begun:.1f} s, back in {restart:.1f} s; {taken_over} "
        f"update(s) taken over; {rig.balancer.refused} deliveries refused and "
        f"{rig.balancer.broken} broken, sent again; {screens_again} debriefs and "
        f"{rig.pressed_again} stale presses after a screen shown again, {rig.recoveries} "
        f"trainees' /resume after {NUDGE:.0f} s without an answer; deliveries per worker "
        f"{forwarded}; a 429 at one worker paused all three for {resumed:.2f} s; played in "
        f"{played:.1f} s"
    )
