"""The schema, as SQLAlchemy Core tables. Created and changed only by Alembic migrations."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
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

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Json = JSON().with_variant(JSONB(), "postgresql")
Stamp = DateTime(timezone=True)

trainees = Table(
    "trainees",
    metadata,
    Column("id", String(32), primary_key=True),
    # A stable random alias: transcripts and exports name trainees by it, never by platform id.
    Column("alias", String(40), nullable=False, unique=True),
    Column("language", String(8)),
    Column("created_at", Stamp, nullable=False),
)

# Kept apart from `trainees` so that exports can leave platform identities out entirely.
trainee_identities = Table(
    "trainee_identities",
    metadata,
    Column("platform", String(32), primary_key=True),
    Column("external_id", String(128), primary_key=True),
    Column("trainee_id", String(32), ForeignKey("trainees.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", Stamp, nullable=False),
)

scenario_versions = Table(
    "scenario_versions",
    metadata,
    Column("content_hash", String(64), primary_key=True),
    Column("scenario_id", String(60), nullable=False),
    Column("source", Text, nullable=False),
    Column("created_at", Stamp, nullable=False),
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
    Column("status", String(16), nullable=False),
    Column("mode", String(16), nullable=False),
    Column("language", String(8), nullable=False),
    Column("state", Json, nullable=False),
    Column("last_seq", Integer, nullable=False),
    Column("created_at", Stamp, nullable=False),
    Column("updated_at", Stamp, nullable=False),
    Index("ix_sessions_trainee_updated", "trainee_id", "updated_at"),
)

turns = Table(
    "turns",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("session_id", String(32), ForeignKey("sessions.id", ondelete="CASCADE"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("input", Text, nullable=False),
    Column("input_key", String(128)),
    Column("payload", Json, nullable=False),
    Column("at", Stamp, nullable=False),
    # The fencing guard: a stale writer's turn reusing a committed seq is refused.
    UniqueConstraint("session_id", "seq", name="uq_turns_session_seq"),
    # The same platform message is applied once per session (NULL keys never collide).
    UniqueConstraint("session_id", "input_key", name="uq_turns_session_input"),
)
