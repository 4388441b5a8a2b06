"""String tables, graphs, exploration, scaffolding and play-testing."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from bot.authoring import strings
from bot.authoring.explore import explore_exhaustive, explore_random
from bot.authoring.graph import Overlay, to_dot, to_mermaid
from bot.authoring.lint import lint_file
from bot.authoring.playtest import PlayTest, PresetError, parse_presets
from bot.authoring.runner import interview_for
from bot.authoring.scaffold import ScaffoldError, create
from bot.authoring.suite import discover, run
from bot.cli import app
from bot.scenario.loader import LoadedScenario, load_scenario, load_scenario_text
from tests.conftest import MINI


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    folder = tmp_path / "mini"
    folder.mkdir()
    shutil.copy(MINI, folder / "scenario.yaml")
    return folder / "scenario.yaml"


def rows(table: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(table)))


def test_export_lists_every_text_with_a_stable_key(mini: LoadedScenario) -> None:
    table = rows(strings.export_table(mini, "pl", "en"))
    keys = {r["key"]: r for r in table}
    row = keys["nodes.talk.choices.ask_trip.text"]
    assert row["source"] == "Tell me about your trip, in your own words."
    assert row["translation"] == "Proszę opowiedzieć o podróży własnymi słowami."
    assert row["source_hash"] == strings.source_hash(row["source"])
    assert "nodes.bus.say.bus.scene.text" in keys and "title" in keys
    assert all(r["source"] for r in table)


def test_import_changes_only_the_translated_values(copy: Path) -> None:
    loaded = load_scenario(copy)
    table = strings.export_table(loaded, "pl", "en")
    edited = table.replace(
        "Proszę opowiedzieć o podróży własnymi słowami.", 'Proszę opowiedzieć o "podróży".'
    )
    result = strings.import_table(loaded, "pl", strings.read_table(edited, "t.csv"))
    assert (result.changed, result.added, result.unknown) == (1, 0, [])
    before, after = loaded.source.splitlines(), result.text.splitlines()
    assert len(before) == len(after)
    assert [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b] == [86]
    again = load_scenario_text(result.text, "again")
    choice = again.scenario.nodes["talk"].choices[0]
    assert choice.text["pl"] == 'Proszę opowiedzieć o "podróży".'


def test_import_adds_a_missing_translation_to_a_block_mapping(copy: Path) -> None:
    source = copy.read_text(encoding="utf-8")
    block = '  en: "Ana sits by the window. A man beside her holds two passports."\n'
    assert block in source
    loaded = load_scenario(copy)
    table = strings.export_table(loaded, "pl", "en").replace(
        "Ana siedzi przy oknie. Mężczyzna obok trzyma dwa paszporty.", "Nowe tłumaczenie."
    )
    result = strings.import_table(loaded, "pl", strings.read_table(table, "t.csv"))
    assert result.changed == 1
    assert '          pl: "Nowe tłumaczenie."' in result.text


def test_a_changed_source_makes_the_translation_stale(copy: Path) -> None:
    loaded = load_scenario(copy)
    table_file = strings.table_path(loaded, "pl")
    table_file.parent.mkdir()
    table_file.write_text(strings.export_table(loaded, "pl", "en"), encoding="utf-8")
    assert lint_file(copy).problems == []
    copy.write_text(
        copy.read_text(encoding="utf-8").replace(
            "Tell me about your trip, in your own words.", "Tell me about the journey."
        ),
        encoding="utf-8",
    )
    [problem] = lint_file(copy).problems
    assert problem.code == "SP120" and problem.line == 87
    assert "'nodes.talk.choices.ask_trip.text' is stale" in problem.message


def test_import_refuses_a_result_that_would_not_load(copy: Path) -> None:
    loaded = load_scenario(copy)
    table = "key,source_hash,source,translation,comment\nid,x,mini,not an id!,\n"
    result = CliRunner().invoke(
        app,
        [
            "strings",
            "import",
            str(copy.parent),
            "--lang",
            "pl",
            "--table",
            _write(copy.parent / "t.csv", table),
        ],
    )
    assert result.exit_code == 0  # 'id' is not a translatable text: nothing changes
    assert copy.read_text(encoding="utf-8") == loaded.source


def _write(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_dot_and_mermaid_style_endings_decisions_critical_edges_and_a_path(
    mini: LoadedScenario,
) -> None:
    overlay = Overlay(path=("separate",), visited=("bus", "talk"))
    dot = to_dot(mini.scenario, overlay)
    assert '"end_good" [label="end_good\\nreferred (good)", shape="doubleoctagon"' in dot
    assert '"decide" [label="decide", shape="diamond"' in dot
    assert 'label="let_him [CE.CONTROLLER_INTERPRETS]", color="#c62828"' in dot
    assert '"bus" -> "talk" [label="separate", color="#1565c0", penwidth="3"]' in dot
    mermaid = to_mermaid(mini.scenario, overlay)
    assert mermaid.startswith("flowchart TD")
    assert '-.->|"let_him [CE.CONTROLLER_INTERPRETS]"|' in mermaid


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_svg_through_graphviz(tmp_path: Path) -> None:
    target = tmp_path / "mini.svg"
    result = CliRunner().invoke(
        app, ["graph", str(MINI.parent), "--format", "svg", "-o", str(target)]
    )
    assert result.exit_code == 0, result.output
    assert target.read_text(encoding="utf-8").lstrip().startswith("<?xml")


def test_random_and_exhaustive_exploration_of_the_mini_scenario(mini: LoadedScenario) -> None:
    interview = interview_for(mini)
    walked = explore_random(interview, 300, seed=1)
    assert walked.runs == 300 and walked.findings == []
    assert set(walked.endings) == {"referred", "lost"}
    assert walked.unreached(interview) == []
    full = explore_exhaustive(interview)
    assert full.bound_hit is None and full.findings == []
    assert full.overall is not None and full.overall[1] == 100.0
    same = explore_random(interview, 300, seed=1)
    assert same.endings == walked.endings  # seeded: the same runs every time


def test_exploration_finds_a_dead_end(tmp_path: Path) -> None:
    # ask_money now needs more trust than ask_trip can give, and accuse needs none left
    source = (
        MINI.read_text(encoding="utf-8")
        .replace('when: "trust >= 2 and fear < 5"', 'when: "trust >= 5"')
        .replace(
            "expert_path: [separate, ask_trip, ask_money, refer_kcik]", "expert_path: [separate]"
        )
        .replace(
            "        score: [{code: T-DISBELIEF",
            '        when: "trust < 1"\n        score: [{code: T-DISBELIEF',
        )
    )
    loaded = load_scenario_text(source, "dead-end")
    found = explore_exhaustive(interview_for(loaded))
    [finding] = found.findings
    assert finding.kind == "dead-end" and finding.detail == "no choice open at 'talk'"
    assert finding.path == ("separate", "ask_trip")


def test_the_exhaustive_walk_says_when_it_hit_its_bound(mini: LoadedScenario) -> None:
    found = explore_exhaustive(interview_for(mini), max_states=3)
    assert found.bound_hit == "stopped at 3 states (--max-states)"


def test_a_new_scenario_lints_clean_and_passes_its_own_tests(tmp_path: Path) -> None:
    files = create(tmp_path, "lab-09")
    assert files[0].read_text(encoding="utf-8").startswith("# yaml-language-server: $schema=")
    assert lint_file(files[0]).problems == []
    [report] = discover([tmp_path / "lab-09"])
    run(report)
    assert report.passed and report.node_and_choice_percent == 100.0
    with pytest.raises(ScaffoldError, match="already exists"):
        create(tmp_path, "lab-09")
    with pytest.raises(ScaffoldError, match="not a valid id"):
        create(tmp_path, "Lab 9")


def test_play_testing_starts_anywhere_shows_changes_and_goes_back(mini: LoadedScenario) -> None:
    console = Console(record=True, width=200)
    playtest = PlayTest(interview_for(mini), console)
    playtest.start("en", "talk", parse_presets(["trust=2", "controller_near=false"], mini))
    assert playtest.current.state.node == "talk"
    playtest.handle("1")  # ask_trip
    assert "trust=3 (was 2)" in console.export_text()
    assert playtest.current.state.path == ("ask_trip",)
    playtest.handle("/back")
    assert playtest.current.state.path == ()
    assert playtest.handle("/quit") is False
    with pytest.raises(PresetError, match="declared NAME"):
        parse_presets(["nothing=1"], mini)
    with pytest.raises(PresetError, match="true or false"):
        parse_presets(["controller_near=maybe"], mini)


def test_an_unreadable_string_table_is_reported(copy: Path) -> None:
    (copy.parent / "strings").mkdir()
    (copy.parent / "strings" / "pl.csv").write_text("no,columns\n1,2\n", encoding="utf-8")
    [problem] = lint_file(copy).problems
    assert problem.code == "SP121"
    assert problem.message.startswith("cannot read pl.csv: ")
    assert "no column key, source_hash, translation" in problem.message
