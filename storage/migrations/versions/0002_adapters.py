"""What the messenger adapters keep: the update inbox, stream cursors and uploaded media.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(JSONB(), "postgresql")
Stamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "inbox",
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("update_key", sa.String(200), nullable=False),
        sa.Column("payload", Json, nullable=False),
        sa.Column("received_at", Stamp, nullable=False),
        sa.Column("processed_at", Stamp),
        sa.PrimaryKeyConstraint("platform", "update_key", name="pk_inbox"),
    )
    op.create_index("ix_inbox_platform_processed", "inbox", ["platform", "processed_at"])
    op.create_table(
        "cursors",
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("updated_at", Stamp, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_cursors"),
    )
    op.create_table(
        "media_refs",
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("ref", sa.Text, nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.PrimaryKeyConstraint("platform", "digest", name="pk_media_refs"),
    )


def downgrade() -> None:
    op.drop_table("media_refs")
    op.drop_table("cursors")
    op.drop_index("ix_inbox_platform_processed", table_name="inbox")
    op.drop_table("inbox")
