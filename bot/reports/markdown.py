"""Transcripts as Markdown: every turn with its time, who spoke, the trainee's words, the
question form, score changes with codes and reasons, indicators, referral decisions, and the
debrief at the end. Labels in the reader's language; the conversation in the session's."""

from __future__ import annotations

from collections.abc import Sequence

from bot.app.i18n import t
from bot.app.transcripts import Transcript, TurnEntry
from bot.scenario.codes import INDICATORS
from bot.scoring.debrief import Debrief


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _quote(text: str) -> str:
    return "\n".join("> " + line if line else ">" for line in text.splitlines())


def speaker(name: str | None, role: str, lang: str) -> str:
    return t(lang, "scene") if role == "narrator" or not name else name


def transcripts(items: Sequence[Transcript], lang: str) -> str:
    return "\n---\n\n".join(transcript(tr, lang) for tr in items) or t(lang, "r_none") + "\n"


def transcript(tr: Transcript, lang: str) -> str:
    out = [f"# {t(lang, 'r_transcript')}: {tr.scenario_title}", ""]
    rows = [
        (t(lang, "r_session"), f"`{tr.session_id}`"),
        (t(lang, "r_trainee"), tr.trainee),
        (t(lang, "r_scenario"), f"{tr.scenario_id} (`{tr.scenario_hash[:12]}`)"),
        (t(lang, "r_language"), tr.language),
        (t(lang, "r_mode"), tr.mode),
        (t(lang, "r_status"), tr.status),
        (t(lang, "r_started"), tr.created_at.strftime("%Y-%m-%d %H:%M:%S UTC")),
        (t(lang, "r_updated"), tr.updated_at.strftime("%Y-%m-%d %H:%M:%S UTC")),
    ]
    if tr.identities:
        ids = ", ".join(f"{p}:{i}" for p, i in tr.identities)
        rows.append((t(lang, "r_identities"), ids))
    out += ["| | |", "|---|---|"] + [f"| {k} | {_cell(v)} |" for k, v in rows] + [""]
    if tr.redacted:
        out += [f"_{t(lang, 'r_redacted')}_", ""]
    if not tr.replayed:
        out += [f"_{t(lang, 'r_not_replayed')}_", ""]
    out += [f"## {t(lang, 'r_turns')}", ""]
    for entry in tr.turns:
        out += turn(entry, tr, lang)
    out += [f"## {t(lang, 'r_debrief')}", ""]
    out += debrief(tr.debrief, lang) if tr.debrief else [t(lang, "r_no_debrief"), ""]
    return "\n".join(out).rstrip() + "\n"


def _heading(entry: TurnEntry, tr: Transcript, lang: str) -> str:
    when = entry.at.strftime("%H:%M:%S")
    if entry.kind in ("choice", "text"):
        how = t(lang, "r_button" if entry.pressed else "r_typed")
        return f"### {entry.seq} · {when} · {tr.trainee} ({how})"
    return f"### {entry.seq} · {when} · {t(lang, 'r_kind_' + entry.kind)}"


def turn(entry: TurnEntry, tr: Transcript, lang: str) -> list[str]:
    out = [_heading(entry, tr, lang), ""]
    if entry.words is not None and entry.kind in ("choice", "text"):
        out += [f"**{tr.trainee}:** {entry.words}", ""]
    facts: list[str] = []
    if entry.question is not None:
        q = entry.question
        code = f" `{q.code}` {q.points:+d}" if q.code else ""
        facts.append(f"{t(lang, 'r_question')}: **{q.form}**{code} – {q.reason}")
    for d in entry.deltas:
        facts.append(f"{t(lang, 'r_score')}: `{d.code}` {d.points:+d} – {d.reason}")
    if entry.revealed:
        facts.append(
            f"{t(lang, 'r_revealed')}: " + ", ".join(_indicator(c) for c in entry.revealed)
        )
    if entry.noticed:
        facts.append(f"{t(lang, 'r_noticed')}: " + ", ".join(_indicator(c) for c in entry.noticed))
    if entry.referral is not None:
        r = entry.referral
        verdict = t(lang, f"verdict_{r.verdict}")
        facts.append(f"{t(lang, 'r_referral')}: `{r.code}` **{verdict}** – {r.why}")
    if entry.critical is not None:
        facts.append(f"{t(lang, 'r_critical')}: `{entry.critical.code}` – {entry.critical.why}")
    if entry.variables:
        facts.append(" · ".join(f"{k} {v}" for k, v in entry.variables.items()))
    out += [f"- {fact}" for fact in facts]
    if facts:
        out.append("")
    for line in entry.said:
        out += [_quote(f"**{speaker(line.name, line.role, lang)}:** {line.text}"), ""]
    if entry.feedback:
        out += [f"_{t(lang, 'coach')}: {entry.feedback}_", ""]
    if entry.hint:
        out += [f"_{t(lang, 'hint', text=entry.hint)}_", ""]
    if entry.ended:
        out += [f"**{t(lang, 'r_ending')}: {entry.ended.get('title', '')}**", ""]
    return out


def _indicator(code: str) -> str:
    return f"`{code}` ({INDICATORS.get(code, code)})"


def debrief(d: Debrief, lang: str) -> list[str]:
    verdict = t(lang, "passed" if d.passed else "failed")
    out = [t(lang, "debrief_overall", overall=d.overall, pass_mark=d.pass_mark, verdict=verdict)]
    if d.capped:
        out.append(t(lang, "debrief_capped"))
    out += [
        "",
        f"| {t(lang, 'r_dimension')} | {t(lang, 'r_points')} | {t(lang, 'r_expert')} | % |",
        "|---|---:|---:|---:|",
    ]
    for x in d.dimensions:
        percent = f"{x.percent:.0f}%" if x.percent is not None else t(lang, "not_scored")
        out.append(f"| {x.code} {x.name} | {x.points} | {x.expert_points} | {percent} |")
    out.append("")
    if d.critical:
        out += [f"**{t(lang, 'debrief_critical')}**", ""]
        out += [f"- `{c.code}` {c.description}: {c.why}" for c in d.critical] + [""]
    noticed, revealed = len(d.indicators_noticed), len(d.indicators_revealed)
    out += [t(lang, "debrief_indicators", noticed=noticed, revealed=revealed), ""]
    if d.indicators_missed:
        out += [f"**{t(lang, 'debrief_missed')}**", ""]
        out += [f"- {_indicator(c)}" for c in d.indicators_missed] + [""]
    if d.decisions:
        out += [f"**{t(lang, 'debrief_decisions')}**", ""]
        for decision in d.decisions:
            word = t(lang, f"verdict_{decision.verdict}")
            out.append(f"- {decision.label} – `{decision.code}` **{word}**: {decision.why}")
        out.append("")
    if d.hints:
        out += [t(lang, "debrief_hints", count=d.hints), ""]
    out += [f"**{t(lang, 'debrief_your_path')}**", ""]
    out += [f"{i}. {s.label}" for i, s in enumerate(d.trainee_path, 1)] + [""]
    if d.expert_path:
        out += [f"**{t(lang, 'debrief_expert_path')}**", ""]
        out += [f"{i}. {s.label}" for i, s in enumerate(d.expert_path, 1)] + [""]
    return out
