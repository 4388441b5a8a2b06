"""Transcripts as CSV (one row per turn, and a debrief row per finished session) and as xAPI
statements (one per turn, one per referral decision, one for the result) for a learning
record store. Both are described in docs/transcript-format.md."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Sequence
from typing import Any

from bot.app.transcripts import Transcript, TurnEntry
from bot.reports.data import stamp
from bot.scenario.codes import DIMENSION_CODES

CSV_COLUMNS = (
    "session_id",
    "trainee",
    "scenario_id",
    "seq",
    "at",
    "kind",
    "speaker",
    "words",
    "pressed",
    "choice",
    "question_form",
    "question_code",
    "question_points",
    "score_changes",
    "points",
    "indicators_revealed",
    "indicators_noticed",
    "referral_code",
    "referral_verdict",
    "critical_error",
    "replies",
    "node",
    "status",
    "trust",
    "fear",
    "disclosure",
    *(f"score_{code}" for code in DIMENSION_CODES),
    "overall",
    "passed",
)


def csv_text(transcripts: Sequence[Transcript]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for tr in transcripts:
        for entry in tr.turns:
            writer.writerow(_row(tr, entry))
        if tr.debrief is not None:
            d = tr.debrief
            row: dict[str, Any] = {
                "session_id": tr.session_id,
                "trainee": tr.trainee,
                "scenario_id": tr.scenario_id,
                "at": stamp(tr.updated_at),
                "kind": "debrief",
                "indicators_revealed": ";".join(d.indicators_revealed),
                "indicators_noticed": ";".join(d.indicators_noticed),
                "critical_error": ";".join(c.code for c in d.critical),
                "overall": d.overall,
                "passed": "yes" if d.passed else "no",
            }
            for dim in d.dimensions:
                row[f"score_{dim.code}"] = "" if dim.percent is None else round(dim.percent, 1)
            writer.writerow(row)
    return buffer.getvalue()


def _row(tr: Transcript, e: TurnEntry) -> dict[str, Any]:
    q = e.question
    row: dict[str, Any] = {
        "session_id": tr.session_id,
        "trainee": tr.trainee,
        "scenario_id": tr.scenario_id,
        "seq": e.seq,
        "at": stamp(e.at),
        "kind": e.kind,
        "speaker": tr.trainee if e.words is not None else "",
        "words": e.words or "",
        "pressed": "yes" if e.pressed else "no",
        "choice": e.choice_id or "",
        "question_form": q.form if q else "",
        "question_code": (q.code or "") if q else "",
        "question_points": q.points if q else "",
        "score_changes": "; ".join(f"{d.code} {d.points:+d}: {d.reason}" for d in e.deltas),
        "points": e.points,
        "indicators_revealed": ";".join(e.revealed),
        "indicators_noticed": ";".join(e.noticed),
        "referral_code": e.referral.code if e.referral else "",
        "referral_verdict": e.referral.verdict if e.referral else "",
        "critical_error": e.critical.code if e.critical else "",
        "replies": " | ".join(f"{s.name or s.speaker}: {s.text}" for s in e.said),
        "node": e.node or "",
        "status": e.status,
    }
    for name in ("trust", "fear", "disclosure"):
        value = e.variables.get(name)
        row[name] = "" if value is None else int(value)
    for code, points in zip(DIMENSION_CODES, e.scores, strict=False):
        row[f"score_{code}"] = points
    return row


# -- xAPI -----------------------------------------------------------------------------------

XAPI_VERSION = "1.0.3"
ADL = "http://adlnet.gov/expapi/verbs/"
VERBS = {
    "start": "initialized",
    "choice": "responded",
    "text": "responded",
    "hint": "asked",
    "pause": "suspended",
    "resume": "resumed",
    "quit": "terminated",
}
EXT = "https://signpost.invalid/xapi/"
#: namespace for statement ids: the same turn always gets the same id (idempotent uploads)
NAMESPACE = uuid.UUID("6b7e1a52-3c1f-4d3e-9a55-5e0d2f1c9a10")


def _verb(name: str) -> dict[str, Any]:
    return {"id": ADL + name, "display": {"en-US": name}}


def _activity(tr: Transcript, node: str | None = None) -> dict[str, Any]:
    base = f"{EXT}scenarios/{tr.scenario_id}"
    name = tr.scenario_title + (f" · {node}" if node else "")
    return {
        "objectType": "Activity",
        "id": f"{base}/nodes/{node}" if node else base,
        "definition": {
            "name": {"en-US": name},
            "type": "http://adlnet.gov/expapi/activities/interaction"
            if node
            else "http://adlnet.gov/expapi/activities/simulation",
        },
    }


def xapi_statements(transcripts: Sequence[Transcript], home_page: str) -> list[dict[str, Any]]:
    statements = []
    for tr in transcripts:
        actor = {"objectType": "Agent", "account": {"homePage": home_page, "name": tr.trainee}}
        context = {
            "registration": str(uuid.UUID(hex=tr.session_id[:32].ljust(32, "0"))),
            "language": tr.language,
            "contextActivities": {"parent": [_activity(tr)]},
            "extensions": {f"{EXT}version": tr.scenario_hash, f"{EXT}mode": tr.mode},
        }

        def statement(
            key: str, verb: str, obj: dict[str, Any], result: dict[str, Any], at: str
        ) -> dict[str, Any]:
            return {
                "id": str(uuid.uuid5(NAMESPACE, f"{tr.session_id}:{key}")),  # noqa: B023
                "actor": actor,  # noqa: B023
                "verb": _verb(verb),
                "object": obj,
                "result": result,
                "context": context,  # noqa: B023
                "timestamp": at,
                "version": XAPI_VERSION,
            }

        for e in tr.turns:
            result: dict[str, Any] = {
                "score": {"raw": e.points},
                "extensions": {
                    f"{EXT}score-changes": [
                        {"code": d.code, "points": d.points, "reason": d.reason} for d in e.deltas
                    ],
                    f"{EXT}indicators-revealed": list(e.revealed),
                    f"{EXT}indicators-noticed": list(e.noticed),
                    f"{EXT}question-form": e.question.form if e.question else None,
                    f"{EXT}variables": dict(e.variables),
                },
            }
            if e.words is not None:
                result["response"] = e.words
            obj = _activity(tr, e.node_before or e.node)
            statements.append(statement(f"turn:{e.seq}", VERBS[e.kind], obj, result, stamp(e.at)))
            if e.referral is not None:
                decision = {
                    "success": e.referral.verdict == "right",
                    "response": e.referral.code,
                    "extensions": {
                        f"{EXT}verdict": e.referral.verdict,
                        f"{EXT}why": e.referral.why,
                    },
                }
                obj = _activity(tr, e.node_before)
                statements.append(
                    statement(f"decision:{e.seq}", "answered", obj, decision, stamp(e.at))
                )
        if tr.debrief is not None:
            d = tr.debrief
            outcome = {
                "success": d.passed,
                "completion": tr.status == "ended",
                "score": {"scaled": round(d.overall / 100, 4), "raw": d.overall, "max": 100},
            }
            verb = "passed" if d.passed else "failed"
            statements.append(
                statement("result", verb, _activity(tr), outcome, stamp(tr.updated_at))
            )
    return statements
