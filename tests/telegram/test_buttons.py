"""Buttons: stale and forged ones are answered politely and change nothing; used ones go."""

from __future__ import annotations

from tests.peers.telegram import BotApiPeer, buttons_of
from tests.telegram.harness import Harness, Phone
from tests.telegram.test_play import onboard

STALE = "That button belongs to an earlier turn; nothing was changed."
INVALID = "That button is not valid any more; nothing was changed."


async def test_stale_and_forged_buttons_change_nothing(harness: Harness, peer: BotApiPeer) -> None:
    await harness.start()
    phone = Phone(peer, 801)
    await onboard(phone)
    first = phone.keyboard()
    await phone.press("c:0:0")  # plan_private
    current = phone.keyboard()
    assert current["message_id"] != first["message_id"]
    log = await harness.turns(phone.user_id)
    mark = phone.mark()

    # the first turn's button again (a double tap, or an old message scrolled back to)
    await phone.press("c:0:0", message_id=first["message_id"], expect="answer")
    # forged data on the current keyboard: a turn that does not exist, an index out of
    # range, rubbish, 64 bytes of it, a scenario that does not exist, a deletion never asked for
    forged = ("c:7:0", "c:1:99", "zzz", "x" * 64, "c:1:-1", "s:no-such-scenario", "f:yes:0")
    for data in forged:
        await phone.press(data, message_id=current["message_id"], expect="answer")

    answers = [a["text"] for a in peer.callback_answers.values()]
    assert STALE in answers
    assert answers.count(INVALID) >= 4
    assert any("no-such-scenario" in (a or "") for a in answers)
    assert await harness.turns(phone.user_id) == log  # nothing was played
    assert phone.messages(mark) == []  # and nothing said in the chat
    assert phone.keyboard()["message_id"] == current["message_id"]  # still usable
    await phone.press("c:1:0")  # brief_interpreter, from the current keyboard
    assert len(await harness.turns(phone.user_id)) == len(log) + 1


async def test_old_keyboards_after_a_restart(harness: Harness, peer: BotApiPeer) -> None:
    """The bot forgets which keyboards are open when it restarts: an old one pressed then is
    refused and loses its buttons; the current one still works and shows what was chosen."""
    await harness.start()
    phone = Phone(peer, 802)
    await onboard(phone)
    first = phone.keyboard()
    await phone.send("book an interpreter")  # typed: the first turn's keyboard is stripped
    assert "reply_markup" not in first
    await harness.stop_gracefully()
    await harness.crash()
    await harness.start()

    current = phone.keyboard()
    # put the first turn's buttons back, as if the bot had died before it stripped them
    first["reply_markup"] = {"inline_keyboard": [[{"text": "1. Thank", "callback_data": "c:0:0"}]]}
    await phone.press("c:0:0", message_id=first["message_id"], expect="answer")
    assert list(peer.callback_answers.values())[-1]["text"] == STALE
    await peer.wait_until(lambda: "reply_markup" not in first, what="the stale keyboard stripped")

    data = buttons_of(current)[0]["callback_data"]
    await phone.press(data)
    pressed = peer.chats[phone.user_id].messages[current["message_id"]]
    assert "reply_markup" not in pressed and "✅" in pressed["text"]
    # its formatting survived the edit: the prompt is still bold
    assert pressed["entities"][0] == {"type": "bold", "offset": 0, "length": 15}


async def test_buttons_while_paused_wait_for_resume(harness: Harness, peer: BotApiPeer) -> None:
    await harness.start()
    phone = Phone(peer, 803)
    await onboard(phone)
    keyboard = phone.keyboard()
    await phone.send("/pause", expect="message")
    await phone.press("c:0:0", message_id=keyboard["message_id"], expect="answer")
    assert list(peer.callback_answers.values())[-1]["text"].startswith("The session is paused")
    assert len(await harness.turns(phone.user_id)) == 2  # start, pause
    assert phone.keyboard()["message_id"] == keyboard["message_id"]  # still there
    await phone.send("/resume")
    await phone.press("c:0:0")
    assert [t.kind for t in await harness.turns(phone.user_id)] == [
        "start",
        "pause",
        "resume",
        "choice",
    ]


async def test_forget_asks_then_deletes(harness: Harness, peer: BotApiPeer) -> None:
    await harness.start()
    phone = Phone(peer, 804)
    await onboard(phone)
    await phone.press("c:0:0")
    turn_keyboard = phone.keyboard()
    await phone.send("/forget")
    confirm = phone.keyboard()
    yes, no = (b["callback_data"] for b in buttons_of(confirm))
    assert yes.startswith("f:yes") and no == "f:no"
    # the turn's buttons stay usable while the question is open
    assert turn_keyboard in peer.with_keyboard(phone.user_id)
    await phone.press("f:no", expect="message")
    assert phone.texts()[-1] == "Nothing was deleted."
    assert len(await harness.turns(phone.user_id)) == 2

    # "1" typed with the question open is the turn's first choice, never "yes, delete"
    await phone.send("/forget")
    await phone.send("1")
    assert len(await harness.turns(phone.user_id)) == 3
    assert all(b["callback_data"].startswith("c:") for b in buttons_of(phone.keyboard()))

    await phone.send("/forget")
    await phone.press(buttons_of(phone.keyboard())[0]["callback_data"], expect="message")
    assert phone.texts()[-1].startswith("Done: your data has been deleted")
    assert await harness.turns(phone.user_id) == []


async def test_the_ui_follows_the_telegram_client_language(
    harness: Harness, peer: BotApiPeer
) -> None:
    await harness.start()
    phone = Phone(peer, 805, language="pl")
    await phone.send("/start")
    assert phone.texts()[0].startswith("Witaj w Signpost")
    await phone.press("l:pl")
    assert "Język: polski." in phone.texts()
    await phone.press("s:air-01")
    assert any(t.startswith("Przylot na lotnisko") for t in phone.texts())
