"""`signpost graph`: a scenario's tree as Graphviz DOT or Mermaid, with a path drawn over it.

Endings are coloured by verdict (good, mixed, bad), decision points (nodes offering referral
choices) are diamonds, and choices that are critical errors are red dashed edges. A path (a
session's choices) is drawn in bold blue; a coverage overlay shades nodes by how often tests
entered them and greys out what no test reached.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from bot.scenario import model as m

VERDICT_COLOURS = {"good": "#2e7d32", "mixed": "#ef6c00", "bad": "#c62828"}
PATH_COLOUR = "#1565c0"


@dataclass(frozen=True, slots=True)
class Edge:
    source: str
    target: str
    label: str
    choice: str | None
    critical: bool
    condition: str | None = None


@dataclass(slots=True)
class Overlay:
    """What to draw over the tree: a path of choices, or hit counts per node."""

    path: Sequence[str] = ()
    visited: Sequence[str] = ()
    hits: Mapping[str, int] = field(default_factory=dict)
    title: str = ""


def graph_edges(scenario: m.Scenario) -> Iterator[Edge]:
    for node_id, node in scenario.nodes.items():
        for choice in node.choices:
            critical = choice.critical is not None
            label = choice.id + (f" [{choice.critical.code}]" if choice.critical else "")
            if choice.referral is not None:
                label += f" ({choice.referral.code}: {choice.referral.verdict})"
            for target, condition in _targets(choice.goto, node_id):
                yield Edge(node_id, target, label, choice.id, critical, condition)
        for target, condition in _targets(node.next, None):
            yield Edge(node_id, target, "", None, False, condition)


def _targets(target: m.Target | None, stay: str | None) -> Iterator[tuple[str, str | None]]:
    if target is None:
        if stay is not None:
            yield stay, None
    elif isinstance(target, str):
        yield target, None
    else:
        for branch in target:
            yield branch.to, branch.when


def _is_decision(node: m.Node) -> bool:
    return any(c.referral is not None for c in node.choices)


def _title(node_id: str, node: m.Node, language: str) -> str:
    if node.ending is not None:
        return f"{node_id}\n{node.ending.outcome} ({node.ending.verdict})"
    return node_id


def to_dot(scenario: m.Scenario, overlay: Overlay | None = None, language: str = "en") -> str:
    overlay = overlay or Overlay()
    on_path = set(overlay.visited)
    taken = set(overlay.path)
    lines = [
        f"digraph {json.dumps(scenario.id)} {{",
        "  rankdir=TB;",
        '  node [shape=box, style="rounded,filled", fillcolor="#ffffff", fontname="Helvetica"];',
        '  edge [fontname="Helvetica", fontsize=9];',
        f"  label={json.dumps(overlay.title or scenario.id)}; labelloc=t;",
    ]
    top = max(overlay.hits.values(), default=0)
    for node_id, node in scenario.nodes.items():
        attrs: dict[str, str] = {"label": _title(node_id, node, language)}
        if node.ending is not None:
            attrs |= {"shape": "doubleoctagon", "fillcolor": VERDICT_COLOURS[node.ending.verdict]}
            attrs["fontcolor"] = "#ffffff"
        elif _is_decision(node):
            attrs |= {"shape": "diamond", "fillcolor": "#fff3c4"}
        if node_id == scenario.start:
            attrs["peripheries"] = "2"
        if overlay.hits:
            count = overlay.hits.get(node_id, 0)
            attrs["xlabel"] = f"{count:,}"
            if count == 0:
                attrs |= {
                    "fillcolor": "#eeeeee",
                    "fontcolor": "#9e9e9e",
                    "style": "rounded,filled,dashed",
                }
            elif node.ending is None:
                shade = int(255 - 120 * count / top)
                attrs["fillcolor"] = f"#{shade:02x}{shade:02x}ff"
        if node_id in on_path:
            attrs |= {"color": PATH_COLOUR, "penwidth": "3"}
        lines.append(f"  {json.dumps(node_id)} [{_attrs(attrs)}];")
    for edge in graph_edges(scenario):
        attrs = {"label": edge.label + (f"\nif {edge.condition}" if edge.condition else "")}
        if edge.critical:
            attrs |= {"color": "#c62828", "fontcolor": "#c62828", "style": "dashed"}
        if edge.choice in taken or (
            edge.choice is None and edge.source in on_path and edge.target in on_path
        ):
            attrs |= {"color": PATH_COLOUR, "penwidth": "3"}
        lines.append(f"  {json.dumps(edge.source)} -> {json.dumps(edge.target)} [{_attrs(attrs)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _attrs(attrs: dict[str, str]) -> str:
    return ", ".join(f"{k}={json.dumps(v)}" for k, v in attrs.items())


def to_mermaid(scenario: m.Scenario, overlay: Overlay | None = None) -> str:
    overlay = overlay or Overlay()
    ids = {node_id: f"n{i}" for i, node_id in enumerate(scenario.nodes)}
    lines = ["flowchart TD"]
    for node_id, node in scenario.nodes.items():
        text = _mermaid_text(
            node_id if node.ending is None else f"{node_id}: {node.ending.outcome}"
        )
        if node.ending is not None:
            lines.append(f"  {ids[node_id]}((({text})))")
            lines.append(f"  class {ids[node_id]} {node.ending.verdict}")
        elif _is_decision(node):
            lines.append(f"  {ids[node_id]}{{{text}}}")
        else:
            lines.append(f"  {ids[node_id]}[{text}]")
        if overlay.hits and overlay.hits.get(node_id, 0) == 0:
            lines.append(f"  class {ids[node_id]} unreached")
        if node_id in set(overlay.visited):
            lines.append(f"  class {ids[node_id]} path")
    critical_links: list[int] = []
    for index, edge in enumerate(graph_edges(scenario)):
        label = f"|{_mermaid_text(edge.label)}|" if edge.label else ""
        arrow = "-.->" if edge.critical else "-->"
        lines.append(f"  {ids[edge.source]} {arrow}{label} {ids[edge.target]}")
        if edge.critical:
            critical_links.append(index)
    lines += [f"  classDef {v} fill:{c},color:#fff" for v, c in VERDICT_COLOURS.items()]
    lines += [
        "  classDef unreached fill:#eee,color:#999,stroke-dasharray: 4",
        f"  classDef path stroke:{PATH_COLOUR},stroke-width:4px",
    ]
    if critical_links:
        lines.append(
            f"  linkStyle {','.join(map(str, critical_links))} stroke:#c62828,color:#c62828"
        )
    return "\n".join(lines) + "\n"


def _mermaid_text(text: str) -> str:
    return '"' + text.replace('"', "#quot;") + '"'
