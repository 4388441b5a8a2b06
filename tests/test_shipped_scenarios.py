"""The scenarios shipped in dialogues/: they load, their clips are real, and they score sensibly.

A trainer's edit that breaks a distant branch, drops a clip or makes the expert path fail shows
up here, not in front of a class.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.engine.compiled import CompiledScenario
from bot.engine.engine import Engine
from bot.scenario.loader import LoadedScenario, load_catalogue
from bot.scoring.interview import Interview, TurnResult
from tests.conftest import DIALOGUES

#: what a clip of each kind may be: the file types every adapter can send natively
CLIP_TYPES = {
    "photo": {".png", ".jpg", ".jpeg"},
    "voice": {".ogg"},
    "audio": {".ogg", ".mp3", ".m4a"},
    "video": {".mp4"},
    "video_note": {".mp4"},
}
#: magic bytes, so that a renamed file of the wrong type is caught
MAGIC = {".png": b"\x89PNG", ".ogg": b"OggS", ".jpg": b"\xff\xd8", ".jpeg": b"\xff\xd8"}

CATALOGUE = load_catalogue([DIALOGUES])
SHIPPED = sorted(CATALOGUE.scenarios)


def interview_for(loaded: LoadedScenario) -> Interview:
    return Interview(Engine(CompiledScenario(loaded.scenario, loaded.content_hash), loaded.folder))


def clips(loaded: LoadedScenario) -> list[tuple[str, str]]:
    """(kind, file) of every clip in the scenario, wherever it is attached."""
    found: list[tuple[str, str]] = []

    def walk(value: object) -> None:
        if isinstance(value, dict):
            if {"kind", "file", "caption", "fallback"} <= value.keys():
                found.append((value["kind"], value["file"]))
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(loaded.scenario.model_dump(mode="python"))
    return found


def test_every_shipped_scenario_loads() -> None:
    assert CATALOGUE.failures == []
    assert "air-01" in SHIPPED


@pytest.mark.parametrize("scenario_id", SHIPPED)
def test_shipped_scenarios_are_in_english_and_polish(scenario_id: str) -> None:
    assert set(CATALOGUE.scenarios[scenario_id].scenario.languages) == {"en", "pl"}


@pytest.mark.parametrize("scenario_id", SHIPPED)
def test_clips_exist_have_the_right_type_and_fit_the_budget(scenario_id: str) -> None:
    loaded = CATALOGUE.scenarios[scenario_id]
    found = clips(loaded)
    assert found, "a shipped scenario has clips"
    for kind, file in found:
        path = loaded.folder / file
        assert path.is_file(), f"{file} is missing"
        assert path.suffix.lower() in CLIP_TYPES[kind], f"{file} cannot be a {kind}"
        head = path.read_bytes()[:12]
        if path.suffix.lower() in MAGIC:
            assert head.startswith(MAGIC[path.suffix.lower()]), f"{file} is not what it says"
        if path.suffix.lower() == ".mp4":
            assert head[4:8] == b"ftyp", f"{file} is not an MP4"
    total = sum((loaded.folder / file).stat().st_size for _, file in set(found))
    assert total < 3 * 1024 * 1024


def test_the_dialogues_folder_stays_under_25_mb() -> None:
    size = sum(p.stat().st_size for p in Path(DIALOGUES).rglob("*") if p.is_file())
    assert size < 25 * 1024 * 1024


def test_air01_has_photo_voice_and_video() -> None:
    kinds = {kind for kind, _ in clips(CATALOGUE.scenarios["air-01"])}
    assert {"photo", "voice", "video"} <= kinds


def play(interview: Interview, language: str, choices: list[str]) -> TurnResult:
    result = interview.start(seed=7, language=language)
    for choice in choices:
        assert result.ended is None, f"the session ended before '{choice}'"
        result = interview.press(result.state, choice)
    return result


@pytest.mark.parametrize("scenario_id", SHIPPED)
@pytest.mark.parametrize("language", ["en", "pl"])
def test_the_expert_path_ends_well_with_full_marks(scenario_id: str, language: str) -> None:
    loaded = CATALOGUE.scenarios[scenario_id]
    result = play(interview_for(loaded), language, list(loaded.scenario.expert_path))
    assert result.ended is not None and result.debrief is not None
    debrief = result.debrief
    assert debrief.passed and debrief.overall == 100.0
    assert debrief.critical == ()
    assert all(d.verdict == "right" for d in debrief.decisions)


def test_air01_letting_the_boyfriend_interpret_is_a_critical_error_and_fails() -> None:
    loaded = CATALOGUE.scenarios["air-01"]
    interview = interview_for(loaded)
    path = list(loaded.scenario.expert_path)
    detour = [*path[: path.index("decline_marek")], "let_marek_translate"]
    result = play(interview, "en", detour)
    while result.ended is None:  # carry on as well as possible from there
        result = interview.press(result.state, result.buttons[0].id)
    assert result.debrief is not None
    assert "CE.CONTROLLER_INTERPRETS" in {c.code for c in result.debrief.critical}
    assert not result.debrief.passed and result.debrief.overall <= 40


def test_air01_a_leading_rushed_interview_fails() -> None:
    loaded = CATALOGUE.scenarios["air-01"]
    interview = interview_for(loaded)
    result = interview.start(seed=3, language="en")
    typed = [
        "Where do you want to talk?",
        "You came here to work in a club, didn't you?",
        "Why did you lie to the officer?",
    ]
    for text in typed:
        if result.ended is not None:
            break
        result = interview.say(result.state, text)
    while result.ended is None:  # then the last button on offer each time: the careless one
        result = interview.press(result.state, result.buttons[-1].id)
    assert result.debrief is not None and not result.debrief.passed


@pytest.mark.parametrize("language", ["en", "pl"])
def test_air01_expert_questions_typed_are_understood(language: str) -> None:
    """A trainee who types any listed example of the expert's choice gets that choice."""
    loaded = CATALOGUE.scenarios["air-01"]
    interview = interview_for(loaded)
    result = interview.start(seed=1, language=language)
    misunderstood: list[str] = []
    for choice_id in loaded.scenario.expert_path:
        open_now = interview.engine.open_choices(result.state, include_hidden=True)
        choice = next(c.choice for c in open_now if c.choice.id == choice_id)
        for example in (choice.examples or {}).get(language, []):
            understood = interview.understand(result.state, example)
            if understood.choice_id != choice_id:
                misunderstood.append(f"{choice_id}: {example!r} -> {understood.choice_id}")
        result = interview.press(result.state, choice_id)
    assert misunderstood == []
