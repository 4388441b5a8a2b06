"""Fixtures: a real Synapse on 127.0.0.1 (one per test session), and per test a bot account,
a fresh SQLite database, the real TrainingService, and trainees driven with matrix-nio."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from adapters.matrix.options import MatrixOptions
from adapters.matrix.outbox import Limits
from adapters.matrix.render import Typing
from adapters.matrix.runner import serve
from bot.app.library import ScenarioLibrary
from bot.app.service import TrainingService
from bot.scenario.loader import Catalogue, LoadedScenario, load_scenario
from storage import SqlStore
from tests.conftest import DIALOGUES
from tests.matrix.synapse import MISSING, SYNAPSE_PYTHON, Account, Homeserver
from tests.matrix.trainee import Trainee

_names = itertools.count(1)

#: quick to react and no typing pauses: what the tests want unless they say otherwise
TEST_OPTIONS = MatrixOptions(
    sync_timeout_ms=10_000,
    typing=Typing(seconds_per_char=0),
    limits=Limits(attempts=4, backoff_first=0.1, backoff_max=1.0),
    sync_backoff_first=0.1,
    sync_backoff_max=1.0,
    flush_seconds=10.0,
)


def _homeserver(folder: Path, *, default_rate_limits: bool) -> Iterator[Homeserver]:
    if not SYNAPSE_PYTHON.exists():
        pytest.fail(MISSING, pytrace=False)
    server = Homeserver(folder, default_rate_limits=default_rate_limits)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def homeserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Homeserver]:
    """Synapse with every rate limit raised: for everything but the rate-limit test."""
    yield from _homeserver(tmp_path_factory.mktemp("synapse"), default_rate_limits=False)


@pytest.fixture
def strict_homeserver(tmp_path: Path) -> Iterator[Homeserver]:
    """Synapse with its default rate limits (a sender: 0.2 messages/s, bursts of 10)."""
    yield from _homeserver(tmp_path / "synapse-strict", default_rate_limits=True)


@pytest.fixture(scope="session")
def scenarios() -> Catalogue:
    catalogue = Catalogue()
    for path in (
        DIALOGUES / "air-01" / "scenario.yaml",
        Path(__file__).parents[1] / "scenarios" / "mini" / "scenario.yaml",
    ):
        loaded: LoadedScenario = load_scenario(path)
        catalogue.scenarios[loaded.id] = loaded
    return catalogue


@dataclass
class Bot:
    """The adapter running in this test's event loop, as `signpost run matrix` would run it."""

    server: Homeserver
    account: Account
    database_url: str
    catalogue: Catalogue
    allow: list[str] = field(default_factory=list)
    store: SqlStore | None = None
    service: TrainingService | None = None
    task: asyncio.Task[None] | None = None
    stop_event: asyncio.Event = field(default_factory=asyncio.Event)
    starts: int = 0

    async def start(self, options: MatrixOptions = TEST_OPTIONS, **kwargs: Any) -> Bot:
        self.store = await SqlStore.open(self.database_url)
        library = ScenarioLibrary(self.catalogue, self.store)
        self.service = TrainingService(library, self.store, seeds=lambda: 7)
        self.stop_event = asyncio.Event()
        credentials = {"password": self.account.password, "token": None} | kwargs
        self.task = asyncio.create_task(
            serve(
                self.service,
                self.store,
                homeserver=self.server.url,
                user=self.account.user_id,
                allow=self.allow,
                stop=self.stop_event,
                options=options,
                **credentials,
            )
        )
        self.starts += 1
        return self

    async def stop(self) -> None:
        """A clean stop (SIGTERM): answers in flight are sent first."""
        if self.task is not None:
            self.stop_event.set()
            await asyncio.wait_for(self.task, timeout=30)
            self.task = None
        await self._close_store()

    async def crash(self) -> None:
        """An abrupt stop: whatever is in flight is dropped."""
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
            self.task = None
        await self._close_store()

    async def _close_store(self) -> None:
        if self.store is not None:
            await self.store.close()
            self.store = None


@dataclass
class Matrix:
    """Everything one test needs: the homeserver, the bot, and a way to add trainees."""

    server: Homeserver
    bot: Bot
    trainees: list[Trainee] = field(default_factory=list)

    async def trainee(self, name: str | None = None, *, store: Path | None = None) -> Trainee:
        """A trainee's client; with a key `store` folder, one that does end-to-end encryption."""
        account = self.server.register(name or f"trainee{next(_names)}")
        trainee = Trainee(self.server.url, account, self.bot.account.user_id, store=store)
        await trainee.start()
        self.trainees.append(trainee)
        return trainee

    async def close(self) -> None:
        await asyncio.gather(*(t.close() for t in self.trainees), return_exceptions=True)
        await self.bot.stop()


async def _matrix(
    server: Homeserver, tmp_path: Path, catalogue: Catalogue
) -> AsyncIterator[Matrix]:
    account = server.register(f"signpost{next(_names)}")
    url = f"sqlite+aiosqlite:///{tmp_path / 'signpost.db'}"
    matrix = Matrix(server, Bot(server, account, url, catalogue))
    try:
        yield matrix
    finally:
        await matrix.close()


@pytest.fixture
async def matrix(
    homeserver: Homeserver, tmp_path: Path, scenarios: Catalogue
) -> AsyncIterator[Matrix]:
    async for value in _matrix(homeserver, tmp_path, scenarios):
        yield value


@pytest.fixture
async def strict_matrix(
    strict_homeserver: Homeserver, tmp_path: Path, scenarios: Catalogue
) -> AsyncIterator[Matrix]:
    async for value in _matrix(strict_homeserver, tmp_path, scenarios):
        yield value
