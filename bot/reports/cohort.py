"""The cohort report: one self-contained HTML page with charts as PNG images (matplotlib, the
`reports` extra) and each chart's numbers underneath as a table and as CSV; `files` gives the
same as a folder (report.html, charts/*.png, *.csv) for the command line."""

from __future__ import annotations

import base64
import csv
import io
from collections.abc import Sequence
from datetime import datetime
from html import escape
from typing import Any

from bot.app.cohort_report import CohortReport
from bot.app.documents import RenderingUnavailableError
from bot.app.i18n import t
from bot.reports.html import page


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}%"


SESSION_COLUMNS: tuple[str, ...] = (
    "session_id",
    "trainee",
    "scenario",
    "status",
    "started",
    "turns",
    "overall",
    "passed",
)


def tables(report: CohortReport) -> dict[str, tuple[Sequence[str], list[Sequence[Any]]]]:
    """Every table of the report: file stem -> (header, rows)."""
    r = report
    return {
        "summary": (
            ("measure", "value"),
            [
                ("members", len(r.members)),
                ("participants", r.participants),
                ("participation_percent", r.participation),
                ("completers", r.completers),
                ("completion_percent", r.completion),
                ("sessions", len(r.sessions)),
                ("finished_sessions", len(r.finished)),
                ("passed_sessions", r.passed),
                ("pass_rate_percent", r.pass_rate),
                ("referral_accuracy_percent", r.referral_accuracy),
            ],
        ),
        "sessions": (
            (
                "session_id",
                "trainee",
                "scenario",
                "status",
                "started",
                "turns",
                "overall",
                "passed",
            ),
            [
                (
                    s.session_id,
                    s.trainee,
                    s.scenario_id,
                    s.status,
                    s.started.isoformat(),
                    s.turns,
                    "" if s.overall is None else s.overall,
                    "" if s.passed is None else ("yes" if s.passed else "no"),
                )
                for s in r.sessions
            ],
        ),
        "dimensions": (
            ("dimension", "name", "sessions", "min", "median", "max"),
            [
                (code, name, len(v), min(v), _median(v), max(v))
                if v
                else (code, name, 0, "", "", "")
                for code, (name, v) in r.dimensions.items()
            ],
        ),
        "points_lost": (
            ("scenario", "node", "points_lost", "turns"),
            [(x.scenario_id, x.node, x.points_lost, x.turns) for x in r.losses],
        ),
        "missed_indicators": (
            ("indicator", "name", "missed", "revealed"),
            [(m.code, m.name, m.missed, m.revealed) for m in r.missed],
        ),
        "referrals": (("verdict", "decisions"), [(v, n) for v, n in r.referrals.items()]),
        "attempts": (
            ("trainee", "scenario", "attempts", "first_overall", "latest_overall", "change"),
            [
                (a.trainee, a.scenario_id, a.attempts, a.first_overall, a.latest_overall, a.change)
                for a in r.attempts
            ],
        ),
    }


def _median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else round((ordered[mid - 1] + ordered[mid]) / 2, 1)


def csv_bytes(header: Sequence[str], rows: list[Sequence[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def charts(report: CohortReport, lang: str) -> dict[str, bytes]:
    """chart name -> PNG."""
    try:
        from matplotlib.figure import Figure
        from matplotlib.ticker import MaxNLocator
    except ImportError:
        raise RenderingUnavailableError(
            "the cohort report's charts need the reports extra: pip install 'signpost[reports]'"
        ) from None

    def png(fig: Figure) -> bytes:
        buffer = io.BytesIO()
        fig.tight_layout()
        fig.savefig(buffer, format="png", dpi=110)
        return buffer.getvalue()

    def figure(height: float = 3.6) -> Figure:
        fig = Figure(figsize=(9, height))
        fig.set_facecolor("white")
        return fig

    out: dict[str, bytes] = {}
    r = report
    fig = figure(2.6)
    ax = fig.subplots()
    names = [t(lang, "r_participation"), t(lang, "r_completion"), t(lang, "r_pass_rate")]
    values = [r.participation or 0.0, r.completion or 0.0, r.pass_rate or 0.0]
    bars = ax.barh(names[::-1], values[::-1], color=["#2e7d32", "#1565c0", "#6a1b9a"])
    ax.bar_label(bars, fmt="%.0f%%", padding=4, fontsize=12)
    ax.set_xlim(0, 110)
    ax.tick_params(labelsize=12)
    out["overview"] = png(fig)

    scored = [(code, v) for code, (_, v) in r.dimensions.items() if v]
    fig = figure(3.8)
    ax = fig.subplots()
    if scored:
        ax.boxplot([list(v) for _, v in scored], tick_labels=[c for c, _ in scored])
        for i, (_, v) in enumerate(scored, 1):
            ax.scatter([i] * len(v), v, color="#1565c0", alpha=0.6, s=24, zorder=3)
    ax.set_ylim(-5, 105)
    ax.set_ylabel("%", fontsize=12)
    ax.tick_params(labelsize=12)
    ax.set_title(t(lang, "r_dimension_scores"), fontsize=13)
    out["dimensions"] = png(fig)

    for name, rows, colour in (
        (
            "points_lost",
            [(f"{x.scenario_id}: {x.node}", x.points_lost) for x in r.losses],
            "#c62828",
        ),
        ("missed_indicators", [(m.code, m.missed) for m in r.missed], "#ef6c00"),
    ):
        top = rows[:10][::-1]
        fig = figure(max(2.4, 0.42 * len(top) + 1.2))
        ax = fig.subplots()
        if top:
            bars = ax.barh([label for label, _ in top], [n for _, n in top], color=colour)
            ax.bar_label(bars, padding=3, fontsize=11)
        ax.tick_params(labelsize=11)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(t(lang, f"r_{name}"), fontsize=13)
        out[name] = png(fig)

    fig = figure(2.6)
    ax = fig.subplots()
    verdicts = ["right", "acceptable", "harmful"]
    bars = ax.bar(
        [t(lang, f"verdict_{v}") for v in verdicts],
        [r.referrals.get(v, 0) for v in verdicts],
        color=["#2e7d32", "#f9a825", "#c62828"],
    )
    ax.bar_label(bars, padding=3, fontsize=12)
    ax.tick_params(labelsize=12)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(t(lang, "r_referrals"), fontsize=13)
    out["referrals"] = png(fig)

    fig = figure(max(2.6, 0.45 * len(r.attempts) + 1.4))
    ax = fig.subplots()
    for i, a in enumerate(r.attempts):
        colour = "#2e7d32" if a.change >= 0 else "#c62828"
        ax.plot([a.first_overall, a.latest_overall], [i, i], color=colour, linewidth=3)
        ax.scatter([a.first_overall], [i], color="#9e9e9e", s=60, zorder=3)
        ax.scatter([a.latest_overall], [i], color=colour, s=60, zorder=3)
    ax.set_yticks(range(len(r.attempts)), [f"{a.trainee} · {a.scenario_id}" for a in r.attempts])
    ax.set_xlim(-5, 105)
    ax.tick_params(labelsize=11)
    ax.set_title(t(lang, "r_attempts_chart"), fontsize=13)
    out["attempts"] = png(fig)
    return out


#: the sections of the page: (chart or None, table, heading key)
SECTIONS = (
    ("overview", "summary", "r_overview"),
    ("dimensions", "dimensions", "r_dimension_scores"),
    ("points_lost", "points_lost", "r_points_lost"),
    ("missed_indicators", "missed_indicators", "r_missed_indicators"),
    ("referrals", "referrals", "r_referrals"),
    ("attempts", "attempts", "r_attempts_chart"),
    (None, "sessions", "r_sessions"),
)


def html(
    report: CohortReport, lang: str, now: datetime, images: dict[str, bytes] | None = None
) -> str:
    images = images if images is not None else charts(report, lang)
    data = tables(report)
    c = report.cohort
    dates = f"{c.starts_on or '…'} – {c.ends_on or '…'}"
    body = [
        f"<header><h1>{escape(t(lang, 'r_cohort_title', name=c.name))}</h1>",
        f'<p class="meta">{escape(t(lang, "r_cohort_dates"))}: {escape(dates)} · '
        f"{escape(t(lang, 'r_coordinator'))}: {escape(report.coordinator or '–')} · "
        f"{escape(t(lang, 'r_scenarios'))}: {escape(', '.join(c.scenarios) or '*')}</p>",
        f'<p class="meta">{escape(t(lang, "r_members"))}: {len(report.members)} · '
        f"{escape(t(lang, 'r_participation'))}: {_pct(report.participation)} · "
        f"{escape(t(lang, 'r_completion'))}: {_pct(report.completion)} · "
        f"{escape(t(lang, 'r_pass_rate'))}: {_pct(report.pass_rate)} · "
        f"{escape(t(lang, 'r_referral_accuracy'))}: {_pct(report.referral_accuracy)}</p>",
        "</header>",
    ]
    for chart, table, heading in SECTIONS:
        header, rows = data[table]
        body.append(f'<section id="{table}"><h2>{escape(t(lang, heading))}</h2>')
        if chart is not None:
            encoded = base64.b64encode(images[chart]).decode("ascii")
            body.append(
                f'<img class="chart-image" data-chart="{chart}" alt="{escape(t(lang, heading))}" '
                f'src="data:image/png;base64,{encoded}" style="max-width:100%">'
            )
        cells = "".join(f"<th>{escape(h)}</th>" for h in header)
        body.append(f"<table><tr>{cells}</tr>")
        for row in rows:
            body.append("<tr>" + "".join(f"<td>{escape(str(v))}</td>" for v in row) + "</tr>")
        body.append("</table>")
        raw = csv_bytes(header, rows)
        link = base64.b64encode(raw).decode("ascii")
        body.append(
            f"<details><summary>CSV</summary><pre>{escape(raw.decode('utf-8'))}</pre>"
            f'<a download="{table}.csv" href="data:text/csv;base64,{link}">{table}.csv</a>'
            "</details></section>"
        )
    return page(t(lang, "r_cohort_title", name=c.name), lang, "\n".join(body), now)


def files(report: CohortReport, lang: str, now: datetime) -> dict[str, bytes]:
    """The report as a folder: report.html, charts/<name>.png and <table>.csv."""
    images = charts(report, lang)
    out = {"report.html": html(report, lang, now, images).encode("utf-8")}
    out |= {f"charts/{name}.png": data for name, data in images.items()}
    out |= {f"{name}.csv": csv_bytes(*table) for name, table in tables(report).items()}
    return out
