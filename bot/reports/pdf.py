"""The debrief report as a PDF (the `pdf` extra: fpdf2, a pure-Python wheel): A4, the same
sections as the HTML report, charts drawn as vector shapes, graphs from Graphviz as images."""

from __future__ import annotations

import importlib.util
import io
import itertools
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.app.documents import RenderingUnavailableError
from bot.app.i18n import t
from bot.app.transcripts import Transcript
from bot.reports import graphs
from bot.reports.markdown import speaker
from bot.scenario.codes import INDICATORS

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"))


def _fonts() -> tuple[Path, Path] | None:
    """DejaVu Sans (every Polish letter), from matplotlib's own copy or the system's."""
    dirs = list(FONT_DIRS)
    spec = importlib.util.find_spec("matplotlib")
    if spec is not None and spec.origin:
        dirs.insert(0, Path(spec.origin).parent / "mpl-data" / "fonts" / "ttf")
    for folder in dirs:
        regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
        if regular.is_file() and bold.is_file():
            return regular, bold
    return None


class _Pdf:
    def __init__(self) -> None:
        try:
            from fpdf import FPDF
        except ImportError:
            raise RenderingUnavailableError(
                "PDF needs the pdf extra: pip install 'signpost[pdf]'"
            ) from None
        self.doc: Any = FPDF(orientation="P", unit="mm", format="A4")
        self.doc.set_auto_page_break(auto=True, margin=15)
        self.doc.set_margins(15, 15, 15)
        fonts = _fonts()
        self.family = "helvetica"
        self.unicode = fonts is not None
        if fonts is not None:
            self.doc.add_font("DejaVu", "", str(fonts[0]))
            self.doc.add_font("DejaVu", "B", str(fonts[1]))
            self.family = "DejaVu"
        self.doc.add_page()

    def text(self, value: str) -> str:
        return value if self.unicode else value.encode("latin-1", "replace").decode("latin-1")

    def font(self, size: float, bold: bool = False) -> None:
        self.doc.set_font(self.family, "B" if bold else "", size)

    def heading(self, value: str, size: float = 15) -> None:
        if self.doc.get_y() > 250:
            self.doc.add_page()
        self.doc.ln(3)
        self.font(size, bold=True)
        self.doc.multi_cell(0, 8, self.text(value), new_x="LMARGIN", new_y="NEXT")
        y = self.doc.get_y()
        self.doc.set_line_width(0.6)
        self.doc.line(15, y, 195, y)
        self.doc.ln(2)

    def para(self, value: str, size: float = 10.5, bold: bool = False) -> None:
        self.font(size, bold)
        self.doc.multi_cell(0, 5.2, self.text(value), new_x="LMARGIN", new_y="NEXT")

    def need(self, height: float) -> None:
        if self.doc.get_y() + height > 282:
            self.doc.add_page()


def session_report(tr: Transcript, lang: str, now: datetime) -> bytes:
    pdf = _Pdf()
    doc = pdf.doc
    pdf.font(20, bold=True)
    title = t(lang, "debrief_title", title=tr.scenario_title)
    doc.multi_cell(0, 10, pdf.text(title), new_x="LMARGIN", new_y="NEXT")
    pdf.para(
        f"{t(lang, 'r_trainee')}: {tr.trainee} · {t(lang, 'r_session')}: {tr.session_id} · "
        f"{tr.created_at:%Y-%m-%d %H:%M} UTC · {t(lang, 'r_mode')}: {tr.mode}"
    )
    if tr.redacted:
        pdf.para(t(lang, "r_redacted"))
    d = tr.debrief
    if d is None:
        pdf.para(t(lang, "r_no_debrief"), bold=True)
    else:
        word = t(lang, "passed" if d.passed else "failed")
        verdict = t(lang, "debrief_overall", overall=d.overall, pass_mark=d.pass_mark, verdict=word)
        doc.ln(2)
        pdf.para(verdict + (" " + t(lang, "debrief_capped") if d.capped else ""), 14, True)
        pdf.heading(t(lang, "r_scores_chart"))
        _bars(pdf, [(f"{x.code} {x.name}", x.percent) for x in d.dimensions], d.pass_mark, lang)
    series = [
        (name, [(e.seq, int(e.variables[name])) for e in tr.turns if name in e.variables])
        for name in tr.timeline
    ]
    if any(points for _, points in series):
        pdf.heading(t(lang, "r_timeline"))
        _timeline(pdf, series, [e.seq for e in tr.turns if e.critical], lang)
    pdf.heading(t(lang, "debrief_critical").rstrip(":"))
    if d is not None and d.critical:
        for c in d.critical:
            pdf.para(f"• {c.code} {c.description}: {c.why}")
    else:
        pdf.para(t(lang, "r_no_critical"))
    _paths(pdf, tr, lang)
    if d is not None:
        pdf.heading(t(lang, "r_indicators"))
        for code in d.indicators_revealed:
            state = (
                "r_noticed_yes"
                if code in d.indicators_noticed
                else "r_missed_word"
                if code in d.indicators_missed
                else "r_not_expected"
            )
            pdf.para(f"• {code} {INDICATORS.get(code, code)}: {t(lang, state)}")
        pdf.heading(t(lang, "debrief_decisions").rstrip(":"))
        for x in d.decisions:
            pdf.para(f"• {x.label} – {x.code} {t(lang, 'verdict_' + x.verdict)}: {x.why}")
        if not d.decisions:
            pdf.para(t(lang, "r_no_decisions"))
    pdf.need(95)
    pdf.heading(t(lang, "r_notes"))
    y = doc.get_y()
    doc.set_line_width(0.5)
    doc.rect(15, y, 180, 75)
    doc.set_line_width(0.2)
    for i in range(1, 8):
        doc.line(18, y + i * 9.3, 192, y + i * 9.3)
    doc.set_y(y + 78)
    doc.add_page()
    pdf.heading(t(lang, "r_transcript"))
    for e in tr.turns:
        who = tr.trainee if e.kind in ("choice", "text") else t(lang, f"r_kind_{e.kind}")
        pdf.para(f"{e.seq}. {who} · {e.at:%H:%M:%S}", 10.5, True)
        if e.kind in ("choice", "text") and e.words is not None:
            pdf.para(f"{tr.trainee}: {e.words}")
        for delta in e.deltas:
            pdf.para(f"   {delta.code} {delta.points:+d}: {delta.reason}", 9.5)
        for line in e.said:
            pdf.para(f"{speaker(line.name, line.role, lang)}: {line.text}", 10)
    pdf.font(8)
    doc.ln(4)
    doc.cell(0, 5, pdf.text(t(lang, "r_generated", when=f"{now:%Y-%m-%d %H:%M} UTC")))
    return bytes(doc.output())


def _bars(pdf: _Pdf, rows: Sequence[tuple[str, float | None]], pass_mark: int, lang: str) -> None:
    doc = pdf.doc
    pdf.need(8 * len(rows) + 10)
    top, label_w, bar_w = doc.get_y() + 2, 74, 90
    for i, (label, percent) in enumerate(rows):
        y = top + i * 8
        pdf.font(9)
        doc.set_xy(15, y)
        doc.cell(label_w - 2, 6, pdf.text(label), align="R")
        if percent is None:
            doc.set_xy(15 + label_w, y)
            doc.cell(60, 6, pdf.text(t(lang, "not_scored")))
            continue
        shade = (46, 125, 50) if percent >= pass_mark else (198, 40, 40)
        doc.set_fill_color(*shade)
        doc.rect(15 + label_w, y + 0.8, max(0.8, bar_w * percent / 100), 4.6, style="F")
        doc.set_xy(15 + label_w + bar_w * percent / 100 + 2, y)
        pdf.font(9, bold=True)
        doc.cell(20, 6, f"{percent:.0f}%")
    x = 15 + label_w + bar_w * pass_mark / 100
    doc.set_draw_color(0, 0, 0)
    doc.set_dash_pattern(dash=1.5, gap=1)
    doc.line(x, top - 1, x, top + 8 * len(rows))
    doc.set_dash_pattern()
    doc.set_y(top + 8 * len(rows) + 3)


def _timeline(
    pdf: _Pdf,
    series: Sequence[tuple[str, Sequence[tuple[int, int]]]],
    marks: Sequence[int],
    lang: str,
) -> None:
    doc = pdf.doc
    pdf.need(70)
    left, top, width, height = 25, doc.get_y() + 3, 130, 55
    turns = [x for _, pts in series for x, _ in pts] or [1]
    values = [v for _, pts in series for _, v in pts] or [5]
    x_max, y_max = max(max(turns), 1), max(max(values), 5)
    doc.set_line_width(0.2)
    doc.set_draw_color(200, 200, 200)
    pdf.font(8)
    for v in range(y_max + 1):
        y = top + height * (1 - v / y_max)
        doc.line(left, y, left + width, y)
        doc.set_xy(left - 8, y - 2)
        doc.cell(6, 4, str(v), align="R")
    doc.set_draw_color(198, 40, 40)
    for m in marks:
        doc.line(left + width * m / x_max, top, left + width * m / x_max, top + height)
    colours = ((21, 101, 192), (198, 40, 40), (46, 125, 50))
    for index, (name, points) in enumerate(series):
        if not points:
            continue
        doc.set_draw_color(*colours[index % 3])
        doc.set_line_width(0.8)
        if index == 1:
            doc.set_dash_pattern(dash=2, gap=1.2)
        elif index == 2:
            doc.set_dash_pattern(dash=0.6, gap=1)
        coords = [(left + width * x / x_max, top + height * (1 - v / y_max)) for x, v in points]
        for (x1, y1), (x2, y2) in itertools.pairwise(coords):
            doc.line(x1, y1, x2, y2)
        doc.set_dash_pattern()
        doc.set_text_color(*colours[index % 3])
        pdf.font(9, bold=True)
        doc.set_xy(left + width + 4, top + 6 * index)
        doc.cell(40, 5, pdf.text(f"{name} {points[-1][1]}"))
    doc.set_text_color(0, 0, 0)
    doc.set_draw_color(0, 0, 0)
    doc.set_line_width(0.2)
    pdf.font(8)
    doc.set_xy(left, top + height + 1)
    doc.cell(width, 5, pdf.text(f"{t(lang, 'r_turn_axis')} (0–{x_max})"), align="C")
    doc.set_y(top + height + 8)


def _paths(pdf: _Pdf, tr: Transcript, lang: str) -> None:
    doc = pdf.doc
    d = tr.debrief
    mine = [e.choice_id for e in tr.turns if e.choice_id]
    expert = [s.choice_id for s in d.expert_path] if d else []
    pictures = []
    if tr.scenario is not None:
        for caption, path, visited in (
            (t(lang, "debrief_your_path"), mine, tr.visited),
            (t(lang, "debrief_expert_path"), expert, tr.expert_visited),
        ):
            png = graphs.render(tr.scenario, path, visited, caption.rstrip(":"), fmt="png")
            if png is not None:
                pictures.append(png)
    if len(pictures) == 2:
        doc.add_page()
        pdf.heading(t(lang, "r_paths"))
        y, room = doc.get_y(), 282 - doc.get_y() - 4
        tallest = 0.0
        for i, png in enumerate(pictures):
            # PNG's header holds its size: fit the picture into half the width, one page high
            width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
            w = min(88.0, room * width / max(height, 1))
            doc.image(io.BytesIO(png), x=15 + i * 92, y=y, w=w)
            tallest = max(tallest, w * height / max(width, 1))
        doc.set_y(y + tallest + 4)
    else:
        pdf.heading(t(lang, "r_paths"))
        pdf.para(t(lang, "r_no_graphviz"))
    if d is not None:
        pdf.para(t(lang, "debrief_your_path"), bold=True)
        for i, s in enumerate(d.trainee_path, 1):
            pdf.para(f"{i}. {s.label}")
        pdf.para(t(lang, "debrief_expert_path"), bold=True)
        for i, s in enumerate(d.expert_path, 1):
            pdf.para(f"{i}. {s.label}")
