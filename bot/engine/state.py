"""A session as plain, immutable, serialisable data.

Nothing here refers to the compiled machine: a session is its position and history, about a
few hundred bytes while it is short, and it can be stored, copied and replayed freely.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

Mode = Literal["coach", "exam"]
Status = Literal["active", "paused", "ended", "quit"]
Value = int | bool


@dataclass(frozen=True, slots=True)
class SessionState:
    scenario_id: str
    scenario_hash: str
    language: str
    mode: Mode
    seed: int
    node: str
    values: tuple[Value, ...]
    #: points per rubric dimension, in `bot.scenario.codes.DIMENSION_CODES` order
    scores: tuple[int, ...]
    status: Status = "active"
    turn: int = 0
    misses: int = 0
    hints: int = 0
    #: choice ids taken, in order
    path: tuple[str, ...] = ()
    #: nodes entered, in order (the start node first)
    visited: tuple[str, ...] = ()
    #: (indicator code, turn it was first revealed)
    revealed: tuple[tuple[str, int], ...] = ()
    noticed: tuple[str, ...] = ()
    #: indicators whose follow-up window closed without one (I-MISSED already charged)
    missed: tuple[str, ...] = ()
    critical: tuple[str, ...] = ()
    #: (referral code, verdict)
    referrals: tuple[tuple[str, str], ...] = ()
    outcome: str | None = None

    @property
    def finished(self) -> bool:
        return self.status in ("ended", "quit")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SessionState:
        tuples = {"values", "scores", "path", "visited", "noticed", "missed", "critical"}
        pairs = {"revealed", "referrals"}
        kwargs = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        for key in tuples & kwargs.keys():
            kwargs[key] = tuple(kwargs[key])
        for key in pairs & kwargs.keys():
            kwargs[key] = tuple(tuple(p) for p in kwargs[key])
        return cls(**kwargs)
