"""The patterns behind the question-form classifier, per language.

Each language has patterns for: where a question starts (interrogatives, auxiliaries, open
invitations), what makes it open, leading, blaming, a forced choice or a legal label, what marks
immediate safety, and which joins start a second question inside one message (stacking).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class LanguageRules:
    code: str
    interrogative: re.Pattern[str]
    open: re.Pattern[str]
    second_clause: re.Pattern[str]
    leading: re.Pattern[str]
    forced_choice: re.Pattern[str]
    why_blame: re.Pattern[str]
    label: re.Pattern[str]
    safety: re.Pattern[str]
    #: suggestive assertions put to the person without a question mark ("you must have known")
    assertion: re.Pattern[str]
    words: frozenset[str]

    #: whether a statement with a question mark asserts its answer; not in Polish, where a
    #: plain yes/no question is often just a statement with '?' ("Pracuje pani w hotelu?")
    declaratives_lead: bool = False

    def declarative_question(self, sentence: str) -> bool:
        """'So he sent you the money?': a statement with a question mark asserts the answer."""
        return (
            self.declaratives_lead
            and sentence.rstrip().endswith("?")
            and not self.interrogative.match(sentence)
        )

    def questions(self, text: str) -> tuple[list[str], int]:
        """The sentences that ask something, and how many questions they hold in all.

        A sentence asks if it ends with '?' or starts like a question or an open invitation.
        A second question joined to an interrogative one ("..., and where do you live?") counts
        again; an invitation's embedded clause ("tell me how you came") does not.
        """
        asking: list[str] = []
        total = 0
        for sentence in re.split(r"(?<=[.?!:])\s+(?!\d)|\n+", text):
            sentence = sentence.strip(" .!:")
            if not sentence:
                continue
            marks = len(re.findall(r"\?+", sentence))
            if marks == 0 and not self.interrogative.match(sentence):
                continue
            asking.append(sentence)
            total += max(1, marks)
            if self.interrogative.match(sentence) and not self.open_invitation(sentence):
                total += len(self.second_clause.findall(sentence))
        return asking, total

    def open_invitation(self, text: str) -> bool:
        return bool(self.open.match(text)) and not bool(self.interrogative_wh.match(text))

    @property
    def interrogative_wh(self) -> re.Pattern[str]:
        return _WH[self.code]


_FILLER_EN = r"^(?:(?:so|ok|okay|and|well|right|now|please|sir|madam|then|alright)[,\s]+)*"
_WH_EN = r"(?:what|where|when|how|who|whom|whose|which|why)\b"
_AUX_EN = (
    r"(?:are|is|am|was|were|do|does|did|have|has|had|can|could|will|would|shall|should|may|"
    r"might|must|aren'?t|isn'?t|wasn'?t|weren'?t|don'?t|doesn'?t|didn'?t|haven'?t|hasn'?t|"
    r"can'?t|couldn'?t|won'?t|wouldn'?t)\b"
)
_OPEN_EN = (
    r"(?:tell me|describe|explain|talk me through|walk me through|help me understand|"
    r"(?:can|could|would|will) you (?:please )?(?:tell|describe|explain|say more|talk|walk)|"
    r"i(?:'d| would) like (?:to hear|you to tell)|say more|go on)"
)

_FILLER_PL = r"^(?:(?:a|i|no|dobrze|dobra|więc|to|ok|okej|teraz|proszę pana|proszę pani)[,\s]+)*"
_WH_PL = (
    r"(?:co|jak|jaki|jaka|jakie|jakiej|jakich|gdzie|kiedy|kto|kogo|komu|kim|czego|czym|"
    r"dlaczego|czemu|ile|który|która|które|skąd|dokąd|w jaki sposób|po co|z kim|u kogo|"
    r"o czym|od kogo|od kiedy|na czym)\b"
)
_OPEN_PL = (
    r"(?:opowiedz|opisz|wyjaśnij|powiedz mi|proszę (?:mi )?(?:opowiedzieć|opisać|"
    r"wyjaśnić|powiedzieć)|niech pan(?:i)? (?:opowie|opisze|powie)|"
    r"czy (?:może|mogłaby|mógłby|możesz|mogłabyś|mógłbyś|chciałaby|chciałby) (?:pan |pani )?"
    r"(?:mi )?(?:opowiedzieć|opisać|wyjaśnić|powiedzieć))"
)

_WH: dict[str, re.Pattern[str]] = {
    "en": re.compile(_FILLER_EN + _WH_EN),
    "pl": re.compile(_FILLER_PL + _WH_PL),
}

EN = LanguageRules(
    code="en",
    interrogative=re.compile(_FILLER_EN + rf"(?:{_WH_EN}|{_AUX_EN}|{_OPEN_EN})"),
    open=re.compile(
        _FILLER_EN + rf"(?:(?:what|where|when|how|who|whom|whose|which|why)\b|{_OPEN_EN})"
    ),
    second_clause=re.compile(
        r"(?:,|;|\band\b)\s*(?:and\s+|also\s+)?(?:(?:what|where|when|how|who|which|why)\s+"
        rf"(?:{_AUX_EN}|paid|pays|took|takes|gave|sent|brought|told|knows|keeps|holds|met)|"
        r"(?:are|is|do|does|did|have|has|can|will|were|was)\s+(?:you|he|she|they|it|we)\b)"
    ),
    leading=re.compile(
        r"(?:,\s*(?:right|correct|yes|no|isn'?t that so|"
        r"(?:is|are|was|were|do|does|did|have|has|had|can|could|will|would)(?:n'?t)?\s+"
        r"(?:he|she|they|you|it|we|i|that|there))\s*\??\s*$)"
        r"|\bisn't it true\b|\bsurely\b|\bi bet\b|\byou must have\b|\bi suppose you\b"
        r"|\bwouldn't you say\b|\bdon't you think\b|\bi take it\b"
        r"|^(?:didn'?t|don'?t|doesn'?t|isn'?t|wasn'?t|weren'?t|aren'?t|haven'?t|hasn'?t|won'?t|"
        r"wouldn'?t)\b"
        r"|^(?:so\s+)?(?:he|she|they|"
        r"your (?:boss|employer|friend|boyfriend|manager|uncle|agent))\s+"
        r"(?:\w+ed|took|kept|hit|made|forced|paid|brought|sold|gave|told)\b[^?]*\?"
    ),
    forced_choice=re.compile(
        r"\b\w+\b[^?,]*\bor\b(?!\s+(?:not|anything|something|someone|somebody|anyone|anybody|"
        r"no|else|other|whatever))(?![^?]*\b(?:break|water|tea|coffee|pause|language|female|"
        r"male|woman|man|interpreter|stop)\b)"
    ),
    why_blame=re.compile(
        r"\bwhy\s+(?:didn'?t|did not|don'?t|do not|couldn'?t|could not|wouldn'?t|would not|"
        r"haven'?t|have not|hadn'?t|weren'?t|wasn'?t|aren'?t|not)\b"
        r"|\bwhy\s+(?:did|would)\s+you\s+(?:ever\s+)?(?:agree|come|go|stay|accept|trust|believe|"
        r"let|sign|get involved|follow|leave|take)\b"
        r"|\bhow could you\b|\bwhat were you thinking\b|\bwhy on earth\b"
    ),
    label=re.compile(
        r"\b(?:victims? of (?:human )?trafficking|trafficking victim|human trafficking|trafficked|"
        r"article \d+\w*|art\.?\s*\d+\w*|forced labou?r|slaves?|slavery|prostitut\w*|"
        r"smuggled|illegal immigrant)\b"
    ),
    assertion=re.compile(
        r"\b(?:you must have|surely|i bet|obviously you|of course you|you knew)\b"
    ),
    safety=re.compile(
        r"\b(?:hurt|injur\w*|pain|doctor|medical|medicine|bleeding|sick|ill|unwell|safe|"
        r"danger\w*|threat\w*|need help|need anything|hungry|eaten|pregnant|tonight|sleep|"
        r"waiting for you|watching you|following you|checking where)\b"
    ),
    declaratives_lead=True,
    words=frozenset(
        [
            "the",
            "you",
            "your",
            "what",
            "how",
            "did",
            "do",
            "are",
            "is",
            "where",
            "when",
            "who",
            "tell",
            "me",
            "why",
            "about",
            "please",
            "have",
            "were",
            "was",
            "can",
            "could",
            "would",
            "he",
            "she",
            "they",
            "my",
            "it",
            "this",
            "that",
            "to",
            "of",
            "and",
            "in",
        ]
    ),
)

PL = LanguageRules(
    code="pl",
    interrogative=re.compile(_FILLER_PL + rf"(?:czy\b|{_WH_PL}|{_OPEN_PL})"),
    open=re.compile(_FILLER_PL + rf"(?:{_OPEN_PL}|(?!czy\b){_WH_PL})"),
    second_clause=re.compile(
        r"(?:,\s*(?:(?:a|i|oraz)\s+)?(?:kto|gdzie|ile|dlaczego)\s"
        r"|\s(?:i|oraz|a)\s+(?:kto|gdzie|co|ile|czy|kiedy|jak|dlaczego)\s)"
    ),
    leading=re.compile(
        r"(?:,\s*(?:prawda|tak|nieprawdaż|zgadza się|no nie|co nie)\s*\??\s*$)|\bnieprawdaż\b"
        r"|\bna pewno\b|\bpewnie\b|\bchyba\b|\bprzecież\b|^czy nie\b|\bczy to nie\b"
        r"|^(?:on|ona|oni|szef|pracodawca|chłopak|kierownik|wujek|pośrednik)\s+"
        r"(?:\w+ł[aoy]?|\w+li)\b[^?]*\?"
    ),
    forced_choice=re.compile(
        r"\S\s+(?:czy|albo|lub)\s+(?!nie\b|coś\b|ktoś\b|cokolwiek\b|inaczej\b)"
        r"(?![^?]*\b(?:przerw\w*|wod\w*|herbat\w*|kaw\w*|język\w*|funkcjonariuszk\w*|kobiet\w*|"
        r"mężczyzn\w*|tłumacz\w*)\b)"
    ),
    why_blame=re.compile(
        r"\b(?:dlaczego|czemu)(?:\s+[^\W\d_]+){0,3}?\s+(?:nie\b|się zgodził\w*|"
        r"zgodził\w*|przyjechał\w*|pojechał\w*|uwierzył\w*|zaufał\w*|został\w*|poszł\w*)"
        r"|\bjak (?:mogł\w*|mógł\w*)\b|\bco (?:pan |pani |ty )?sobie myślał\w*"
    ),
    label=re.compile(
        r"(?:ofiar\w* handlu|handl\w* ludźmi|handel ludźmi|\bart\.?\s*\d+\w*|\bartykuł\w*\s+\d+|"
        r"prac\w* przymusow\w*|niewolni\w*|prostytu\w*|nielegaln\w* imigrant\w*)"
    ),
    assertion=re.compile(
        r"\b(?:przecież|na pewno|oczywiście pani|oczywiście pan|musiała pani|musiał pan)\b"
    ),
    safety=re.compile(
        r"(?:\brann\w*|\bboli\b|\bból|\blekarz\w*|pomoc\w* medyczn\w*|\bkrwaw\w*|\bchor\w*|"
        r"\bbezpieczn\w*|\bzagroż\w*|\bgrozi\w*|\bgłodn\w*|\bjadł\w*|\bw ciąży|dziś w nocy|"
        r"tej nocy|\bnocować|\bspać\b|czeka na (?:pana|panią|ciebie)|"
        r"na (?:pana|panią|ciebie) czeka|"
        r"\bobserwuje|\bśledzi)"
    ),
    words=frozenset(
        [
            "czy",
            "jak",
            "co",
            "gdzie",
            "kiedy",
            "kto",
            "pan",
            "pani",
            "proszę",
            "się",
            "nie",
            "jest",
            "dlaczego",
            "czemu",
            "że",
            "to",
            "na",
            "w",
            "z",
            "do",
            "ma",
            "pan",
            "pani",
            "był",
            "była",
            "były",
            "mi",
            "jaki",
            "jaka",
            "jakie",
            "ile",
            "opowiedzieć",
            "powiedzieć",
        ]
    ),
)

RULES: dict[str, LanguageRules] = {"en": EN, "pl": PL}
_POLISH_LETTERS = re.compile(r"[ąćęłńóśźż]")


def detect_language(text: str, hint: str | None) -> str:
    """'pl' or 'en': Polish letters and function words against English ones; ties keep the hint."""
    words = _WORD.findall(text.casefold())
    polish = sum(w in PL.words for w in words) + 2 * len(_POLISH_LETTERS.findall(text.casefold()))
    english = sum(w in EN.words for w in words)
    if polish > english:
        return "pl"
    if english > polish:
        return "en"
    return hint if hint in RULES else "en"
