"""Engines for the store: one connection for the writer, a small pool for readers.

Both backends get the same shape. On SQLite the writer's transactions start with
`BEGIN IMMEDIATE` (it takes the write lock up front, so it never fails half-way with "database
is locked"), and WAL mode lets the readers' connections read while the writer writes. SQLite
is driven through the plain sqlite3 driver from threads of our own (storage.drivers says why);
PostgreSQL through asyncpg.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

#: SQLite `synchronous` level. In WAL mode both NORMAL and FULL survive a *process* crash: a
#: commit is in the WAL file, i.e. in the OS, before COMMIT returns. FULL also fsyncs the WAL
#: at every commit, so a turn whose reply was sent survives a power cut or kernel panic too;
#: under NORMAL the last commits before one can be lost. Measured on this machine (ext4 in a
#: VM): raw sqlite3, one 300-byte row per commit, NORMAL 0.03 ms vs FULL 0.31 ms; 500 rows per
#: commit, 1.74 vs 1.97 ms. Through this store (bench/bench_storage.py, medians of 3): a lone
#: trainee's append p50 0.43 ms NORMAL vs 0.70 ms FULL; 1,000 trainees 10.8-14.9k vs
#: 10.7-11.9k turns/s. Group commit pays the fsync once per batch, so FULL is cheap: we take it.
SQLITE_SYNCHRONOUS = "FULL"
#: How long a SQLite connection waits for another process's lock before giving up.
SQLITE_BUSY_TIMEOUT_MS = 5000
#: asyncpg defaults: seconds to connect and per statement, so a hung server fails the batch
#: (StoreUnavailableError) instead of stalling every writer forever.
POSTGRES_CONNECT_ARGS: Mapping[str, Any] = {"timeout": 10, "command_timeout": 30}

DRIVERS = ("sqlite+aiosqlite", "postgresql+asyncpg")


class JsonText(str):
    """JSON the caller already encoded; `_serialize` passes it through untouched.

    Encoding in the caller, before an operation is queued, means a value that cannot be
    stored fails that one call at once, never a whole batch, and the writer does less work.
    """

    __slots__ = ()


# allow_nan=False: PostgreSQL's JSONB refuses NaN, so refuse it on SQLite too. Made once:
# json.dumps with options builds a new encoder at every call.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def encode_json(value: Any) -> JsonText:
    return JsonText(_ENCODER.encode(value))


def _serialize(value: Any) -> str:
    return value if isinstance(value, JsonText) else encode_json(value)


def check_url(url: str) -> URL:
    parsed = make_url(url)
    if parsed.drivername not in DRIVERS:
        raise ValueError(f"unsupported database URL {parsed.drivername!r}: use one of {DRIVERS}")
    if parsed.drivername.startswith("sqlite") and parsed.database in (None, "", ":memory:"):
        # Every connection to :memory: is a separate database: the writer's and the readers'
        # connections would never see each other's data. Use a file (tmp_path in tests).
        raise ValueError("an in-memory SQLite database cannot be shared by the writer and readers")
    return parsed


def sqlite_writer_engine(url: URL, connect_args: Mapping[str, Any] | None) -> Engine:
    """One connection for the writer thread (storage.drivers.ThreadDriver)."""
    engine = create_engine(
        _pysqlite(url),
        pool_size=1,
        max_overflow=0,
        connect_args=dict(connect_args or {}),
        json_serializer=_serialize,
    )

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        # Stop the sqlite3 driver from issuing its own (deferred) BEGIN: we send ours below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")  # persistent in the file; set by the writer
        cursor.execute(f"PRAGMA synchronous={SQLITE_SYNCHRONOUS}")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        # Take the write lock now: a deferred BEGIN would upgrade at the first INSERT and can
        # then fail with "database is locked" without waiting for busy_timeout.
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def sqlite_reader_engine(url: URL, connect_args: Mapping[str, Any] | None, size: int) -> Engine:
    """`size` connections for the reader threads (storage.drivers.ThreadReader). Autocommit:
    a read is one statement, so it needs no BEGIN and never holds an old snapshot, which
    would keep the WAL from being checkpointed."""
    engine = create_engine(
        _pysqlite(url),
        pool_size=size,
        max_overflow=0,
        isolation_level="AUTOCOMMIT",
        # Each connection is used by one thread at a time, but not always the same one.
        connect_args={"check_same_thread": False, **(connect_args or {})},
        json_serializer=_serialize,
    )

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA query_only=ON")  # all writes go through the writer
        cursor.close()

    return engine


def postgres_writer_engine(url: URL, connect_args: Mapping[str, Any] | None) -> AsyncEngine:
    """One asyncpg connection for the writer (storage.drivers.AsyncDriver)."""
    return create_async_engine(
        url,
        pool_size=1,
        max_overflow=0,
        connect_args={**POSTGRES_CONNECT_ARGS, **(connect_args or {})},
        json_serializer=_serialize,
    )


def postgres_reader_engine(
    url: URL, connect_args: Mapping[str, Any] | None, size: int
) -> AsyncEngine:
    """A pool for reads, in autocommit: a read is one statement and needs no transaction."""
    return create_async_engine(
        url,
        pool_size=size,
        max_overflow=size * 2,
        pool_pre_ping=True,  # a server restart costs one failed read, not one per connection
        isolation_level="AUTOCOMMIT",
        connect_args={**POSTGRES_CONNECT_ARGS, **(connect_args or {})},
        json_serializer=_serialize,
    )


def _pysqlite(url: URL) -> URL:
    # The same file through the plain sqlite3 driver; see storage.drivers for why.
    return url.set(drivername="sqlite+pysqlite")


def is_bad_operation(error: BaseException) -> bool:
    """A failure caused by the data of some operation (a constraint, a value the database
    refuses), not by the database: retrying the batch's operations one by one isolates it."""
    if isinstance(error, sa_exc.IntegrityError | sa_exc.DataError):
        return True
    # A StatementError that is not a DBAPIError failed while binding parameters, in Python.
    return isinstance(error, sa_exc.StatementError) and not isinstance(error, sa_exc.DBAPIError)


def is_unavailable(error: BaseException) -> bool:
    """The database failed: gone, locked past the timeout, disk full, schema missing..."""
    return isinstance(
        error, sa_exc.DBAPIError | sa_exc.DisconnectionError | sa_exc.TimeoutError | OSError
    )
