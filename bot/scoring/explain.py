"""The coach's automatic reasons in the trainee's language.

Authored feedback comes translated in the scenario; these are the reasons the scoring writes
itself (question forms, follow-ups, missed indicators). The English text is the key, so the
classifier and the rubric stay readable and a reason that has no translation yet still shows.
"""

from __future__ import annotations

import re

_QUOTED = re.compile(r"^'(?P<words>.+)' (?P<phrase>[^']+)$")

_PL_SENTENCES = (
    ("The message could not be analysed.", "Nie udało się przeanalizować wiadomości."),
    ("No question was asked.", "Nie zadano pytania."),
    (
        "Closed checks on immediate safety are justified.",
        "Pytania zamknięte o bezpośrednie bezpieczeństwo są uzasadnione.",
    ),
    (
        "Several questions in one message: ask one at a time.",
        "Kilka pytań w jednej wiadomości: zadawaj jedno naraz.",
    ),
    (
        "A statement with a question mark suggests the answer.",
        "Stwierdzenie ze znakiem zapytania podsuwa odpowiedź.",
    ),
    (
        "A prompt to go on invites the person's own account.",
        "Zachęta do mówienia dalej pozwala opowiedzieć własnymi słowami.",
    ),
    ("Offering alternatives narrows the answer.", "Podawanie wariantów zawęża odpowiedź."),
    (
        "An open question invites the person's own account.",
        "Pytanie otwarte zachęca do opowieści własnymi słowami.",
    ),
    (
        "A closed question about immediate safety is justified.",
        "Pytanie zamknięte o bezpośrednie bezpieczeństwo jest uzasadnione.",
    ),
    ("A yes/no question.", "Pytanie typu tak/nie."),
)
SENTENCES: dict[str, dict[str, str]] = {"pl": dict(_PL_SENTENCES)}

PHRASES: dict[str, dict[str, str]] = {
    "pl": {
        "puts an answer to the person": "wkłada rozmówcy odpowiedź w usta",
        "is a legal label that shuts people down": "to etykieta prawna, która zamyka rozmowę",
        "implies the person is to blame": "sugeruje, że to ta osoba jest winna",
        "suggests the answer": "podsuwa odpowiedź",
    },
}

FOLLOWED_UP = {"en": "Followed up: {names}", "pl": "Dopytano o: {names}"}
NOT_FOLLOWED_UP = {"en": "Not followed up: {name}", "pl": "Nie dopytano o: {name}"}


def localise(reason: str, language: str) -> str:
    """`reason` (as the classifier writes it, in English) in `language`, where known."""
    if language == "en":
        return reason
    if (sentence := SENTENCES.get(language, {}).get(reason)) is not None:
        return sentence
    found = _QUOTED.match(reason)
    if found and (phrase := PHRASES.get(language, {}).get(found["phrase"].rstrip("."))) is not None:
        return f"„{found['words']}” {phrase}."
    return reason


def followed_up(names: str, language: str) -> str:
    return FOLLOWED_UP.get(language, FOLLOWED_UP["en"]).format(names=names)


def not_followed_up(name: str, language: str) -> str:
    return NOT_FOLLOWED_UP.get(language, NOT_FOLLOWED_UP["en"]).format(name=name)
