"""Nothing lost, nothing doubled: duplicates, crashes mid-turn, a stop, 429s, 5xx, drops."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from adapters.telegram.options import Pacing, TelegramOptions
from adapters.telegram.runner import serve
from bot.app.messages import Incoming, Outgoing
from bot.app.ports import StoreUnavailableError
from bot.app.service import TrainingService
from bot.scenario.loader import LoadedScenario
from tests.peers.telegram import BotApiPeer
from tests.telegram.harness import FAST, TOKEN, Harness, Phone
from tests.telegram.test_play import onboard

MODES = ["polling", "webhook"]


class HeldService(TrainingService):
    """The real service, but a press of `hold` waits at the door forever: the process can be
    killed while that update is recorded and not yet handled."""

    hold = "c:0:0"

    async def handle(self, incoming: Incoming) -> list[Outgoing]:
        if incoming.button == self.hold:
            self.arrived.set()
            await asyncio.Event().wait()
        return await super().handle(incoming)

    @property
    def arrived(self) -> asyncio.Event:
        if not hasattr(self, "_arrived"):
            self._arrived = asyncio.Event()
        return self._arrived


async def kinds(harness: Harness, user_id: int) -> list[str]:
    return [t.kind for t in await harness.turns(user_id)]


@pytest.mark.parametrize("mode", MODES)
async def test_duplicate_update_ids_are_applied_once(
    harness: Harness, peer: BotApiPeer, mode: str
) -> None:
    await harness.start(webhook=mode == "webhook")
    phone = Phone(peer, 1001)
    await onboard(phone)
    mark = phone.mark()
    update_id, _ = peer.press(phone.user_id, phone.keyboard()["message_id"], "c:0:0")
    peer.resend(update_id)  # at once, likely in the same batch
    await phone.answer(mark, "keyboard")
    # and long after it was handled (a webhook delivery retried; getUpdates never returns an
    # update below the confirmed offset, so by polling only the first copy comes back)
    peer.resend(update_id)
    await phone.send("/help", expect="message")
    assert harness.bot is not None
    inbox = harness.bot.inbox
    expected = 2 if mode == "webhook" else 1
    await peer.wait_until(lambda: inbox.duplicates == expected, what="the duplicates")
    assert await kinds(harness, phone.user_id) == ["start", "choice"]
    assert len([m for m in phone.messages(mark) if m.get("reply_markup")]) == 1


@pytest.mark.parametrize("mode", MODES)
async def test_crash_after_an_update_is_kept_before_it_is_handled(
    harness: Harness, peer: BotApiPeer, mode: str
) -> None:
    await harness.open_store(HeldService)
    await harness.start(webhook=mode == "webhook")
    phone = Phone(peer, 1002)
    await onboard(phone)
    mark = phone.mark()
    peer.press(phone.user_id, phone.keyboard()["message_id"], "c:0:0")
    assert isinstance(harness.service, HeldService)
    await asyncio.wait_for(harness.service.arrived.wait(), 10)
    assert harness.store is not None
    assert len(await harness.store.pending_updates("telegram")) == 1
    await harness.crash()  # the process dies with the press kept but not played

    await harness.start(webhook=mode == "webhook")  # a new process: replays it
    shown = await phone.answer(mark, "keyboard")
    assert any(m.get("text", "").startswith("Interpreter (phone):") for m in shown)
    assert await kinds(harness, phone.user_id) == ["start", "choice"]
    await phone.press("c:1:0")  # and the session goes on
    assert await kinds(harness, phone.user_id) == ["start", "choice", "choice"]
    await harness.settled()


@pytest.mark.parametrize("mode", MODES)
async def test_crash_between_commit_and_reply(
    harness: Harness, peer: BotApiPeer, mode: str
) -> None:
    await harness.start(webhook=mode == "webhook")
    phone = Phone(peer, 1003)
    await onboard(phone)
    mark = phone.mark()
    peer.fail("sendMessage", "hang")  # the turn's first line never gets through
    peer.press(phone.user_id, phone.keyboard()["message_id"], "c:0:0")
    await peer.wait_until(lambda: any(c.outcome == "hang" for c in peer.calls), what="a hang")
    assert await kinds(harness, phone.user_id) == ["start", "choice"]  # committed
    await harness.crash()
    peer.release.set()

    await harness.start(webhook=mode == "webhook")
    shown = await phone.answer(mark, "keyboard")
    texts = [m.get("text", "") for m in shown]
    # the turn is not played again; the trainee is shown where the session stands
    assert any(t.startswith("Resuming") and "turn 1" in t for t in texts), texts
    assert any(t.startswith("Interpreter (phone):") for t in texts)
    assert await kinds(harness, phone.user_id) == ["start", "choice"]
    await phone.press("c:1:0")
    log = await harness.turns(phone.user_id)
    assert [t.seq for t in log] == [0, 1, 2] and log[2].input == "brief_interpreter"


async def test_a_stop_lets_the_turn_in_flight_finish(
    harness: Harness, peer: BotApiPeer, air01: LoadedScenario, tmp_path: Path
) -> None:
    """`serve` (the real entry point) returns on stop only once the replies are out."""
    await harness.open_store()
    assert harness.store is not None and harness.service is not None
    slow = TelegramOptions(
        limits=FAST.limits,
        retry=FAST.retry,
        pacing=Pacing(min_chars=1, chars_per_second=400, max_pause=0.2),
        poll_timeout=5,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(
        serve(
            harness.service,
            harness.store,
            token=TOKEN,
            api_url=peer.url,
            webhook_url=None,
            webhook_secret=None,
            host="127.0.0.1",
            port=0,
            stop=stop,
            options=slow,
        )
    )
    phone = Phone(peer, 1004)
    peer.send_text(phone.user_id, "/start mini-not-here")
    await peer.wait_until(lambda: any(c.method == "sendMessage" for c in peer.calls))
    peer.send_text(phone.user_id, "/start air-01")
    await peer.wait_until(lambda: (1004, "typing") in peer.actions, what="the first line typed")
    assert not peer.with_keyboard(phone.user_id)  # the turn is still on its way
    stop.set()
    await asyncio.wait_for(task, 20)
    assert phone.keyboard()  # the first turn's buttons made it out before the stop
    assert await harness.store.pending_updates("telegram") == []


async def test_flood_control_waits_as_told_and_drops_nothing(
    harness: Harness, peer: BotApiPeer
) -> None:
    await harness.start()
    phones = [Phone(peer, 1100 + i) for i in range(12)]
    await asyncio.gather(*(onboard(p) for p in phones))
    marks = [p.mark() for p in phones]
    peer.fail("sendMessage", "429", times=3, retry_after=1)
    peer.fail("editMessageText", "429", retry_after=1)
    await asyncio.gather(*(p.press("c:0:0") for p in phones))

    limited = [c for c in peer.calls if c.outcome == "429"]
    assert len(limited) == 4
    first = limited[0].at
    sends = [c for c in peer.calls if c.at > first + 0.1 and c.method.startswith(("send", "edit"))]
    assert sends and min(c.at for c in sends) >= first + 0.95  # retry_after obeyed, bot-wide
    assert harness.bot is not None and harness.bot.flood.flood_waits == 4
    for phone, mark in zip(phones, marks, strict=True):
        texts = [m.get("text", "") for m in phone.messages(mark)]
        assert sum(t.startswith("Interpreter (phone):") for t in texts) == 1
        assert sum(t.startswith("🧭 Coach") for t in texts) == 1
        assert await kinds(harness, phone.user_id) == ["start", "choice"]


async def test_server_errors_and_dropped_connections_are_retried(
    harness: Harness, peer: BotApiPeer
) -> None:
    peer.fail("getUpdates", "500")
    peer.fail("getUpdates", "drop")
    await harness.start()
    phone = Phone(peer, 1005)
    await onboard(phone)
    mark = phone.mark()
    for kind in ("500", "drop", "500", "drop"):
        peer.fail("sendMessage", kind)
    peer.fail("editMessageText", "drop")
    peer.fail("answerCallbackQuery", "500")  # only a courtesy: not repeated
    shown = await phone.press("c:0:0")
    texts = [m.get("text", "") for m in shown]
    assert sum(t.startswith("Interpreter (phone):") for t in texts) == 1
    assert sum(t.startswith("🧭 Coach") for t in texts) == 1
    assert "✅" in peer.chats[phone.user_id].messages[mark]["text"]
    assert harness.bot is not None and harness.bot.flood.retries >= 5


async def test_a_turn_whose_replies_keep_failing_is_shown_again_later(
    harness: Harness, peer: BotApiPeer
) -> None:
    """More failures than the request retries: the update is tried again as a whole, the
    service recognises the committed turn, and the trainee is shown where things stand."""
    await harness.start()
    phone = Phone(peer, 1006)
    await onboard(phone)
    mark = phone.mark()
    peer.fail("sendMessage", "500", times=FAST.retry.attempts)
    shown = await phone.press("c:0:0")
    assert any(m.get("text", "").startswith("Resuming") for m in shown)
    assert await kinds(harness, phone.user_id) == ["start", "choice"]
    assert phone.mark() > mark


@pytest.mark.parametrize("mode", MODES)
async def test_an_update_the_store_cannot_keep_is_not_acknowledged(
    harness: Harness, peer: BotApiPeer, mode: str
) -> None:
    """The database is down when an update arrives: Telegram is not told it arrived (no new
    offset; a 503 to the webhook), so it comes again and is played once the store is back."""
    await harness.open_store()
    assert harness.store is not None
    keep = harness.store.record_update
    refused: list[str] = []

    async def down_for_a_while(platform: str, key: str, payload: dict[str, Any]) -> bool:
        if payload["message"]["from"]["id"] == 1007 and len(refused) < 3:
            refused.append(key)
            raise StoreUnavailableError("database is down")
        return await keep(platform, key, payload)

    harness.store.record_update = down_for_a_while  # type: ignore[method-assign]
    await harness.start(webhook=mode == "webhook")
    phone, other = Phone(peer, 1007), Phone(peer, 1017)
    peer.send_text(phone.user_id, "/start")
    peer.send_text(other.user_id, "/start")  # in the same batch, and kept the first time
    await phone.answer(0, "keyboard")
    await other.answer(0, "keyboard")
    assert len(refused) == 3 and len(set(refused)) == 1  # the same update, again and again
    for each in (phone, other):
        assert sum(t.startswith("Welcome") for t in each.texts()) == 1
    if mode == "webhook":
        assert peer.webhook_refusals >= 3


async def test_a_scenario_started_just_before_a_crash_is_not_started_again(
    harness: Harness, peer: BotApiPeer
) -> None:
    await harness.start()
    phone = Phone(peer, 1008)
    await phone.send("/start")
    await phone.press("l:en")
    peer.fail("sendMessage", "hang")  # the introduction never gets through
    peer.press(phone.user_id, phone.keyboard()["message_id"], "s:air-01")
    await peer.wait_until(lambda: any(c.outcome == "hang" for c in peer.calls), what="a hang")
    assert await kinds(harness, phone.user_id) == ["start"]
    await harness.crash()
    peer.release.set()

    await harness.start()
    await peer.wait_until(lambda: any(m.get("reply_markup") for m in phone.messages()))
    await harness.settled()
    assert harness.store is not None
    trainee = await harness.store.trainee("telegram", str(phone.user_id))
    (session,) = await harness.store.sessions_of(trainee.id)  # one, not quit and begun anew
    assert session.status == "active"
    assert await kinds(harness, phone.user_id) == ["start"]
    await phone.press("c:0:0")
    assert await kinds(harness, phone.user_id) == ["start", "choice"]
