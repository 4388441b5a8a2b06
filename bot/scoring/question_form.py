"""What form a typed question takes, in English or Polish, and what it earns on Q.

Rule-based on purpose: every decision can be explained to a trainee ("a tag question at the
end suggests the answer") and checked by a trainer, which a statistical model could not do.
Points follow the domain reference (A.2, Q): Q+OPEN +1 for a plain open question (+2 is left to
authored choices), a closed question 0, Q-LEADING −2, Q-FORCED_CHOICE −1, Q-STACKED −1,
Q-WHY_BLAME −2, Q-LABEL −1. A closed question about immediate safety is never penalised.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from bot.scoring.question_rules import RULES, LanguageRules, detect_language

MAX_CHARS = 2000


class QuestionForm(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    LEADING = "leading"
    STACKED = "stacked"
    FORCED_CHOICE = "forced_choice"
    WHY_BLAME = "why_blame"
    LEGAL_LABEL = "legal_label"
    STATEMENT = "statement"


@dataclass(frozen=True, slots=True)
class QuestionAssessment:
    form: QuestionForm
    code: str | None
    points: int
    safety: bool
    language: str
    reason: str


_SCORING: dict[QuestionForm, tuple[str | None, int]] = {
    QuestionForm.OPEN: ("Q+OPEN", 1),
    QuestionForm.CLOSED: (None, 0),
    QuestionForm.LEADING: ("Q-LEADING", -2),
    QuestionForm.STACKED: ("Q-STACKED", -1),
    QuestionForm.FORCED_CHOICE: ("Q-FORCED_CHOICE", -1),
    QuestionForm.WHY_BLAME: ("Q-WHY_BLAME", -2),
    QuestionForm.LEGAL_LABEL: ("Q-LABEL", -1),
    QuestionForm.STATEMENT: (None, 0),
}
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'"})
_CONTROL = re.compile(r"[\u0000-\u0008\u000b-\u001f\u007f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_SPACES = re.compile(r"\s+")


def classify_question(text: str, language: str | None = None) -> QuestionAssessment:
    cleaned = _SPACES.sub(" ", _CONTROL.sub("", text[:MAX_CHARS].translate(_APOSTROPHES))).strip()
    lang = detect_language(cleaned, language)
    form, reason, safety = _classify(cleaned, RULES[lang])
    code, points = _SCORING[form]
    if safety and form is QuestionForm.CLOSED:
        reason = "A closed question about immediate safety is justified."
    return QuestionAssessment(form, code, points, safety, lang, reason)


def _classify(text: str, rules: LanguageRules) -> tuple[QuestionForm, str, bool]:
    lowered = text.casefold()
    safety = bool(rules.safety.search(lowered))
    asking, questions = rules.questions(lowered)
    if questions == 0:
        if rules.assertion.search(lowered):
            return (
                QuestionForm.LEADING,
                "An assertion put to the person suggests the answer.",
                False,
            )
        return QuestionForm.STATEMENT, "No question was asked.", False
    if questions >= 2:
        return (
            QuestionForm.STACKED,
            "Several questions in one message: ask one at a time.",
            safety,
        )
    if rules.label.search(lowered):
        return (
            QuestionForm.LEGAL_LABEL,
            "Legal labels shut the conversation down; many people do not see themselves so.",
            False,
        )
    if rules.why_blame.search(lowered):
        return QuestionForm.WHY_BLAME, "A 'why didn't you' question implies blame.", False
    if any(
        rules.leading.search(sentence) or rules.declarative_question(sentence)
        for sentence in asking
    ):
        return QuestionForm.LEADING, "The question suggests its own answer.", False
    if not safety and any(rules.forced_choice.search(sentence) for sentence in asking):
        return (
            QuestionForm.FORCED_CHOICE,
            "Offering alternatives the person has not mentioned narrows the answer.",
            False,
        )
    if rules.open.match(asking[0]):
        return QuestionForm.OPEN, "An open question invites the person's own account.", False
    return QuestionForm.CLOSED, "A yes/no question.", safety
