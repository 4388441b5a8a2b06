"""Clips arrive as native Telegram media and each file is uploaded once, ever."""

from __future__ import annotations

import asyncio
import hashlib
import shutil
from pathlib import Path

import yaml

from bot.app.messages import DocumentOut
from bot.scenario.loader import LoadedScenario, load_scenario_text
from tests.peers.telegram import BotApiPeer
from tests.telegram.harness import TOKEN, Harness, Phone, scenario_path
from tests.telegram.test_play import onboard

AIR01_MEDIA = scenario_path("air-01").parent / "media"
NOTE = hashlib.sha256((AIR01_MEDIA / "handover_note.png").read_bytes()).hexdigest()
BOT_ID = TOKEN.split(":")[0]


def photo_of(phone: Phone) -> dict:
    return next(m for m in phone.messages() if "photo" in m)


async def test_a_clip_is_uploaded_once_then_sent_by_file_id(
    harness: Harness, peer: BotApiPeer
) -> None:
    await harness.start()
    first, second = Phone(peer, 601), Phone(peer, 602)
    await onboard(first)
    await onboard(second)
    one, two = photo_of(first), photo_of(second)
    assert one["_uploaded"] is True and two["_uploaded"] is False
    assert one["photo"][-1]["file_id"] == two["photo"][-1]["file_id"]
    assert peer.uploads[NOTE] == 1
    assert harness.store is not None
    stored = await harness.store.media_ref(f"telegram:{BOT_ID}:photo", NOTE)
    assert stored == one["photo"][-1]["file_id"]

    # a new process knows the file_id from the store: still no second upload
    await harness.stop_gracefully()
    await harness.crash()
    await harness.start()
    third = Phone(peer, 603)
    await onboard(third)
    assert photo_of(third)["_uploaded"] is False
    assert peer.uploads[NOTE] == 1


async def test_trainees_reaching_a_clip_together_share_one_upload(
    harness: Harness, peer: BotApiPeer
) -> None:
    await harness.start()
    phones = [Phone(peer, 700 + i) for i in range(25)]
    await asyncio.gather(*(onboard(p) for p in phones))
    assert peer.uploads[NOTE] == 1
    assert sum(photo_of(p)["_uploaded"] for p in phones) == 1


async def test_a_refused_file_id_is_uploaded_again(harness: Harness, peer: BotApiPeer) -> None:
    assert harness.store is None
    await harness.open_store()
    assert harness.store is not None
    await harness.store.save_media_ref(f"telegram:{BOT_ID}:photo", NOTE, "photo-that-expired")
    await harness.start()
    phone = Phone(peer, 604)
    await onboard(phone)
    assert photo_of(phone)["_uploaded"] is True
    fresh = await harness.store.media_ref(f"telegram:{BOT_ID}:photo", NOTE)
    assert fresh == photo_of(phone)["photo"][-1]["file_id"]


def clips_scenario(mini_source: str, folder: Path) -> LoadedScenario:
    """The mini scenario with a round video note, a voice message and an audio clip."""
    media = folder / "media"
    media.mkdir(parents=True)
    shutil.copy(AIR01_MEDIA / "arrivals_call.mp4", media / "round.mp4")
    shutil.copy(AIR01_MEDIA / "marek_voicemail.ogg", media / "voice.ogg")
    shutil.copy(AIR01_MEDIA / "marek_voicemail.ogg", media / "audio.ogg")
    data = yaml.safe_load(mini_source)
    scene, companion = data["nodes"]["bus"]["say"]
    for line, kind, file in ((scene, "video_note", "round.mp4"), (companion, "voice", "voice.ogg")):
        line["clip"] = {
            "kind": kind,
            "file": f"media/{file}",
            "caption": {"en": f"A {kind} clip", "pl": f"Klip {kind}"},
            "fallback": {"en": f"(what the {kind} shows)", "pl": f"(co pokazuje {kind})"},
        }
    reply = next(c for c in data["nodes"]["bus"]["choices"] if c["id"] == "separate")["reply"][0]
    reply["clip"] = {
        "kind": "audio",
        "file": "media/audio.ogg",
        "caption": {"en": "An audio clip", "pl": "Nagranie"},
        "fallback": {"en": "(what the audio says)", "pl": "(co mówi nagranie)"},
    }
    return load_scenario_text(yaml.safe_dump(data, allow_unicode=True), "clips", folder=folder)


async def test_every_clip_kind_and_a_missing_file(
    peer: BotApiPeer, tmp_path: Path, mini_source: str
) -> None:
    clips = clips_scenario(mini_source, tmp_path / "clips")
    rig = Harness(peer, f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}", (clips,))
    try:
        await rig.start()
        phone = Phone(peer, 605)
        await phone.send("/start mini")
        shown = phone.messages()
        note = next(m for m in shown if "video_note" in m)
        voice = next(m for m in shown if "voice" in m)
        # a round video note has no caption on Telegram: it comes right after, as text
        assert "caption" not in note
        after = next(m for m in shown if m["message_id"] == note["message_id"] + 1)
        assert after["text"] == "A video_note clip"
        assert voice["caption"] == "A voice clip"
        actions = [a for _, a in peer.actions]
        assert "record_video_note" in actions and "record_voice" in actions

        # the audio file disappears: its fallback text is said instead, and the turn goes on
        (tmp_path / "clips" / "media" / "audio.ogg").unlink()
        shown = await phone.press("c:0:0")
        assert not any("audio" in m for m in shown)
        assert any(m.get("text") == "🎞 (what the audio says)" for m in shown)
        assert any(m.get("reply_markup") for m in shown)
    finally:
        await rig.close()


async def test_a_report_is_sent_as_a_file(harness: Harness, peer: BotApiPeer) -> None:
    """What coordinators ask for (a transcript, a cohort report) arrives as a document."""
    bot = await harness.start()
    phone = Phone(peer, 606)
    report = DocumentOut(
        "cohort-a.csv", "text/csv", b"alias,score\nt-1,90\n", "Cohort A: 1 trainee"
    )
    await bot.renderer.render(phone.user_id, [report])
    (sent,) = phone.messages()
    assert sent["caption"] == "Cohort A: 1 trainee" and sent["_uploaded"] is True
    assert "upload_document" in {a for _, a in peer.actions}
