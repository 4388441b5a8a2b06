"""The session's event log: what each turn records, and rebuilding a session from it.

The log is the source of truth. A turn's payload keeps everything derived from its input (how
free text was understood, the deltas, what was said), so transcripts read it directly, and
replay feeds the recorded understanding back instead of guessing again: a later change to the
classifier or matcher never rewrites an old session.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, replace
from typing import Any

from bot.app.ports import TurnRecord
from bot.engine.state import SessionState
from bot.scoring.interview import Interview, Resolution, TurnResult
from bot.scoring.question_form import QuestionAssessment, QuestionForm

FORMAT = 1


def start_payload(
    result: TurnResult, *, node: str | None, preset: dict[str, Any] | None
) -> dict[str, Any]:
    state = result.state
    return {
        "format": FORMAT,
        "scenario_hash": state.scenario_hash,
        "seed": state.seed,
        "language": state.language,
        "mode": state.mode,
        "node": node,
        "preset": preset or {},
        **turn_payload(result),
    }


def turn_payload(result: TurnResult) -> dict[str, Any]:
    resolution = result.resolution
    return {
        "choice": result.choice_id,
        "matched_by": result.matched_by,
        "question": asdict(resolution.assessment) if resolution else None,
        "match_score": resolution.match_score if resolution else None,
        "deltas": [asdict(d) for d in result.deltas],
        "said": [
            {
                "line_id": s.line_id,
                "speaker": s.speaker,
                "speaker_name": s.speaker_name,
                "speaker_role": s.speaker_role,
                "text": s.text,
                "clip": {"kind": s.clip.kind, "file": str(s.clip.path), "caption": s.clip.caption}
                if s.clip
                else None,
                "reveals": list(s.reveals),
            }
            for s in result.said
        ],
        "feedback": result.feedback,
        "hint": result.hint if result.hint_due else None,
        "ended": asdict(result.ended) if result.ended else None,
        "node": result.state.node,
        "scores": list(result.state.scores),
    }


def assessment_from(data: dict[str, Any]) -> QuestionAssessment:
    return QuestionAssessment(
        form=QuestionForm(data["form"]),
        code=data.get("code"),
        points=int(data.get("points", 0)),
        safety=bool(data.get("safety", False)),
        language=str(data.get("language", "en")),
        reason=str(data.get("reason", "")),
    )


def replay(interview: Interview, turns: Iterable[TurnRecord]) -> SessionState:
    """Rebuild a session's state from its log alone."""
    state: SessionState | None = None
    for turn in turns:
        payload = turn.payload
        if turn.kind == "start":
            state = interview.start(
                seed=int(payload["seed"]),
                language=str(payload["language"]),
                mode=payload["mode"],
                node=payload.get("node"),
                preset=payload.get("preset") or None,
            ).state
            continue
        if state is None:
            raise ValueError(f"turn {turn.seq} of {turn.session_id} comes before the start")
        state = apply_recorded(interview, state, turn)
    if state is None:
        raise ValueError("the log has no start")
    return state


def apply_recorded(interview: Interview, state: SessionState, turn: TurnRecord) -> SessionState:
    payload = turn.payload
    match turn.kind:
        case "choice":
            return interview.press(state, turn.input).state
        case "text":
            question = payload.get("question")
            resolution = (
                Resolution(
                    payload.get("choice"), assessment_from(question), payload.get("match_score")
                )
                if question
                else None
            )
            return interview.say(state, turn.input, resolution=resolution).state
        case "hint":
            return interview.ask_hint(state).state
        case "pause":
            return replace(state, status="paused")
        case "resume":
            return replace(state, status="active")
        case "quit":
            return replace(state, status="quit")
    raise ValueError(f"unknown turn kind {turn.kind!r}")
