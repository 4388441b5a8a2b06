"""`SqlStore`: the `SessionStore` port on SQLite (WAL) or PostgreSQL, via SQLAlchemy Core.

Every write goes through the single group-commit writer (`storage.writer`): it returns only
once committed. Reads use a small pool of other connections; on SQLite, WAL mode lets them read
while the writer writes, and each read sees every write that has returned. `trainee()`, asked
for every incoming message, answers from a small cache.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, delete, exists, select, update
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Row
from sqlalchemy.sql import Executable

from bot.app.ports import (
    AuditEntry,
    ConflictError,
    SessionRecord,
    StoreUnavailableError,
    Trainee,
    TurnRecord,
)
from bot.engine.state import SessionState
from storage import migrate as migrations
from storage import ops
from storage.directory import DirectoryMixin
from storage.directory import session_record as _session
from storage.drivers import AsyncDriver, AsyncReader, ThreadDriver, ThreadReader
from storage.engines import (
    check_url,
    is_unavailable,
    postgres_reader_engine,
    postgres_writer_engine,
    sqlite_reader_engine,
    sqlite_writer_engine,
)
from storage.statements import FIND_TRAINEE
from storage.tables import (
    cursors,
    inbox,
    media_refs,
    scenario_versions,
    sessions,
    turns,
)
from storage.writer import Writer, WriterStats

#: A new trainee's alias may collide (32 random bits) or another process may create the same
#: identity at the same moment: both are refused by a unique index, and we simply try again.
_TRAINEE_ATTEMPTS = 3
#: `trainee()` runs for every incoming message, so identities are cached. A trainee never
#: changes but for its language, which changes through `set_trainee_language` (which drops it
#: from the cache); the time limit bounds how long a change made by another process goes unseen.
TRAINEE_CACHE_SECONDS = 60.0
TRAINEE_CACHE_SIZE = 10_000

# Reads, built once: only the parameters change from call to call.
_SESSION = select(sessions).where(sessions.c.id == bindparam("id"))
_PENDING = (
    select(inbox.c.update_key, inbox.c.payload)
    .where(inbox.c.platform == bindparam("platform"), inbox.c.processed_at.is_(None))
    .order_by(inbox.c.received_at, inbox.c.update_key)
    .limit(bindparam("limit"))
)
_CURSOR = select(cursors.c.value).where(cursors.c.name == bindparam("name"))
_MEDIA = select(media_refs.c.ref).where(
    media_refs.c.platform == bindparam("platform"), media_refs.c.digest == bindparam("digest")
)
_ACTIVE = (
    select(sessions)
    .where(sessions.c.trainee_id == bindparam("trainee_id"))
    .where(sessions.c.status.in_(("active", "paused")))
    .order_by(sessions.c.updated_at.desc())
    .limit(1)
)
_SESSIONS_OF = (
    select(sessions)
    .where(sessions.c.trainee_id == bindparam("trainee_id"))
    .order_by(sessions.c.created_at, sessions.c.id)
)
_TURNS = select(turns).where(turns.c.session_id == bindparam("session_id")).order_by(turns.c.seq)
_INPUT_SEEN = select(
    exists().where(
        turns.c.session_id == bindparam("session_id"),
        turns.c.input_key == bindparam("input_key"),
    )
)
_SOURCE = select(scenario_versions.c.source).where(
    scenario_versions.c.content_hash == bindparam("content_hash")
)
_LATEST_SOURCE = (
    select(scenario_versions.c.content_hash, scenario_versions.c.source)
    .where(scenario_versions.c.scenario_id == bindparam("scenario_id"))
    .order_by(scenario_versions.c.created_at.desc())
    .limit(1)
)


class SqlStore(DirectoryMixin):
    """Open with `await SqlStore.open(url)`; `await store.close()` when done."""

    def __init__(
        self,
        reader: AsyncReader | ThreadReader,
        writer: Writer[ops.Operation],
        batches: ops.Batches,
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._batches = batches
        self._saved_versions: set[str] = set()
        #: (platform, external_id) -> (trainee, time.monotonic() after which to look again)
        self._trainees: dict[tuple[str, str], tuple[Trainee, float]] = {}
        #: bumped by every language change, so that a read begun before it is not cached
        self._trainee_generation = 0
        self._closed = False

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        migrate: bool = True,
        connect_args: Mapping[str, Any] | None = None,
        max_batch: int = 512,
        read_pool: int = 4,
    ) -> SqlStore:
        """Connect, upgrade the schema to the newest migration (unless `migrate=False`) and
        start the writer. `connect_args` go to the driver, e.g. asyncpg's `server_settings`."""
        parsed = check_url(url)
        if migrate:
            try:
                # Alembic runs its own event loop: in a thread, never in ours.
                await asyncio.to_thread(migrations.upgrade, url, connect_args=connect_args)
            except (sa_exc.SQLAlchemyError, OSError) as error:
                raise StoreUnavailableError(
                    f"cannot prepare the database: {type(error).__name__}: {error}"
                ) from error
        reader: AsyncReader | ThreadReader
        driver: AsyncDriver | ThreadDriver
        if parsed.drivername.startswith("sqlite"):
            reader = ThreadReader(sqlite_reader_engine(parsed, connect_args, read_pool), read_pool)
            engine = sqlite_writer_engine(parsed, connect_args)
            batches = ops.Batches(engine.dialect)
            driver = ThreadDriver(engine, batches)
        else:
            reader = AsyncReader(postgres_reader_engine(parsed, connect_args, read_pool))
            writes = postgres_writer_engine(parsed, connect_args)
            batches = ops.Batches(writes.dialect)
            driver = AsyncDriver(writes, batches)
        writer = Writer[ops.Operation](driver, max_batch=max_batch)
        try:
            await writer.start()
        except (sa_exc.SQLAlchemyError, OSError) as error:
            await driver.close()
            await reader.close()
            raise StoreUnavailableError(f"cannot connect to the database: {error}") from error
        return cls(reader, writer, batches)

    @property
    def stats(self) -> WriterStats:
        """The writer's counters: commits, operations, retried batches, failures."""
        return self._writer.stats

    async def close(self) -> None:
        """Commit everything already queued, stop the writer, release every connection."""
        if self._closed:
            return
        self._closed = True
        try:
            await self._writer.close()
        finally:
            await self._reader.close()

    # -- trainees ---------------------------------------------------------------------------

    async def trainee(
        self, platform: str, external_id: str, *, language: str | None = None
    ) -> Trainee:
        key = (platform, external_id)
        cached = self._trainees.get(key)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        generation = self._trainee_generation
        found = await self._find_or_create(platform, external_id, language)
        if generation == self._trainee_generation:
            if len(self._trainees) >= TRAINEE_CACHE_SIZE:
                del self._trainees[next(iter(self._trainees))]  # the oldest entry
            self._trainees[key] = (found, time.monotonic() + TRAINEE_CACHE_SECONDS)
        return found

    async def _find_or_create(
        self, platform: str, external_id: str, language: str | None
    ) -> Trainee:
        for _ in range(_TRAINEE_ATTEMPTS):
            row = await self._one(FIND_TRAINEE, platform=platform, external_id=external_id)
            if row is not None:
                return Trainee(row.id, row.alias, platform, external_id, row.language)
            # The writer looks again inside its transaction, so concurrent first messages
            # from one person create one trainee.
            try:
                created: Trainee = await self._writer.submit(
                    ops.NewTrainee(platform, external_id, language, _now())
                )
            except ConflictError:
                continue
            return created
        raise StoreUnavailableError("could not create the trainee; try again")

    async def set_trainee_language(self, trainee_id: str, language: str) -> None:
        await self._writer.submit(ops.SetLanguage(trainee_id, language))
        self._trainee_generation += 1
        self._trainees = {k: v for k, v in self._trainees.items() if v[0].id != trainee_id}

    # -- scenario versions ------------------------------------------------------------------

    async def save_scenario_version(self, scenario_id: str, content_hash: str, source: str) -> None:
        if content_hash in self._saved_versions:
            return
        await self._writer.submit(ops.save_version(scenario_id, content_hash, source, _now()))
        self._saved_versions.add(content_hash)

    async def scenario_source(self, content_hash: str) -> str | None:
        row = await self._one(_SOURCE, content_hash=content_hash)
        return None if row is None else str(row.source)

    async def latest_scenario_source(self, scenario_id: str) -> tuple[str, str] | None:
        row = await self._one(_LATEST_SOURCE, scenario_id=scenario_id)
        return None if row is None else (str(row.content_hash), str(row.source))

    # -- sessions and turns -----------------------------------------------------------------

    async def create_session(self, record: SessionRecord, first: TurnRecord) -> None:
        await self._writer.submit(self._batches.new_session(record, first))

    async def append_turn(self, turn: TurnRecord, state: SessionState) -> None:
        await self._writer.submit(self._batches.append_turn(turn, state))

    async def get_session(self, session_id: str) -> SessionRecord | None:
        row = await self._one(_SESSION, id=session_id)
        return None if row is None else _session(row)

    async def active_session(self, trainee_id: str) -> SessionRecord | None:
        row = await self._one(_ACTIVE, trainee_id=trainee_id)
        return None if row is None else _session(row)

    async def sessions_of(self, trainee_id: str) -> Sequence[SessionRecord]:
        return [_session(row) for row in await self._rows(_SESSIONS_OF, trainee_id=trainee_id)]

    async def turns(self, session_id: str) -> Sequence[TurnRecord]:
        return [
            TurnRecord(r.session_id, r.seq, r.kind, r.input, r.input_key, r.at, r.payload)
            for r in await self._rows(_TURNS, session_id=session_id)
        ]

    async def input_seen(self, session_id: str, input_key: str) -> bool:
        row = await self._one(_INPUT_SEEN, session_id=session_id, input_key=input_key)
        return row is not None and bool(row[0])

    # -- what the messenger adapters keep (AdapterStore) ------------------------------------

    async def record_update(self, platform: str, key: str, payload: dict[str, Any]) -> bool:
        """Keep an update before it is acknowledged; False if it was recorded before."""
        row = {"platform": platform, "update_key": key, "payload": payload, "received_at": _now()}
        statement = self._batches.insert(inbox).on_conflict_do_nothing()
        return bool(await self._writer.submit(ops.Execute(((statement, row),))))

    async def mark_processed(self, platform: str, key: str) -> None:
        statement = (
            update(inbox)
            .where(inbox.c.platform == platform, inbox.c.update_key == key)
            .values(processed_at=_now())
        )
        await self._writer.submit(ops.Execute(((statement, {}),)))

    async def pending_updates(self, platform: str, limit: int = 1000) -> list[tuple[str, Any]]:
        """Updates recorded but not marked processed (a crash came between), oldest first."""
        rows = await self._rows(_PENDING, platform=platform, limit=limit)
        return [(str(r.update_key), r.payload) for r in rows]

    async def prune_updates(self, platform: str, before: datetime) -> int:
        """Forget processed updates older than `before` (their ids only guard against
        duplicates the messenger may send shortly after)."""
        statement = delete(inbox).where(
            inbox.c.platform == platform,
            inbox.c.processed_at.is_not(None),
            inbox.c.processed_at < before,
        )
        return int(await self._writer.submit(ops.Execute(((statement, {}),))))

    async def cursor(self, name: str) -> str | None:
        row = await self._one(_CURSOR, name=name)
        return None if row is None else str(row.value)

    async def set_cursor(self, name: str, value: str) -> None:
        values = {"name": name, "value": value, "updated_at": _now()}
        statement = self._batches.insert(cursors).on_conflict_do_update(
            index_elements=["name"], set_={"value": value, "updated_at": values["updated_at"]}
        )
        await self._writer.submit(ops.Execute(((statement, values),)))

    async def media_ref(self, platform: str, digest: str) -> str | None:
        row = await self._one(_MEDIA, platform=platform, digest=digest)
        return None if row is None else str(row.ref)

    async def save_media_ref(self, platform: str, digest: str, ref: str) -> None:
        values = {"platform": platform, "digest": digest, "ref": ref, "created_at": _now()}
        statement = self._batches.insert(media_refs).on_conflict_do_update(
            index_elements=["platform", "digest"], set_={"ref": ref}
        )
        await self._writer.submit(ops.Execute(((statement, values),)))

    async def forget_trainee(self, trainee_id: str, audit: AuditEntry | None = None) -> None:
        """Delete a trainee, their identities, sessions, turns, role and cohort memberships in
        one transaction, with `audit` (which is kept)."""
        await self._writer.submit(ops.Execute(self._forget_statements(trainee_id, audit)))
        self._trainee_generation += 1
        self._trainees = {k: v for k, v in self._trainees.items() if v[0].id != trainee_id}

    # -- reading ----------------------------------------------------------------------------

    async def _one(self, statement: Executable, **params: Any) -> Row[Any] | None:
        rows = await self._rows(statement, **params)
        return rows[0] if rows else None

    async def _rows(self, statement: Executable, **params: Any) -> Sequence[Row[Any]]:
        if self._closed:
            raise StoreUnavailableError("the store is closed")
        try:
            return await self._reader.rows(statement, params)
        except Exception as error:
            if is_unavailable(error):
                raise StoreUnavailableError(f"the database is unavailable: {error}") from error
            raise


def _now() -> datetime:
    return datetime.now(UTC)
