"""The engine on the mini scenario: transitions, guards, updates, bounds, determinism."""

from __future__ import annotations

import json
import sys
from dataclasses import replace

import pytest

from bot.engine.compiled import CompiledScenario
from bot.engine.engine import ChoiceNotOpenError, Engine, EngineError, SessionFinishedError
from bot.engine.state import SessionState
from bot.scenario.loader import load_scenario_text
from bot.scenario.synthetic import synthetic_yaml


def values(engine: Engine, state: SessionState) -> dict[str, object]:
    return engine.compiled.env(state.values)


def test_start_says_the_opening_lines_and_offers_buttons(engine: Engine) -> None:
    step = engine.start(seed=1, language="en")
    assert [s.line_id for s in step.said] == ["bus.scene", "bus.companion"]
    assert step.said[0].speaker_role == "narrator" and step.said[0].speaker_name is None
    assert step.said[1].speaker_name == "Companion"
    assert [b.id for b in engine.buttons(step.state)] == ["separate", "let_him"]
    assert step.state.visited == ("bus",)
    assert dict(step.state.revealed) == {
        "IND.BRD_DOCS_HELD_BY_COMPANION": 0,
        "IND.BRD_COMPANION_ANSWERS": 0,
    }


def test_polish_is_served_in_polish(engine: Engine) -> None:
    step = engine.start(seed=1, language="pl")
    assert step.said[1].text == "Mogę jej tłumaczyć, panie władzo."
    assert step.said[1].speaker_name == "Towarzysz"


def test_a_choice_updates_variables_says_its_reply_and_moves(engine: Engine) -> None:
    state = engine.start(seed=1, language="en").state
    step = engine.choose(state, "separate")
    assert values(engine, step.state) == {"trust": 2, "fear": 2, "controller_near": False}
    assert [s.line_id for s in step.said] == ["separate.interp", "talk.ana"]
    assert step.state.node == "talk" and step.state.turn == 1
    assert step.state.path == ("separate",)
    assert set(step.state.noticed) == {
        "IND.BRD_DOCS_HELD_BY_COMPANION",
        "IND.BRD_COMPANION_ANSWERS",
    }


def test_state_dependent_variants(engine: Engine) -> None:
    state = engine.start(seed=1, language="en").state
    low = engine.choose(state, "separate")
    assert low.said[-1].text.startswith("I visit a friend")
    high = engine.choose(replace(state, values=(3, 2, False)), "separate")
    assert high.said[-1].text == "I can talk now. He has my passport."
    assert "IND.DOC_RETAINED" in high.revealed


def test_guarded_choice_opens_only_when_its_condition_holds(engine: Engine) -> None:
    state = engine.start(seed=1, language="en").state
    at_talk = engine.choose(replace(state, values=(0, 3, False)), "separate").state
    assert values(engine, at_talk)["trust"] == 1
    assert "ask_money" not in [b.id for b in engine.buttons(at_talk)]
    with pytest.raises(ChoiceNotOpenError):
        engine.choose(at_talk, "ask_money")
    opened = engine.choose(at_talk, "ask_trip").state
    assert "ask_money" in [b.id for b in engine.buttons(opened)]


def test_once_choices_disappear_and_staying_does_not_repeat_the_node(engine: Engine) -> None:
    state = engine.choose(engine.start(seed=1, language="en").state, "separate").state
    step = engine.choose(state, "ask_trip")
    assert step.state.node == "talk"
    assert [s.line_id for s in step.said] == ["trip.ana"]
    assert "ask_trip" not in [b.id for b in engine.buttons(step.state)]
    with pytest.raises(ChoiceNotOpenError):
        engine.choose(step.state, "ask_trip")


def test_bounds_clamp_updates(engine: Engine) -> None:
    state = engine.start(seed=1, language="en").state
    state = replace(state, values=(5, 4, True))
    step = engine.choose(state, "let_him")  # fear +2 from 4 -> capped at 5
    assert values(engine, step.state)["fear"] == 5


def test_critical_error_and_automatic_next_reach_an_ending(engine: Engine) -> None:
    state = engine.start(seed=1, language="en").state
    step = engine.choose(state, "let_him")
    assert step.state.critical == ("CE.CONTROLLER_INTERPRETS",)
    assert step.state.visited == ("bus", "scripted", "end_bad")
    assert step.ended is not None and step.ended.verdict == "bad"
    assert step.state.status == "ended" and step.state.outcome == "lost"
    with pytest.raises(SessionFinishedError):
        engine.choose(step.state, "separate")
    assert engine.buttons(step.state) == ()


def test_referral_decisions_are_recorded(engine: Engine) -> None:
    state = engine.start(seed=1, language="en").state
    for choice in ("separate", "ask_trip", "ask_money", "refer_kcik"):
        state = engine.choose(state, choice).state
    assert state.referrals == (("REF.KCIK", "right"),)
    assert state.outcome == "referred"


def test_fallback_is_in_character_counts_misses_and_is_deterministic(engine: Engine) -> None:
    state = engine.start(seed=7, language="en").state
    first = engine.fallback(state)
    assert first.said[0].speaker == "ana" and first.state.misses == 1
    assert first.state.node == state.node and first.state.path == state.path
    again = engine.fallback(state)
    assert again == first


def test_the_same_inputs_give_the_same_session(engine: Engine) -> None:
    def play() -> SessionState:
        state = engine.start(seed=42, language="pl").state
        state = engine.fallback(state).state
        for choice in ("separate", "ask_trip", "ask_money", "refer_kcik"):
            state = engine.choose(state, choice).state
        return state

    assert play() == play()


def test_state_round_trips_through_json(engine: Engine) -> None:
    state = engine.choose(engine.start(seed=3, language="en").state, "separate").state
    data = json.loads(json.dumps(state.to_dict()))
    assert SessionState.from_dict(data) == state


def test_start_anywhere_with_preset_values(engine: Engine) -> None:
    step = engine.start(
        seed=1, language="en", node="talk", preset={"trust": 9, "controller_near": 0}
    )
    assert step.state.node == "talk"
    assert values(engine, step.state) == {"trust": 5, "fear": 3, "controller_near": False}
    with pytest.raises(EngineError, match="no variable 'courage'"):
        engine.start(seed=1, language="en", preset={"courage": 1})
    with pytest.raises(EngineError, match="no node"):
        engine.start(seed=1, language="en", node="nowhere")
    with pytest.raises(EngineError, match="not available in 'de'"):
        engine.start(seed=1, language="de")


def test_an_automatic_loop_is_stopped_not_spun_forever(mini_source: str) -> None:
    looping = mini_source.replace("    next: end_bad", "    next: scripted")
    loaded = load_scenario_text(looping, "loop.yaml")
    engine = Engine(CompiledScenario(loaded.scenario, loaded.content_hash))
    state = engine.start(seed=1, language="en").state
    with pytest.raises(EngineError, match="a loop"):
        engine.choose(state, "let_him")


def test_sessions_share_one_machine_and_stay_small() -> None:
    loaded = load_scenario_text(synthetic_yaml(300), "synthetic")
    compiled = CompiledScenario(loaded.scenario, loaded.content_hash)
    engine = Engine(compiled)
    machine = compiled.machine
    states = [engine.start(seed=i, language="en").state for i in range(50)]
    states = [engine.choose(s, "c0a").state for s in states]
    assert compiled.machine is machine and len(machine.models) == 1
    assert sys.getsizeof(states[0]) < 200
    assert {s.node for s in states} == {"n1"}
