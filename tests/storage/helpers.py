"""Building blocks for the storage tests: states, sessions and turns."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.app.ports import SessionRecord, TurnKind, TurnRecord
from bot.engine.state import SessionState, Status
from storage import SqlStore

HASH = "a" * 64
SOURCE = "id: s\n# the scenario text\n"


def state(node: str = "a", *, status: Status = "active", turn: int = 0) -> SessionState:
    return SessionState(
        scenario_id="s",
        scenario_hash=HASH,
        language="pl",
        mode="coach",
        seed=1,
        node=node,
        values=(1, True),
        scores=(0,) * 8,
        status=status,
        turn=turn,
        path=tuple(f"c{i}" for i in range(turn)),
        visited=("a", node),
        revealed=(("IND.DECEPTION", 0),),
        referrals=(("REF.KCIK", "right"),),
    )


async def new_session(
    store: SqlStore,
    session_id: str,
    user: str = "u",
    *,
    at: datetime | None = None,
    key: str | None = None,
) -> SessionRecord:
    trainee = await store.trainee("test", user)
    await store.save_scenario_version("s", HASH, SOURCE)
    now = at or datetime.now(UTC)
    record = SessionRecord(session_id, trainee.id, "s", HASH, state(), 0, now, now)
    first = TurnRecord(session_id, 0, "start", "s", key, now, {"seed": 1})
    await store.create_session(record, first)
    return record


def turn(
    session_id: str, seq: int, key: str | None = None, kind: TurnKind = "choice", **payload: Any
) -> TurnRecord:
    return TurnRecord(session_id, seq, kind, f"c{seq}", key, datetime.now(UTC), dict(payload))
