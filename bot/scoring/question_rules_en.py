"""English patterns for the question-form classifier (see bot.scoring.question_form).

Every pattern runs on case-folded text with straight apostrophes. Patterns anchored with '^'
run on one sentence (or one comma-separated segment of it); the others search a whole sentence.
"""

from __future__ import annotations

import re

CODE = "en"

#: openers that do not change what follows: "So, what happened?", "OK and where do you live?"
FILLER = r"^(?:(?:so|ok|okay|and|well|right|now|please|sir|madam|then|alright|sorry)[,\s]+)*"
#: chat spellings too: "whats", "who's", "wheres"
_WH = r"(?:(?:what|where|when|how|who)(?:'?s|'re|'ll|'d)?|whom|whose|which|why)\b"
_NEG_AUX = (
    r"(?:aren'?t|isn'?t|wasn'?t|weren'?t|don'?t|doesn'?t|didn'?t|haven'?t|hasn'?t|"
    r"can'?t|couldn'?t|won'?t|wouldn'?t)\b"
)
_AUX = (
    r"(?:are|is|am|was|were|do|does|did|have|has|had|can|could|will|would|shall|should|may|"
    rf"might|must|{_NEG_AUX})\b"
)
#: who or what a yes/no question asks about, right after its auxiliary
_SUBJECT = (
    r"(?:i|you|he|she|they|it|we|there|this|that|these|those|the|your|my|his|her|their|our|"
    r"anyone|anybody|someone|somebody|anything|something|any|mr|mrs|ms|u|[a-z]+'s)\b"
)
_INVITE = (
    r"(?:tell me(?! the truth)|describe|explain|talk me through|walk me through|"
    r"help me understand|(?:can|could|would|will) you (?:please )?(?:tell|describe|explain|"
    r"say more|talk|walk)|i(?:'d| would) like (?:to hear|you to tell)|say more|go on)"
)

#: how an asking sentence may start: an interrogative, an auxiliary, an open invitation
INTERROGATIVE = re.compile(FILLER + rf"(?:{_WH}|{_AUX}|{_INVITE})")
WH_START = re.compile(FILLER + _WH)
INVITATION = re.compile(FILLER + _INVITE)
#: a yes/no question without a '?' must still name who it asks about ("do you work here")
AUX_WITH_SUBJECT = re.compile(FILLER + rf"{_AUX}\s+(?:not\s+)?{_SUBJECT}")
#: a wh-word followed by a subject opens a clause, not a question ("when we finish, ...")
WH_CLAUSE = re.compile(FILLER + r"(?:what|where|when|how|who|which)\s+(?:i|you|we|he|she|they)\b")
#: "and then?", "what else?": a short prompt to go on is an open invitation
CONTINUE = re.compile(
    FILLER + r"(?:and\s+)?(?:then|after that|what else|what next|what then|next|go on|and)\s*\??$"
)
#: "..., ok?" after the officer's own proposal is a check, not a suggestion about facts
CHECK_TAG = re.compile(
    r",?\s*(?:ok|okay|alright|all right|is that ok(?:ay)?|is that all right|fine)\s*\?$"
)

#: another question joined to the first: "..., and where do you live?", "... and who paid?"
SECOND_CLAUSE = re.compile(
    r"(?:,|;|\band\b)\s*(?:and\s+|also\s+)?(?:(?:what|where|when|how|who|which|why)\s+"
    rf"(?:{_AUX}|paid|pays|took|takes|gave|sent|brought|told|knows|keeps|holds|met)|"
    r"(?:are|is|do|does|did|have|has|can|will|were|was)\s+(?:you|he|she|they|it|we)\b)"
)

LEADING = re.compile(
    r"(?:,\s*(?:right|correct|yes|no|isn'?t that so|true|"
    r"(?:is|are|was|were|do|does|did|have|has|had|can|could|will|would)(?:n'?t)?\s+"
    r"(?:he|she|they|you|it|we|i|that|there))\s*\??\s*$)"
    r"|\bisn'?t it true\b|\bsurely\b|\bi bet\b|\byou must (?:have|know)\b|\bi suppose you\b"
    r"|\bwouldn'?t you say\b|\bdon'?t you think\b|\bi take it\b"
    r"|^(?:didn'?t|don'?t|doesn'?t|isn'?t|wasn'?t|weren'?t|aren'?t|haven'?t|hasn'?t|won'?t|"
    r"wouldn'?t)\s+(?:he|she|they|you|it|we|i|there|the|your|that)\b"
    r"|^(?:so\s+)?(?:he|she|they|"
    r"your (?:boss|employer|friend|boyfriend|manager|uncle|agent))\s+"
    r"(?:\w+ed|took|kept|hit|made|forced|paid|brought|sold|gave|told)\b[^?]*\?"
)
#: a suggestive assertion with no question mark: "you must have known what the job was"
ASSERTION = re.compile(
    r"\b(?:you must (?:have|know)|surely|i bet|obviously you|of course you|you knew)\b"
)

#: "X or Y" where Y is an alternative the officer supplies; not "or not", "or anything else"
FORCED_CHOICE = re.compile(
    r"\b\w+\b[^?,]*\bor\b(?!\s+(?:not|anything|something|someone|somebody|anyone|anybody|"
    r"no|else|other|whatever|you'll|you will|we'll|i'll))(?![^?]*\b(?:break|water|tea|coffee|"
    r"pause|language|female|male|woman|man|interpreter|stop)\b)"
    # "... or somewhere else?" leaves the answer open
    r"(?![^?]*\b(?:else|other)\b)"
)
#: offering the person a choice for their comfort ("would you prefer ... or ...") is control
OFFER = re.compile(
    r"\b(?:would you (?:like|prefer|rather)|do you (?:want|prefer)|shall we|should we|"
    r"would it help|is it easier)\b"
)

WHY_BLAME = re.compile(
    r"\bwhy\s+(?:didn'?t|did not|don'?t|do not|couldn'?t|could not|wouldn'?t|would not|"
    r"haven'?t|have not|hadn'?t|weren'?t|wasn'?t|aren'?t|not)\b"
    r"|\bwhy\s+(?:did|do|would|could|have|had|were|are)\s+(?:you|he|she|they)\s+not\b"
    r"|\bwhy\s+(?:did|would)\s+you\s+(?:ever\s+|just\s+)?(?:agree|stay|accept|trust|believe|"
    r"let|sign|get involved|follow|leave|take|lie|lying)\b"
    r"|\bwhy\s+(?:are|were)\s+you\s+(?:lying|hiding)\b"
    r"|\bwhy\s+(?:did|would)\s+you\s+(?:ever\s+|just\s+)?(?:come|go)\s+(?:back\b|\w+\s+with\b|with\b)"
    r"|\bhow could you\b|\bwhat were you thinking\b|\bwhy on earth\b|\bwhat did you expect\b"
)

LABEL = re.compile(
    r"\b(?:victims? of (?:human )?trafficking|trafficking victims?|human trafficking|trafficked|"
    r"article \d+\w*|art\.?\s*\d+\w*|forced labou?r|slaves?|slavery|prostitut\w*|"
    r"smuggled|illegal immigrants?)\b"
)

SAFETY = re.compile(
    r"\b(?:hurt|injur\w*|pain|doctor|medical|medicine|medication|bleeding|sick|ill|unwell|safe|"
    r"danger\w*|threat\w*|need help|need anything|hungry|eat|eaten|pregnant|tonight|sleep|"
    r"waiting for you|watching you|following you|checking where|"
    r"(?:are you|is (?:she|he|the child)) (?:ok|okay|alright|all right))\b"
)

#: frequent English words for language detection
_COMMON = (
    "the you your what how did do are is where when who tell me why about please have were was "
    "can could would he she they my it this that to of and in"
)
WORDS = frozenset(_COMMON.split())
