"""Backends for the storage tests: SQLite in tmp_path, and PostgreSQL when it answers.

PostgreSQL is `SIGNPOST_TEST_POSTGRES_URL`, or by default the local server with trust auth.
Each PostgreSQL test gets a schema of its own (`t_<random>`, first on the search_path, dropped
after), so tests never see each other's rows and need no database of their own.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from storage import SqlStore

DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
_unreachable: dict[str, str] = {}  # URL -> why, so an absent server costs one timeout per run


@dataclass(frozen=True)
class Backend:
    name: str
    url: str
    connect_args: dict[str, Any] = field(default_factory=dict)
    #: PostgreSQL: the test's schema (also its connections' application_name)
    schema: str | None = None

    async def open(self, **options: Any) -> SqlStore:
        return await SqlStore.open(self.url, connect_args=self.connect_args, **options)


def postgres_url() -> str:
    return os.environ.get("SIGNPOST_TEST_POSTGRES_URL") or DEFAULT_POSTGRES


def asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def _reachable(url: str) -> str | None:
    if url in _unreachable:
        return _unreachable[url]
    try:
        conn = await asyncpg.connect(asyncpg_dsn(url), timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError) as error:
        where = url.rsplit("@", 1)[-1]
        _unreachable[url] = f"PostgreSQL at {where} is not reachable ({type(error).__name__})"
        return _unreachable[url]
    await conn.close()
    return None


@pytest.fixture(params=["sqlite", "postgres"])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    if request.param == "sqlite":
        yield Backend("sqlite", f"sqlite+aiosqlite:///{tmp_path / 'signpost.db'}")
        return
    url = postgres_url()
    if problem := await _reachable(url):
        pytest.skip(f"{problem}; set SIGNPOST_TEST_POSTGRES_URL to test PostgreSQL")
    schema = f"t_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await admin.execute(f'CREATE SCHEMA "{schema}"')
        settings = {"search_path": schema, "application_name": schema}
        yield Backend("postgres", url, {"server_settings": settings}, schema)
    finally:
        await admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await admin.close()


@pytest.fixture
async def store(backend: Backend) -> AsyncIterator[SqlStore]:
    opened = await backend.open()
    try:
        yield opened
    finally:
        await opened.close()
