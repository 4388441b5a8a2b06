"""End-to-end encrypted rooms, with matrix-nio's `e2e` extra (vodozemac) on both sides.

The trainee's client encrypts as a real one does (its own keys, devices fetched from Synapse,
room keys shared over Olm; reactions encrypted as Element sends them); the bot reads what it
decrypts like any clear message, answers encrypted, keeps its device and keys across a
restart, and says clearly when it has no key."""

from __future__ import annotations

import asyncio
import logging
import shutil
import time
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from nio import Api, AsyncClient, RoomKeyRequest, SyncResponse  # type: ignore[import-untyped]
from nio.crypto import decrypt_attachment  # type: ignore[import-untyped]

from adapters.matrix import crypto
from adapters.matrix.events import KEYCAPS
from adapters.matrix.login import connect
from adapters.matrix.media import MediaRepository
from adapters.matrix.outbox import Batch, Failure, Outbox
from adapters.matrix.render import Typing, render
from bot.app.messages import DocumentOut
from bot.scenario.loader import Catalogue
from storage import SqlStore
from tests.conftest import REPORT
from tests.matrix.conftest import Matrix
from tests.matrix.test_bad_input import one_reply
from tests.matrix.test_play import AIR, choice_texts, expert_steps, turn_log
from tests.matrix.trainee import Trainee, body, is_menu, options

pytestmark = pytest.mark.skipif(
    not crypto.available(), reason="matrix-nio's e2e extra is not installed (make install)"
)

DEVICE = "matrix:{}:device"


async def device_of(matrix: Matrix) -> str:
    store = await SqlStore.open(matrix.bot.database_url)
    try:
        device = await store.cursor(DEVICE.format(matrix.bot.account.user_id))
    finally:
        await store.close()
    assert device
    return device


async def open_encrypted_dm(trainee: Trainee) -> list[dict[str, Any]]:
    """An encrypted DM (m.room.encryption in the room's initial state): the bot's greeting."""
    await trainee.open_dm(encrypted=True)
    greeting = await trainee.until_menu()
    assert "Welcome to Signpost" in body(greeting[0]), [body(e) for e in greeting]
    assert all(e["event_id"] in trainee.encrypted for e in greeting)  # none in clear
    return greeting


async def react_encrypted(trainee: Trainee, event_id: str, key: str) -> None:
    """A reaction as Element sends it in an encrypted room: encrypted, with the relation left
    in clear beside the ciphertext (nio itself sends reactions in clear)."""
    relates = {"rel_type": "m.annotation", "event_id": event_id, "key": key}
    kind, content = trainee.client.encrypt(trainee.room, "m.reaction", {"m.relates_to": relates})
    assert kind == "m.room.encrypted" and content["m.relates_to"] == relates
    client = trainee.client
    method, path, data = Api.room_send(client.access_token, trainee.room, kind, content, uuid4())
    response = await client.send(method, path, data, headers={"Content-Type": "application/json"})
    assert response.status == 200, await response.text()


async def play_step(trainee: Trainee, scenarios: Catalogue, choice_id: str, way: str) -> str:
    """Answer the last menu with the expert choice: by its number, by an encrypted reaction
    with its number emoji, or in the trainee's words."""
    menu = trainee.said[trainee.seen - 1]
    assert is_menu(menu), body(menu)
    choice = choice_texts(scenarios)[choice_id]
    if way == "text":
        await trainee.say(choice.examples["en"][0])
        return "text"
    index = options(menu).index(choice.text["en"])
    if way == "reaction":
        await react_encrypted(trainee, menu["event_id"], KEYCAPS[index])
    else:
        await trainee.say(str(index + 1))
    return "choice"


async def test_a_trainee_plays_in_an_encrypted_dm_and_across_a_restart(
    matrix: Matrix, scenarios: Catalogue, tmp_path: Path
) -> None:
    keys = tmp_path / "bot-keys"
    bot = await matrix.bot.start(crypto_store=keys)
    trainee = await matrix.trainee(store=tmp_path / "trainee-keys")
    await open_encrypted_dm(trainee)

    await trainee.say("1")  # English, by number: encrypted, read by the bot
    catalogue = await trainee.until_menu()
    assert body(catalogue[0]) == "Language: English."
    number = next(i for i, o in enumerate(options(catalogue[-1]), 1) if o.startswith("Airport"))
    await trainee.say(str(number))
    said = await trainee.until_menu()
    assert all(e["event_id"] in trainee.encrypted for e in [*catalogue, *said])

    # a clip inside an encrypted event: its mxc:// file downloads back byte for byte
    (note,) = [e for e in said if e["content"].get("msgtype") == "m.image"]
    assert note["content"]["filename"] == "handover_note.png"
    data = (AIR / "media" / "handover_note.png").read_bytes()
    assert await trainee.download(note["content"]["url"]) == data

    steps, kinds = expert_steps(), []
    started = time.monotonic()
    for step, way in enumerate(("number", "text")):
        kinds.append(await play_step(trainee, scenarios, steps[step], way))
        said = await trainee.until_menu()
    per_step = (time.monotonic() - started) / 2

    device = await device_of(matrix)
    await bot.stop()
    await bot.start(crypto_store=keys)  # the same device, its keys from the folder
    for step, way in enumerate(("text", "reaction", "number"), start=2):
        kinds.append(await play_step(trainee, scenarios, steps[step], way))
        said = await trainee.until_menu()
        assert all(e["event_id"] in trainee.encrypted for e in said)
    assert await device_of(matrix) == device
    assert crypto.store_file(keys.resolve(), bot.account.user_id, device).exists()
    assert all(e["event_id"] in trainee.encrypted for e in trainee.said)  # nothing in clear

    log = await turn_log(matrix, trainee)
    assert [t.kind for t in log] == ["start", *kinds]
    assert [t.seq for t in log] == list(range(len(kinds) + 1))
    assert len({t.input_key for t in log[1:]}) == len(kinds)
    assert await trainee.quiet(0.5) == []  # nothing said twice after the restart
    REPORT.append(
        f"matrix e2e: an encrypted DM plays air-01 at {per_step * 1000:.0f} ms per step "
        "(trainee's message to the bot's menu, both sides encrypting)"
    )


def withhold_room_key(trainee: Trainee) -> str:
    """From now on the trainee's device encrypts with a room key it never sends to anyone (as a
    client that does not trust the bot's device would). Returns the key's session id."""
    olm = trainee.client.olm
    olm.create_outbound_group_session(trainee.room)
    session = olm.outbound_group_sessions[trainee.room]
    session.shared = True  # nio will not share it: it thinks it has
    return str(session.id)


def share_room_keys_again(trainee: Trainee) -> None:
    """A new room key, which the trainee's next message shares with the bot's device."""
    trainee.client.olm.create_outbound_group_session(trainee.room)


async def key_requests(client: AsyncClient, session_id: str, within: float) -> list[Any]:
    """The room key requests for `session_id` another device of the bot's user receives."""
    deadline = time.monotonic() + within
    since = None
    while time.monotonic() < deadline:
        answer = await client.sync(timeout=500, since=since)
        assert isinstance(answer, SyncResponse), answer
        since = answer.next_batch
        found = [
            e
            for e in answer.to_device_events
            if isinstance(e, RoomKeyRequest) and e.session_id == session_id
        ]
        if found:
            return found
    return []


async def test_a_message_the_bot_cannot_decrypt_gets_a_clear_answer_and_changes_nothing(
    matrix: Matrix, tmp_path: Path
) -> None:
    await matrix.bot.start(crypto_store=tmp_path / "bot-keys")
    trainee = await matrix.trainee(store=tmp_path / "trainee-keys")
    await open_encrypted_dm(trainee)
    # another device of the bot's account (the one registration made): nio asks the bot's own
    # devices for a missing room key
    account = matrix.bot.account
    other = AsyncClient(matrix.server.url, account.user_id)
    other.restore_login(account.user_id, account.device_id, account.access_token)
    try:
        session = withhold_room_key(trainee)
        await trainee.say("2")  # would be "Polski"
        notice = await one_reply(trainee)
        assert notice["event_id"] in trainee.encrypted  # the notice itself is encrypted
        assert "I cannot decrypt your last message" in body(notice)
        assert "Nie mogę odszyfrować" in body(notice)  # both languages: it cannot know which
        await trainee.say("2")
        assert await trainee.quiet(1.0) == []  # said once, not to every message

        requests = await key_requests(other, session, within=10)
        assert requests and requests[0].room_id == trainee.room
        assert requests[0].requesting_device_id == await device_of(matrix)
    finally:
        await other.close()

    share_room_keys_again(trainee)
    await trainee.say("1")  # readable again; the two unread messages changed nothing
    said = await trainee.until_menu()
    assert body(said[0]) == "Language: English."
    assert "Airport arrival" in " ".join(options(said[-1]))


async def test_when_the_key_folder_is_lost_the_bot_comes_back_as_a_new_device(
    matrix: Matrix, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    keys = tmp_path / "bot-keys"
    bot = await matrix.bot.start(crypto_store=keys)
    trainee = await matrix.trainee(store=tmp_path / "trainee-keys")
    await open_encrypted_dm(trainee)
    first = await device_of(matrix)
    await bot.stop()

    shutil.rmtree(keys)  # its private keys are gone; the server still has the public ones
    await bot.start(crypto_store=keys)
    for _ in range(100):
        second = await device_of(matrix)
        if second != first:
            break
        await asyncio.sleep(0.05)
    assert second != first
    assert "logging in as a new device" in caplog.text
    # the trainee's client learns of the new device from its sync, as any client would
    for _ in range(200):
        if second in trainee.client.device_store[bot.account.user_id]:
            break
        await asyncio.sleep(0.05)
    await trainee.say("1")
    said = await trainee.until_menu()
    assert body(said[0]) == "Language: English."
    assert said[0]["event_id"] in trainee.encrypted


async def test_with_a_token_and_a_lost_key_folder_the_bot_goes_on_without_encryption(
    matrix: Matrix, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    keys = tmp_path / "bot-keys"
    account = matrix.bot.account
    token = {"password": None, "token": account.access_token, "crypto_store": keys}
    bot = await matrix.bot.start(**token)
    trainee = await matrix.trainee()
    await trainee.open_dm()
    await trainee.until_menu()  # logged in, keys published, syncing
    await bot.stop()
    assert crypto.store_file(keys.resolve(), account.user_id, account.device_id).exists()

    shutil.rmtree(keys)
    caplog.set_level(logging.ERROR, logger="adapters.matrix.login")
    await bot.start(**token)
    await trainee.say("!help")
    await trainee.until(lambda e: "/forget" in body(e))  # still answers in clear rooms
    assert "going on WITHOUT encryption" in caplog.text


async def test_without_the_e2e_extra_an_encrypted_room_gets_a_clear_notice(
    matrix: Matrix,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(crypto, "available", lambda: False)  # as if vodozemac did not import
    keys = tmp_path / "bot-keys"
    await matrix.bot.start(crypto_store=keys)
    trainee = await matrix.trainee()
    await trainee.open_dm(encrypted=True)
    notice = await one_reply(trainee)
    assert "cannot decrypt messages here" in body(notice) and "szyfrowany" in body(notice)
    assert "e2e extra is not installed" in caplog.text
    assert not keys.exists()


async def test_a_report_for_an_encrypted_room_is_encrypted_before_upload(
    matrix: Matrix, tmp_path: Path
) -> None:
    """Reports and transcripts are personal: in an encrypted room the file is encrypted too
    (a new key per file, inside the encrypted event); the homeserver only stores ciphertext.
    Sent here by the adapter's own client and outbox, as the bot's device, right after a
    start: before any sync, as an answer replayed after a restart would be."""
    keys = tmp_path / "bot-keys"
    await matrix.bot.start(crypto_store=keys)
    trainee = await matrix.trainee(store=tmp_path / "trainee-keys")
    await open_encrypted_dm(trainee)
    await matrix.bot.stop()

    account = matrix.bot.account
    client, problem = await connect(
        matrix.server.url,
        account.user_id,
        device_id=await device_of(matrix),
        password=account.password,
        token=None,
        crypto_store=keys,
    )
    store = await SqlStore.open(matrix.bot.database_url)
    try:
        assert problem is None and client.encrypts

        async def clear_upload(data: bytes, kind: str, name: str) -> str | None:
            raise AssertionError("a report for an encrypted room uploaded in clear")

        async def encrypted_upload(data: bytes, kind: str, name: str) -> dict[str, Any] | None:
            result = await client.upload_encrypted(data, kind, name)
            assert not isinstance(result, Failure), result
            return result

        media = MediaRepository(
            store, "matrix:localhost", clear_upload, upload_encrypted=encrypted_upload
        )
        outbox = Outbox(client, media)
        data = b"<html><body>Transcript of a trainee</body></html>"
        report = DocumentOut("transcript.html", "text/html", data, "Transcript")
        sent = asyncio.Event()

        async def done() -> None:
            sent.set()

        posts = render([report], typing=Typing(0), language="en", hint_menus=False)
        outbox.submit(Batch(trainee.room, "$report", posts, done=done))
        await asyncio.wait_for(sent.wait(), 15)
        await outbox.close(1)
    finally:
        await store.close()
        await client.close()

    (event,) = await trainee.until(lambda e: e["content"].get("msgtype") == "m.file")
    assert event["event_id"] in trainee.encrypted
    content = event["content"]
    assert "url" not in content and content["filename"] == "transcript.html"
    file = content["file"]
    ciphertext = await trainee.download(file["url"])
    assert data not in ciphertext
    plain = decrypt_attachment(ciphertext, file["key"]["k"], file["hashes"]["sha256"], file["iv"])
    assert plain == data


class Transport:
    def __init__(self, encrypted: bool | Failure) -> None:
        self.answer = encrypted
        self.sent: list[dict[str, Any]] = []

    async def send(self, room: str, kind: str, content: dict[str, Any], txn: str) -> str:
        self.sent.append(content)
        return f"$sent{len(self.sent)}"

    async def typing(self, room: str, seconds: float) -> None:
        pass

    async def encrypted(self, room: str) -> bool | Failure:
        return self.answer


@pytest.mark.parametrize(
    ("encrypted", "expected"),
    [(True, "file"), (Failure("network: ClientError"), "file"), (False, "url")],
)
async def test_a_report_is_encrypted_unless_the_room_is_known_to_be_clear(
    encrypted: bool | Failure, expected: str
) -> None:
    async def clear(data: bytes, kind: str, name: str) -> str | None:
        return "mxc://localhost/clear"

    async def sealed(data: bytes, kind: str, name: str) -> dict[str, Any] | None:
        return {"url": "mxc://localhost/sealed", "key": {}, "iv": "", "hashes": {}, "v": "v2"}

    transport = Transport(encrypted)
    outbox = Outbox(transport, MediaRepository(None, "matrix:test", clear, upload_encrypted=sealed))  # type: ignore[arg-type]
    report = DocumentOut("r.csv", "text/csv", b"a,b\n", "Report")
    posts = render([report], typing=Typing(0), language="en", hint_menus=False)
    outbox.submit(Batch("!room:localhost", "$r", posts))
    await outbox.close(5)
    (content,) = transport.sent
    other = ({"url", "file"} - {expected}).pop()
    assert expected in content and other not in content


async def test_trainees_in_encrypted_rooms_at_once(matrix: Matrix, tmp_path: Path) -> None:
    """nio's key state is shared by every room the bot writes to at the same time."""
    await matrix.bot.start(crypto_store=tmp_path / "bot-keys")
    trainees = [await matrix.trainee(store=tmp_path / f"trainee{i}") for i in range(8)]

    async def play(trainee: Trainee) -> None:
        await open_encrypted_dm(trainee)
        await trainee.say("1")
        said = await trainee.until_menu()
        number = next(i for i, o in enumerate(options(said[-1]), 1) if o.startswith("Night"))
        await trainee.say(str(number))
        await trainee.until_menu()
        for _ in range(3):
            await trainee.say("1")
            said = await trainee.until_menu()
        assert all(e["event_id"] in trainee.encrypted for e in trainee.said)

    started = time.monotonic()
    await asyncio.gather(*(play(t) for t in trainees))
    REPORT.append(
        f"matrix e2e: {len(trainees)} trainees in encrypted DMs at once, 5 acts each, "
        f"in {time.monotonic() - started:.1f} s"
    )
