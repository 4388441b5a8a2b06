"""Generated scenarios of any size, for benchmarks, load and property tests.

The shape is a chain of hubs: each node offers a few choices, one moves on, one stays and
raises trust, one is guarded by trust and jumps ahead, one is a critical-error trap that ends
badly. It exercises guards, updates, stays, reveals and endings at a realistic mix.
"""

from __future__ import annotations

from typing import Any

import yaml


def synthetic_scenario(nodes: int, *, seed: int = 0) -> dict[str, Any]:
    if nodes < 3:
        raise ValueError("a synthetic scenario needs at least 3 nodes")
    text = {"en": "x", "pl": "x"}
    why = {"en": "because", "pl": "ponieważ"}
    body: dict[str, Any] = {}
    last = nodes - 2
    for i in range(last):
        nxt = f"n{i + 1}"
        jump = f"n{min(i + 3, last)}"
        body[f"n{i}"] = {
            "say": [
                {
                    "id": f"l{i}",
                    "speaker": "p",
                    "variants": [
                        {"when": "trust >= 3", "text": {"en": f"open {i}", "pl": f"otwarte {i}"}},
                        {"text": {"en": f"cover {i}", "pl": f"przykrywka {i}"}},
                    ],
                    "reveals": ["IND.DECEPTION"] if i % 7 == 0 else [],
                }
            ],
            "choices": [
                {
                    "id": f"c{i}a",
                    "text": {"en": f"Tell me more about {i}", "pl": f"Proszę opowiedzieć o {i}"},
                    "examples": {
                        "en": [f"tell me about step {i}"],
                        "pl": [f"opowiedz o kroku {i}"],
                    },
                    "score": [{"code": "Q+OPEN", "points": 2, "why": why}],
                    "notices": ["IND.DECEPTION"],
                    "goto": nxt,
                },
                {
                    "id": f"c{i}b",
                    "text": {"en": f"Take a break {i}", "pl": f"Przerwa {i}"},
                    "set": {"trust": "+1", "fear": "-1"},
                    "score": [{"code": "T+CONTROL", "points": 1, "why": why}],
                    "once": True,
                },
                {
                    "id": f"c{i}c",
                    "text": {"en": f"Skip ahead {i}", "pl": f"Dalej {i}"},
                    "when": "trust >= 2",
                    "goto": [{"when": "fear <= 1", "to": jump}, {"to": nxt}],
                },
                {
                    "id": f"c{i}d",
                    "text": {"en": f"Threaten {i}", "pl": f"Groźba {i}"},
                    "critical": {"code": "CE.THREAT", "why": why},
                    "set": {"fear": "+2"},
                    "goto": "bad",
                },
            ],
        }
    body[f"n{last}"] = {"next": "good"}
    for name, verdict in (("good", "good"), ("bad", "bad")):
        body[name] = {
            "ending": {"outcome": name, "verdict": verdict, "title": text, "summary": text}
        }
    return {
        "id": f"synthetic-{nodes}",
        "title": {"en": f"Synthetic {nodes}", "pl": f"Syntetyczny {nodes}"},
        "summary": text,
        "languages": ["en", "pl"],
        "objectives": [text],
        "minutes": 5,
        "difficulty": "introductory",
        "content_warning": text,
        "role": text,
        "setting": text,
        "persona": {"id": "p", "name": "P", "age": 30, "origin": text, "speaks": ["en"]},
        "variables": {
            "trust": {"type": "int", "initial": 1, "min": 0, "max": 5},
            "fear": {"type": "int", "initial": 3, "min": 0, "max": 5},
        },
        "start": "n0",
        "expert_path": [f"c{i}a" for i in range(last)],
        "fallback": [{"id": "fb", "speaker": "p", "text": {"en": "Sorry?", "pl": "Słucham?"}}],
        "nodes": body,
    }


class _NoAliases(yaml.SafeDumper):
    """Scenarios may not contain aliases, so shared dicts are written out in full."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def synthetic_yaml(nodes: int) -> str:
    return yaml.dump(
        synthetic_scenario(nodes), Dumper=_NoAliases, allow_unicode=True, sort_keys=False
    )
