"""Bad input of every kind gets one short reply and changes nothing."""

from __future__ import annotations

import time

from tests.peers.telegram import BotApiPeer
from tests.telegram.harness import Harness, Phone
from tests.telegram.test_play import onboard

ONLY_TEXT = "I can read only text messages and buttons. Please type your answer or press a button."

STICKER = {
    "file_id": "sticker-1",
    "file_unique_id": "s1",
    "type": "regular",
    "width": 512,
    "height": 512,
    "is_animated": False,
    "is_video": False,
}


async def test_bad_input_gets_a_short_reply_and_changes_nothing(
    harness: Harness, peer: BotApiPeer
) -> None:
    await harness.start()
    phone = Phone(peer, 901)
    await onboard(phone)
    await phone.press("c:0:0")
    before = await harness.turns(phone.user_id)
    data_before, _ = await harness.choice_data(phone.user_id, "brief_interpreter")
    own = [m for m in peer.chats[phone.user_id].messages.values() if not m["from"]["is_bot"]]

    replies: list[str] = []
    for content in (
        {"sticker": STICKER},
        {"location": {"latitude": 52.17, "longitude": 20.97}},
        {"document": {"file_id": "doc-1", "file_unique_id": "d1", "file_name": "cv.pdf"}},
        {"photo": [{"file_id": "p-1", "file_unique_id": "p1", "width": 9, "height": 9}]},
        {"voice": {"file_id": "v-1", "file_unique_id": "v1", "duration": 2}},
    ):
        mark = phone.mark()
        peer.send_content(phone.user_id, **content)
        replies += [m["text"] for m in await phone.answer(mark, "message")]
    assert replies == [ONLY_TEXT] * 5

    mark = phone.mark()
    peer.edit_text(phone.user_id, own[-1]["message_id"], "I changed my mind")  # an edited message
    (edited,) = await phone.answer(mark, "message")
    assert edited["text"].startswith("Edited messages are not read")

    (huge,) = await phone.send("a" * 5000, expect="message")
    assert "too long (5000 characters)" in huge["text"]
    (unknown,) = await phone.send("/dance", expect="message")
    assert unknown["text"].endswith("Unknown command /dance. Send /help for the list.")
    (odd,) = await phone.send("/x" + "y" * 40 + " now", expect="message")
    assert "Unknown command" in odd["text"]

    # none of it was played, and the same choice is still the one on offer
    assert await harness.turns(phone.user_id) == before
    assert (await harness.choice_data(phone.user_id, "brief_interpreter"))[0] == data_before
    await phone.press(data_before)
    assert len(await harness.turns(phone.user_id)) == len(before) + 1


async def test_updates_not_for_the_bot_are_ignored(harness: Harness, peer: BotApiPeer) -> None:
    """A group, another bot, a membership change: quiet, yet marked processed."""
    await harness.start()
    phone = Phone(peer, 902)
    user = peer.chats[phone.user_id].user
    now = int(time.time())
    peer.send_in_group(-1001, phone.user_id, "hi")
    peer.push(
        {
            "message": {
                "message_id": 6,
                "date": now,
                "chat": {"id": 903, "type": "private", "first_name": "Bot"},
                "from": {"id": 903, "is_bot": True, "first_name": "Other bot"},
                "text": "/start",
            }
        }
    )
    peer.push(
        {
            "my_chat_member": {
                "chat": {"id": 902, "type": "private", "first_name": "T"},
                "from": user,
                "date": now,
                "old_chat_member": {"status": "member", "user": peer.bot_user},
                "new_chat_member": {
                    "status": "kicked",
                    "user": peer.bot_user,
                    "until_date": 0,
                },
            }
        }
    )
    # /start in a group: the one thing answered there, to say sessions are private
    peer.send_in_group(-1001, phone.user_id, "/start")
    await phone.send("/help", expect="message")
    assert harness.bot is not None and harness.store is not None
    await peer.wait_until(lambda: harness.bot.inbox.processed >= 5)  # type: ignore[union-attr]
    assert await harness.store.pending_updates("telegram") == []
    sent_to_group = [c for c in peer.calls if c.chat_id == -1001 and c.method == "sendMessage"]
    assert len(sent_to_group) == 1
    assert not any(c.chat_id == 903 for c in peer.calls)
    assert await harness.turns(phone.user_id) == []
