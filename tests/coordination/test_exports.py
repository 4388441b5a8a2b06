"""Exports checked field by field against a session played here, in every format; a golden
Markdown transcript; platform ids never exported unless an admin asks; redaction."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from bot.app.access import AccessDeniedError, Actor
from bot.app.exports import Selection
from bot.app.ports import SessionRecord, TurnRecord
from bot.app.service import TrainingService
from bot.app.transcripts import Transcript, redact_text, vocabulary
from bot.reports import Renderer
from bot.reports.markdown import transcript as markdown_transcript
from bot.scenario.loader import LoadedScenario
from storage import SqlStore
from tests.coordination.helpers import Clock, grant, make_service, person, play

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "docs" / "transcript.schema.json").read_text(encoding="utf-8"))
GOLDEN = Path(__file__).with_name("golden") / "mini-transcript.md"
USER = "u-98765-secret"  # the platform id: must never leak into an export
TYPED = "Tell me about your trip, in your own words. My name is Jan Kowalski, call +48 600 123 456."
SEPARATE = "We speak to each traveller separately; please wait outside."
REFER = "Call the coordinator and offer KCIK's help."
ASK_MONEY = "You said you must pay back money. Tell me more about that."


@dataclass
class Played:
    store: SqlStore
    service: TrainingService
    record: SessionRecord
    log: list[TurnRecord]
    alias: str
    admin: Actor


@pytest.fixture
async def played(tmp_path: Path, mini: LoadedScenario) -> AsyncIterator[Played]:
    store = await SqlStore.open(f"sqlite+aiosqlite:///{tmp_path / 'exports.db'}")
    try:
        service = make_service(store, mini, Clock())
        await play(service, USER)
        me = await person(store, USER)
        (record,) = await store.sessions_of(me.id)
        log = list(await store.turns(record.id))
        admin = service.coordination.operator("tester")
        yield Played(store, service, record, log, me.alias, admin)
    finally:
        await store.close()


async def export(p: Played, fmt: str, **options: Any) -> bytes:
    document, count = await p.service.coordination.export(
        p.admin,
        Selection(sessions=(p.record.id,)),
        fmt,  # type: ignore[arg-type]
        "en",
        **options,
    )
    assert count == 1
    return document.data


async def test_json_field_by_field(played: Played) -> None:
    p = played
    data = json.loads(await export(p, "json"))
    jsonschema.validate(data, SCHEMA)
    assert (data["format"], data["version"], data["redacted"]) == ("signpost.transcripts", 1, False)
    (s,) = data["sessions"]
    assert s["session_id"] == p.record.id and s["trainee"] == p.alias
    assert s["scenario"] == {
        "id": "mini",
        "title": "Night bus check",
        "version": p.record.scenario_hash,
    }
    assert (s["language"], s["mode"], s["status"], s["replayed"]) == ("en", "coach", "ended", True)
    assert "identities" not in s
    turns = s["turns"]
    # one entry per logged turn, at the time the log recorded
    assert [t["seq"] for t in turns] == [r.seq for r in p.log] == [0, 1, 2, 3, 4, 5]
    assert [t["at"] for t in turns] == [r.at.isoformat().replace("+00:00", "Z") for r in p.log]
    assert [t["kind"] for t in turns] == ["start", "choice", "text", "hint", "text", "choice"]
    assert [t["words"] for t in turns] == [None, SEPARATE, TYPED, "/hint", ASK_MONEY, REFER]
    assert [t["speaker"] for t in turns] == [None] + [p.alias] * 5
    assert [t["pressed"] for t in turns] == [False, True, False, False, False, True]
    assert [t["choice"] for t in turns] == [
        None,
        "separate",
        "ask_trip",
        None,
        "ask_money",
        "refer_kcik",
    ]
    start, separate, trip, hint, money, refer = turns
    assert [(r["name"], r["role"]) for r in start["replies"]] == [
        (None, "narrator"),
        ("Companion", "companion"),
    ]
    assert [i["code"] for i in start["indicators"]["revealed"]] == [
        "IND.BRD_DOCS_HELD_BY_COMPANION",
        "IND.BRD_COMPANION_ANSWERS",
    ]
    assert start["variables"] == {"trust": 1, "fear": 3}
    assert separate["question"] is None and separate["matched_by"] == "button"
    assert [(d["code"], d["points"], d["reason"]) for d in separate["score_changes"]][:2] == [
        ("S+ROUTINE_SEPARATE", 2, "Separation as a routine does not alert him."),
        ("L+PRO", 1, "A neutral interpreter joins."),
    ]
    assert separate["score_changes"][2]["code"] == "I+FOLLOWUP"
    assert separate["points"] == 4
    assert [i["code"] for i in separate["indicators"]["noticed"]] == [
        "IND.BRD_DOCS_HELD_BY_COMPANION",
        "IND.BRD_COMPANION_ANSWERS",
    ]
    assert (separate["node_before"], separate["node"]) == ("bus", "talk")
    assert separate["variables"] == {"trust": 2, "fear": 2}
    assert trip["question"]["form"] == "open" and trip["question"]["code"] == "Q+OPEN"
    assert trip["matched_by"] == "text" and trip["match_score"] is not None
    assert [(d["code"], d["points"], d["source"]) for d in trip["score_changes"]] == [
        ("Q+OPEN", 1, "question"),
        ("I+FOLLOWUP", 1, "indicator"),
    ]
    assert [i["code"] for i in trip["indicators"]["revealed"]] == [
        "IND.BRD_THIRD_PARTY_PAID",
        "IND.BRD_DEBT_FOR_TRAVEL",
    ]
    assert [i["code"] for i in trip["indicators"]["noticed"]] == ["IND.BRD_SCRIPTED_STORY"]
    assert hint["score_changes"] == [] and hint["variables"] == {"trust": 3, "fear": 2}
    assert money["variables"] == {"trust": 4, "fear": 2} and money["node"] == "decide"
    assert refer["referral"] == {
        "code": "REF.KCIK",
        "verdict": "right",
        "why": "Several indicators: support and a safe place.",
    }
    assert refer["critical_error"] is None
    assert refer["ending"]["title"] == "Ana is safe tonight" and refer["status"] == "ended"
    # the cumulative scores of the last turn are the session's
    assert list(refer["scores"].values()) == list(p.record.state.scores)
    d = s["debrief"]
    assert (d["overall"], d["passed"], d["hints"], d["capped"]) == (81.3, True, 1, False)
    assert d["decisions"] == [
        {
            "choice": "refer_kcik",
            "label": REFER,
            "code": "REF.KCIK",
            "verdict": "right",
            "why": "Several indicators: support and a safe place.",
        }
    ]
    assert len(d["indicators"]["revealed"]) == 5 and d["indicators"]["missed"] == []
    assert [x["choice"] for x in d["expert_path"]] == [
        "separate",
        "ask_trip",
        "ask_money",
        "refer_kcik",
    ]


async def test_csv_has_a_row_per_turn_and_the_debrief(played: Played) -> None:
    rows = list(csv.DictReader(io.StringIO((await export(played, "csv")).decode("utf-8"))))
    assert [r["kind"] for r in rows] == [
        "start",
        "choice",
        "text",
        "hint",
        "text",
        "choice",
        "debrief",
    ]
    trip = rows[2]
    assert trip["words"] == TYPED and trip["speaker"] == played.alias
    assert (trip["question_form"], trip["question_code"], trip["question_points"]) == (
        "open",
        "Q+OPEN",
        "1",
    )
    assert trip["score_changes"].startswith("Q+OPEN +1: An open question")
    assert trip["indicators_revealed"] == "IND.BRD_THIRD_PARTY_PAID;IND.BRD_DEBT_FOR_TRAVEL"
    assert trip["indicators_noticed"] == "IND.BRD_SCRIPTED_STORY"
    assert (trip["trust"], trip["fear"], trip["disclosure"]) == ("3", "2", "")
    assert (rows[5]["referral_code"], rows[5]["referral_verdict"]) == ("REF.KCIK", "right")
    assert rows[1]["replies"].startswith("Interpreter: Hello, I am the interpreter.")
    debrief = rows[6]
    assert (debrief["overall"], debrief["passed"], debrief["score_S"]) == ("81.3", "yes", "100.0")


async def test_xapi_statements_one_per_turn_and_decision(played: Played) -> None:
    statements = json.loads(await export(played, "xapi"))
    verbs = [s["verb"]["id"].rsplit("/", 1)[-1] for s in statements]
    assert verbs == [
        "initialized",
        "responded",
        "responded",
        "asked",
        "responded",
        "responded",
        "answered",
        "passed",
    ]
    assert {s["actor"]["account"]["name"] for s in statements} == {played.alias}
    assert statements[2]["result"]["response"] == TYPED
    assert statements[2]["result"]["extensions"]["https://signpost.invalid/xapi/question-form"] == (
        "open"
    )
    decision = statements[6]
    assert decision["result"]["success"] is True and decision["result"]["response"] == "REF.KCIK"
    assert statements[7]["result"]["score"]["scaled"] == 0.813
    assert len({s["id"] for s in statements}) == len(statements)
    again = json.loads(await export(played, "xapi"))
    assert [s["id"] for s in again] == [s["id"] for s in statements]  # idempotent uploads
    registration = {s["context"]["registration"] for s in statements}
    assert registration == {str(__import__("uuid").UUID(hex=played.record.id))}


async def test_no_format_holds_the_platform_id_unless_an_admin_asks(played: Played) -> None:
    for fmt in ("md", "html", "json", "csv", "xapi"):
        data = await export(played, fmt)
        assert USER.encode() not in data, fmt
        assert played.alias.encode() in data, fmt
    report = await played.service.coordination.session_report(
        played.admin, played.record.id, "html", "en"
    )
    assert USER.encode() not in report.data
    asked = json.loads(await export(played, "json", identities=True))
    assert asked["sessions"][0]["identities"] == [{"platform": "test", "id": USER}]
    # a coordinator may not ask for them, and the refusal is audited
    cora = await grant(played.store, "cora", "coordinator")
    actor = await played.service.coordination.access.actor(cora.id, cora.alias)
    with pytest.raises(AccessDeniedError):
        await played.service.coordination.transcripts(actor, Selection(), identities=True)
    entries = await played.store.audit_log(limit=20)
    assert entries[0].actor == cora.alias and entries[0].outcome == "denied"
    exported = [e for e in entries if e.action == "transcript.export"]
    assert {e.subject for e in exported} == {played.record.id}
    assert {e.detail["format"] for e in exported} == {"md", "html", "json", "csv", "xapi"}


async def test_redaction_of_names_and_numbers(played: Played) -> None:
    data = json.loads(await export(played, "json", redact=True))
    (s,) = data["sessions"]
    assert data["redacted"] is True and s["redacted"] is True
    words = [t["words"] for t in s["turns"]]
    assert words[2] == (
        "Tell me about your trip, in your own words. My name is [name] [name], call [number]."
    )
    assert words[4] == ASK_MONEY  # nothing to redact; button labels are the scenario's own
    md = (await export(played, "md", redact=True)).decode()
    assert "Kowalski" not in md and "600" not in md and "redacted" in md


def test_redact_text_rules() -> None:
    known = vocabulary("Ana says: I visit a friend in Warsaw. KCIK can help.")
    assert redact_text("Ana, is Maria Nowak with you? Call 600-123-456.", known) == (
        "Ana, is [name] [name] with you? Call [number]."
    )
    assert redact_text("Please write to jan.k@example.com or Warsaw.", known) == (
        "Please write to [email] or Warsaw."
    )
    # it errs on the side of removing: an unknown capitalised word is taken for a name
    assert redact_text("Write to me.", known) == "[name] to me."
    assert redact_text("Czy Pani zna Piotra? Proszę podać numer 12 345.", known) == (
        "Czy Pani zna [name]? Proszę podać numer [number]."
    )


async def test_golden_markdown_transcript(played: Played) -> None:
    (transcript,) = await played.service.coordination.transcripts(
        played.admin, Selection(sessions=(played.record.id,))
    )
    fixed: Transcript = replace(transcript, session_id="0" * 32, trainee="trainee-00000000")
    text = markdown_transcript(fixed, "en")
    if os.environ.get("SIGNPOST_UPDATE_GOLDEN"):
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(text, encoding="utf-8")
    expected = GOLDEN.read_text(encoding="utf-8")
    assert text == expected, "run with SIGNPOST_UPDATE_GOLDEN=1 after an intended change"


async def test_polish_labels_around_the_english_conversation(played: Played) -> None:
    (transcript,) = await played.service.coordination.transcripts(
        played.admin, Selection(sessions=(played.record.id,))
    )
    document = Renderer().transcripts([transcript], "md", "pl")
    text = document.data.decode()
    assert "# Zapis sesji: Night bus check" in text and "Forma pytania" in text
    assert "Ogółem" in text or "Wynik" in text or "%" in text
