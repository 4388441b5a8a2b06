"""The domain vocabulary: rubric dimensions, rubric codes, indicators, critical errors, referrals.

Rubric, indicator and critical-error codes come from the domain reference (generated into
`codes_data.py`). Referral codes name the services and measures of the reference's Polish
referral table (section C); they are labels for decisions, not legal facts of their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from bot.scenario.codes_data import CRITICAL, INDICATORS, RUBRIC, STRENGTHS

__all__ = [
    "CRITICAL",
    "CRITICAL_CODES",
    "CRITICAL_DIMENSION",
    "CRITICAL_PENALTY",
    "DEFAULT_WEIGHTS",
    "DIMENSIONS",
    "DIMENSION_CODES",
    "INDICATORS",
    "INDICATOR_CODES",
    "REFERRALS",
    "REFERRAL_CODES",
    "RUBRIC",
    "RUBRIC_CODES",
    "STRENGTHS",
    "Dimension",
    "DimensionInfo",
    "dimension_of",
    "is_counter_indicator",
    "is_strong_indicator",
]

Dimension = Literal["Q", "T", "S", "R", "L", "I", "F", "P"]


@dataclass(frozen=True, slots=True)
class DimensionInfo:
    code: Dimension
    name: str
    default_weight: int


#: The eight rubric dimensions with the reference's suggested weights (A.1), in percent.
DIMENSIONS: Final[tuple[DimensionInfo, ...]] = (
    DimensionInfo("S", "Safety, privacy and separation", 20),
    DimensionInfo("R", "Trust, transparency and rights", 15),
    DimensionInfo("T", "Trauma-informed conduct", 15),
    DimensionInfo("Q", "Question quality", 15),
    DimensionInfo("I", "Noticing and following up indicators", 10),
    DimensionInfo("F", "Legal assessment", 10),
    DimensionInfo("P", "Procedure, referral and closure", 10),
    DimensionInfo("L", "Language and interpreter use", 5),
)
DIMENSION_CODES: Final[tuple[Dimension, ...]] = tuple(d.code for d in DIMENSIONS)
DEFAULT_WEIGHTS: Final[dict[Dimension, int]] = {d.code: d.default_weight for d in DIMENSIONS}

RUBRIC_CODES: Final[frozenset[str]] = frozenset(RUBRIC)
INDICATOR_CODES: Final[frozenset[str]] = frozenset(INDICATORS)
CRITICAL_CODES: Final[frozenset[str]] = frozenset(CRITICAL)

#: Each critical error costs this many points (A.3) and caps the grade.
CRITICAL_PENALTY: Final[int] = -5

#: Where a critical error's points are taken from: the dimension whose "loses points" list names
#: the same conduct as a CE in the reference (e.g. `L-CONTROLLER (CE)`, `R-THREAT (CE)`).
CRITICAL_DIMENSION: Final[dict[str, Dimension]] = {
    "CE.CONTROLLER_INTERPRETS": "L",
    "CE.TIPOFF": "S",
    "CE.THREAT": "R",
    "CE.CONDITIONAL_HELP": "R",
    "CE.FALSE_PROMISE": "R",
    "CE.CHILD_RELEASED": "S",
    "CE.RETURN_UNSCREENED": "P",
    "CE.PUNISH_VICTIM": "P",
    "CE.UNSAFE_CONTACT": "S",
    "CE.FORCED_DETAIL": "T",
}

#: Referral decisions a scenario can offer, named after the reference's section C.
REFERRALS: Final[dict[str, str]] = {
    "REF.AT_COORDINATOR": "Notify the unit's anti-trafficking coordinator (Algorithm / SOP)",
    "REF.PRESUMED_VICTIM_REPORT": "Fill in the presumed-victim reporting form",
    "REF.KCIK": "KCIK: shelter, medical, psychological and legal help",
    "REF.LA_STRADA": "La Strada Foundation",
    "REF.SUPPORT_PROGRAMME": "Programme of support and protection (foreigners)",
    "REF.ART170_CERT": "Art. 170 certificate of presumption (reflection period)",
    "REF.PROSECUTOR": "Inform the prosecutor",
    "REF.POLICE": "Police",
    "REF.BORDER_GUARD": "Border Guard (joint action, investigation)",
    "REF.PIP": "National Labour Inspectorate (PIP) measures",
    "REF.LEGAL_ADVICE": "Free legal advice / labour court claim for wages",
    "REF.IOM_AVRR": "IOM assisted voluntary return, after risk assessment",
    "REF.TRANSNATIONAL": "Transnational referral with consent",
    "REF.CONSULATE": "Contact the consulate",
    "REF.FAMILY_COURT": "Family court: placement and guardian",
    "REF.MEDICAL": "Emergency medical help",
    "REF.INFO_LEAFLET": "Give KCIK information discreetly",
    "REF.NORMAL_PROCEDURE": "Proceed normally (no indicators after a proper conversation)",
    "REF.REFUSAL_OF_ENTRY": "Refusal of entry",
    "REF.RETURN_PROCEDURE": "Return procedure",
    "REF.DETENTION": "Placement in a guarded centre / detention",
    "REF.FINE": "Fine for illegal work or entry",
    "REF.RELEASE_TO_COMPANION": "Release to the companion or employer",
}
REFERRAL_CODES: Final[frozenset[str]] = frozenset(REFERRALS)


def dimension_of(rubric_code: str) -> Dimension:
    """`Q+OPEN` -> `Q`. The first letter of a rubric code is its dimension by construction."""
    first = rubric_code[:1]
    if first not in DIMENSION_CODES:
        raise ValueError(f"{rubric_code!r} is not a rubric code")
    return first


def is_strong_indicator(code: str) -> bool:
    """Strong (S) indicators cost more when missed (`I-MISSED` −2 instead of −1)."""
    return STRENGTHS.get(code, "").startswith("S")


def is_counter_indicator(code: str) -> bool:
    """Counter-indicators and risk factors do not need a follow-up to avoid `I-MISSED`."""
    return code.startswith(("LR.", "NEG.", "RISK."))
