"""Staff commands through the real Matrix bot: a trainee is refused another trainee's session
and the staff commands, with both prefixes, and nothing changes."""

from __future__ import annotations

from tests.conftest import REPORT
from tests.matrix.conftest import Matrix
from tests.matrix.test_play import open_scenario, turn_log
from tests.matrix.trainee import body


async def test_a_trainee_cannot_read_anothers_session_nor_use_staff_commands(
    matrix: Matrix,
) -> None:
    await matrix.bot.start()
    anna, boris = await matrix.trainee(), await matrix.trainee()
    await open_scenario(anna, "Night bus")
    await anna.say("1")
    await anna.until_menu()
    log = await turn_log(matrix, anna)
    session_id = log[0].session_id
    await open_scenario(boris, "Night bus")
    for command in (f"!transcript {session_id}", f"/transcript {session_id}", "!report ANY"):
        await boris.say(command)
        (reply,) = await boris.until(lambda e: True, within=15)
        assert "is for coordinators" in body(reply), (command, body(reply))
        assert reply["content"].get("msgtype") != "m.file"
    assert await turn_log(matrix, anna) == log
    REPORT.append(
        "authorization (Matrix): staff commands refused to a trainee with both prefixes; "
        "the other session unchanged"
    )
