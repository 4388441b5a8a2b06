"""Self-contained HTML: the transcript export, and the per-session debrief report.

One file with its styles, charts (inline SVG) and graphs inside, nothing fetched: it opens
from a chat, an e-mail or a USB stick. Large type and strong contrast on screen (a projector),
A4 pages with no colour needed when printed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape

from bot.app.i18n import t
from bot.app.transcripts import Transcript, TurnEntry
from bot.reports import graphs, svg
from bot.reports.markdown import speaker
from bot.scenario.codes import INDICATORS

CSS = """
:root { --ink: #1a1a1a; --muted: #555; --line: #d0d0d0; --pass: #1b5e20; --fail: #b71c1c;
  --accent: #0d47a1; }
* { box-sizing: border-box; }
body { font: 20px/1.45 "DejaVu Sans", "Segoe UI", Arial, sans-serif; color: var(--ink);
  background: #fff; margin: 0 auto; max-width: 1180px; padding: 24px 32px; }
h1 { font-size: 34px; margin: 0 0 8px; } h2 { font-size: 26px; margin: 32px 0 12px;
  border-bottom: 3px solid var(--ink); padding-bottom: 4px; } h3 { font-size: 22px; }
.meta { color: var(--muted); margin: 4px 0; }
.verdict { font-size: 26px; font-weight: bold; padding: 8px 14px; border: 3px solid;
  display: inline-block; margin: 10px 0; }
.verdict.pass { color: var(--pass); } .verdict.fail { color: var(--fail); }
.notice { border-left: 6px solid var(--accent); padding: 6px 12px; background: #f3f6fb; }
table { border-collapse: collapse; width: 100%; margin: 8px 0; }
th, td { border: 1px solid var(--line); padding: 6px 10px; text-align: left;
  vertical-align: top; }
th { background: #f2f2f2; }
.num { text-align: right; white-space: nowrap; }
.right { color: var(--pass); font-weight: bold; } .acceptable { color: #8a5a00;
  font-weight: bold; } .harmful, .critical { color: var(--fail); font-weight: bold; }
.paths { display: grid; grid-template-columns: 1fr 1fr; gap: 24px; }
figure { margin: 0; } figcaption { font-weight: bold; font-size: 22px; margin-bottom: 6px; }
svg.graph { max-height: 1100px; border: 1px solid var(--line); }
.turn { border-left: 5px solid var(--line); padding: 4px 0 4px 14px; margin: 14px 0;
  break-inside: avoid; }
.turn.trainee { border-color: var(--accent); }
.who { font-weight: bold; } .when { color: var(--muted); font-size: 16px; }
.said { margin: 4px 0; } .narrator { font-style: italic; }
.facts { margin: 4px 0; padding-left: 22px; font-size: 17px; }
.code { font-family: "DejaVu Sans Mono", monospace; font-size: 16px; }
.plus { color: var(--pass); } .minus { color: var(--fail); }
.notes { min-height: 280px; border: 2px solid var(--ink); padding: 10px;
  background-image: repeating-linear-gradient(transparent, transparent 39px, #bbb 40px); }
footer { margin-top: 40px; color: var(--muted); font-size: 15px; }
@media print {
  @page { size: A4; margin: 14mm; }
  body { font-size: 11pt; max-width: none; padding: 0; }
  h1 { font-size: 20pt; } h2 { font-size: 15pt; break-after: avoid; }
  #scores, #timeline, #critical, #decisions, #notes { break-inside: avoid; }
  #transcript { break-before: page; }
  .notes { min-height: 90mm; } .no-print { display: none; }
  svg.graph { max-height: 200mm; }
}
@media screen and (max-width: 760px) {
  .paths { grid-template-columns: 1fr; } body { padding: 12px; }
}
"""

#: marks the page, once loaded, with how many charts and images it shows (a browser test reads
#: it); nothing else runs, nothing is fetched
SCRIPT = (
    "addEventListener('load',function(){var d=document.documentElement.dataset;"
    "d.charts=String(document.querySelectorAll('svg.chart').length);"
    "d.images=String(Array.prototype.filter.call(document.images,"
    "function(i){return i.naturalWidth>0;}).length);});"
)


def page(title: str, lang: str, body: str, now: datetime) -> str:
    generated = t(lang, "r_generated", when=now.strftime("%Y-%m-%d %H:%M UTC"))
    return (
        f'<!DOCTYPE html>\n<html lang="{escape(lang)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n{body}\n"
        f"<footer>{escape(generated)} · Signpost</footer>\n<script>{SCRIPT}</script>\n"
        "</body>\n</html>\n"
    )


def _e(value: object) -> str:
    return escape(str(value))


def _indicator(code: str) -> str:
    return f'<span class="code">{_e(code)}</span> {_e(INDICATORS.get(code, code))}'


def _header(tr: Transcript, lang: str) -> str:
    facts = [
        f"{t(lang, 'r_trainee')}: <b>{_e(tr.trainee)}</b>",
        f"{t(lang, 'r_session')}: <span class='code'>{_e(tr.session_id)}</span>",
        f"{t(lang, 'r_started')}: {tr.created_at:%Y-%m-%d %H:%M} UTC",
        f"{t(lang, 'r_mode')}: {_e(t(lang, 'r_word_' + tr.mode))} · "
        f"{t(lang, 'r_status')}: {_e(t(lang, 'r_word_' + tr.status))}",
    ]
    if tr.identities:
        ids = ", ".join(f"{p}:{i}" for p, i in tr.identities)
        facts.append(f"{t(lang, 'r_identities')}: {_e(ids)}")
    out = "".join(f'<p class="meta">{fact}</p>' for fact in facts)
    if tr.redacted:
        out += f'<p class="notice">{_e(t(lang, "r_redacted"))}</p>'
    if not tr.replayed:
        out += f'<p class="notice">{_e(t(lang, "r_not_replayed"))}</p>'
    return out


def _verdict(tr: Transcript, lang: str) -> str:
    d = tr.debrief
    if d is None:
        return f'<p class="notice">{_e(t(lang, "r_no_debrief"))}</p>'
    word = t(lang, "passed" if d.passed else "failed")
    text = t(lang, "debrief_overall", overall=d.overall, pass_mark=d.pass_mark, verdict=word)
    capped = f" {_e(t(lang, 'debrief_capped'))}" if d.capped else ""
    return f'<p class="verdict {"pass" if d.passed else "fail"}">{_e(text)}{capped}</p>'


def turn_html(entry: TurnEntry, tr: Transcript, lang: str) -> str:
    trainee_turn = entry.kind in ("choice", "text")
    how = t(lang, "r_button" if entry.pressed else "r_typed") if trainee_turn else ""
    who = f"{_e(tr.trainee)} ({_e(how)})" if trainee_turn else _e(t(lang, f"r_kind_{entry.kind}"))
    parts = [
        f'<div class="turn{" trainee" if trainee_turn else ""}" id="turn-{entry.seq}">',
        f'<div><span class="who">{entry.seq}. {who}</span> '
        f'<span class="when">{entry.at:%H:%M:%S}</span></div>',
    ]
    if trainee_turn and entry.words is not None:
        parts.append(f'<p class="said"><b>{_e(tr.trainee)}:</b> {_e(entry.words)}</p>')
    facts = []
    if entry.question is not None:
        q = entry.question
        code = f' <span class="code">{_e(q.code)}</span> {q.points:+d}' if q.code else ""
        facts.append(f"{_e(t(lang, 'r_question'))}: <b>{_e(q.form)}</b>{code} – {_e(q.reason)}")
    for d in entry.deltas:
        sign = "plus" if d.points > 0 else "minus" if d.points < 0 else ""
        facts.append(f'<span class="code {sign}">{_e(d.code)} {d.points:+d}</span> {_e(d.reason)}')
    if entry.revealed:
        codes = ", ".join(_indicator(c) for c in entry.revealed)
        facts.append(f"{_e(t(lang, 'r_revealed'))}: {codes}")
    if entry.noticed:
        codes = ", ".join(_indicator(c) for c in entry.noticed)
        facts.append(f"{_e(t(lang, 'r_noticed'))}: {codes}")
    if entry.referral is not None:
        r = entry.referral
        facts.append(
            f"{_e(t(lang, 'r_referral'))}: <span class='code'>{_e(r.code)}</span> "
            f"<span class='{_e(r.verdict)}'>{_e(t(lang, 'verdict_' + r.verdict))}</span> – "
            f"{_e(r.why)}"
        )
    if entry.critical is not None:
        c = entry.critical
        facts.append(
            f"<span class='critical'>{_e(t(lang, 'r_critical'))}: {_e(c.code)}</span> – {_e(c.why)}"
        )
    if entry.variables:
        facts.append(" · ".join(f"{_e(k)} {_e(v)}" for k, v in entry.variables.items()))
    if facts:
        parts.append('<ul class="facts">' + "".join(f"<li>{f}</li>" for f in facts) + "</ul>")
    for line in entry.said:
        cls = "said narrator" if line.role == "narrator" else "said"
        name = speaker(line.name, line.role, lang)
        parts.append(f'<p class="{cls}"><b>{_e(name)}:</b> {_e(line.text)}</p>')
    if entry.feedback:
        parts.append(f'<p class="notice">{_e(t(lang, "coach"))}: {_e(entry.feedback)}</p>')
    if entry.hint:
        parts.append(f'<p class="notice">{_e(t(lang, "hint", text=entry.hint))}</p>')
    if entry.ended:
        parts.append(f"<p><b>{_e(t(lang, 'r_ending'))}: {_e(entry.ended.get('title', ''))}</b></p>")
    parts.append("</div>")
    return "\n".join(parts)


def transcripts(items: Sequence[Transcript], lang: str, now: datetime) -> str:
    body = []
    for tr in items:
        body.append(f"<article><h1>{_e(t(lang, 'r_transcript'))}: {_e(tr.scenario_title)}</h1>")
        body.append(_header(tr, lang) + _verdict(tr, lang))
        body.append(f"<h2>{_e(t(lang, 'r_turns'))}</h2>")
        body += [turn_html(e, tr, lang) for e in tr.turns]
        body.append("</article>")
    if not items:
        body.append(f"<p>{_e(t(lang, 'r_none'))}</p>")
    return page(t(lang, "r_transcript"), lang, "\n".join(body), now)


def session_report(tr: Transcript, lang: str, now: datetime) -> str:
    title = t(lang, "debrief_title", title=tr.scenario_title)
    body = [f"<header><h1>{_e(title)}</h1>", _header(tr, lang), _verdict(tr, lang), "</header>"]
    d = tr.debrief
    if d is not None:
        rows = [(f"{x.code} {x.name}", x.percent) for x in d.dimensions]
        chart = svg.dimension_bars(
            rows, d.pass_mark, t(lang, "r_scores_chart"), t(lang, "not_scored")
        )
        body.append(
            f'<section id="scores"><h2>{_e(t(lang, "r_scores_chart"))}</h2>{chart}</section>'
        )
    series = [
        (name, [(e.seq, e.variables[name]) for e in tr.turns if name in e.variables])
        for name in tr.timeline
    ]
    marks = [e.seq for e in tr.turns if e.critical is not None]
    if any(points for _, points in series):
        chart = svg.timeline(series, marks, t(lang, "r_timeline"), t(lang, "r_turn_axis"))
        body.append(f'<section id="timeline"><h2>{_e(t(lang, "r_timeline"))}</h2>{chart}')
        if marks:
            body.append(f'<p class="meta">{_e(t(lang, "r_timeline_marks"))}</p>')
        body.append("</section>")
    body.append(_critical(tr, lang))
    body.append(_paths(tr, lang))
    if d is not None:
        body.append(_indicators(tr, lang))
        body.append(_decisions(tr, lang))
    body.append(
        f'<section id="notes"><h2>{_e(t(lang, "r_notes"))}</h2>'
        '<div class="notes" contenteditable="true"></div></section>'
    )
    body.append(f'<section id="transcript"><h2>{_e(t(lang, "r_transcript"))}</h2>')
    body += [turn_html(e, tr, lang) for e in tr.turns]
    body.append("</section>")
    return page(title, lang, "\n".join(body), now)


def _critical(tr: Transcript, lang: str) -> str:
    d = tr.debrief
    items = [(c.code, c.description, c.why) for c in d.critical] if d else []
    if not d:
        items = [(e.critical.code, "", e.critical.why) for e in tr.turns if e.critical]
    inner = (
        "<ul>"
        + "".join(
            f"<li><span class='critical code'>{_e(code)}</span> {_e(desc)}: {_e(why)}</li>"
            for code, desc, why in items
        )
        + "</ul>"
        if items
        else f"<p>{_e(t(lang, 'r_no_critical'))}</p>"
    )
    heading = _e(t(lang, "debrief_critical").rstrip(":"))
    return f'<section id="critical"><h2>{heading}</h2>{inner}</section>'


def _paths(tr: Transcript, lang: str) -> str:
    d = tr.debrief
    mine = [e.choice_id for e in tr.turns if e.choice_id]
    steps_mine = [s.label for s in d.trainee_path] if d else mine
    expert = [s.choice_id for s in d.expert_path] if d else []
    steps_expert = [s.label for s in d.expert_path] if d else []
    figures = []
    for caption, path, visited, steps in (
        (t(lang, "debrief_your_path"), mine, tr.visited, steps_mine),
        (t(lang, "debrief_expert_path"), expert, tr.expert_visited, steps_expert),
    ):
        drawn = ""
        if tr.scenario is not None:
            picture = graphs.render(tr.scenario, path, visited, caption.rstrip(":"))
            if picture is not None:
                drawn = graphs.inline_svg(picture, escape(caption.rstrip(":")))
        listed = "<ol>" + "".join(f"<li>{_e(s)}</li>" for s in steps) + "</ol>"
        figures.append(f"<figure><figcaption>{_e(caption)}</figcaption>{drawn}{listed}</figure>")
    note = "" if graphs.available() else f'<p class="notice">{_e(t(lang, "r_no_graphviz"))}</p>'
    return (
        f'<section id="paths"><h2>{_e(t(lang, "r_paths"))}</h2>{note}'
        f'<div class="paths">{"".join(figures)}</div></section>'
    )


def _indicators(tr: Transcript, lang: str) -> str:
    d = tr.debrief
    assert d is not None
    first: dict[str, int] = {}
    for e in tr.turns:
        for code in e.revealed:
            first.setdefault(code, e.seq)
    rows = []
    for code in d.indicators_revealed:
        noticed = code in d.indicators_noticed
        missed = code in d.indicators_missed
        state = "r_noticed_yes" if noticed else "r_missed_word" if missed else "r_not_expected"
        cls = "right" if noticed else "harmful" if missed else ""
        rows.append(
            f"<tr><td>{_indicator(code)}</td><td class='num'>{first.get(code, '')}</td>"
            f"<td class='{cls}'>{_e(t(lang, state))}</td></tr>"
        )
    summary = t(
        lang,
        "debrief_indicators",
        noticed=len(d.indicators_noticed),
        revealed=len(d.indicators_revealed),
    )
    head = (
        f"<tr><th>{_e(t(lang, 'r_indicator'))}</th><th>{_e(t(lang, 'r_turn'))}</th>"
        f"<th>{_e(t(lang, 'r_noticed'))}</th></tr>"
    )
    return (
        f'<section id="indicators"><h2>{_e(t(lang, "r_indicators"))}</h2><p>{_e(summary)}</p>'
        f"<table>{head}{''.join(rows)}</table></section>"
    )


def _decisions(tr: Transcript, lang: str) -> str:
    d = tr.debrief
    assert d is not None
    if not d.decisions:
        inner = f"<p>{_e(t(lang, 'r_no_decisions'))}</p>"
    else:
        rows = "".join(
            f"<tr><td>{_e(x.label)}</td><td class='code'>{_e(x.code)}</td>"
            f"<td class='{_e(x.verdict)}'>{_e(t(lang, 'verdict_' + x.verdict))}</td>"
            f"<td>{_e(x.why)}</td></tr>"
            for x in d.decisions
        )
        head = (
            f"<tr><th>{_e(t(lang, 'r_decision'))}</th><th>{_e(t(lang, 'r_code'))}</th>"
            f"<th>{_e(t(lang, 'r_verdict'))}</th><th>{_e(t(lang, 'r_why'))}</th></tr>"
        )
        inner = f"<table>{head}{rows}</table>"
    heading = _e(t(lang, "debrief_decisions").rstrip(":"))
    return f'<section id="decisions"><h2>{heading}</h2>{inner}</section>'
