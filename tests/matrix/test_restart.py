"""Stops, crashes and restarts: no turn lost, doubled or replayed; old history never answered."""

from __future__ import annotations

import asyncio
from typing import Any

from nio import AsyncClient, JoinResponse  # type: ignore[import-untyped]

from adapters.matrix.client import MatrixClient
from adapters.matrix.events import KEYCAPS
from adapters.matrix.options import MatrixOptions
from adapters.matrix.render import Typing
from storage import SqlStore
from tests.matrix.conftest import TEST_OPTIONS, Matrix
from tests.matrix.test_play import open_scenario, turn_log
from tests.matrix.trainee import Trainee, body, is_debrief, is_menu, options

CURSOR = "matrix:{}:next_batch"


async def choose_first(trainee: Trainee) -> list[dict[str, Any]]:
    await trainee.say("1")
    return await trainee.until_menu()


async def test_a_restart_mid_scenario_loses_doubles_and_replays_nothing(matrix: Matrix) -> None:
    bot = await matrix.bot.start()
    trainee = await matrix.trainee()
    said = await open_scenario(trainee, "Night bus")
    said = await choose_first(trainee)
    assert bot.store is not None
    cursor = await bot.store.cursor(CURSOR.format(bot.account.user_id))
    assert cursor

    await bot.stop()
    await trainee.say("1")  # said while the bot is down: answered after the restart
    assert await trainee.quiet(0.5) == []
    await bot.start()
    said = await trainee.until_menu()
    assert body(said[0]).startswith("Ana:")  # the answer to that '1', not a replay

    # the menu's event id survived the restart too: answered by reaction
    await trainee.react(said[-1]["event_id"], KEYCAPS[0])
    said = await trainee.until_menu()
    await trainee.say("1")
    said = await trainee.until_menu()
    assert is_debrief(said[-1]) and "PASSED" in body(said[-1])

    log = await turn_log(matrix, trainee)
    assert [t.kind for t in log] == ["start", "choice", "choice", "choice", "choice"]
    assert [t.seq for t in log] == [0, 1, 2, 3, 4]
    assert await trainee.quiet(0.5) == []  # and nothing said twice


async def test_a_crash_after_the_commit_answers_the_turn_once_after_restart(
    matrix: Matrix,
) -> None:
    # a long typing pause holds every answer back: the crash comes after the turn was committed
    # and before any of its answer was sent
    slow = MatrixOptions(**{**TEST_OPTIONS.__dict__, "typing": Typing(1.0, 5.0, 1)})
    bot = await matrix.bot.start()
    trainee = await matrix.trainee()
    await open_scenario(trainee, "Night bus")
    await bot.stop()
    await bot.start(slow)
    await trainee.say("1")
    for _ in range(200):
        if len(await turn_log(matrix, trainee)) == 2:
            break
        await asyncio.sleep(0.02)
    await bot.crash()
    assert await trainee.quiet(0.3) == []

    await bot.start()
    said = await trainee.until_menu()
    text = [body(e) for e in said]
    assert text[0].startswith("Resuming"), text  # where the trainee is: turn 1, its lines, menu
    assert any(t.startswith("Interpreter:") for t in text)
    assert options(said[-1])[0].startswith("Tell me about your trip")
    for _ in range(3):
        said = await choose_first(trainee)
    assert is_debrief(said[-1])
    log = await turn_log(matrix, trainee)
    assert [t.seq for t in log] == [0, 1, 2, 3, 4]
    assert len({t.input_key for t in log[1:]}) == 4


async def test_events_already_handled_are_skipped_when_the_server_sends_them_again(
    matrix: Matrix,
) -> None:
    bot = await matrix.bot.start()
    trainee = await matrix.trainee()
    await open_scenario(trainee, "Night bus")
    assert bot.store is not None
    name = CURSOR.format(bot.account.user_id)
    early = await bot.store.cursor(name)
    assert early is not None
    await choose_first(trainee)
    await choose_first(trainee)
    await bot.stop()

    # as if the token had not been saved: the homeserver sends those events again
    store = await SqlStore.open(bot.database_url)
    await store.set_cursor(name, early)
    await store.close()
    await bot.start()
    assert await trainee.quiet(2.0) == []
    said = await choose_first(trainee)
    assert body(said[0]).startswith("Scene:") or is_menu(said[-1])
    log = await turn_log(matrix, trainee)
    assert [t.seq for t in log] == [0, 1, 2, 3]


async def test_messages_from_before_the_bot_joined_are_not_answered(matrix: Matrix) -> None:
    await matrix.bot.start()
    trainee = await matrix.trainee()
    room = await trainee.open_dm(invite=False)
    await trainee.say("!help")
    await trainee.say("!start mini")
    await trainee.client.room_invite(room, matrix.bot.account.user_id)
    greeting = await trainee.until_menu()
    assert "Welcome" in body(greeting[0])
    assert await trainee.quiet(1.5) == []


async def test_messages_from_before_the_first_start_are_not_answered(matrix: Matrix) -> None:
    # the bot's account is in a room before Signpost ever ran with it
    account = matrix.bot.account
    trainee = await matrix.trainee()
    room = await trainee.open_dm()
    raw = AsyncClient(matrix.server.url, account.user_id)
    raw.restore_login(account.user_id, account.device_id, account.access_token)
    try:
        assert isinstance(await raw.join(room), JoinResponse)
    finally:
        await raw.close()
    await trainee.say("!help")
    await trainee.say("hello?")

    await matrix.bot.start()
    assert await trainee.quiet(2.0) == []
    await trainee.say("!help")
    (answer,) = await trainee.until(lambda e: True)
    assert "/forget" in body(answer)
    assert await trainee.quiet(0.5) == []


async def test_a_retried_transaction_is_one_event_even_after_the_bot_logs_in_again(
    matrix: Matrix,
) -> None:
    """The bot logs in with the same device every time (kept in the store), and the homeserver
    keeps one event per device and transaction id: an answer re-sent after a restart with the
    transaction id it had before is not posted twice."""
    bot = await matrix.bot.start()
    trainee = await matrix.trainee()
    await trainee.open_dm()
    await trainee.until_menu()
    await bot.stop()
    store = await SqlStore.open(bot.database_url)
    device = await store.cursor(f"matrix:{bot.account.user_id}:device")
    await store.close()
    assert device

    async def send_as_the_bot() -> str:
        client = MatrixClient(matrix.server.url, bot.account.user_id, device_id=device)
        try:
            assert await client.login(bot.account.password, None) is None
            assert client.device_id == device
            content = {"msgtype": "m.notice", "body": "said once"}
            sent = await client.send(trainee.room, "m.room.message", content, "sp-retry.0")
            assert isinstance(sent, str)
            return sent
        finally:
            await client.close()

    first = await send_as_the_bot()
    await bot.start()
    await trainee.say("!help")
    await trainee.until(lambda e: "/forget" in body(e))
    await bot.stop()
    assert await send_as_the_bot() == first
    assert [body(e) for e in trainee.said].count("said once") == 1
