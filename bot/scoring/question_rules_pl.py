"""Polish patterns for the question-form classifier (see bot.scoring.question_form).

Every pattern runs on case-folded text. Polish yes/no questions are often a plain statement with
a question mark ("Pracuje pani w hotelu?"), so unlike English a declarative question is closed,
not leading; leading needs a tag ("prawda?", "tak?"), a presumption ("przecież", "na pewno"), or a
third person put forward as having done something ("Szef zabrał paszport?").
"""

from __future__ import annotations

import re

CODE = "pl"

FILLER = (
    r"^(?:(?:a|i|no|dobrze|dobra|więc|wiec|to|ok|okej|teraz|proszę pana|proszę pani|"
    r"przepraszam)[,\s]+)*"
)
_WH = (
    r"(?:co(?! do\b)|jak(?! już\b)|jaki|jaka|jakie|jakiej|jakich|gdzie|kiedy|kto|kogo|komu|kim|"
    r"czego|czym|dlaczego|czemu|ile|który|która|które|skąd|dokąd|w jaki sposób|po co|z kim|"
    r"u kogo|o czym|od kogo|od kiedy|na czym|"
    # a preposition before a question word: "w jakim języku", "do kogo", "przez kogo"
    r"(?:w|we|z|ze|do|od|na|o|u|za|przez|dla|po|przy|pod|nad|przed)\s+"
    r"(?:jaki\w*|jak\w+|kogo|kim|komu|czym|czego|któr\w+|ile|ilu|kiedy))\b"
)
_POLITE = r"(?:pan|pani|pana|panią|panu|ty|on|ona|oni|ktoś|pani\w*|pań\w*)"
_INVITE = (
    r"(?:opowiedz|opisz|wyjaśnij|powiedz mi|proszę (?:mi )?(?:opowiedzieć|opisać|"
    r"wyjaśnić|powiedzieć)|prosze (?:mi )?(?:opowiedziec|opisac|wyjasnic|powiedziec)|"
    r"niech pan(?:i)? (?:opowie|opisze|powie)|"
    r"czy (?:może|moze|mogłaby|mógłby|możesz|mogłabyś|mógłbyś|chciałaby|chciałby) "
    r"(?:pan |pani )?(?:mi )?(?:opowiedzieć|opisać|wyjaśnić|powiedzieć|opowiedziec|opisac))"
)

INTERROGATIVE = re.compile(FILLER + rf"(?:czy\b|{_WH}|{_INVITE})")
WH_START = re.compile(FILLER + _WH)
INVITATION = re.compile(FILLER + _INVITE)
#: Polish "czy" already marks a yes/no question, so "czy" needs no subject after it
AUX_WITH_SUBJECT = re.compile(FILLER + r"czy\b")
#: a wh-word that opens a subordinate clause: "kiedy skończymy, ...", "jak mówiłam, ..."
WH_CLAUSE = re.compile(
    FILLER + r"(?:kiedy|gdy|jak|co)\s+(?:\w+my|\w+łam|\w+łem|mówiłam|mówiłem|już)\b"
)
CONTINUE = re.compile(
    FILLER + r"(?:i\s+|a\s+)?(?:co dalej|i co|co potem|co jeszcze|i potem|potem|dalej)\s*\??$"
)
CHECK_TAG = re.compile(r",?\s*(?:dobrze|zgoda|może być|w porządku|ok|okej)\s*\?$")

SECOND_CLAUSE = re.compile(
    r"(?:,\s*(?:(?:a|i|oraz)\s+)?(?:kto|gdzie|ile|dlaczego|skąd|dokąd)\s"
    r"|\s(?:i|oraz|a)\s+(?:kto|gdzie|co|ile|czy|kiedy|jak|dlaczego)\s"
    rf"|,\s*czy\s+(?:[^\W\d_]+\s+){{0,2}}{_POLITE}\b)"
)

LEADING = re.compile(
    r"(?:,\s*(?:prawda|tak|nieprawdaż|zgadza się|no nie|co nie|czyż nie)\s*\??\s*$)"
    r"|\bnieprawdaż\b|\bna pewno\b|\bpewnie\b|\bchyba\b|\bprzecież\b|^czy nie\b(?!\s*\??$)"
    r"|\bczy to nie\b"
    r"|^(?:on|ona|oni|szef|pracodawca|chłopak|kierownik|wujek|pośrednik)\s+"
    r"(?:\w+ł[aoy]?|\w+li)\b[^?]*\?"
)
ASSERTION = re.compile(
    r"\b(?:przecież|na pewno|oczywiście pani|oczywiście pan|musiała pani|musiał pan)\b"
    # "pewnie nie zapłacili pani": a guess about what happened, not "pewnie jest pani zmęczona"
    r"|\b(?:pewnie|chyba)\b(?=[^.?!]*\b[^\W\d_]+(?:ł|ła|ło|li|ły)\b)"
    rf"(?:\s+[^\W\d_]+){{0,3}}?\s+{_POLITE}\b"
)

FORCED_CHOICE = re.compile(
    r"\S\s+(?:czy|albo|lub)\s+(?!nie\b|coś\b|ktoś\b|cokolwiek\b|inaczej\b)"
    r"(?![^?]*\b(?:przerw\w*|wod\w*|herbat\w*|kaw\w*|język\w*|funkcjonariuszk\w*|kobiet\w*|"
    r"mężczyzn\w*|tłumacz\w*)\b)"
    r"(?![^?]*\b(?:inn(?:e|ego|ej|ym|y|a)|indziej)\b)"
)
OFFER = re.compile(
    r"\b(?:woli pan\w*|wolałaby|wolałby|chce pan\w*|chciałaby|chciałby|napije się|"
    r"może zrobimy|zrobimy)\b"
)

WHY_BLAME = re.compile(
    r"\b(?:dlaczego|czemu)(?:\s+[^\W\d_]+){0,4}?\s+(?:nie\b|się zgodził\w*|"
    r"zgodził\w*|uwierzył\w*|zaufał\w*|został\w*|poszł\w*|wrócił\w*|pozwolił\w*|"
    r"kłam\w*|okłama\w*|ukrywa\w*|"
    r"(?:przyjechał|pojechał)\w*\s+(?:[^\W\d_]+\s+)?(?:z|ze)\b)"
    r"|\b(?:dlaczego|czemu)\b[^?]*,\s*skoro\b"
    r"|\bjak (?:mogł\w*|mógł\w*)\b|\bco (?:pan |pani |ty )?sobie myślał\w*"
    r"|\bczego się pan\w* spodziewał\w*"
)

LABEL = re.compile(
    r"(?:ofiar\w* handlu|handl\w* ludźmi|handel ludźmi|handl\w* ludzmi|\bart\.?\s*\d+\w*|"
    r"\bartykuł\w*\s+\d+|prac\w* przymusow\w*|niewolni\w*|\bniewol\w*|prostytu\w*|"
    r"nielegaln\w* imigrant\w*|przemyc\w*|przemycon\w*)"
)

SAFETY = re.compile(
    r"(?:\brann\w*|\bboli\b|\bból|\blekarz\w*|\blek(?:i|ów|u|ami|arstw\w*)?\b|"
    r"pomoc\w* medyczn\w*|\bkrwaw\w*|\bchor\w*|"
    r"\bbezpieczn\w*|\bzagroż\w*|\bgrozi\w*|\bgłodn\w*|\bjadł\w*|\bw ciąży|dziś w nocy|"
    r"tej nocy|dzisiejszą noc|\bnocować|\bspać\b|czeka na (?:pana|panią|ciebie)|"
    r"na (?:pana|panią|ciebie) czeka|czy wszystko w porządku|dobrze się (?:pan|pani) czuje|"
    r"\bobserwuje|\bśledzi)"
)

_COMMON = (
    "czy jak co gdzie kiedy kto pan pani proszę się nie jest dlaczego czemu że to na w z do ma "
    "był była były mi jaki jaka jakie ile opowiedzieć powiedzieć może pana panią panu jestem "
    "dziękuję tak"
)
WORDS = frozenset(_COMMON.split())
