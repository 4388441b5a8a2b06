"""Trainees, identities, scenario versions, sessions and the turn log.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(JSONB(), "postgresql")
Stamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "trainees",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("alias", sa.String(40), nullable=False),
        sa.Column("language", sa.String(8)),
        sa.Column("created_at", Stamp, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_trainees"),
        sa.UniqueConstraint("alias", name="uq_trainees_alias"),
    )
    op.create_table(
        "trainee_identities",
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("external_id", sa.String(128), nullable=False),
        sa.Column("trainee_id", sa.String(32), nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.PrimaryKeyConstraint("platform", "external_id", name="pk_trainee_identities"),
        sa.ForeignKeyConstraint(
            ["trainee_id"],
            ["trainees.id"],
            name="fk_trainee_identities_trainee_id_trainees",
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "scenario_versions",
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("scenario_id", sa.String(60), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.PrimaryKeyConstraint("content_hash", name="pk_scenario_versions"),
    )
    op.create_table(
        "sessions",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("trainee_id", sa.String(32), nullable=False),
        sa.Column("scenario_id", sa.String(60), nullable=False),
        sa.Column("scenario_hash", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("state", Json, nullable=False),
        sa.Column("last_seq", sa.Integer, nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("updated_at", Stamp, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sessions"),
        sa.ForeignKeyConstraint(
            ["trainee_id"], ["trainees.id"], name="fk_sessions_trainee_id_trainees", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["scenario_hash"],
            ["scenario_versions.content_hash"],
            name="fk_sessions_scenario_hash_scenario_versions",
        ),
    )
    op.create_index("ix_sessions_trainee_updated", "sessions", ["trainee_id", "updated_at"])
    op.create_table(
        "turns",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer, "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("session_id", sa.String(32), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("input", sa.Text, nullable=False),
        sa.Column("input_key", sa.String(128)),
        sa.Column("payload", Json, nullable=False),
        sa.Column("at", Stamp, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_turns"),
        sa.ForeignKeyConstraint(
            ["session_id"], ["sessions.id"], name="fk_turns_session_id_sessions", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("session_id", "seq", name="uq_turns_session_seq"),
        sa.UniqueConstraint("session_id", "input_key", name="uq_turns_session_input"),
    )


def downgrade() -> None:
    op.drop_table("turns")
    op.drop_index("ix_sessions_trainee_updated", table_name="sessions")
    op.drop_table("sessions")
    op.drop_table("scenario_versions")
    op.drop_table("trainee_identities")
    op.drop_table("trainees")
