"""The scenario's graph with a path drawn over it (bot.authoring.graph), laid out by Graphviz's
`dot` when it is installed: SVG for HTML, PNG for PDF. Without `dot` the reports list the
steps instead, and say why."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Sequence

from bot.authoring.graph import Overlay, to_dot
from bot.scenario.model import Scenario

#: seconds `dot` may take for one graph (a 2,000-node scenario takes about one)
DOT_TIMEOUT = 30
_SIZE = re.compile(r'<svg width="[^"]*" height="[^"]*"')
_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


def available() -> bool:
    return shutil.which("dot") is not None


def render(
    scenario: Scenario,
    path: Sequence[str],
    visited: Sequence[str],
    title: str,
    fmt: str = "svg",
) -> bytes | None:
    """The graph with `path` (choice ids) and `visited` (node ids) in bold, or None without
    Graphviz or if it fails."""
    program = shutil.which("dot")
    if program is None:
        return None
    source = to_dot(scenario, Overlay(path=tuple(path), visited=tuple(visited), title=title))
    # to_dot writes JSON strings, which DOT reads as they are: \u015b would show as such
    source = _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), source)
    options = ["-Gdpi=96"] if fmt == "png" else []
    try:
        done = subprocess.run(
            [program, f"-T{fmt}", *options],
            input=source.encode("utf-8"),
            capture_output=True,
            timeout=DOT_TIMEOUT,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout


def inline_svg(svg: bytes, label: str) -> str:
    """`dot`'s SVG for embedding in HTML: no XML prolog, scaled to its column."""
    text = svg.decode("utf-8")
    start = text.find("<svg")
    text = text[start:] if start >= 0 else text
    return _SIZE.sub(
        f'<svg class="graph" role="img" aria-label="{label}" width="100%"', text, count=1
    )
