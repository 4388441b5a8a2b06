"""Fixtures: a Bot API peer on 127.0.0.1, a fresh SQLite database, the bot's harness."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.scenario.loader import LoadedScenario, load_scenario
from tests.conftest import SECRETS
from tests.peers.telegram import BotApiPeer
from tests.telegram.harness import SECRET, TOKEN, Harness, scenario_path


@pytest.fixture(scope="session")
def air01() -> LoadedScenario:
    return load_scenario(scenario_path("air-01"))


@pytest.fixture
async def peer() -> AsyncIterator[BotApiPeer]:
    server = BotApiPeer(TOKEN)
    await server.start()
    try:
        yield server
    finally:
        await server.close()


@pytest.fixture
async def harness(
    peer: BotApiPeer, tmp_path: Path, air01: LoadedScenario
) -> AsyncIterator[Harness]:
    rig = Harness(peer, f"sqlite+aiosqlite:///{tmp_path / 'signpost.db'}", (air01,))
    try:
        yield rig
    finally:
        await rig.close()


# The token's secret half and the webhook secret must never appear in any output of the run.
SECRETS.update({TOKEN.split(":", 1)[1], SECRET})
