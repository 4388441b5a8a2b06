"""A trainee plays air-01's expert path to its debrief through a real Synapse: choices by number,
by reaction and in their own words; every clip arrives and downloads back byte for byte."""

from __future__ import annotations

import hashlib
import time
from typing import Any

import yaml

from adapters.matrix.events import KEYCAPS
from adapters.matrix.options import MatrixOptions
from adapters.matrix.render import Typing
from bot.scenario.loader import Catalogue
from tests.conftest import DIALOGUES
from tests.matrix.conftest import TEST_OPTIONS, Matrix
from tests.matrix.trainee import Trainee, body, is_debrief, is_menu, options

AIR = DIALOGUES / "air-01"
CLIP_TYPES = {"m.image", "m.video", "m.audio"}


def expert_steps() -> list[str]:
    cases = yaml.safe_load((AIR / "tests" / "air-01.yaml").read_text())["cases"]
    return [step["choose"] for step in cases[0]["steps"]]


def choice_texts(catalogue: Catalogue) -> dict[str, Any]:
    scenario = catalogue.scenarios["air-01"].scenario
    return {c.id: c for node in scenario.nodes.values() for c in node.choices}


async def open_scenario(trainee: Trainee, title: str) -> list[dict[str, Any]]:
    """DM the bot, pick English by reacting, then the scenario by number."""
    await trainee.open_dm()
    greeting = await trainee.until_menu()
    assert "Welcome to Signpost" in body(greeting[0])
    assert options(greeting[-1]) == ["English", "Polski"]
    await trainee.react(greeting[-1]["event_id"], KEYCAPS[0])
    catalogue = await trainee.until_menu()
    assert body(catalogue[0]) == "Language: English."
    labels = options(catalogue[-1])
    number = next(i for i, label in enumerate(labels, 1) if label.startswith(title))
    await trainee.say(str(number))
    return await trainee.until_menu()


async def test_the_expert_path_to_the_debrief_by_number_reaction_and_text(
    matrix: Matrix, scenarios: Catalogue
) -> None:
    await matrix.bot.start()
    trainee = await matrix.trainee()
    said = await open_scenario(trainee, "Airport arrival")
    choices = choice_texts(scenarios)
    kinds = []
    started = time.monotonic()
    for step, choice_id in enumerate(expert_steps()):
        menu = said[-1]
        assert is_menu(menu), body(menu)
        label = choices[choice_id].text["en"]
        index = options(menu).index(label)
        examples = choices[choice_id].examples.get("en") or []
        way = ("number", "reaction", "text")[step % 3]
        if way == "text" and examples:
            await trainee.say(examples[0])
            kinds.append("text")
        elif way == "reaction" and index < len(KEYCAPS):
            await trainee.react(menu["event_id"], KEYCAPS[index])
            kinds.append("choice")
        else:
            await trainee.say(f"{index + 1}")
            kinds.append("choice")
        said = await trainee.until_menu()
    per_step = (time.monotonic() - started) / len(kinds)

    debrief = said[-1]
    assert is_debrief(debrief), body(debrief)
    assert "PASSED" in body(debrief) and "NOT PASSED" not in body(debrief)
    print(f"air-01 expert path: {len(kinds)} steps, {per_step * 1000:.0f} ms per step")

    # every clip arrived as its own event type and downloads back byte for byte
    clips = [e for e in trainee.said if e["content"].get("msgtype") in CLIP_TYPES]
    names = {e["content"]["filename"]: e for e in clips}
    assert set(names) == {p.name for p in (AIR / "media").iterdir()}
    for name, event in names.items():
        data = (AIR / "media" / name).read_bytes()
        assert await trainee.download(event["content"]["url"]) == data
        assert event["content"]["info"]["size"] == len(data)
        digest = hashlib.sha256(data).hexdigest()
        assert matrix.bot.store is not None
        assert (
            await matrix.bot.store.media_ref("matrix:localhost", digest) == event["content"]["url"]
        )
    assert names["handover_note.png"]["content"]["msgtype"] == "m.image"
    assert names["arrivals_call.mp4"]["content"]["msgtype"] == "m.video"
    voice = names["marek_voicemail.ogg"]["content"]
    assert voice["msgtype"] == "m.audio" and "org.matrix.msc3245.voice" in voice
    assert voice["info"]["mimetype"] == "audio/ogg" and voice["info"]["duration"] > 1000

    # the store's log: one turn per act, in order, nothing doubled
    log = await turn_log(matrix, trainee)
    assert [t.kind for t in log] == ["start", *kinds]
    assert [t.seq for t in log] == list(range(len(kinds) + 1))
    keys = [t.input_key for t in log[1:]]
    assert len(set(keys)) == len(keys)


async def turn_log(matrix: Matrix, trainee: Trainee) -> list[Any]:
    store = matrix.bot.store
    assert store is not None
    who = await store.trainee("matrix", f"{trainee.room}|{trainee.user_id}")
    sessions = await store.sessions_of(who.id)
    assert len(sessions) == 1, sessions
    return list(await store.turns(sessions[0].id))


async def test_a_clip_is_uploaded_once_for_every_trainee(matrix: Matrix) -> None:
    await matrix.bot.start()
    first, second = await matrix.trainee(), await matrix.trainee()
    urls = []
    for trainee in (first, second):
        said = await open_scenario(trainee, "Airport arrival")
        (note,) = [e for e in said if e["content"].get("msgtype") == "m.image"]
        urls.append(note["content"]["url"])
        assert note["content"]["filename"] == "handover_note.png"
        assert note["content"]["info"]["w"] > 0
    assert urls[0] == urls[1] and urls[0].startswith("mxc://localhost/")


async def test_characters_speak_with_their_names_in_html_and_plain_text(matrix: Matrix) -> None:
    await matrix.bot.start()
    trainee = await matrix.trainee()
    said = await open_scenario(trainee, "Night bus")
    line = next(e for e in said if body(e).startswith("Companion:"))
    assert line["content"]["msgtype"] == "m.text"
    assert line["content"]["format"] == "org.matrix.custom.html"
    assert (
        line["content"]["formatted_body"] == "<b>Companion</b>: I can translate for her, officer."
    )
    intro = said[0]["content"]
    assert intro["msgtype"] == "m.notice" and "Your role" in intro["body"]
    menu = said[-1]["content"]
    assert "<ol><li>We speak to each traveller separately" in menu["formatted_body"]


async def test_the_bot_types_before_a_longer_line(matrix: Matrix) -> None:
    typing = Typing(seconds_per_char=0.01, max_seconds=0.6, min_chars=40)
    await matrix.bot.start(MatrixOptions(**{**TEST_OPTIONS.__dict__, "typing": typing}))
    trainee = await matrix.trainee()
    said = await open_scenario(trainee, "Airport arrival")
    assert any(len(body(e)) > 40 and body(e).startswith("Scene:") for e in said)
    assert any(trainee.bot in users for _, users in trainee.typing), trainee.typing


async def test_commands_work_with_both_prefixes(matrix: Matrix) -> None:
    await matrix.bot.start()
    trainee = await matrix.trainee()
    await open_scenario(trainee, "Night bus")
    await trainee.say("!pause")
    (paused,) = await trainee.until(lambda e: True)
    assert body(paused).startswith("Paused")
    await trainee.say("/resume")
    resumed = await trainee.until_menu()
    assert body(resumed[0]).startswith("Resuming")
    await trainee.say("!hint")
    hint = await trainee.until_menu()
    assert "costs" in body(hint[0]) and "Hint:" in body(hint[0])
    await trainee.say("/help")
    (help_text,) = await trainee.until(lambda e: True)
    assert "/forget" in body(help_text)
    await trainee.say("!language pl")
    (switched,) = await trainee.until(lambda e: True)
    assert body(switched) == "Język: polski."
