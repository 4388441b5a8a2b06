"""The scenario format: what a trainer writes in `dialogues/<id>/scenario.yaml`.

The models are the single source of truth for the format: the loader validates with them and
`dialogues/schema.json` is generated from them (`signpost schema`), so editors autocomplete
exactly what the engine accepts. Cross-field rules (references, translations, codes) live in
`bot.scenario.checks` because they need the whole file to be known.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from bot.scenario.codes import DEFAULT_WEIGHTS, Dimension

Identifier = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z0-9_.-]*$", max_length=80),
    Field(description="Lower-case letters, digits, '_', '-', '.'; starts with a letter."),
]
LanguageCode = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")]
LocalText = Annotated[
    dict[LanguageCode, Annotated[str, StringConstraints(min_length=1, max_length=4000)]],
    Field(description="One text per declared language, e.g. {en: 'Hello', pl: 'Dzień dobry'}."),
]
Expression = Annotated[
    str,
    StringConstraints(min_length=1, max_length=500),
    Field(description="A condition over variables, e.g. 'trust >= 3 and not controller_near'."),
]
Update = Annotated[
    int | bool | str,
    Field(description="A value, an increment such as '+1' or '-2', or an expression."),
]


class _Strict(BaseModel):
    # No `str_strip_whitespace`: the YAML readers trim quoted and block texts as they read them
    # (`yamlsource`), where pydantic would copy every string of the file to trim it, a third of
    # the validation of a large scenario.
    model_config = ConfigDict(extra="forbid", frozen=True)


class Clip(_Strict):
    """A short clip shown with a line; `fallback` is read where the clip cannot be played."""

    kind: Literal["photo", "video", "video_note", "voice", "audio"]
    file: Annotated[str, StringConstraints(min_length=1, max_length=200)] = Field(
        description="Path relative to the scenario folder, e.g. media/note.png."
    )
    caption: LocalText
    fallback: LocalText


class LineVariant(_Strict):
    when: Expression | None = None
    text: LocalText
    reveals: list[str] = Field(default_factory=list)


class Line(_Strict):
    """Something a character says. `variants` replace `text` by state (the first that holds)."""

    id: Identifier
    speaker: Identifier
    text: LocalText | None = None
    variants: list[LineVariant] = Field(default_factory=list)
    when: Expression | None = Field(
        default=None, description="The line is said only if this holds."
    )
    clip: Clip | None = None
    reveals: list[str] = Field(
        default_factory=list, description="Indicator codes (IND.*, LR.*, NEG.*) this line shows."
    )

    @model_validator(mode="after")
    def _has_words(self) -> Line:
        if self.text is None and not self.variants:
            raise ValueError("a line needs 'text' or 'variants'")
        return self


class ScoreDelta(_Strict):
    code: Annotated[str, StringConstraints(pattern=r"^[QTSRLIFP][+-][A-Z_]+$")]
    points: Annotated[int, Field(ge=-2, le=2)]
    why: LocalText


class CriticalError(_Strict):
    code: Annotated[str, StringConstraints(pattern=r"^CE\.[A-Z_]+$")]
    why: LocalText


class Referral(_Strict):
    code: Annotated[str, StringConstraints(pattern=r"^REF\.[A-Z0-9_]+$")]
    verdict: Literal["right", "acceptable", "harmful"]
    why: LocalText


class Branch(_Strict):
    when: Expression | None = Field(default=None, description="Omit on the last branch.")
    to: Identifier


Target = Identifier | list[Branch]


class Choice(_Strict):
    """What the trainee may do: a button, and the free-text phrasings that mean the same."""

    id: Identifier
    text: LocalText = Field(description="The button label; also what the transcript records.")
    examples: dict[LanguageCode, list[str]] = Field(
        default_factory=dict,
        description="Free-text phrasings per language, matched to this choice.",
    )
    hidden: bool = Field(default=False, description="Free text only: no button is shown.")
    once: bool = Field(default=False, description="Offered only until taken once.")
    when: Expression | None = Field(default=None, description="Offered only while this holds.")
    set: dict[Identifier, Update] = Field(default_factory=dict)
    score: list[ScoreDelta] = Field(default_factory=list)
    critical: CriticalError | None = None
    referral: Referral | None = None
    notices: list[str] = Field(
        default_factory=list, description="Indicator codes this choice follows up."
    )
    feedback: LocalText | None = Field(default=None, description="Coach's note after this turn.")
    reply: list[Line] = Field(default_factory=list, description="Said before moving on.")
    goto: Target | None = Field(default=None, description="Next node; omit to stay here.")


class Ending(_Strict):
    outcome: Identifier
    verdict: Literal["good", "mixed", "bad"]
    title: LocalText
    summary: LocalText


class Node(_Strict):
    set: dict[Identifier, Update] = Field(
        default_factory=dict, description="Updates applied on entering."
    )
    say: list[Line] = Field(default_factory=list)
    choices: list[Choice] = Field(default_factory=list)
    next: Target | None = Field(default=None, description="Where to go on without a choice.")
    hint: LocalText | None = None
    fallback: list[Line] = Field(
        default_factory=list, description="In-character reply when free text matches no choice."
    )
    ending: Ending | None = None


class Variable(_Strict):
    type: Literal["int", "bool"]
    initial: int | bool
    min: int | None = None
    max: int | None = None
    description: str | None = None


class Character(_Strict):
    id: Identifier
    name: LocalText
    role: Literal[
        "interpreter", "companion", "manager", "colleague", "officer", "narrator", "other"
    ]


class Persona(_Strict):
    id: Identifier
    name: str
    age: Annotated[int, Field(ge=1, le=120)]
    origin: LocalText
    speaks: list[str] = Field(min_length=1, description="Languages the person speaks.")


class Scoring(_Strict):
    weights: dict[Dimension, Annotated[int, Field(ge=0, le=100)]] = Field(
        default_factory=lambda: dict(DEFAULT_WEIGHTS)
    )
    pass_mark: Annotated[int, Field(ge=0, le=100)] = 70
    critical_cap: Annotated[int, Field(ge=0, le=100)] = Field(
        default=40, description="The highest overall score possible after any critical error."
    )
    hint_cost: Annotated[int, Field(ge=0, le=100)] = Field(
        default=2, description="Overall percentage points each hint costs."
    )
    hint_after_misses: Annotated[int, Field(ge=1, le=10)] = 2


class Scenario(_Strict):
    format: Literal[1] = 1
    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=60)]
    title: LocalText
    summary: LocalText
    languages: list[LanguageCode] = Field(min_length=1)
    objectives: list[LocalText] = Field(min_length=1)
    minutes: Annotated[int, Field(ge=1, le=240)]
    difficulty: Literal["introductory", "intermediate", "advanced"]
    content_warning: LocalText
    role: LocalText
    setting: LocalText
    persona: Persona
    characters: list[Character] = Field(default_factory=list)
    variables: dict[Identifier, Variable] = Field(default_factory=dict)
    scoring: Scoring = Field(default_factory=Scoring)
    start: Identifier
    expert_path: list[Identifier] = Field(
        default_factory=list, description="Choice ids of the model interview, in order."
    )
    fallback: list[Line] = Field(min_length=1)
    nodes: dict[Identifier, Node] = Field(min_length=1)
