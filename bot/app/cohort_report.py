"""A cohort's results, computed from its sessions' transcripts: the data behind the report.

Participation (members with a session), completion (members with a session that reached an
ending), the pass rate of finished sessions, each dimension's scores, the nodes where most
points were lost, the indicators most often missed, the accuracy of referral decisions, and
each trainee's first against latest attempt per scenario. Rendering is elsewhere.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.app.ports import Cohort
from bot.app.transcripts import Transcript
from bot.scenario.codes import DIMENSIONS, INDICATORS


@dataclass(frozen=True, slots=True)
class SessionLine:
    session_id: str
    trainee: str
    scenario_id: str
    status: str
    started: datetime
    turns: int
    overall: float | None
    passed: bool | None
    critical: int


@dataclass(frozen=True, slots=True)
class Attempts:
    trainee: str
    scenario_id: str
    attempts: int
    first_session: str
    first_overall: float
    first_passed: bool
    latest_session: str
    latest_overall: float
    latest_passed: bool

    @property
    def change(self) -> float:
        return round(self.latest_overall - self.first_overall, 1)


@dataclass(frozen=True, slots=True)
class NodeLoss:
    scenario_id: str
    node: str
    points_lost: int
    turns: int


@dataclass(frozen=True, slots=True)
class Missed:
    code: str
    name: str
    missed: int
    revealed: int


@dataclass(frozen=True, slots=True)
class CohortReport:
    cohort: Cohort
    coordinator: str | None
    generated_at: datetime
    members: tuple[str, ...]
    trainers: tuple[str, ...]
    participants: int
    completers: int
    sessions: tuple[SessionLine, ...]
    #: dimension code -> (name, scores in % of finished sessions that scored it)
    dimensions: dict[str, tuple[str, tuple[float, ...]]]
    losses: tuple[NodeLoss, ...]
    missed: tuple[Missed, ...]
    #: verdict (right, acceptable, harmful) -> decisions
    referrals: dict[str, int]
    attempts: tuple[Attempts, ...]

    @property
    def finished(self) -> tuple[SessionLine, ...]:
        return tuple(s for s in self.sessions if s.overall is not None)

    @property
    def passed(self) -> int:
        return sum(1 for s in self.finished if s.passed)

    @property
    def pass_rate(self) -> float | None:
        done = self.finished
        return round(100.0 * self.passed / len(done), 1) if done else None

    @property
    def participation(self) -> float | None:
        return _rate(self.participants, len(self.members))

    @property
    def completion(self) -> float | None:
        return _rate(self.completers, len(self.members))

    @property
    def referral_accuracy(self) -> float | None:
        """Right decisions as a share of all decisions (acceptable ones are not right)."""
        return _rate(self.referrals.get("right", 0), sum(self.referrals.values()))


def _rate(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def build_report(
    cohort: Cohort,
    coordinator: str | None,
    members: Sequence[str],
    trainers: Sequence[str],
    transcripts: Sequence[Transcript],
    now: datetime,
) -> CohortReport:
    lines = []
    scores: dict[str, list[float]] = defaultdict(list)
    lost: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    missed: Counter[str] = Counter()
    revealed: Counter[str] = Counter()
    referrals: Counter[str] = Counter()
    by_pair: dict[tuple[str, str], list[Transcript]] = defaultdict(list)
    for tr in sorted(transcripts, key=lambda t: (t.created_at, t.session_id)):
        debrief = tr.debrief
        lines.append(
            SessionLine(
                tr.session_id,
                tr.trainee,
                tr.scenario_id,
                tr.status,
                tr.created_at,
                sum(1 for t in tr.turns if t.kind != "start"),
                debrief.overall if debrief else None,
                debrief.passed if debrief else None,
                len(debrief.critical) if debrief else 0,
            )
        )
        for turn in tr.turns:
            negative = sum(d.points for d in turn.deltas if d.points < 0)
            if negative and turn.node_before:
                slot = lost[(tr.scenario_id, turn.node_before)]
                slot[0] -= negative
                slot[1] += 1
        if debrief is None:
            continue
        by_pair[(tr.trainee, tr.scenario_id)].append(tr)
        for dim in debrief.dimensions:
            if dim.percent is not None:
                scores[dim.code].append(round(dim.percent, 1))
        missed.update(debrief.indicators_missed)
        revealed.update(set(debrief.indicators_revealed))
        referrals.update(d.verdict for d in debrief.decisions)
    participants = {line.trainee for line in lines}
    completers = {line.trainee for line in lines if line.status == "ended"}
    return CohortReport(
        cohort=cohort,
        coordinator=coordinator,
        generated_at=now,
        members=tuple(members),
        trainers=tuple(trainers),
        participants=len(participants & set(members)),
        completers=len(completers & set(members)),
        sessions=tuple(lines),
        dimensions={d.code: (d.name, tuple(scores.get(d.code, ()))) for d in DIMENSIONS},
        losses=tuple(
            sorted(
                (NodeLoss(s, n, v[0], v[1]) for (s, n), v in lost.items()),
                key=lambda x: (-x.points_lost, x.scenario_id, x.node),
            )
        ),
        missed=tuple(
            sorted(
                (Missed(c, INDICATORS.get(c, c), n, revealed[c]) for c, n in missed.items()),
                key=lambda m: (-m.missed, m.code),
            )
        ),
        referrals={v: referrals.get(v, 0) for v in ("right", "acceptable", "harmful")},
        attempts=tuple(_attempts(by_pair)),
    )


def _attempts(by_pair: dict[tuple[str, str], list[Transcript]]) -> list[Attempts]:
    out = []
    for (trainee, scenario_id), done in sorted(by_pair.items()):
        first, latest = done[0], done[-1]
        assert first.debrief is not None and latest.debrief is not None
        out.append(
            Attempts(
                trainee,
                scenario_id,
                len(done),
                first.session_id,
                first.debrief.overall,
                first.debrief.passed,
                latest.session_id,
                latest.debrief.overall,
                latest.debrief.passed,
            )
        )
    return out
