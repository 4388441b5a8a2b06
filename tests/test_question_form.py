"""The question-form classifier: accuracy on a labelled corpus, the reference's examples, safety."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.scoring.question_form import (
    SCORING,
    QuestionAssessment,
    QuestionForm,
    classify_question,
    detect_language,
)
from tests.conftest import REPORT

DATA = Path(__file__).parent / "data"
CORPUS: list[dict[str, Any]] = yaml.safe_load((DATA / "questions.yaml").read_text("utf-8"))
#: written after the rules were first tuned and never used to tune them: the honest figure
HELD_OUT: list[dict[str, Any]] = yaml.safe_load(
    (DATA / "questions_heldout.yaml").read_text("utf-8")
)
FORMS = {form.value for form in QuestionForm}


def test_corpus_is_broad_and_well_formed() -> None:
    assert len(CORPUS) >= 120
    assert sum(case["lang"] == "pl" for case in CORPUS) >= 50
    for case in CORPUS:
        assert set(case) <= {"text", "lang", "form", "safety"}, case
        assert case["lang"] in ("en", "pl") and case["form"] in FORMS, case
        assert not case.get("safety") or case["form"] == "closed", case
    per = Counter((case["lang"], case["form"]) for case in CORPUS)
    for lang in ("en", "pl"):
        for form in QuestionForm:
            assert per[(lang, form.value)] >= 6, (lang, form)
    texts = [case["text"] for case in CORPUS]
    assert len(texts) == len(set(texts)), "duplicate examples"


def _label(form: str, safety: bool) -> str:
    return form + (" (safety)" if safety else "")


def accuracy(cases: list[dict[str, Any]], name: str) -> tuple[float, dict[str, float]]:
    """Share of cases whose form, safety flag and language all match; printed with confusions."""
    hits: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    confusion: Counter[tuple[str, str]] = Counter()
    for case in cases:
        result = classify_question(case["text"], case["lang"])
        expected = _label(case["form"], bool(case.get("safety", False)))
        got = _label(result.form.value, result.safety)
        ok = expected == got and result.language == case["lang"]
        totals[case["lang"]] += 1
        hits[case["lang"]] += ok
        if not ok:
            confusion[(expected, got if result.language == case["lang"] else "wrong language")] += 1
    overall = sum(hits.values()) / sum(totals.values())
    per_language = {lang: hits[lang] / totals[lang] for lang in totals}
    lines = [
        f"question classifier accuracy on {name}: {overall:.1%} "
        f"({sum(hits.values())}/{sum(totals.values())}); "
        + ", ".join(
            f"{lang} {acc:.1%} ({hits[lang]}/{totals[lang]})"
            for lang, acc in sorted(per_language.items())
        )
    ]
    lines += [f"  {exp} taken for {got}: {n}" for (exp, got), n in confusion.most_common()]
    for line in lines:
        print(line)
    REPORT.extend(lines)
    return overall, per_language


def test_accuracy_on_the_labelled_corpus() -> None:
    overall, per_language = accuracy(CORPUS, "the labelled corpus")
    assert overall >= 0.90
    assert set(per_language) == {"en", "pl"}
    assert all(acc >= 0.85 for acc in per_language.values()), per_language


def test_accuracy_on_held_out_questions() -> None:
    overall, _ = accuracy(HELD_OUT, "held-out questions")
    assert overall >= 0.85


REFERENCE_Q = [
    # A.2 Q, good examples 1-5
    ("Tell me, in your own words, how you came to be working here.", "Q+OPEN", 1),
    ("You said the boss 'looks after' the passports. Tell me more about that.", "Q+OPEN", 1),
    ("What happened after you landed in Warsaw?", "Q+OPEN", 1),
    (
        "Let me check I have understood: you were told the job was in a hotel, and on arrival "
        "you were driven to a farm. Is that right?",
        None,
        0,
    ),
    ("Are you hurt, or do you need a doctor right now?", None, 0),
    # A.2 Q, bad examples 1-5
    ("Your employer took your passport, didn't he?", "Q-LEADING", -2),
    ("Did you come to work or as a tourist, who paid, and where are you staying?", "Q-STACKED", -1),
    ("Why didn't you just walk away?", "Q-WHY_BLAME", -2),
    ("Are you a victim of trafficking under article 189a?", "Q-LABEL", -1),
    ("Did he hit you with a belt or with his fists?", "Q-FORCED_CHOICE", -1),
]


@pytest.mark.parametrize(("text", "code", "points"), REFERENCE_Q)
def test_the_reference_q_examples_get_their_codes(text: str, code: str | None, points: int) -> None:
    result = classify_question(text, "en")
    assert (result.code, result.points) == (code, points), result
    assert result.language == "en" and result.reason


@pytest.mark.parametrize(
    ("text", "form"),
    [
        # the brief's Polish counterparts
        ("Pracodawca zabrał Pani paszport, prawda?", QuestionForm.LEADING),
        ("dlaczego nie uciekłaś", QuestionForm.WHY_BLAME),
        ("czemu się zgodziłaś", QuestionForm.WHY_BLAME),
        ("Czy jest pani ofiarą handlu ludźmi z art. 189a?", QuestionForm.LEGAL_LABEL),
        ("Czy to jest praca przymusowa?", QuestionForm.LEGAL_LABEL),
        ("Czy to był pasek czy pięści?", QuestionForm.FORCED_CHOICE),
        ("Czy przyjechała pani do pracy, kto zapłacił i gdzie pani mieszka?", QuestionForm.STACKED),
        ("Proszę opowiedzieć, jak to się stało.", QuestionForm.OPEN),
        ("Czy może Pani opowiedzieć o pracy?", QuestionForm.OPEN),
        ("Dziękuję, że mi Pani to mówi.", QuestionForm.STATEMENT),
        # T, S, R, L, I and F sections: the form of their example lines (other dimensions
        # such as T-GRAPHIC or R-THREAT are scored elsewhere)
        ("You can take a break at any time. Just write 'stop' and we'll pause.", "statement"),
        ("Thank you for telling me this. I know it isn't easy.", QuestionForm.STATEMENT),
        (
            "Many people remember things in pieces after a hard time. Tell me what you remember, "
            "in any order.",
            QuestionForm.OPEN,
        ),
        ("Would you prefer to talk with a female officer?", QuestionForm.CLOSED),
        ("If you did not go back there today, where would you feel safe tonight?", "open"),
        ("If you told your boss tomorrow that you want to leave, what would happen?", "open"),
        ("You said you can't go out alone. What happens when you need to go to the shop?", "open"),
        ("Could you tell me in your own words what I explained about the three months?", "open"),
        ("Can you get your passport back whenever you ask for it?", QuestionForm.CLOSED),
        ("You knew what kind of job it was, so what did you expect?", QuestionForm.WHY_BLAME),
        ("Documents taken — yes or no? Debt — yes or no? Violence — yes or no?", "stacked"),
        (
            "My name is Anna, I'm a Border Guard officer. Part of my job is to make sure "
            "travellers are safe and not being exploited. May I ask you some questions?",
            QuestionForm.CLOSED,
        ),
        (
            "I have to write down what you tell me and it can go to a prosecutor. It will not be "
            "shared with your employer.",
            QuestionForm.STATEMENT,
        ),
        ("Tell me the truth or you'll be deported.", QuestionForm.STATEMENT),
    ],
)
def test_reference_lines_in_both_languages(text: str, form: str) -> None:
    assert classify_question(text).form == form


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Are you hurt, or do you need a doctor right now?", "en"),
        ("Is anyone waiting for you or checking where you are right now?", "en"),
        ("Has anyone threatened you, or someone in your family?", "en"),
        ("Are you hurt? Do you need a doctor?", "en"),
        ("Czy jest Pan ranny?", "pl"),
        ("Czy potrzebuje pani lekarza?", "pl"),
        ("czy ma pani gdzie spać dziś w nocy", "pl"),
    ],
)
def test_safety_questions_are_closed_and_never_penalised(text: str, language: str) -> None:
    result = classify_question(text, language)
    assert (result.form, result.code, result.points, result.safety) == (
        QuestionForm.CLOSED,
        None,
        0,
        True,
    )
    assert result.language == language


def test_every_safety_example_in_the_corpus_scores_zero() -> None:
    for case in CORPUS:
        if case.get("safety"):
            result = classify_question(case["text"], case["lang"])
            assert result.points == 0 and result.safety, case["text"]


def test_safety_wording_does_not_excuse_other_faults() -> None:
    stacked = classify_question("Are you safe, and who paid for your ticket?", "en")
    assert (stacked.form, stacked.safety) == (QuestionForm.STACKED, False)
    leading = classify_question("He hurt you, didn't he?", "en")
    assert (leading.code, leading.points, leading.safety) == ("Q-LEADING", -2, False)


def test_points_and_codes_follow_the_reference() -> None:
    assert {form: SCORING[form] for form in QuestionForm} == {
        QuestionForm.OPEN: ("Q+OPEN", 1),
        QuestionForm.CLOSED: (None, 0),
        QuestionForm.LEADING: ("Q-LEADING", -2),
        QuestionForm.FORCED_CHOICE: ("Q-FORCED_CHOICE", -1),
        QuestionForm.STACKED: ("Q-STACKED", -1),
        QuestionForm.WHY_BLAME: ("Q-WHY_BLAME", -2),
        QuestionForm.LEGAL_LABEL: ("Q-LABEL", -1),
        QuestionForm.STATEMENT: (None, 0),
    }
    assert [form.value for form in QuestionForm] == [
        "open",
        "closed",
        "leading",
        "stacked",
        "forced_choice",
        "why_blame",
        "legal_label",
        "statement",
    ]
    assert (
        isinstance(QuestionForm.OPEN, str) and QuestionForm("why_blame") is QuestionForm.WHY_BLAME
    )
    for case in CORPUS:
        result = classify_question(case["text"], case["lang"])
        assert (result.code, result.points) == SCORING[result.form], case["text"]


@pytest.mark.parametrize(
    ("text", "hint", "expected"),
    [
        ("Czy jest pani ranna?", "en", "pl"),
        ("Czy jest pani ranna?", None, "pl"),
        ("Where did you sleep?", "pl", "en"),
        ("Where did you sleep?", None, "en"),
        ("Proszę opowiedzieć o podróży", None, "pl"),
        ("co sie stalo potem", None, "pl"),
        ("prosze opowiedziec o pracy", "en", "pl"),
        ("Dlaczego pan nie uciekł?", None, "pl"),
        ("You get 800 zł a month, so what is left after rent?", "en", "en"),
        ("Marek?", "pl", "pl"),
        ("ok", "pl", "pl"),
        ("ok", None, "en"),
        ("", None, "en"),
        ("ok", "de", "en"),
    ],
)
def test_language_detection(text: str, hint: str | None, expected: str) -> None:
    assert detect_language(text, hint) == expected
    assert classify_question(text, hint).language == expected


def test_polish_rules_apply_to_polish_text_whatever_the_hint() -> None:
    result = classify_question("Szef zabrał pani paszport, prawda?", "en")
    assert (result.language, result.code) == ("pl", "Q-LEADING")


def _valid(result: QuestionAssessment) -> bool:
    return (
        isinstance(result.form, QuestionForm)
        and (result.code, result.points) == SCORING[result.form]
        and (not result.safety or result.form is QuestionForm.CLOSED)
        and result.language in ("en", "pl")
        and bool(result.reason)
        # the classifier's catch-all fallback would hide a bug: it must never be needed
        and result.reason != "The message could not be analysed."
    )


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400), st.sampled_from([None, "en", "pl", "xx", ""]))
def test_arbitrary_text_never_raises(text: str, hint: str | None) -> None:
    assert _valid(classify_question(text, hint))


_PIECES = st.sampled_from(
    [
        "why",
        "didn't",
        "czy",
        "nie",
        "or",
        "and",
        ",",
        "?",
        "??",
        " ",
        "\n",
        "prawda?",
        "tell me",
        "ofiarą handlu ludźmi",
        "\u202e",
        "\u200b",
        "\x00",
        "😀",
        "ł",
        "'",
        "Pani",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_PIECES, max_size=60).map(" ".join))
def test_keyword_soup_never_raises(text: str) -> None:
    assert _valid(classify_question(text))


@pytest.mark.parametrize(
    "text",
    [
        "?" * 100_000,
        "why " * 25_000,
        "\u202e\u200b" * 1000 + "Tell me?",
        "a, b, c, " * 10_000 + "and where did you go?",
        "or " * 50_000,
        "czy " * 25_000 + "?",
        "x" * 100_000,
        "did you " * 12_500 + "?",
        "😀" * 100_000,
        "\n" * 100_000,
    ],
)
def test_long_hostile_input_is_handled_quickly(text: str) -> None:
    started = time.perf_counter()
    result = classify_question(text, "en")
    assert time.perf_counter() - started < 0.5
    assert _valid(result)


def test_only_the_start_of_a_long_message_is_read() -> None:
    text = "Tell me about your journey. " + "x " * 50_000 + "Why didn't you run?"
    assert classify_question(text, "en").form is QuestionForm.OPEN
