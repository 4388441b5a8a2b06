"""Scenario versions by content hash, each compiled once and shared by all its sessions.

New sessions take the current version of a scenario; a session always continues on the
version it started with, loaded back from the store by its hash if the files changed since.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass
from pathlib import Path

from bot.app.ports import SessionStore
from bot.engine.compiled import CompiledScenario
from bot.engine.engine import Engine
from bot.scenario.loader import Catalogue, LoadedScenario, load_scenario_text
from bot.scenario.problems import ScenarioError
from bot.scoring.interview import Interview


class UnknownScenarioError(LookupError):
    pass


@dataclass(frozen=True, slots=True)
class Version:
    loaded: LoadedScenario
    interview: Interview


class ScenarioLibrary:
    def __init__(self, catalogue: Catalogue, store: SessionStore) -> None:
        self.catalogue = catalogue
        self._store = store
        self._versions: dict[str, Version] = {}

    def scenarios(self) -> list[LoadedScenario]:
        return list(self.catalogue)

    async def current(self, scenario_id: str) -> Version:
        loaded = self.catalogue.get(scenario_id)
        if loaded is None:
            raise UnknownScenarioError(scenario_id)
        version = self._versions.get(loaded.content_hash)
        if version is None:
            await self._store.save_scenario_version(loaded.id, loaded.content_hash, loaded.source)
            version = self._compile(loaded)
        return version

    async def version(self, content_hash: str, scenario_id: str) -> Version:
        """The exact version a session started on, from memory, the files or the store."""
        if (version := self._versions.get(content_hash)) is not None:
            return version
        loaded = self.catalogue.get(scenario_id)
        if loaded is not None and loaded.content_hash == content_hash:
            return self._compile(loaded)
        source = await self._store.scenario_source(content_hash)
        if source is None:
            raise UnknownScenarioError(f"{scenario_id}@{content_hash[:12]}")
        folder = loaded.folder if loaded is not None else Path()
        stored = load_scenario_text(source, f"{scenario_id}@{content_hash[:12]}", folder=None)
        return self._compile(
            LoadedScenario(stored.scenario, source, content_hash, folder / "scenario.yaml", folder)
        )

    async def keep_serving_last_good(self) -> list[str]:
        """For each scenario file that does not load now, serve the newest version stored (the
        one sessions ran on before the edit), so a broken edit never takes a scenario away.
        Returns a line per scenario recovered, for the log."""
        recovered: list[str] = []
        for failure in self.catalogue.failures:
            path = Path(failure.file)
            if path.name != "scenario.yaml" or path.parent.name in self.catalogue.scenarios:
                continue
            stored = await self._store.latest_scenario_source(path.parent.name)
            if stored is None:
                continue
            content_hash, source = stored
            try:
                loaded = load_scenario_text(source, str(path), folder=path.parent, path=path)
            except ScenarioError:
                continue  # the stored text no longer loads either (a newer engine): skip
            self.catalogue.scenarios[loaded.id] = loaded
            recovered.append(f"{loaded.id}: {path} does not load; serving {content_hash[:12]}")
        return recovered

    def _compile(self, loaded: LoadedScenario) -> Version:
        engine = Engine(CompiledScenario(loaded.scenario, loaded.content_hash), loaded.folder)
        version = Version(loaded, Interview(engine))
        self._versions[loaded.content_hash] = version
        settle_long_lived_objects()
        return version


def settle_long_lived_objects() -> None:
    """Take everything alive now (scenario models, compiled machines) out of the collector's view.

    They live as long as the process, yet every full collection walked them all: on a 2,000-node
    scenario that was a 300-400 ms pause of every trainee's turn a few times a minute under load
    (BENCHMARKS.md). Frozen objects are still freed by reference counting.
    """
    gc.freeze()
