"""Coordinators: roles, cohorts with enrolment codes, their members, and the audit log.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(JSONB(), "postgresql")
Stamp = sa.DateTime(timezone=True)
Id = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_index("ix_sessions_created_at", "sessions", ["created_at"])
    op.create_index("ix_sessions_updated_at", "sessions", ["updated_at"])
    op.create_table(
        "user_roles",
        sa.Column("trainee_id", sa.String(32), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("granted_at", Stamp, nullable=False),
        sa.Column("granted_by", sa.String(120), nullable=False),
        sa.PrimaryKeyConstraint("trainee_id", name="pk_user_roles"),
        sa.ForeignKeyConstraint(
            ["trainee_id"],
            ["trainees.id"],
            name="fk_user_roles_trainee_id_trainees",
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "cohorts",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("code", sa.String(16), nullable=False),
        sa.Column("coordinator_id", sa.String(32), nullable=True),
        sa.Column("starts_on", sa.Date),
        sa.Column("ends_on", sa.Date),
        sa.Column("scenarios", Json, nullable=False),
        sa.Column("mode", sa.String(16)),
        sa.Column("created_at", Stamp, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_cohorts"),
        sa.UniqueConstraint("name", name="uq_cohorts_name"),
        sa.UniqueConstraint("code", name="uq_cohorts_code"),
        sa.ForeignKeyConstraint(
            ["coordinator_id"],
            ["trainees.id"],
            name="fk_cohorts_coordinator_id_trainees",
            ondelete="SET NULL",
        ),
    )
    op.create_table(
        "cohort_members",
        sa.Column("cohort_id", sa.String(32), nullable=False),
        sa.Column("trainee_id", sa.String(32), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("joined_at", Stamp, nullable=False),
        sa.PrimaryKeyConstraint("cohort_id", "trainee_id", name="pk_cohort_members"),
        sa.ForeignKeyConstraint(
            ["cohort_id"],
            ["cohorts.id"],
            name="fk_cohort_members_cohort_id_cohorts",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["trainee_id"],
            ["trainees.id"],
            name="fk_cohort_members_trainee_id_trainees",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_cohort_members_trainee_id", "cohort_members", ["trainee_id"])
    op.create_table(
        "audit_log",
        sa.Column("id", Id, nullable=False, autoincrement=True),
        sa.Column("at", Stamp, nullable=False),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("detail", Json, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_at", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_index("ix_cohort_members_trainee_id", table_name="cohort_members")
    op.drop_table("cohort_members")
    op.drop_table("cohorts")
    op.drop_table("user_roles")
    op.drop_index("ix_sessions_updated_at", table_name="sessions")
    op.drop_index("ix_sessions_created_at", table_name="sessions")
