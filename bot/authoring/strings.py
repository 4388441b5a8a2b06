"""String tables for translators: `signpost strings export|import`, and stale translations.

A table is a CSV file, one row per text the trainee sees, keyed by a stable id built from the
ids in the scenario (`nodes.account.choices.ask_cash.text`), with the source text, its
translation, a comment for the translator and a short hash of the source text at export. After
an import the table stays beside the scenario (`strings/<lang>.csv`); when a source text changes
later, its hash no longer matches and lint flags the translation as stale (as Yarn Spinner does).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.scenario.loader import LoadedScenario, load_scenario_text
from bot.scenario.problems import ScenarioError
from bot.scenario.yamlsource import Located, Path_, read_yaml

STRINGS_FOLDER = "strings"
COLUMNS = ("key", "source_hash", "source", "translation", "comment")
Check = tuple[Path_, str, str, str]


@dataclass(frozen=True, slots=True)
class Entry:
    key: str
    path: Path_
    texts: dict[str, str]


def source_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def entries(data: Any, languages: list[str]) -> Iterator[Entry]:
    """Every translatable text of a scenario's raw data, in file order."""
    yield from _walk(data, (), (), set(languages))


def _walk(value: Any, path: Path_, key: tuple[str, ...], languages: set[str]) -> Iterator[Entry]:
    if isinstance(value, dict):
        if value and set(value) <= languages and all(isinstance(v, str) for v in value.values()):
            yield Entry(".".join(key), path, dict(value))
            return
        for name, child in value.items():
            yield from _walk(child, (*path, name), (*key, str(name)), languages)
    elif isinstance(value, list):
        for i, child in enumerate(value):
            label = child.get("id") if isinstance(child, dict) else None
            yield from _walk(child, (*path, i), (*key, str(label if label else i)), languages)


def export_table(loaded: LoadedScenario, language: str, source_language: str) -> str:
    """The CSV table for translating from `source_language` into `language`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for entry in entries(read_yaml(loaded.source).data, loaded.scenario.languages):
        source = entry.texts.get(source_language, "")
        comment = _comment(entry.key)
        writer.writerow(
            [entry.key, source_hash(source), source, entry.texts.get(language, ""), comment]
        )
    return buffer.getvalue()


def _comment(key: str) -> str:
    last = key.rsplit(".", 1)[-1]
    return {
        "text": "a line spoken, or a button label",
        "why": "the coach's reason for a score",
        "caption": "a clip's caption",
        "fallback": "the description shown where a clip cannot be played",
        "hint": "a hint to the trainee",
        "feedback": "the coach's note after a turn",
    }.get(last, "")


@dataclass(frozen=True, slots=True)
class Row:
    key: str
    hash: str
    source: str
    translation: str


def read_table(text: str, name: str) -> list[Row]:
    reader = csv.DictReader(io.StringIO(text))
    missing = [
        c for c in ("key", "source_hash", "translation") if c not in (reader.fieldnames or [])
    ]
    if missing:
        raise ValueError(f"{name}: the table has no column {', '.join(missing)}")
    return [
        Row(r["key"], r.get("source_hash") or "", r.get("source") or "", r["translation"] or "")
        for r in reader
    ]


@dataclass(frozen=True, slots=True)
class ImportResult:
    text: str
    changed: int
    added: int
    unknown: list[str]


def import_table(loaded: LoadedScenario, language: str, rows: list[Row]) -> ImportResult:
    """The scenario's text with the table's translations written in; only those values change,
    everything else (comments, layout) stays as written. Raises ScenarioError if the result
    would not load."""
    located = read_yaml(loaded.source, spans=True)
    by_key = {e.key: e for e in entries(located.data, loaded.scenario.languages)}
    edits: list[tuple[int, int, str]] = []
    unknown: list[str] = []
    changed = added = 0
    for row in rows:
        entry = by_key.get(row.key)
        if entry is None:
            unknown.append(row.key)
            continue
        if not row.translation.strip() or entry.texts.get(language) == row.translation:
            continue
        quoted = json.dumps(row.translation, ensure_ascii=False)
        span = located.spans.get((*entry.path, language))
        if span is not None:
            edits.append((span[0], span[1], quoted))
            changed += 1
        else:
            edits.append(_insertion(loaded.source, located, entry.path, language, quoted))
            added += 1
    text = loaded.source
    for start, end, replacement in sorted(edits, reverse=True):
        text = text[:start] + replacement + text[end:]
    load_scenario_text(text, str(loaded.path), folder=loaded.folder)  # refuse a broken result
    return ImportResult(text, changed, added, unknown)


def _insertion(
    source: str, located: Located, path: Path_, language: str, quoted: str
) -> tuple[int, int, str]:
    _start, end, flow = located.mappings[path]
    if flow:  # `{en: "..."}`: add before the closing brace
        return end, end, f", {language}: {quoted}"
    # a block mapping: a new line after its last value, indented like its first key
    first = located.position_of((*path, next(iter(_keys(located, path)))))
    last_value_end = max(
        span[1]
        for key, span in located.spans.items()
        if key[:-1] == path and len(key) == len(path) + 1
    )
    line_end = source.find("\n", last_value_end)
    line_end = len(source) if line_end < 0 else line_end
    return line_end, line_end, "\n" + " " * (first.column - 1) + f"{language}: {quoted}"


def _keys(located: Located, path: Path_) -> list[str]:
    return [str(k[-1]) for k in located.positions if len(k) == len(path) + 1 and k[:-1] == path]


def table_path(loaded: LoadedScenario, language: str) -> Path:
    return loaded.folder / STRINGS_FOLDER / f"{language}.csv"


def stale_translations(loaded: LoadedScenario) -> Iterator[Check]:
    """Translations made from a source text that has changed since (lint SP120)."""
    folder = loaded.folder / STRINGS_FOLDER
    if not folder.is_dir():
        return
    current = {e.key: e for e in entries(read_yaml(loaded.source).data, loaded.scenario.languages)}
    source_language = loaded.scenario.languages[0]
    for table in sorted(folder.glob("*.csv")):
        language = table.stem
        try:
            rows = read_table(table.read_text(encoding="utf-8"), str(table))
        except (OSError, ValueError, csv.Error) as exc:
            yield (), f"cannot read {table.name}: {exc}", "export it again", "SP121"
            continue
        for row in rows:
            entry = current.get(row.key)
            if entry is None or not row.translation:
                continue
            now = source_hash(entry.texts.get(source_language, ""))
            if row.hash and row.hash != now and entry.texts.get(language) == row.translation:
                message = f"the {language} translation of '{row.key}' is stale: the text changed"
                hint = f"update it, then `signpost strings export {loaded.id} --lang {language}`"
                yield (*entry.path, language), message, hint, "SP120"


__all__ = ["ScenarioError", "export_table", "import_table", "read_table", "stale_translations"]
