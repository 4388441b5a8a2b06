"""For any sequence of inputs on any shipped scenario: the state stays within the declared
bounds, every node reached exists, the points equal the sum of the turns' deltas, and
nothing raises."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.authoring.runner import interview_for
from bot.engine.engine import EngineError
from bot.scenario.codes import DIMENSION_CODES
from bot.scenario.loader import LoadedScenario, load_catalogue
from bot.scoring.interview import Interview, TurnResult
from tests.conftest import DIALOGUES, REPORT

CATALOGUE = load_catalogue([DIALOGUES])
INTERVIEWS: dict[str, tuple[LoadedScenario, Interview]] = {
    s.id: (s, interview_for(s)) for s in CATALOGUE
}
TEXTS = [
    "Tell me about your trip.",
    "You came here to work, didn't you?",
    "Why did you lie?",
    "Proszę opowiedzieć o pracy.",
    "",
    "🙂" * 50,
    "\u202e\u200d<b>hi</b>",
    "' OR 1=1; --",
    "x" * 4000,
]
Action = tuple[str, int]
actions = st.lists(
    st.tuples(st.sampled_from(["press", "press", "press", "say", "hint"]), st.integers(0, 50)),
    min_size=10,
    max_size=80,
)
CHECKED = {"runs": 0, "turns": 0}


def check(loaded: LoadedScenario, interview: Interview, result: TurnResult) -> None:
    state = result.state
    assert state.node in loaded.scenario.nodes
    assert all(node in loaded.scenario.nodes for node in state.visited)
    for variable, value in zip(interview.compiled.variables, state.values, strict=True):
        if variable.type == "bool":
            assert isinstance(value, bool)
        else:
            assert variable.min is None or value >= variable.min
            assert variable.max is None or value <= variable.max


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    scenario=st.sampled_from(sorted(INTERVIEWS)),
    language=st.sampled_from(["en", "pl"]),
    seed=st.integers(0, 2**31 - 1),
    steps=actions,
)
def test_any_inputs_keep_the_state_valid_and_the_points_accounted_for(
    scenario: str, language: str, seed: int, steps: list[Action]
) -> None:
    loaded, interview = INTERVIEWS[scenario]
    result = interview.start(seed=seed, language=language)
    totals = [0] * len(DIMENSION_CODES)
    for kind, pick in steps:
        if result.state.finished:
            break
        if kind == "press":
            open_now = interview.engine.open_choices(result.state, include_hidden=True)
            choice = open_now[pick % len(open_now)].choice.id if open_now else "nothing"
            try:
                result = interview.press(result.state, choice)
            except EngineError:
                assert not open_now  # only a choice that is not open may be refused
                continue
        elif kind == "say":
            result = interview.say(result.state, TEXTS[pick % len(TEXTS)])
        else:
            result = interview.ask_hint(result.state)
        for delta in result.deltas:
            totals[DIMENSION_CODES.index(delta.dimension)] += delta.points
        check(loaded, interview, result)
        CHECKED["turns"] += 1
    assert list(result.state.scores) == totals
    CHECKED["runs"] += 1


def test_report_the_invariant_checks() -> None:
    REPORT.append(
        f"engine invariants: {len(INTERVIEWS)} shipped scenarios, {CHECKED['runs']} random "
        f"sessions, {CHECKED['turns']:,} turns checked"
    )
