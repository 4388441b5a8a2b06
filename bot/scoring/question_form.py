"""What form a typed question takes, in English or Polish, and what it earns on Q.

Rule-based on purpose: every decision can be explained to a trainee ("a tag question at the
end suggests the answer") and checked by a trainer, which a statistical model could not do.
Points follow the domain reference (A.2, Q): Q+OPEN +1 for a plain open question (+2 is left to
authored choices), a closed question 0, Q-LEADING −2, Q-FORCED_CHOICE −1, Q-STACKED −1,
Q-WHY_BLAME −2, Q-LABEL −1. A closed question about immediate safety is never penalised.

The patterns live in question_rules_en and question_rules_pl; this module holds the decision
order: no question → statement; several questions → stacked (unless every one of them is a
safety check); then legal label, why-blame, leading, forced choice; then open or closed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from itertools import pairwise

from bot.scoring import question_rules_en as en
from bot.scoring import question_rules_pl as pl

#: only the start of a message is analysed: bounded time on any input
MAX_CHARS = 2000


class QuestionForm(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    LEADING = "leading"
    STACKED = "stacked"
    FORCED_CHOICE = "forced_choice"
    WHY_BLAME = "why_blame"
    LEGAL_LABEL = "legal_label"
    STATEMENT = "statement"  # not a question: an introduction, an explanation, an acknowledgement


@dataclass(frozen=True, slots=True)
class QuestionAssessment:
    form: QuestionForm
    code: str | None
    points: int
    safety: bool
    language: str
    reason: str


#: rubric code and Q points per form (reference A.2, Q)
SCORING: dict[QuestionForm, tuple[str | None, int]] = {
    QuestionForm.OPEN: ("Q+OPEN", 1),
    QuestionForm.CLOSED: (None, 0),
    QuestionForm.LEADING: ("Q-LEADING", -2),
    QuestionForm.STACKED: ("Q-STACKED", -1),
    QuestionForm.FORCED_CHOICE: ("Q-FORCED_CHOICE", -1),
    QuestionForm.WHY_BLAME: ("Q-WHY_BLAME", -2),
    QuestionForm.LEGAL_LABEL: ("Q-LABEL", -1),
    QuestionForm.STATEMENT: (None, 0),
}


@dataclass(frozen=True, slots=True)
class LanguageRules:
    """One language's patterns (see question_rules_en for what each one means)."""

    code: str
    interrogative: re.Pattern[str]
    wh_start: re.Pattern[str]
    invitation: re.Pattern[str]
    aux_with_subject: re.Pattern[str]
    wh_clause: re.Pattern[str]
    continue_prompt: re.Pattern[str]
    check_tag: re.Pattern[str]
    second_clause: re.Pattern[str]
    leading: re.Pattern[str]
    assertion: re.Pattern[str]
    forced_choice: re.Pattern[str]
    offer: re.Pattern[str]
    why_blame: re.Pattern[str]
    label: re.Pattern[str]
    safety: re.Pattern[str]
    words: frozenset[str]
    #: whether a statement with a question mark asserts its answer ("So he paid?"); not in
    #: Polish, where a yes/no question is often a statement with '?' ("Pracuje pani w hotelu?")
    declaratives_lead: bool


EN = LanguageRules(
    en.CODE,
    en.INTERROGATIVE,
    en.WH_START,
    en.INVITATION,
    en.AUX_WITH_SUBJECT,
    en.WH_CLAUSE,
    en.CONTINUE,
    en.CHECK_TAG,
    en.SECOND_CLAUSE,
    en.LEADING,
    en.ASSERTION,
    en.FORCED_CHOICE,
    en.OFFER,
    en.WHY_BLAME,
    en.LABEL,
    en.SAFETY,
    en.WORDS,
    declaratives_lead=True,
)
PL = LanguageRules(
    pl.CODE,
    pl.INTERROGATIVE,
    pl.WH_START,
    pl.INVITATION,
    pl.AUX_WITH_SUBJECT,
    pl.WH_CLAUSE,
    pl.CONTINUE,
    pl.CHECK_TAG,
    pl.SECOND_CLAUSE,
    pl.LEADING,
    pl.ASSERTION,
    pl.FORCED_CHOICE,
    pl.OFFER,
    pl.WHY_BLAME,
    pl.LABEL,
    pl.SAFETY,
    pl.WORDS,
    declaratives_lead=False,
)
RULES: dict[str, LanguageRules] = {"en": EN, "pl": PL}

_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "ʼ": "'"})
_CONTROL = re.compile(
    r"[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]"
)
_SPACES = re.compile(r"[^\S\n]+")
_SENTENCES = re.compile(r"(?<=[.?!:;…])\s+(?!\d)|\n+")
_MARKS = re.compile(r"\?+")
_SEGMENTS = re.compile(r"\s*[,;–—]\s*")
_WORD = re.compile(r"[^\W\d_]+")
_POLISH_LETTERS = re.compile(r"[ąćęłńóśźż]")
_FOLD = str.maketrans("ąćęłńóśźż", "acelnoszz")
_PL_WORDS = PL.words | {w.translate(_FOLD) for w in PL.words}
#: a language hint stands unless the text is clearly in the other language
_HINT_WEIGHT = 1


def classify_question(text: str, language: str | None = None) -> QuestionAssessment:
    """The form of one trainee message, its Q code and points, and why."""
    try:
        cleaned = _clean(text)
        lang = detect_language(cleaned, language)
        form, reason, safety = _classify(cleaned.casefold(), RULES[lang])
    except Exception:  # a scoring helper must never break a conversation
        lang = language if language in RULES else "en"
        form, reason, safety = QuestionForm.STATEMENT, "The message could not be analysed.", False
    code, points = SCORING[form]
    return QuestionAssessment(form, code, points, safety, lang, reason)


def detect_language(text: str, hint: str | None = None) -> str:
    """'pl' or 'en': Polish letters and function words against English ones, plus the hint."""
    sample = text[:MAX_CHARS].casefold()
    words = _WORD.findall(sample)
    polish = sum(w in _PL_WORDS for w in words) + 2 * len(_POLISH_LETTERS.findall(sample))
    english = sum(w in EN.words for w in words)
    if hint == "pl":
        polish += _HINT_WEIGHT
    elif hint == "en":
        english += _HINT_WEIGHT
    if polish != english:
        return "pl" if polish > english else "en"
    return hint if hint in RULES else "en"


def _clean(text: str) -> str:
    text = text[:MAX_CHARS] if isinstance(text, str) else ""
    text = _CONTROL.sub("", text.translate(_APOSTROPHES))
    return _SPACES.sub(" ", text).strip()


def _classify(text: str, rules: LanguageRules) -> tuple[QuestionForm, str, bool]:
    asking = [(s, head) for s in _sentences(text) if (head := _question_head(s, rules))]
    heads = [head for _, head in asking]
    if not heads:
        if match := rules.assertion.search(text):
            return QuestionForm.LEADING, _says(match, "puts an answer to the person"), False
        return QuestionForm.STATEMENT, "No question was asked.", False
    clauses = [clause for head in heads for clause in _clauses(head, rules)]
    if len(clauses) >= 2:
        if all(rules.safety.search(clause) for clause in clauses):
            return QuestionForm.CLOSED, "Closed checks on immediate safety are justified.", True
        return QuestionForm.STACKED, "Several questions in one message: ask one at a time.", False
    question, sentence = clauses[0], asking[0][0]
    if match := rules.label.search(sentence):
        return (
            QuestionForm.LEGAL_LABEL,
            _says(match, "is a legal label that shuts people down"),
            False,
        )
    if match := rules.why_blame.search(sentence):
        return QuestionForm.WHY_BLAME, _says(match, "implies the person is to blame"), False
    if match := rules.leading.search(sentence):
        return QuestionForm.LEADING, _says(match, "suggests the answer"), False
    if _declarative(question, rules):
        return QuestionForm.LEADING, "A statement with a question mark suggests the answer.", False
    if rules.continue_prompt.match(question):
        return QuestionForm.OPEN, "A prompt to go on invites the person's own account.", False
    if (
        rules.forced_choice.search(question)
        and not rules.offer.search(question)
        and not rules.safety.search(question)
    ):
        return QuestionForm.FORCED_CHOICE, "Offering alternatives narrows the answer.", False
    if rules.wh_start.match(question) or rules.invitation.match(question):
        return QuestionForm.OPEN, "An open question invites the person's own account.", False
    if rules.safety.search(question):
        return QuestionForm.CLOSED, "A closed question about immediate safety is justified.", True
    return QuestionForm.CLOSED, "A yes/no question.", False


def _sentences(text: str) -> list[str]:
    parts = (part.strip(" .!:;…") for part in _SENTENCES.split(text))
    return [part for part in parts if part]


def _question_head(sentence: str, rules: LanguageRules) -> str:
    """The part of a sentence that asks, or '' when the sentence asks nothing.

    A sentence asks when it ends with '?' or starts like a question. A leading subordinate
    clause is skipped ("If you left tomorrow, what would happen?" asks "what would happen?").
    """
    marked = "?" in sentence
    if _asks(sentence, rules, marked=marked):
        return sentence
    if not marked:  # "..., co pani mówi, ..." is a relative clause, not a question
        return ""
    for found in _SEGMENTS.finditer(sentence):
        rest = sentence[found.end() :]
        if _asks(rest, rules, marked=True):
            # keep a tag question whole: "He took it, didn't he?" must stay leading
            return sentence if rules.leading.search(sentence) else rest
    return sentence


def _asks(sentence: str, rules: LanguageRules, *, marked: bool) -> bool:
    if not rules.interrogative.match(sentence):
        return False
    if rules.invitation.match(sentence):
        return True
    if rules.wh_start.match(sentence):
        # "When we finish, I'll call you." opens a clause; "where do you live" asks
        return marked or not rules.wh_clause.match(sentence)
    return marked or bool(rules.aux_with_subject.match(sentence))


def _clauses(head: str, rules: LanguageRules) -> list[str]:
    """One entry per question: a '?' each, plus joined interrogative clauses."""
    pieces = [piece.strip() for piece in _MARKS.split(head) if piece.strip(" ,;")] or [head]
    clauses: list[str] = []
    for piece in pieces:
        starts = [0]
        first = rules.interrogative.match(piece)
        if first and not rules.invitation.match(piece):
            # search after the first interrogative: "dobra, gdzie..." is one question
            starts += [m.start() for m in rules.second_clause.finditer(piece, first.end())]
        bounds = [*starts, len(piece)]
        clauses += [piece[a:b].strip(" ,;") or piece for a, b in pairwise(bounds)]
    if len(pieces) == 1 and "?" in head:
        clauses[-1] += "?"  # keep the mark: tags and declaratives are read from it
    return clauses


def _declarative(question: str, rules: LanguageRules) -> bool:
    """'So he sent you the money?': a statement with a question mark asserts the answer."""
    if not rules.declaratives_lead or not question.endswith("?"):
        return False
    if rules.interrogative.match(question) or rules.check_tag.search(question):
        return False
    if rules.continue_prompt.match(question):
        return False
    return len(_WORD.findall(question)) > 3


def _says(match: re.Match[str], what: str) -> str:
    found = match.group(0).strip(" ,?")[:40]
    return f"'{found}' {what}."
