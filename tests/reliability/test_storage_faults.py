"""The database going away mid-run: PostgreSQL behind a connection that is cut, SQLite locked by
another process. The trainee is told to try again shortly, nothing unstored is ever answered,
and once the database is back the session goes on where it was."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import journal
from bot.app.messages import ButtonsOut, Incoming, Outgoing, TextOut
from bot.scenario.loader import LoadedScenario
from storage import SqlStore, engines
from tests.conftest import REPORT
from tests.databases import _postgres_reachable, postgres_base
from tests.test_service_sql import service_for


class CuttableProxy:
    """A TCP proxy to the database on 127.0.0.1 that can drop every connection and refuse
    new ones, as a restarting server or a broken network does."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.open = True
        self.pipes: set[asyncio.StreamWriter] = set()
        self.server: asyncio.Server | None = None

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.open:
            writer.close()
            return
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self.pipes |= {writer, up_writer}
        await asyncio.gather(self._pump(reader, up_writer), self._pump(up_reader, writer))

    async def _pump(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            sink.close()

    def cut(self) -> None:
        self.open = False
        for pipe in self.pipes:
            pipe.transport.abort()
        self.pipes.clear()

    def restore(self) -> None:
        self.open = True

    async def close(self) -> None:
        self.cut()
        if self.server is not None:
            self.server.close()


def msg(text: str | None = None, *, button: str | None = None, key: str) -> Incoming:
    return Incoming("test", "trainee-1", text=text, button=button, key=key, language="en")


def buttons(replies: list[Outgoing]) -> list[str]:
    menus = [r for r in replies if isinstance(r, ButtonsOut)]
    return [b.data for b in menus[-1].buttons] if menus else []


def is_retry_later(replies: list[Outgoing]) -> bool:
    return [r.kind for r in replies if isinstance(r, TextOut)] == ["error"]


@pytest.fixture
async def postgres_via_proxy() -> AsyncIterator[tuple[str, CuttableProxy]]:
    base = postgres_base()
    if problem := await _postgres_reachable(base):
        pytest.skip(problem)
    import asyncpg

    name = "signpost_fault_test"
    admin = base.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(admin)
    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    port = int(base.split("@", 1)[1].split("/")[0].split(":")[1])
    proxy = CuttableProxy(port)
    proxied = await proxy.start()
    user = base.split("://", 1)[1].split("@", 1)[0]
    try:
        yield f"postgresql+asyncpg://{user}@127.0.0.1:{proxied}/{name}", proxy
    finally:
        await proxy.close()
        conn = await asyncpg.connect(admin)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


async def test_postgres_cut_mid_run_then_back(
    postgres_via_proxy: tuple[str, CuttableProxy], mini: LoadedScenario
) -> None:
    url, proxy = postgres_via_proxy
    store = await SqlStore.open(url)
    try:
        service = service_for(store, mini)
        service.sleep = lambda _s: asyncio.sleep(0)
        replies = await service.handle(msg("/start mini", key="k0"))
        replies = await service.handle(msg(button=buttons(replies)[0], key="k1"))
        proxy.cut()
        lost = await service.handle(msg("Tell me about your trip.", key="k2"))
        assert is_retry_later(lost), lost  # told to try again, and no turn was answered
        proxy.restore()
        again = await service.handle(msg("Tell me about your trip.", key="k2"))
        assert not is_retry_later(again) and any(isinstance(r, TextOut) for r in again)
        trainee = await store.trainee("test", "trainee-1")
        [session] = await store.sessions_of(trainee.id)
        log = await store.turns(session.id)
        assert [t.input_key for t in log] == ["k0", "k1", "k2"]
        version = await service.library.version(session.scenario_hash, session.scenario_id)
        assert journal.replay(version.interview, log) == session.state
        REPORT.append(
            "storage faults: PostgreSQL cut mid-run: the trainee was told to retry, nothing "
            "unstored was answered, the session went on after the database came back"
        )
    finally:
        await store.close()


async def test_sqlite_locked_by_another_process_then_released(
    tmp_path: Path, mini: LoadedScenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engines, "SQLITE_BUSY_TIMEOUT_MS", 200)
    path = tmp_path / "signpost.db"
    store = await SqlStore.open(f"sqlite+aiosqlite:///{path}")
    try:
        service = service_for(store, mini)
        service.sleep = lambda _s: asyncio.sleep(0)
        replies = await service.handle(msg("/start mini", key="k0"))
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")  # another program holds the write lock
        try:
            locked = await service.handle(msg(button=buttons(replies)[0], key="k1"))
            assert is_retry_later(locked), locked
        finally:
            other.execute("ROLLBACK")
            other.close()
        again = await service.handle(msg(button=buttons(replies)[0], key="k1"))
        assert not is_retry_later(again)
        trainee = await store.trainee("test", "trainee-1")
        [session] = await store.sessions_of(trainee.id)
        assert [t.input_key for t in await store.turns(session.id)] == ["k0", "k1"]
        REPORT.append(
            "storage faults: SQLite locked by another process: retry-later reply, then the turn "
            "stored once"
        )
    finally:
        await store.close()
