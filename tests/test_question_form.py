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

from bot.scoring.question_form import QuestionForm, classify_question
from tests.conftest import REPORT

DATA = Path(__file__).parent / "data"
CORPUS: list[dict[str, Any]] = yaml.safe_load((DATA / "questions.yaml").read_text("utf-8"))
#: written after the rules were tuned and never used to tune them: the honest figure
HELD_OUT: list[dict[str, Any]] = yaml.safe_load(
    (DATA / "questions_heldout.yaml").read_text("utf-8")
)


def test_corpus_is_broad() -> None:
    assert len(CORPUS) >= 80
    per = Counter((c["lang"], c["form"]) for c in CORPUS)
    for lang in ("en", "pl"):
        for form in QuestionForm:
            assert per[(lang, form.value)] >= 5, (lang, form)


def accuracy(cases: list[dict[str, Any]], name: str) -> tuple[float, dict[str, float]]:
    hits: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    confusion: Counter[tuple[str, str]] = Counter()
    for case in cases:
        result = classify_question(case["text"], case["lang"])
        ok = result.form.value == case["form"] and result.safety == bool(case.get("safety", False))
        totals[case["lang"]] += 1
        hits[case["lang"]] += ok
        if not ok:
            expected = case["form"] + (" (safety)" if case.get("safety") else "")
            got = result.form.value + (" (safety)" if result.safety else "")
            confusion[(expected, got)] += 1
    overall = sum(hits.values()) / sum(totals.values())
    per_language = {lang: hits[lang] / totals[lang] for lang in totals}
    REPORT.append(
        f"question classifier accuracy on {name}: {overall:.1%} "
        f"({sum(hits.values())}/{sum(totals.values())}); "
        + ", ".join(f"{lang} {acc:.1%}" for lang, acc in sorted(per_language.items()))
    )
    for (expected, got), count in confusion.most_common():
        REPORT.append(f"  {expected} taken for {got}: {count}")
    return overall, per_language


def test_accuracy_on_the_labelled_corpus() -> None:
    overall, per_language = accuracy(CORPUS, "the tuning corpus")
    assert overall >= 0.90
    assert all(acc >= 0.85 for acc in per_language.values())


def test_accuracy_on_held_out_questions() -> None:
    overall, _ = accuracy(HELD_OUT, "held-out questions")
    combined, _ = accuracy(CORPUS + HELD_OUT, "all labelled questions")
    assert overall >= 0.85
    assert combined >= 0.90


@pytest.mark.parametrize(
    ("text", "code", "points"),
    [
        ("Tell me, in your own words, how you came to be working here.", "Q+OPEN", 1),
        ("Your employer took your passport, didn't he?", "Q-LEADING", -2),
        (
            "Did you come to work or as a tourist, who paid, and where are you staying?",
            "Q-STACKED",
            -1,
        ),
        ("Why didn't you just walk away?", "Q-WHY_BLAME", -2),
        ("Are you a victim of trafficking under article 189a?", "Q-LABEL", -1),
        ("Did he hit you with a belt or with his fists?", "Q-FORCED_CHOICE", -1),
        ("Are you hurt, or do you need a doctor right now?", None, 0),
    ],
)
def test_the_reference_examples_get_their_codes(text: str, code: str | None, points: int) -> None:
    result = classify_question(text, "en")
    assert (result.code, result.points) == (code, points)
    assert result.reason


def test_safety_questions_are_never_penalised() -> None:
    for case in CORPUS:
        if case.get("safety"):
            result = classify_question(case["text"], case["lang"])
            assert result.points == 0 and result.safety, case["text"]


@pytest.mark.parametrize(
    ("text", "hint", "expected"),
    [
        ("Czy jest pani ranna?", "en", "pl"),
        ("Where did you sleep?", "pl", "en"),
        ("Proszę opowiedzieć o podróży", None, "pl"),
        ("ok", "pl", "pl"),
        ("ok", None, "en"),
    ],
)
def test_language_detection(text: str, hint: str | None, expected: str) -> None:
    assert classify_question(text, hint).language == expected


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_never_raises(text: str) -> None:
    result = classify_question(text, "en")
    assert isinstance(result.form, QuestionForm) and result.language in ("en", "pl")


@pytest.mark.parametrize(
    "text",
    [
        "?" * 100_000,
        "why " * 25_000,
        "\u202e\u200b" * 1000 + "Tell me?",
        "a, b, c, " * 10_000 + "and where did you go?",
    ],
)
def test_hostile_input_is_handled_quickly(text: str) -> None:
    started = time.perf_counter()
    classify_question(text, "en")
    assert time.perf_counter() - started < 1.0
