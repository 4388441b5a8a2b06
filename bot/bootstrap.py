"""Wiring: settings -> store, scenario library and service. The only place that knows all."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from bot.app.library import ScenarioLibrary, settle_long_lived_objects
from bot.app.service import TrainingService
from bot.config import Settings
from bot.reports import Renderer
from bot.scenario.loader import Catalogue, load_catalogue
from storage import SqlStore
from storage.redis_gate import RedisGate


@dataclass(frozen=True, slots=True)
class Runtime:
    settings: Settings
    catalogue: Catalogue
    store: SqlStore
    library: ScenarioLibrary
    service: TrainingService


@asynccontextmanager
async def runtime(
    settings: Settings, *, service_class: type[TrainingService] = TrainingService
) -> AsyncIterator[Runtime]:
    catalogue = load_catalogue([settings.dialogues])
    settle_long_lived_objects()
    store = await SqlStore.open(settings.database_url.get_secret_value())
    # With Redis, several bot processes share each trainee's gate (issue #8, README).
    gate = RedisGate.from_url(settings.redis_url.get_secret_value()) if settings.redis_url else None
    try:
        library = ScenarioLibrary(catalogue, store)
        for line in await library.keep_serving_last_good():
            logging.getLogger("signpost").warning(
                "scenario kept at its last good version: %s", line
            )
        service = service_class(
            library, store, default_mode=settings.mode, renderer=Renderer(), gate=gate
        )
        yield Runtime(settings, catalogue, store, library, service)
    finally:
        if gate is not None:
            await gate.close()
        await store.close()
