"""Bad input through a real homeserver: a short reply or silence, never a crash, no state change."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from typing import Any

import pytest

from adapters.matrix.events import KEYCAPS
from adapters.matrix.options import MatrixOptions
from bot.app.messages import Incoming, Outgoing
from tests.matrix.conftest import TEST_OPTIONS, Matrix
from tests.matrix.test_play import open_scenario, turn_log
from tests.matrix.trainee import Trainee, body


async def one_reply(trainee: Trainee) -> dict[str, Any]:
    (reply,) = await trainee.until(lambda e: True, within=15)
    return reply


async def test_bad_input_gets_a_short_reply_or_nothing_and_changes_nothing(
    matrix: Matrix,
) -> None:
    await matrix.bot.start()
    trainee = await matrix.trainee()
    said = await open_scenario(trainee, "Night bus")
    first_menu = said[-1]
    before = len(await turn_log(matrix, trainee))

    # ignored silently: unknown types, notices, redactions, other emoji, stray reactions
    await trainee.send({"anything": True}, "org.example.unknown")
    await trainee.send({"msgtype": "m.notice", "body": "a bot's notice"})
    typed = await trainee.say("!help")  # answered (no state change), then taken back
    assert "/forget" in body(await one_reply(trainee))
    await trainee.client.room_redact(trainee.room, typed)
    await trainee.react(first_menu["event_id"], "👍")
    await trainee.react(said[-2]["event_id"], KEYCAPS[0])  # a character's line, not a menu

    # answered briefly
    await trainee.send(
        {
            "msgtype": "m.text",
            "body": "* Please wait outside",
            "m.new_content": {"msgtype": "m.text", "body": "Please wait outside"},
            "m.relates_to": {"rel_type": "m.replace", "event_id": typed},
        }
    )
    assert "edited" in body(await one_reply(trainee))
    await trainee.say("x" * 5000)
    assert "too long (5000 characters)" in body(await one_reply(trainee))
    upload = {"msgtype": "m.file", "body": "passport.pdf", "url": "mxc://localhost/nothing"}
    await trainee.send(upload)
    assert "I read text only" in body(await one_reply(trainee))
    await trainee.send({**upload, "msgtype": "m.image", "body": "photo.png"})
    assert "I read text only" in body(await one_reply(trainee))
    await trainee.say("7")
    assert "There is no option 7: choose a number from 1 to 2." in body(await one_reply(trainee))

    # whatever is echoed is escaped in the formatted body
    await trainee.say("!<img src=x onerror=alert(1)><script>alert(2)</script>")
    echoed = await one_reply(trainee)
    assert "Unknown command" in body(echoed)
    rich = echoed["content"]["formatted_body"]
    assert "<img" not in rich and "<script" not in rich and "&lt;img" in rich

    assert len(await turn_log(matrix, trainee)) == before  # no state changed
    await trainee.say("1")  # and the session goes on
    said = await trainee.until_menu()
    assert body(said[0]).startswith("Interpreter:")

    # a reaction to the menu before: an earlier turn, nothing changes
    await trainee.react(first_menu["event_id"], KEYCAPS[1])
    assert "earlier turn" in body(await one_reply(trainee))
    assert len(await turn_log(matrix, trainee)) == before + 1
    assert await trainee.quiet(0.5) == []


async def test_a_failure_while_handling_one_event_is_logged_and_the_bot_goes_on(
    matrix: Matrix, caplog: pytest.LogCaptureFixture
) -> None:
    bot = await matrix.bot.start()
    assert bot.service is not None
    handle = bot.service.handle

    async def flaky(incoming: Incoming) -> list[Outgoing]:
        if incoming.text == "boom":
            raise RuntimeError("a bug in the core")
        return await handle(incoming)

    bot.service.handle = flaky  # type: ignore[method-assign]
    trainee = await matrix.trainee()
    await open_scenario(trainee, "Night bus")
    await trainee.say("boom")
    await trainee.say("1")
    said = await trainee.until_menu()
    assert body(said[0]).startswith("Interpreter:")
    assert any("could not be handled" in r.getMessage() for r in caplog.records)


async def test_invites_are_accepted_only_from_allowed_users_and_servers(matrix: Matrix) -> None:
    alice, bob = await matrix.trainee(), await matrix.trainee()
    matrix.bot.allow = [alice.user_id, "example.org"]
    await matrix.bot.start()
    await bob.open_dm()
    await alice.open_dm()
    greeting = await alice.until_menu()
    assert "Welcome" in body(greeting[0])
    for _ in range(50):
        members = await bob.client.joined_members(bob.room)
        invited = await bob.client.room_get_state_event(
            bob.room, "m.room.member", matrix.bot.account.user_id
        )
        if getattr(invited, "content", {}).get("membership") == "leave":
            break
        await asyncio.sleep(0.1)
    assert invited.content["membership"] == "leave"  # declined
    assert matrix.bot.account.user_id not in [m.user_id for m in members.members]
    assert bob.said == []


async def test_in_an_encrypted_room_the_bot_says_it_cannot_read(matrix: Matrix) -> None:
    await matrix.bot.start()
    trainee = await matrix.trainee()
    await trainee.open_dm(encrypted=True)
    notice = await one_reply(trainee)
    assert "cannot decrypt" in body(notice) and "szyfrowany" in body(notice)
    await trainee.send(
        MEGOLM,
        "m.room.encrypted",
    )
    assert await trainee.quiet(1.0) == []  # said once, not to every message

    # an encrypted message in a room the bot thought clear gets the same notice
    other = await matrix.trainee()
    await other.open_dm()
    await other.until_menu()
    await other.send(
        MEGOLM,
        "m.room.encrypted",
    )
    assert "cannot decrypt" in body(await one_reply(other))


MEGOLM = {
    "algorithm": "m.megolm.v1.aes-sha2",
    "ciphertext": "AwgAEnA",
    "sender_key": "cvD1T8Y1nqB8y3rZ2r5bXjzZ1YQ0w8Zk4q9Y0bq3xFc",
    "device_id": "TRAINEEPHONE",
    "session_id": "X1xgFjcXm9ZPbJ7c0E3nQd0kYt5q2Q1bOZ5VhB2q9pA",
}


def _logout(url: str, token: str) -> None:
    request = urllib.request.Request(
        url + "/_matrix/client/v3/logout", data=json.dumps({}).encode(), method="POST"
    )
    request.add_header("Authorization", f"Bearer {token}")
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=10):
        pass


async def test_a_revoked_login_stops_the_bot_and_says_so(
    matrix: Matrix, caplog: pytest.LogCaptureFixture
) -> None:
    quick = MatrixOptions(**{**TEST_OPTIONS.__dict__, "sync_timeout_ms": 500})
    bot = await matrix.bot.start(quick, password=None, token=matrix.bot.account.access_token)
    trainee = await matrix.trainee()
    await trainee.open_dm()
    await trainee.until_menu()
    await asyncio.to_thread(_logout, matrix.server.url, matrix.bot.account.access_token)
    assert bot.task is not None
    await asyncio.wait_for(bot.task, timeout=15)
    assert any(
        r.levelname == "CRITICAL" and "M_UNKNOWN_TOKEN" in r.getMessage() for r in caplog.records
    )


async def test_a_wrong_token_stops_at_once_and_says_so(
    matrix: Matrix, caplog: pytest.LogCaptureFixture
) -> None:
    bot = await matrix.bot.start(password=None, token="syt_not_a_real_token")
    assert bot.task is not None
    await asyncio.wait_for(bot.task, timeout=15)
    assert any("cannot log in" in r.getMessage() for r in caplog.records)
