"""Stores on every backend: SQLite in a temporary folder, and PostgreSQL when it answers.

Each PostgreSQL test gets a database of its own (created from `test`'s server, dropped after),
so tests never see each other's rows. Set SIGNPOST_TEST_POSTGRES_URL to choose the server; by
default the local one on 127.0.0.1:5432 is used if it answers.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from redis.asyncio import Redis

DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


def postgres_base() -> str:
    return os.environ.get("SIGNPOST_TEST_POSTGRES_URL", DEFAULT_POSTGRES)


async def _postgres_reachable(url: str) -> str | None:
    try:
        conn = await asyncpg.connect(
            url.replace("postgresql+asyncpg://", "postgresql://"), timeout=3
        )
    except (OSError, asyncpg.PostgresError) as error:
        return f"PostgreSQL at {url.split('@')[-1]} is not reachable: {type(error).__name__}"
    await conn.close()
    return None


@pytest.fixture(params=["sqlite", "postgres"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'signpost.db'}"
        return
    base = postgres_base()
    problem = await _postgres_reachable(base)
    if problem:
        pytest.skip(problem)
    name = f"signpost_t_{secrets.token_hex(6)}"
    admin = base.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    try:
        yield base.rsplit("/", 1)[0] + "/" + name
    finally:
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


#: the Redis the tests use (database 15 of the local server, unless told otherwise)
REDIS_URL = os.environ.get("SIGNPOST_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


async def answering(client: Redis) -> Redis:
    """`client`, once it has answered a ping; else it is closed and the test is skipped."""
    try:
        await client.ping()
    except (OSError, ConnectionError) as error:
        await client.aclose()
        pytest.skip(f"Redis at {REDIS_URL.split('@')[-1]} does not answer: {error}")
    return client
