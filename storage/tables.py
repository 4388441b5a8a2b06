"""The schema, as SQLAlchemy Core tables. Created and changed only by Alembic migrations.

`storage/migrations/versions/` must produce exactly these tables; a test compares the migrated
database with this metadata, so a change here without a migration fails CI.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator

# Deterministic constraint names, so that migrations can refer to them on every backend.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

#: JSON text on SQLite, binary JSONB on PostgreSQL (smaller, and indexable should we need it).
Json = JSON().with_variant(JSONB(), "postgresql")


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out on every backend.

    PostgreSQL keeps `timestamptz`; SQLite has no zones and hands back naive values, so they are
    written in UTC and marked UTC again when read. Naive input is refused rather than guessed.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: give a timezone-aware one")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


trainees = Table(
    "trainees",
    metadata,
    Column("id", String(32), primary_key=True),
    # A stable random alias: transcripts and exports name trainees by it, never by platform id.
    Column("alias", String(40), nullable=False, unique=True),
    Column("language", String(8)),
    Column("created_at", UtcDateTime, nullable=False),
)

# Kept apart from `trainees` so that exports can leave platform identities out entirely.
# The primary key (platform, external_id) is the uniqueness rule: one trainee per identity.
trainee_identities = Table(
    "trainee_identities",
    metadata,
    Column("platform", String(32), primary_key=True),
    Column("external_id", String(128), primary_key=True),
    Column("trainee_id", String(32), ForeignKey("trainees.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

scenario_versions = Table(
    "scenario_versions",
    metadata,
    Column("content_hash", String(64), primary_key=True),
    Column("scenario_id", String(60), nullable=False),
    Column("source", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

sessions = Table(
    "sessions",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("trainee_id", String(32), ForeignKey("trainees.id", ondelete="CASCADE"), nullable=False),
    Column("scenario_id", String(60), nullable=False),
    Column(
        "scenario_hash",
        String(64),
        ForeignKey("scenario_versions.content_hash"),
        nullable=False,
    ),
    # status, mode and language repeat fields of `state` so that queries need not parse JSON.
    Column("status", String(16), nullable=False),
    Column("mode", String(16), nullable=False),
    Column("language", String(8), nullable=False),
    #: SessionState.to_dict(): the snapshot as of turn `last_seq`
    Column("state", Json, nullable=False),
    Column("last_seq", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    # active_session / sessions_of: one trainee's sessions, newest first.
    Index("ix_sessions_trainee_updated", "trainee_id", "updated_at"),
    # exports by date range, and retention
    Index("ix_sessions_created_at", "created_at"),
    Index("ix_sessions_updated_at", "updated_at"),
)

turns = Table(
    "turns",
    metadata,
    # BIGINT on PostgreSQL; on SQLite only INTEGER PRIMARY KEY is the cheap rowid alias.
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("session_id", String(32), ForeignKey("sessions.id", ondelete="CASCADE"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("input", Text, nullable=False),
    Column("input_key", String(128)),
    Column("payload", Json, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    # The fencing guard: a stale writer's turn reusing a committed seq is refused. Its index
    # also serves "the log of a session in seq order".
    UniqueConstraint("session_id", "seq", name="uq_turns_session_seq"),
    # The same platform message is applied once per session (NULL keys never collide).
    UniqueConstraint("session_id", "input_key", name="uq_turns_session_input"),
)

# -- what the messenger adapters keep ------------------------------------------------------------

#: every update a messenger delivered, recorded before it is acknowledged and marked once
#: handled, so that a crash between the two is replayed at the next start, never lost
inbox = Table(
    "inbox",
    metadata,
    Column("platform", String(32), primary_key=True),
    Column("update_key", String(200), primary_key=True),
    Column("payload", Json, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("processed_at", UtcDateTime),
    Index("ix_inbox_platform_processed", "platform", "processed_at"),
)

#: where a messenger stream continues (a Matrix sync token), saved after its events are handled
cursors = Table(
    "cursors",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

#: a clip uploaded once per platform: its file_id (Telegram) or mxc:// URI (Matrix)
media_refs = Table(
    "media_refs",
    metadata,
    Column("platform", String(32), primary_key=True),
    Column("digest", String(64), primary_key=True),
    Column("ref", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

# -- coordinators: roles, cohorts, the audit log (issue #6) --------------------------------------

#: roles other than `trainee` (the default, never stored)
user_roles = Table(
    "user_roles",
    metadata,
    Column(
        "trainee_id", String(32), ForeignKey("trainees.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("role", String(16), nullable=False),
    Column("granted_at", UtcDateTime, nullable=False),
    Column("granted_by", String(120), nullable=False),
)

cohorts = Table(
    "cohorts",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(80), nullable=False, unique=True),
    #: the enrolment code, upper case
    Column("code", String(16), nullable=False, unique=True),
    Column(
        "coordinator_id", String(32), ForeignKey("trainees.id", ondelete="SET NULL"), nullable=True
    ),
    Column("starts_on", Date),
    Column("ends_on", Date),
    #: scenario ids assigned (a JSON list; empty: all)
    Column("scenarios", Json, nullable=False),
    Column("mode", String(16)),
    Column("created_at", UtcDateTime, nullable=False),
)

cohort_members = Table(
    "cohort_members",
    metadata,
    Column("cohort_id", String(32), ForeignKey("cohorts.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "trainee_id", String(32), ForeignKey("trainees.id", ondelete="CASCADE"), primary_key=True
    ),
    #: trainee or trainer
    Column("role", String(16), nullable=False),
    Column("joined_at", UtcDateTime, nullable=False),
    # a person's cohorts (access checks, enrolment)
    Index("ix_cohort_members_trainee_id", "trainee_id"),
)

#: every access to a transcript or report, every role granted and person forgotten; never
#: deleted with the person it is about (it names them by alias only)
audit_log = Table(
    "audit_log",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(120), nullable=False),
    Column("action", String(40), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("detail", Json, nullable=False),
    Index("ix_audit_log_at", "at"),
)
