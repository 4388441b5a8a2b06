"""Transcripts as plain data: the versioned JSON format (docs/transcript-format.md,
docs/transcript.schema.json) that every other format is read from."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.app.transcripts import Transcript, TurnEntry
from bot.scenario.codes import DIMENSION_CODES, INDICATORS
from bot.scoring.debrief import Debrief

FORMAT = "signpost.transcripts"
#: bump on any change that is not a new optional field; the schema's `version` follows
VERSION = 1


def stamp(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def document(transcripts: Sequence[Transcript], now: datetime) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "version": VERSION,
        "generated_at": stamp(now),
        "redacted": any(t.redacted for t in transcripts),
        "sessions": [session(t) for t in transcripts],
    }


def dumps(data: dict[str, Any]) -> bytes:
    return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def session(tr: Transcript) -> dict[str, Any]:
    data: dict[str, Any] = {
        "session_id": tr.session_id,
        "trainee": tr.trainee,
        "scenario": {"id": tr.scenario_id, "title": tr.scenario_title, "version": tr.scenario_hash},
        "language": tr.language,
        "mode": tr.mode,
        "status": tr.status,
        "started_at": stamp(tr.created_at),
        "updated_at": stamp(tr.updated_at),
        "replayed": tr.replayed,
        "redacted": tr.redacted,
        "timeline_variables": list(tr.timeline),
        "turns": [turn(t, tr.trainee) for t in tr.turns],
        "debrief": debrief(tr.debrief) if tr.debrief else None,
    }
    if tr.identities:  # only when explicitly asked for
        data["identities"] = [{"platform": p, "id": i} for p, i in tr.identities]
    return data


def _indicators(codes: Sequence[str]) -> list[dict[str, str]]:
    return [{"code": c, "name": INDICATORS.get(c, c)} for c in codes]


def turn(t: TurnEntry, trainee: str) -> dict[str, Any]:
    return {
        "seq": t.seq,
        "at": stamp(t.at),
        "kind": t.kind,
        "speaker": trainee if t.words is not None else None,
        "words": t.words,
        "pressed": t.pressed,
        "choice": t.choice_id,
        "matched_by": t.matched_by,
        "match_score": t.match_score,
        "question": None
        if t.question is None
        else {
            "form": t.question.form,
            "code": t.question.code,
            "points": t.question.points,
            "safety": t.question.safety,
            "reason": t.question.reason,
        },
        "score_changes": [
            {
                "code": d.code,
                "dimension": d.dimension,
                "points": d.points,
                "reason": d.reason,
                "source": d.source,
            }
            for d in t.deltas
        ],
        "points": t.points,
        "indicators": {"revealed": _indicators(t.revealed), "noticed": _indicators(t.noticed)},
        "referral": None
        if t.referral is None
        else {"code": t.referral.code, "verdict": t.referral.verdict, "why": t.referral.why},
        "critical_error": None
        if t.critical is None
        else {"code": t.critical.code, "why": t.critical.why},
        "replies": [
            {
                "speaker": s.speaker,
                "name": s.name,
                "role": s.role,
                "text": s.text,
                "reveals": list(s.reveals),
            }
            for s in t.said
        ],
        "feedback": t.feedback,
        "hint": t.hint,
        "ending": t.ended,
        "node_before": t.node_before,
        "node": t.node,
        "status": t.status,
        "scores": dict(zip(DIMENSION_CODES, t.scores, strict=False)),
        "variables": dict(t.variables),
    }


def debrief(d: Debrief) -> dict[str, Any]:
    return {
        "overall": d.overall,
        "pass_mark": d.pass_mark,
        "passed": d.passed,
        "capped": d.capped,
        "outcome": d.outcome,
        "ending_verdict": d.ending_verdict,
        "hints": d.hints,
        "dimensions": [
            {
                "code": x.code,
                "name": x.name,
                "weight": x.weight,
                "points": x.points,
                "expert_points": x.expert_points,
                "percent": None if x.percent is None else round(x.percent, 1),
            }
            for x in d.dimensions
        ],
        "critical_errors": [
            {"code": c.code, "description": c.description, "why": c.why} for c in d.critical
        ],
        "indicators": {
            "revealed": _indicators(d.indicators_revealed),
            "noticed": _indicators(d.indicators_noticed),
            "missed": _indicators(d.indicators_missed),
        },
        "decisions": [
            {
                "choice": x.choice_id,
                "label": x.label,
                "code": x.code,
                "verdict": x.verdict,
                "why": x.why,
            }
            for x in d.decisions
        ],
        "trainee_path": [{"choice": s.choice_id, "label": s.label} for s in d.trainee_path],
        "expert_path": [{"choice": s.choice_id, "label": s.label} for s in d.expert_path],
    }
