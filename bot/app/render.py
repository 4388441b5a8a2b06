"""Turn results -> neutral outgoing messages, in the session's language and mode."""

from __future__ import annotations

from bot.app.i18n import t
from bot.app.messages import ButtonOut, ButtonsOut, DebriefOut, MediaOut, Outgoing, TextOut
from bot.engine.events import Said
from bot.engine.state import SessionState
from bot.scoring.debrief import Debrief
from bot.scoring.interview import TurnResult


def button_data(state: SessionState, index: int) -> str:
    """`c:<turn>:<index>`: short, and only valid while the session is at that turn."""
    return f"c:{state.turn}:{index}"


def parse_button(data: str) -> tuple[int, int] | None:
    parts = data.split(":")
    if len(parts) != 3 or parts[0] != "c" or not all(p.isdigit() and len(p) < 7 for p in parts[1:]):
        return None
    return int(parts[1]), int(parts[2])


def said_messages(said: tuple[Said, ...], language: str) -> list[Outgoing]:
    out: list[Outgoing] = []
    for line in said:
        if line.speaker_role == "narrator":
            out.append(TextOut("narration", line.text, t(language, "scene"), "narrator"))
        else:
            out.append(TextOut("line", line.text, line.speaker_name, line.speaker_role))
        if line.clip is not None:
            clip = line.clip
            out.append(
                MediaOut(
                    clip.kind,
                    clip.path,
                    clip.caption,
                    clip.fallback,
                    line.speaker_name,
                    line.speaker_role,
                )
            )
    return out


def buttons(result: TurnResult) -> ButtonsOut:
    state = result.state
    return ButtonsOut(
        t(state.language, "choose_prompt"),
        tuple(ButtonOut(b.label, button_data(state, i)) for i, b in enumerate(result.buttons)),
    )


def turn_messages(result: TurnResult, title: str) -> list[Outgoing]:
    state = result.state
    lang = state.language
    out = said_messages(result.said, lang)
    if state.mode == "coach" and (result.feedback or result.deltas):
        lines = [result.feedback] if result.feedback else []
        lines += [
            t(lang, "delta_line", points=d.points, code=d.code, reason=d.reason)
            for d in result.deltas
        ]
        out.append(TextOut("feedback", "\n".join(lines), t(lang, "coach"), "coach"))
    if result.hint_due:
        out.append(TextOut("hint", hint_text(result)))
    if result.ended is not None:
        out.append(TextOut("info", f"{result.ended.title}\n{result.ended.summary}"))
    if result.debrief is not None:
        out.append(DebriefOut(result.debrief, title, debrief_text(result.debrief, title, lang)))
    elif not state.finished:
        out.append(buttons(result))
    return out


def hint_text(result: TurnResult) -> str:
    lang = result.state.language
    if result.hint:
        return t(lang, "hint", text=result.hint)
    options = " / ".join(b.label for b in result.buttons) or "/help"
    return t(lang, "hint_generic", options=options)


def debrief_text(debrief: Debrief, title: str, lang: str) -> str:
    verdict = t(lang, "passed" if debrief.passed else "failed")
    lines = [
        t(lang, "debrief_title", title=title),
        t(
            lang,
            "debrief_overall",
            overall=debrief.overall,
            pass_mark=debrief.pass_mark,
            verdict=verdict,
        ),
    ]
    if debrief.capped:
        lines.append(t(lang, "debrief_capped"))
    lines.append(t(lang, "debrief_dimensions"))
    for d in debrief.dimensions:
        percent = f"{d.percent:.0f}%" if d.percent is not None else t(lang, "not_scored")
        lines.append("  " + t(lang, "debrief_dimension", code=d.code, name=d.name, percent=percent))
    if debrief.critical:
        lines.append(t(lang, "debrief_critical"))
        lines += [f"  {c.code}: {c.why}" for c in debrief.critical]
    lines.append(
        t(
            lang,
            "debrief_indicators",
            noticed=len(debrief.indicators_noticed),
            revealed=len(debrief.indicators_revealed),
        )
    )
    if debrief.indicators_missed:
        lines.append(t(lang, "debrief_missed"))
        lines += [f"  {c} – {Debrief.indicator_name(c)}" for c in debrief.indicators_missed]
    if debrief.decisions:
        lines.append(t(lang, "debrief_decisions"))
        for decision in debrief.decisions:
            verdict_word = t(lang, f"verdict_{decision.verdict}")
            lines.append(
                "  "
                + t(
                    lang,
                    "debrief_decision",
                    label=decision.label,
                    verdict=verdict_word,
                    why=decision.why,
                )
            )
    if debrief.hints:
        lines.append(t(lang, "debrief_hints", count=debrief.hints))
    lines.append(t(lang, "debrief_your_path"))
    lines += [f"  {i}. {s.label}" for i, s in enumerate(debrief.trainee_path, 1)]
    if debrief.expert_path:
        lines.append(t(lang, "debrief_expert_path"))
        lines += [f"  {i}. {s.label}" for i, s in enumerate(debrief.expert_path, 1)]
    return "\n".join(lines)
