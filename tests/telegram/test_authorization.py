"""Staff commands through the real Telegram bot: a trainee is refused another trainee's session
and every staff command; a coordinator gets the transcript of their own trainee as a file."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.app.ports import AuditEntry, Cohort
from bot.reports import Renderer
from tests.conftest import REPORT
from tests.peers.telegram import BotApiPeer
from tests.telegram.harness import Harness, Phone
from tests.telegram.test_play import onboard

NOT_ALLOWED = ("is for coordinators", "not allowed", "cannot be made here")


def refused(texts: list[str]) -> bool:
    return any(any(word in t.lower() for word in NOT_ALLOWED) for t in texts)


async def test_a_trainee_cannot_read_anothers_session_nor_use_staff_commands(
    harness: Harness, peer: BotApiPeer
) -> None:
    await harness.start()
    anna, boris = Phone(peer, 9101), Phone(peer, 9102)
    await onboard(anna)
    await anna.press("c:0:0")
    assert harness.store is not None
    annas = await harness.store.trainee("telegram", str(anna.user_id))
    [session] = await harness.store.sessions_of(annas.id)
    await onboard(boris)
    for command in (
        f"/transcript {session.id}",
        f"/debrief {annas.alias}",
        "/report ANY",
        "/cohorts",
    ):
        mark = boris.mark()
        await boris.send(command, expect="message")
        said = boris.texts(mark)
        assert refused(said), (command, said)
        assert not [m for m in boris.messages(mark) if "document" in m or m.get("_uploaded")]
    assert len(await harness.store.turns(session.id)) == 2  # Anna's session is untouched
    REPORT.append(
        "authorization (Telegram): a trainee was refused another trainee's transcript and "
        "every staff command; Anna's session unchanged"
    )


async def test_a_coordinator_gets_their_trainees_transcript_as_a_file(
    harness: Harness, peer: BotApiPeer
) -> None:
    await harness.start()
    anna, carla = Phone(peer, 9201), Phone(peer, 9203)
    await onboard(anna)
    await anna.press("c:0:0")
    assert harness.store is not None
    store = harness.store
    annas = await store.trainee("telegram", str(anna.user_id))
    carlas = await store.trainee("telegram", str(carla.user_id))
    now = datetime.now(UTC)
    audit = AuditEntry(now, "test", "role.grant", carlas.alias, "done")
    await store.set_role(carlas.id, "coordinator", audit)
    cohort = Cohort("c1", "Night shift", "NIGHT7", carlas.id, None, None, (), None, now)
    await store.create_cohort(cohort, AuditEntry(now, "test", "cohort.create", "c1", "done"))
    await store.add_member("c1", annas.id, "trainee")
    [session] = await store.sessions_of(annas.id)
    assert harness.service is not None
    harness.service.coordination.renderer = Renderer()  # as bot.bootstrap gives the bot
    await carla.send("/start", expect="keyboard")
    mark = carla.mark()
    await carla.send(f"/transcript {session.id}", expect="message")
    sent = carla.messages(mark)
    assert any(m.get("_uploaded") for m in sent), carla.texts(mark)
