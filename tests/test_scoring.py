"""Scoring: deltas with codes and reasons, indicators, critical errors, and the debrief."""

from __future__ import annotations

import pytest

from bot.engine.compiled import CompiledScenario
from bot.engine.engine import Engine
from bot.scenario.loader import LoadedScenario
from bot.scoring.interview import Interview, TurnResult


@pytest.fixture
def interview(mini: LoadedScenario) -> Interview:
    return Interview(Engine(CompiledScenario(mini.scenario, mini.content_hash), mini.folder))


def codes(result: TurnResult) -> list[tuple[str, int]]:
    return [(d.code, d.points) for d in result.deltas]


def play(interview: Interview, *choices: str) -> TurnResult:
    result = interview.start(seed=1, language="en")
    for choice in choices:
        result = interview.press(result.state, choice)
    return result


def test_expert_points_come_from_the_expert_path(interview: Interview) -> None:
    # separate: S+2, L+1, I+1 (follow-up); ask_trip: Q+2, I+1; ask_money: Q+2, I+1; refer: P+2
    by_dim = dict(zip("QTSRLIFP", [0] * 8, strict=True))
    from bot.scenario.codes import DIMENSION_CODES

    for code, points in zip(DIMENSION_CODES, interview.expert_points, strict=True):
        by_dim[code] = points
    assert by_dim == {"Q": 4, "T": 0, "S": 2, "R": 0, "L": 1, "I": 3, "F": 0, "P": 2}


def test_button_deltas_carry_codes_and_reasons(interview: Interview) -> None:
    result = play(interview, "separate")
    assert codes(result) == [("S+ROUTINE_SEPARATE", 2), ("L+PRO", 1), ("I+FOLLOWUP", 1)]
    reasons = [d.reason for d in result.deltas]
    assert reasons[0] == "Separation as a routine does not alert him."
    assert "IND.BRD_DOCS_HELD_BY_COMPANION" in reasons[2]


def test_the_expert_path_passes_with_full_marks(interview: Interview) -> None:
    result = play(interview, "separate", "ask_trip", "ask_money", "refer_kcik")
    debrief = result.debrief
    assert debrief is not None and result.ended is not None
    assert debrief.passed and debrief.overall == 100.0
    assert debrief.indicators_missed == ()
    assert [d.code for d in debrief.decisions] == ["REF.KCIK"]
    assert [s.choice_id for s in debrief.trainee_path] == [s.choice_id for s in debrief.expert_path]


def test_a_critical_error_costs_five_caps_the_grade_and_fails(interview: Interview) -> None:
    result = play(interview, "let_him")
    assert ("CE.CONTROLLER_INTERPRETS", -5) in codes(result)
    debrief = result.debrief
    assert debrief is not None
    assert not debrief.passed
    assert debrief.overall <= 40
    assert [c.code for c in debrief.critical] == ["CE.CONTROLLER_INTERPRETS"]
    l_dim = next(d for d in debrief.dimensions if d.code == "L")
    assert l_dim.points == -5 and l_dim.percent == 0.0


def test_unfollowed_indicators_are_charged_when_their_window_closes(interview: Interview) -> None:
    # accuse right away: the two companion indicators revealed at turn 0 were never followed up
    result = play(interview, "separate")
    result = interview.press(result.state, "accuse")
    assert result.ended is not None
    missed = [d for d in result.deltas if d.code == "I-MISSED"]
    assert {d.reason.split(" ")[3] for d in missed} == {"IND.BRD_SCRIPTED_STORY"}
    assert missed[0].points == -1  # scripted story is a medium indicator
    assert result.debrief is not None
    assert result.debrief.indicators_missed == ("IND.BRD_SCRIPTED_STORY",)


def test_strong_indicators_cost_two_when_missed(interview: Interview) -> None:
    result = play(interview, "let_him")
    missed = {d.reason.split(" ")[3]: d.points for d in result.deltas if d.code == "I-MISSED"}
    assert missed == {"IND.BRD_DOCS_HELD_BY_COMPANION": -2, "IND.BRD_COMPANION_ANSWERS": -2}


def test_typed_questions_are_scored_on_their_form_not_the_buttons_q(interview: Interview) -> None:
    at_talk = play(interview, "separate")
    typed = interview.say(at_talk.state, "Tell me about your trip, in your own words.")
    assert typed.matched_by == "text" and typed.choice_id == "ask_trip"
    assert ("Q+OPEN", 2) not in codes(typed)  # the button's authored Q entry is replaced...
    assert typed.resolution is not None
    assert typed.resolution.assessment.code == "Q+OPEN"  # ...by the form found
    assert any(d.code == "Q+OPEN" and d.source == "question" for d in typed.deltas)


def test_leading_free_text_loses_q_points_even_when_understood(interview: Interview) -> None:
    at_talk = play(interview, "separate")
    typed = interview.say(at_talk.state, "A man paid your ticket, didn't he?")
    assert typed.resolution is not None and typed.resolution.assessment.code == "Q-LEADING"
    assert sum(d.points for d in typed.deltas if d.dimension == "Q") < 0


def test_unmatched_text_gets_an_in_character_reply_then_a_hint(interview: Interview) -> None:
    start = interview.start(seed=1, language="en")
    first = interview.say(start.state, "what is the weather like in Chisinau")
    assert first.choice_id is None and first.said[0].speaker == "ana"
    assert not first.hint_due
    second = interview.say(first.state, "do you like football")
    assert second.hint_due and second.hint is not None and "Talk to Ana" in second.hint
    assert second.state.node == start.state.node


def test_hints_cost_points_at_the_debrief(interview: Interview) -> None:
    result = interview.start(seed=1, language="en")
    hinted = interview.ask_hint(result.state)
    assert hinted.state.hints == 1 and hinted.hint is not None
    state = hinted.state
    for choice in ("separate", "ask_trip", "ask_money", "refer_kcik"):
        state = interview.press(state, choice).state
    debrief = interview.debrief(state)
    assert debrief.overall == 100.0 - interview.scenario.scoring.hint_cost
    assert debrief.hints == 1


def test_scores_equal_the_sum_of_deltas(interview: Interview) -> None:
    result = interview.start(seed=3, language="pl")
    total = 0
    for action in ("separate", "text:Proszę opowiedzieć o podróży", "ask_money", "refer_kcik"):
        if action.startswith("text:"):
            result = interview.say(result.state, action[5:])
        else:
            result = interview.press(result.state, action)
        total += sum(d.points for d in result.deltas)
    assert sum(result.state.scores) == total


def test_automatic_reasons_are_in_the_session_language(mini: LoadedScenario) -> None:
    interview = Interview(Engine(CompiledScenario(mini.scenario, mini.content_hash), mini.folder))
    result = interview.start(seed=1, language="pl")
    result = interview.press(result.state, "separate")
    follow_up = next(d for d in result.deltas if d.code == "I+FOLLOWUP")
    assert follow_up.reason.startswith("Dopytano o: ")
    typed = interview.say(result.state, "Dlaczego pani kłamała?")
    blame = next(d for d in typed.deltas if d.code == "Q-WHY_BLAME")
    assert blame.reason == "„dlaczego pani kłamała” sugeruje, że to ta osoba jest winna."
    open_question = interview.say(result.state, "Co się wydarzyło w autobusie?")
    assert [d.reason for d in open_question.deltas if d.code == "Q+OPEN"] == [
        "Pytanie otwarte zachęca do opowieści własnymi słowami."
    ]
