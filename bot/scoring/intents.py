"""Free text -> the choice it means.

The default matcher combines exact keywords with fuzzy matching (rapidfuzz) over each choice's
authored examples and its button label. A semantic matcher can replace it later behind the same
`IntentMatcher` Protocol without touching the engine or the use cases.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

from rapidfuzz import fuzz

from bot.engine.compiled import CompiledChoice

#: below this similarity (0-100) a text is not taken to mean a choice
DEFAULT_THRESHOLD = 72.0
_WORDS = re.compile(r"[^\w]+", re.UNICODE)
_MAX_CHARS = 500


@dataclass(frozen=True, slots=True)
class IntentMatch:
    choice: CompiledChoice
    score: float
    example: str


class IntentMatcher(Protocol):
    def match(
        self, text: str, candidates: Sequence[CompiledChoice], language: str
    ) -> IntentMatch | None: ...


def normalise(text: str) -> str:
    """Lower-case, strip accents and punctuation: 'Proszę  opowiedzieć!' -> 'prosze opowiedziec'."""
    folded = unicodedata.normalize("NFKD", text[:_MAX_CHARS].casefold())
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch)).replace("ł", "l")
    return " ".join(_WORDS.sub(" ", folded).split())


@lru_cache(maxsize=65536)
def _normalised(text: str) -> str:
    return normalise(text)


class FuzzyIntentMatcher:
    def __init__(self, threshold: float = DEFAULT_THRESHOLD) -> None:
        self.threshold = threshold

    def match(
        self, text: str, candidates: Sequence[CompiledChoice], language: str
    ) -> IntentMatch | None:
        query = normalise(text)
        if not query:
            return None
        best: IntentMatch | None = None
        for candidate in candidates:
            for example in self._phrasings(candidate, language):
                score = self._similarity(query, _normalised(example))
                if score >= self.threshold and (best is None or score > best.score):
                    best = IntentMatch(candidate, score, example)
        return best

    @staticmethod
    def _phrasings(candidate: CompiledChoice, language: str) -> list[str]:
        choice = candidate.choice
        own = list(choice.examples.get(language, ()))
        label = choice.text.get(language)
        if label:
            own.append(label)
        # Trainees sometimes type in the other language of the scenario; accept it, ranked equal.
        other = [e for lang, items in choice.examples.items() if lang != language for e in items]
        return own + other

    @staticmethod
    def _similarity(query: str, example: str) -> float:
        if not example:
            return 0.0
        whole = fuzz.ratio(query, example)
        ordered = fuzz.token_sort_ratio(query, example)
        # A long message that contains a whole example ("ok, so tell me about your trip please")
        # should match it, but a two-word message must not match every example containing it.
        partial = fuzz.partial_ratio(example, query) if len(example) >= 12 else 0.0
        contained = partial * 0.95 if len(query) >= len(example) else 0.0
        return float(max(whole, ordered, contained))
