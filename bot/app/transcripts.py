"""A session's transcript, read from its event log (`store.turns`), never guessed again.

Each turn's payload already holds what was understood, the deltas and what was said; the log
is also replayed with that recorded understanding (`journal.apply_recorded`), which gives what
the payload does not repeat: the variables after each turn (trust, fear, disclosure) and the
indicators noticed. A log that cannot be replayed (a scenario version that is gone) still
yields every recorded field; `replayed` says so.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from bot.app import journal
from bot.app.library import ScenarioLibrary, UnknownScenarioError, Version
from bot.app.ports import SessionRecord, TurnRecord
from bot.engine.engine import EngineError
from bot.engine.state import SessionState, Value
from bot.scenario.model import Scenario
from bot.scoring.debrief import Debrief

#: the variables drawn on a report's timeline, when a scenario has them
TIMELINE = ("trust", "fear", "disclosure")


@dataclass(frozen=True, slots=True)
class SaidLine:
    speaker: str
    name: str | None
    role: str
    text: str
    reveals: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ScoreChange:
    code: str
    dimension: str
    points: int
    reason: str
    source: str


@dataclass(frozen=True, slots=True)
class QuestionFound:
    form: str
    code: str | None
    points: int
    safety: bool
    reason: str


@dataclass(frozen=True, slots=True)
class Verdict:
    """A referral decision (code, verdict right/acceptable/harmful) or a critical error."""

    code: str
    verdict: str
    why: str


@dataclass(frozen=True, slots=True)
class TurnEntry:
    seq: int
    at: datetime
    kind: str
    #: what the trainee typed, or the label of the button pressed; None for pause, quit...
    words: str | None
    pressed: bool
    choice_id: str | None
    matched_by: str | None
    match_score: float | None
    question: QuestionFound | None
    deltas: tuple[ScoreChange, ...]
    #: indicators first shown in this turn, and those the trainee followed up in it
    revealed: tuple[str, ...]
    noticed: tuple[str, ...]
    referral: Verdict | None
    critical: Verdict | None
    said: tuple[SaidLine, ...]
    feedback: str | None
    hint: str | None
    ended: dict[str, Any] | None
    node_before: str | None
    node: str | None
    status: str
    #: points per dimension after this turn (bot.scenario.codes.DIMENSION_CODES order)
    scores: tuple[int, ...]
    #: the timeline variables after this turn
    variables: dict[str, Value] = field(default_factory=dict)

    @property
    def points(self) -> int:
        return sum(d.points for d in self.deltas)


@dataclass(frozen=True, slots=True)
class Transcript:
    session_id: str
    trainee: str
    scenario_id: str
    scenario_title: str
    scenario_hash: str
    language: str
    mode: str
    status: str
    created_at: datetime
    updated_at: datetime
    turns: tuple[TurnEntry, ...]
    debrief: Debrief | None
    #: nodes entered by the session, and by the scenario's expert path
    visited: tuple[str, ...]
    expert_visited: tuple[str, ...]
    timeline: tuple[str, ...]
    replayed: bool
    #: (platform, external id): empty unless explicitly asked for
    identities: tuple[tuple[str, str], ...] = ()
    redacted: bool = False
    #: the scenario version played, for drawing its graph (not exported)
    scenario: Scenario | None = None

    @property
    def finished(self) -> bool:
        return self.status in ("ended", "quit")


class TranscriptBuilder:
    def __init__(self, library: ScenarioLibrary) -> None:
        self.library = library
        self._expert: dict[str, tuple[str, ...]] = {}

    async def build(
        self,
        record: SessionRecord,
        turns: Sequence[TurnRecord],
        *,
        trainee: str,
        identities: Sequence[tuple[str, str]] = (),
    ) -> Transcript:
        try:
            version: Version | None = await self.library.version(
                record.scenario_hash, record.scenario_id
            )
        except UnknownScenarioError:
            version = None
        entries, final, replayed = _entries(version, turns)
        state = final or record.state
        debrief = None
        if version is not None and state.finished and state.turn > 0:
            debrief = version.interview.debrief(state)
        title = record.scenario_id
        names: tuple[str, ...] = ()
        expert: tuple[str, ...] = ()
        if version is not None:
            scenario = version.loaded.scenario
            title = scenario.title.get(state.language) or next(iter(scenario.title.values()))
            names = tuple(n for n in TIMELINE if n in scenario.variables)
            expert = self.expert_visited(version)
        return Transcript(
            session_id=record.id,
            trainee=trainee,
            scenario_id=record.scenario_id,
            scenario_title=title,
            scenario_hash=record.scenario_hash,
            language=state.language,
            mode=state.mode,
            status=record.state.status,
            created_at=record.created_at,
            updated_at=record.updated_at,
            turns=tuple(entries),
            debrief=debrief,
            visited=state.visited,
            expert_visited=expert,
            timeline=names,
            replayed=replayed,
            identities=tuple(identities),
            scenario=version.loaded.scenario if version is not None else None,
        )

    def expert_visited(self, version: Version) -> tuple[str, ...]:
        key = version.loaded.content_hash
        if key not in self._expert:
            interview = version.interview
            scenario = interview.scenario
            result = interview.start(seed=0, language=scenario.languages[0])
            for choice_id in scenario.expert_path:
                if result.state.finished:
                    break
                try:
                    result = interview.press(result.state, choice_id)
                except EngineError:
                    break
            self._expert[key] = result.state.visited
        return self._expert[key]


def _entries(
    version: Version | None, turns: Sequence[TurnRecord]
) -> tuple[list[TurnEntry], SessionState | None, bool]:
    entries: list[TurnEntry] = []
    state: SessionState | None = None
    replayed = version is not None
    last_node: str | None = None
    last_scores: tuple[int, ...] = ()
    status = "active"
    for turn in turns:
        before = state
        after: SessionState | None = None
        if version is not None and replayed:
            try:
                after = (
                    journal.replay(version.interview, [turn])
                    if turn.kind == "start"
                    else journal.apply_recorded(version.interview, _given(before), turn)
                )
            except (EngineError, ValueError, KeyError, TypeError):
                replayed = False
        payload = turn.payload
        status = str(payload.get("status") or (after.status if after else status))
        if after is not None:
            status = after.status
        scores = tuple(int(x) for x in payload.get("scores") or ()) or (
            after.scores if after else last_scores
        )
        node = payload.get("node") or (after.node if after else last_node)
        entries.append(_entry(version, turn, before, after, last_node, node, status, scores))
        state = after if after is not None else state
        last_node, last_scores = node, scores
    return entries, (state if replayed else None), replayed


def _given(state: SessionState | None) -> SessionState:
    if state is None:
        raise ValueError("a turn before the start")
    return state


def _entry(
    version: Version | None,
    turn: TurnRecord,
    before: SessionState | None,
    after: SessionState | None,
    node_before: str | None,
    node: str | None,
    status: str,
    scores: tuple[int, ...],
) -> TurnEntry:
    p = turn.payload
    said = tuple(
        SaidLine(
            str(s.get("speaker", "")),
            s.get("speaker_name"),
            str(s.get("speaker_role", "persona")),
            str(s.get("text", "")),
            tuple(s.get("reveals") or ()),
        )
        for s in p.get("said") or ()
    )
    choice_id = p.get("choice")
    if turn.kind == "choice":
        choice_id = choice_id or turn.input
    language = str(p.get("language") or (after.language if after else "en"))
    if before is not None:
        language = before.language
    words: str | None = None
    referral = critical = None
    if version is not None and choice_id in version.interview.compiled.choices:
        choice = version.interview.compiled.choices[choice_id].choice
        if turn.kind == "choice":
            words = _local(choice.text, language)
        if choice.referral is not None:
            ref = choice.referral
            referral = Verdict(ref.code, ref.verdict, _local(ref.why, language))
        if choice.critical is not None:
            critical = Verdict(
                choice.critical.code, "critical", _local(choice.critical.why, language)
            )
    if turn.kind == "text":
        words = turn.input
    elif turn.kind == "hint":
        words = "/hint"
    elif turn.kind == "choice" and words is None:
        words = turn.input
    question = p.get("question")
    revealed: tuple[str, ...]
    noticed: tuple[str, ...] = ()
    if after is not None:
        earlier = {code for code, _ in before.revealed} if before else set()
        revealed = tuple(code for code, _ in after.revealed if code not in earlier)
        seen = set(before.noticed) if before else set()
        noticed = tuple(code for code in after.noticed if code not in seen)
    else:
        revealed = tuple(dict.fromkeys(code for line in said for code in line.reveals))
    variables: dict[str, Value] = {}
    if after is not None and version is not None:
        env = version.interview.compiled.env(after.values)
        variables = {name: env[name] for name in TIMELINE if name in env}
    return TurnEntry(
        seq=turn.seq,
        at=turn.at,
        kind=turn.kind,
        words=words,
        pressed=turn.kind == "choice",
        choice_id=choice_id,
        matched_by=p.get("matched_by"),
        match_score=p.get("match_score"),
        question=QuestionFound(
            str(question.get("form")),
            question.get("code"),
            int(question.get("points", 0)),
            bool(question.get("safety", False)),
            str(question.get("reason", "")),
        )
        if question
        else None,
        deltas=tuple(
            ScoreChange(
                str(d["code"]),
                str(d.get("dimension", "")),
                int(d["points"]),
                str(d.get("reason", "")),
                str(d.get("source", "")),
            )
            for d in p.get("deltas") or ()
        ),
        revealed=revealed,
        noticed=noticed,
        referral=referral,
        critical=critical,
        said=said,
        feedback=p.get("feedback"),
        hint=p.get("hint"),
        ended=p.get("ended"),
        node_before=node_before if turn.kind != "start" else None,
        node=node,
        status=status,
        scores=scores,
        variables=variables,
    )


def _local(text: dict[str, str], language: str) -> str:
    return text.get(language) or next(iter(text.values()))


# -- redaction ------------------------------------------------------------------------------

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_NUMBER = re.compile(r"\+?\d(?:[\d \t().\-/]*\d)?")
_WORD = re.compile(r"[^\W\d_][^\W_]*(?:['’-][^\W\d_]+)*")
#: capitalised words people open sentences with or use for courtesy (EN, PL), never names
_COMMON_WORDS = """
    i i'm i've i'll i'd ok okay hello hi please thank thanks sorry yes no we you he she they
    it my your our what where when why who how which whose is are do does did can could would
    will shall may might have has had tell let this that there here the a an and but so if
    mr mrs ms miss sir madam officer pan pani panu panią panem państwo proszę dziękuję dzień
    dobry tak nie czy co gdzie kiedy dlaczego kto jak który która które jest są ma mam może
    ja ty on ona my wy oni to ten ta tu tam i a ale więc jeśli przepraszam dobrze
    call come go give show say wait sit take look listen speak talk ask answer help need want
    know think understand describe explain remember sure right fine good well now then
    powiedz pokaż opowiedz proszę niech rozumiem teraz potem"""
_COMMON = frozenset(_COMMON_WORDS.split())


def vocabulary(text: str) -> frozenset[str]:
    """Every word of a scenario's text, folded: capitalised words it never uses are names."""
    return frozenset(w.casefold() for w in _WORD.findall(text))


def redact_text(text: str, known: frozenset[str] = frozenset()) -> str:
    """Names and numbers out of free text: e-mail addresses, digit runs (phone numbers,
    document numbers, amounts), and capitalised words that neither the scenario nor everyday
    openings use. Over-redacts rather than under: a report can live without a word."""
    text = _EMAIL.sub("[email]", text)
    text = _NUMBER.sub("[number]", text)

    def name(match: re.Match[str]) -> str:
        word = match.group(0)
        folded = word.casefold()
        if not word[0].isupper() or folded in _COMMON or folded in known:
            return word
        return "[name]"

    return _WORD.sub(name, text)


def redacted(transcript: Transcript, known: frozenset[str]) -> Transcript:
    """The transcript with names and numbers taken out of what the trainee typed."""
    turns = tuple(
        replace(t, words=redact_text(t.words, known)) if t.kind == "text" and t.words else t
        for t in transcript.turns
    )
    return replace(transcript, turns=turns, redacted=True)
