"""`signpost new`: a scenario folder that loads, lints clean and passes its own test."""

from __future__ import annotations

import re
from pathlib import Path

SCENARIO_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")

SCENARIO = """\
# yaml-language-server: $schema=../schema.json
# A new scenario: replace the texts, add nodes, then `signpost lint` and `signpost test`.
id: {id}
title: {{en: "New scenario", pl: "Nowy scenariusz"}}
summary: {{en: "What happens, in one sentence.", pl: "Co się dzieje, w jednym zdaniu."}}
languages: [en, pl]
objectives:
  - {{en: "Introduce yourself and explain the conversation", pl: "Przedstawić się i wyjaśnić cel rozmowy"}}
minutes: 5
difficulty: introductory
content_warning: {{en: "None.", pl: "Brak."}}
role: {{en: "Border Guard officer", pl: "Funkcjonariusz Straży Granicznej"}}
setting: {{en: "A quiet room.", pl: "Spokojny pokój."}}
persona:
  id: person
  name: Alex
  age: 30
  origin: {{en: "a fictional country", pl: "fikcyjny kraj"}}
  speaks: [en]
characters:
  - {{id: colleague, name: {{en: "Colleague", pl: "Kolega"}}, role: colleague}}
variables:
  trust: {{type: int, initial: 1, min: 0, max: 5, description: "How safe the person feels"}}
scoring:
  # Only what this scenario teaches counts; give a dimension weight when a choice scores it.
  weights: {{Q: 20, T: 30, R: 50, S: 0, L: 0, I: 0, F: 0, P: 0}}
start: first_contact
expert_path: [introduce]
fallback:
  - id: fallback.unsure
    speaker: person
    text: {{en: "Sorry, I don't understand.", pl: "Przepraszam, nie rozumiem."}}
nodes:
  first_contact:
    say:
      - id: first.person
        speaker: person
        variants:
          - when: "trust >= 3"
            text: {{en: "Thank you. I can talk now.", pl: "Dziękuję. Teraz mogę rozmawiać."}}
          - text: {{en: "Is there a problem?", pl: "Czy jest jakiś problem?"}}
      - id: first.colleague
        speaker: colleague
        text: {{en: "She has been waiting for an hour.", pl: "Czeka już godzinę."}}
    hint: {{en: "Say who you are and why you are talking.", pl: "Powiedz, kim jesteś i po co rozmawiacie."}}
    choices:
      - id: introduce
        text: {{en: "Introduce yourself and explain the conversation", pl: "Przedstaw się i wyjaśnij cel rozmowy"}}
        examples:
          en: ["my name is", "let me introduce myself", "I am an officer of the Border Guard"]
          pl: ["nazywam się", "pozwoli pani, że się przedstawię", "jestem funkcjonariuszem Straży Granicznej"]
        set: {{trust: "+2"}}
        score:
          - {{code: R+INTRO, points: 2, why: {{en: "The person knows who you are.", pl: "Osoba wie, kim jesteś."}}}}
        goto: the_end
      - id: demand_papers
        text: {{en: "Demand her papers", pl: "Zażądaj dokumentów"}}
        score:
          - {{code: T-RUSH, points: -1, why: {{en: "Too abrupt.", pl: "Zbyt gwałtownie."}}}}
        goto: the_end
  the_end:
    say:
      - id: end.person
        speaker: person
        variants:
          - when: "trust >= 3"
            text: {{en: "Thank you for explaining.", pl: "Dziękuję za wyjaśnienie."}}
          - text: {{en: "...", pl: "..."}}
    ending:
      outcome: done
      verdict: good
      title: {{en: "The end", pl: "Koniec"}}
      summary: {{en: "Replace this with what the trainee should take away.", pl: "Zastąp to tym, co kursant powinien zapamiętać."}}
"""

TEST = """\
# Tests for {id}: `signpost test dialogues/{id}` (format: dialogues/README.md).
cases:
  - name: the expert path
    check_examples: true
    steps:
      - choose: introduce
        expect: {{vars: {{trust: ">= 3"}}}}
    end: {{ending: done, passed: true, overall: "== 100"}}
  - name: demanding papers first
    steps:
      - choose: demand_papers
    end: {{ending: done, passed: false}}
profiles:
  - name: a polite interviewer
    runs: 5
    take: [introduce]
    expect: {{overall: [100, 100], passed: always}}
"""


class ScaffoldError(ValueError):
    pass


def create(root: Path, scenario_id: str) -> list[Path]:
    if not SCENARIO_ID.match(scenario_id):
        raise ScaffoldError(
            f"'{scenario_id}' is not a valid id: use lower-case letters, digits and '-'"
        )
    folder = root / scenario_id
    if folder.exists():
        raise ScaffoldError(f"{folder} already exists")
    (folder / "tests").mkdir(parents=True)
    (folder / "media").mkdir()
    files = [folder / "scenario.yaml", folder / "tests" / f"{scenario_id}.yaml"]
    files[0].write_text(SCENARIO.format(id=scenario_id), encoding="utf-8")
    files[1].write_text(TEST.format(id=scenario_id), encoding="utf-8")
    return files
