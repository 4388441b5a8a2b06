"""A trainee plays air-01 in Telegram from /start to the debrief, by buttons and by typing,
with the bot long polling and behind a webhook."""

from __future__ import annotations

import pytest

from bot.scenario.loader import LoadedScenario
from tests.peers.telegram import BotApiPeer, buttons_of
from tests.telegram.harness import Harness, Phone, is_debrief


async def onboard(phone: Phone) -> None:
    """/start, consent, English, the air-01 scenario: its first turn is on screen."""
    shown = await phone.send("/start")
    assert any("Welcome to Signpost" in t for t in phone.texts()), phone.texts()
    assert any("Before you start" in (m.get("text") or "") for m in shown)
    assert [b["callback_data"] for b in buttons_of(phone.keyboard())] == ["l:en", "l:pl"]
    await phone.press("l:en")
    catalogue = phone.keyboard()
    assert any(b["callback_data"] == "s:air-01" for b in buttons_of(catalogue))
    await phone.press("s:air-01")
    assert any(t.startswith("Airport arrival") for t in phone.texts())


async def play(
    harness: Harness, phone: Phone, path: list[str], how: str, *, ends: bool = True
) -> None:
    """Take `path` (choice ids): "press" every button, "read" the screen for the choice's
    label and press its button, or "mixed": press, type the choice's example, type the
    button's number, in turn."""
    for number, choice in enumerate(path):
        expect = "debrief" if ends and number == len(path) - 1 else "keyboard"
        if how == "read":
            await phone.press(phone.button_for(harness.label(choice)), expect=expect)
            continue
        data, example = await harness.choice_data(phone.user_id, choice)
        offered = [b["callback_data"] for b in buttons_of(phone.keyboard())]
        assert data in offered, f"{choice}: {data} not among {offered}"
        way = "press" if how == "press" else ("press", "type", "number")[number % 3]
        if way == "press":
            await phone.press(data, expect=expect)
        elif way == "type":
            await phone.send(example, expect=expect)
        else:
            await phone.send(str(offered.index(data) + 1), expect=expect)


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_whole_scenario_by_buttons(
    harness: Harness, peer: BotApiPeer, air01: LoadedScenario, mode: str
) -> None:
    await harness.start(webhook=mode == "webhook")
    phone = Phone(peer, 501)
    await onboard(phone)
    await play(harness, phone, list(air01.scenario.expert_path), "press")

    debrief = next(m for m in phone.messages() if is_debrief(m))
    assert "Overall: 100.0%" in debrief["text"] and "PASSED" in debrief["text"]
    # every keyboard is gone: the pressed ones show what was chosen, the rest were stripped
    assert peer.with_keyboard(phone.user_id) == []
    chosen = [m["text"] for m in phone.messages() if "✅" in m.get("text", "")]
    assert len(chosen) == 2 + len(air01.scenario.expert_path)  # language, scenario, each turn
    assert chosen[0].endswith("✅ English")

    log = await harness.turns(phone.user_id)
    assert [t.seq for t in log] == list(range(len(air01.scenario.expert_path) + 1))
    assert [t.input for t in log[1:]] == list(air01.scenario.expert_path)
    assert log[-1].payload["ended"]["outcome"] == "referred_kcik"
    if mode == "webhook":
        assert peer.webhook_deliveries >= len(air01.scenario.expert_path) + 3
        assert not any(c.method == "getUpdates" for c in peer.calls)
    await harness.stop_gracefully()


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_whole_scenario_typing_and_numbers(
    harness: Harness, peer: BotApiPeer, air01: LoadedScenario, mode: str
) -> None:
    await harness.start(webhook=mode == "webhook")
    phone = Phone(peer, 502)
    await onboard(phone)
    await play(harness, phone, list(air01.scenario.expert_path), "mixed")
    debrief = next(m for m in phone.messages() if is_debrief(m))
    assert "PASSED" in debrief["text"], debrief["text"]
    log = await harness.turns(phone.user_id)
    kinds = [t.kind for t in log]
    assert kinds[0] == "start" and len(kinds) == len(air01.scenario.expert_path) + 1
    assert "text" in kinds and "choice" in kinds
    # a typed number is the button with that number, stored as a choice
    assert kinds.count("choice") > kinds.count("text")


async def test_how_a_turn_looks(harness: Harness, peer: BotApiPeer) -> None:
    """Speaker names, the coach's marked box, clips as photos/videos/voice with captions,
    chat actions, the command menu in English and Polish."""
    await harness.start()
    phone = Phone(peer, 503)
    await onboard(phone)
    intro = phone.messages()
    assert any(m.get("text", "").startswith("First-line officer: Flight") for m in intro)
    photo = next(m for m in intro if "photo" in m)
    assert photo["caption"] == "The first-line officer's handover note"
    assert any(e["type"] == "italic" for e in photo["caption_entities"])
    # the choices: listed in full in the message, numbered on the buttons
    keyboard = phone.keyboard()
    assert "1. Thank him, take her to a private room" in keyboard["text"]
    assert all(b["text"][0].isdigit() for b in buttons_of(keyboard))

    shown = await phone.press("c:0:0")  # plan_private: the coach comments
    coach = next(m for m in shown if m.get("text", "").startswith("🧭 Coach"))
    assert any(e["type"] == "blockquote" for e in coach["entities"])
    assert "S+PRIVATE" in coach["text"]
    actions = {action for _, action in peer.actions}
    assert "typing" in actions and "upload_photo" in actions
    english, polish = peer.commands[None], peer.commands["pl"]
    assert [c["command"] for c in english][:2] == ["start", "scenarios"]
    assert polish[0]["description"].startswith("Start: zgoda")
    assert [c["command"] for c in english] == [c["command"] for c in polish]
