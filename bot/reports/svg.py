"""Small inline SVG charts for the debrief report: no dependency, sharp on a projector and
on paper, and readable in black and white (values are printed beside every bar and point)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from bot.engine.state import Value

PASS = "#2e7d32"
FAIL = "#c62828"
NEUTRAL = "#1565c0"
GREY = "#9e9e9e"
#: line colours and dash patterns, so the lines stay apart when printed in grey
SERIES = (("#1565c0", ""), ("#c62828", "8 5"), ("#2e7d32", "2 4"))


def dimension_bars(
    rows: Sequence[tuple[str, float | None]], pass_mark: int, title: str, empty: str
) -> str:
    """Horizontal bars 0-100 % per dimension, with the pass mark as a dashed line."""
    label_w, bar_w, row_h, top = 400, 420, 38, 40
    height = top + row_h * len(rows) + 30
    width = label_w + bar_w + 90
    out = [
        f'<svg class="chart" data-chart="dimensions" role="img" aria-label="{escape(title)}" '
        f'viewBox="0 0 {width} {height}" width="100%" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for tick in (0, 25, 50, 75, 100):
        x = label_w + bar_w * tick / 100
        out.append(
            f'<line x1="{x:.0f}" y1="{top - 8}" x2="{x:.0f}" y2="{height - 24}" '
            f'stroke="#e0e0e0" stroke-width="1"/>'
        )
        out.append(
            f'<text x="{x:.0f}" y="{height - 6}" font-size="14" text-anchor="middle" '
            f'fill="#424242">{tick}%</text>'
        )
    for i, (label, percent) in enumerate(rows):
        y = top + i * row_h
        out.append(
            f'<text x="{label_w - 10}" y="{y + 22}" font-size="17" text-anchor="end" '
            f'fill="#212121">{escape(label)}</text>'
        )
        if percent is None:
            out.append(
                f'<text x="{label_w + 6}" y="{y + 22}" font-size="15" fill="{GREY}" '
                f'font-style="italic">{escape(empty)}</text>'
            )
            continue
        w = max(2.0, bar_w * percent / 100)
        colour = PASS if percent >= pass_mark else FAIL
        out.append(
            f'<rect class="bar" x="{label_w}" y="{y + 6}" width="{w:.1f}" height="{row_h - 14}" '
            f'fill="{colour}" rx="3"/>'
        )
        out.append(
            f'<text x="{label_w + w + 8:.1f}" y="{y + 23}" font-size="17" font-weight="bold" '
            f'fill="#212121">{percent:.0f}%</text>'
        )
    x = label_w + bar_w * pass_mark / 100
    out.append(
        f'<line x1="{x:.1f}" y1="{top - 14}" x2="{x:.1f}" y2="{height - 24}" stroke="#212121" '
        f'stroke-width="2" stroke-dasharray="6 4"/>'
    )
    out.append(
        f'<text x="{x:.1f}" y="{top - 18}" font-size="14" text-anchor="middle" '
        f'fill="#212121">{pass_mark}%</text>'
    )
    out.append("</svg>")
    return "\n".join(out)


def timeline(
    series: Sequence[tuple[str, Sequence[tuple[int, Value]]]],
    marks: Sequence[int],
    title: str,
    axis: str,
) -> str:
    """One line per variable over the turns; `marks` (turns with a critical error) in red."""
    width, height, left, right, top, bottom = 760, 320, 56, 150, 20, 50
    turns = [turn for _, points in series for turn, _ in points] or [0]
    values = [int(v) for _, points in series for _, v in points] or [0]
    x_max = max(max(turns), 1)
    y_max = max(max(values), 5)
    plot_w, plot_h = width - left - right, height - top - bottom

    def px(turn: int) -> float:
        return left + plot_w * turn / x_max

    def py(value: float) -> float:
        return top + plot_h * (1 - value / y_max)

    out = [
        f'<svg class="chart" data-chart="timeline" role="img" aria-label="{escape(title)}" '
        f'viewBox="0 0 {width} {height}" width="100%" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for value in range(0, y_max + 1):
        y = py(value)
        out.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#eeeeee"/>'
        )
        out.append(
            f'<text x="{left - 8}" y="{y + 5:.1f}" font-size="14" text-anchor="end" '
            f'fill="#424242">{value}</text>'
        )
    step = max(1, x_max // 12)
    for turn in range(0, x_max + 1, step):
        out.append(
            f'<text x="{px(turn):.1f}" y="{top + plot_h + 22}" font-size="14" '
            f'text-anchor="middle" fill="#424242">{turn}</text>'
        )
    out.append(
        f'<text x="{left + plot_w / 2:.0f}" y="{height - 4}" font-size="15" text-anchor="middle" '
        f'fill="#212121">{escape(axis)}</text>'
    )
    for turn in marks:
        out.append(
            f'<line class="critical" x1="{px(turn):.1f}" y1="{top}" x2="{px(turn):.1f}" '
            f'y2="{top + plot_h}" stroke="{FAIL}" stroke-width="3" opacity="0.5"/>'
        )
    for index, (name, points) in enumerate(series):
        colour, dash = SERIES[index % len(SERIES)]
        if not points:
            continue
        path = " ".join(f"{px(t_):.1f},{py(int(v)):.1f}" for t_, v in points)
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(
            f'<polyline class="series" data-series="{escape(name)}" points="{path}" fill="none" '
            f'stroke="{colour}" stroke-width="4"{dashed}/>'
        )
        for t_, v in points:
            out.append(f'<circle cx="{px(t_):.1f}" cy="{py(int(v)):.1f}" r="4" fill="{colour}"/>')
        last_t, last_v = points[-1]
        y = py(int(last_v)) + 5 + (index - 1) * 16
        out.append(
            f'<text x="{px(last_t) + 10:.1f}" y="{y:.1f}" font-size="16" font-weight="bold" '
            f'fill="{colour}">{escape(name)} {int(last_v)}</text>'
        )
    out.append("</svg>")
    return "\n".join(out)
