"""Each trainee in order, trainees side by side, and a hundred of them to the end at once."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.app.messages import Incoming, Outgoing
from bot.app.service import TrainingService
from bot.scenario.loader import LoadedScenario
from tests.conftest import REPORT
from tests.peers.telegram import BotApiPeer
from tests.telegram.harness import Harness, Phone, is_debrief
from tests.telegram.test_play import onboard, play


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_one_trainees_messages_are_handled_in_order(
    harness: Harness, peer: BotApiPeer, mode: str
) -> None:
    await harness.start(webhook=mode == "webhook")
    phone = Phone(peer, 1201)
    await onboard(phone)
    # sent at once, without waiting for answers: any reordering shows in the turn log
    sent = ["/pause", "/resume", "/pause", "/pause", "/resume", "/quit"]
    for text in sent:
        peer.send_text(phone.user_id, text)
    await peer.wait_until(lambda: phone.texts()[-1].startswith("You left the session"))
    kinds = [t.kind for t in await harness.turns(phone.user_id)]
    assert kinds == ["start", "pause", "resume", "pause", "pause", "resume", "quit"]


class SlowForOne(TrainingService):
    """The real service, but trainee 1301 takes a long time over every message."""

    release = asyncio.Event()

    async def handle(self, incoming: Incoming) -> list[Outgoing]:
        if incoming.user_id == "1301" and incoming.text == "/help":
            await self.release.wait()
        return await super().handle(incoming)


async def test_a_slow_trainee_does_not_hold_up_the_others(
    harness: Harness, peer: BotApiPeer
) -> None:
    SlowForOne.release = asyncio.Event()
    await harness.open_store(SlowForOne)
    await harness.start()
    slow, quick = Phone(peer, 1301), Phone(peer, 1302)
    peer.send_text(slow.user_id, "/help")
    peer.send_text(slow.user_id, "/start")  # queued behind the slow /help: order is kept
    await onboard(quick)  # three whole turns while the slow one waits
    assert slow.messages() == []
    SlowForOne.release.set()
    await slow.answer(0, "keyboard")
    assert slow.texts()[0].startswith("Commands:")
    assert slow.texts()[1].startswith("Welcome")


async def test_a_hundred_trainees_play_to_the_end_at_once(
    harness: Harness, peer: BotApiPeer, air01: LoadedScenario
) -> None:
    """Each plays air-01 from /start to a debrief; half take the expert path, half let the
    boyfriend interpret (a critical error that ends it early). Every turn is stored."""
    await harness.start()
    expert = list(air01.scenario.expert_path)
    short = ["plan_private", "brief_interpreter", "begin_talk", "let_marek_translate"]
    phones = [Phone(peer, 2000 + i) for i in range(100)]

    async def trainee(number: int, phone: Phone) -> float:
        begun = time.perf_counter()
        await onboard(phone)
        await play(harness, phone, expert if number % 2 else short, "read")
        return time.perf_counter() - begun

    begun = time.perf_counter()
    took = await asyncio.gather(*(trainee(i, p) for i, p in enumerate(phones)))
    wall = time.perf_counter() - begun

    turns = 0
    for number, phone in enumerate(phones):
        path = expert if number % 2 else short
        log = await harness.turns(phone.user_id)
        assert [t.seq for t in log] == list(range(len(path) + 1)), phone.user_id
        assert [t.input for t in log[1:]] == path
        assert sum(is_debrief(m) for m in phone.messages()) == 1
        turns += len(log)
    await harness.settled()
    steps = sum(len(expert if i % 2 else short) + 3 for i in range(100))
    REPORT.append(
        f"telegram: 100 trainees, {turns} turns stored, {steps} updates in {wall:.1f} s "
        f"({steps / wall:.0f} updates/s, {1000 * wall / (steps / 100):.0f} ms per trainee step)"
    )
    assert max(took) < 120
