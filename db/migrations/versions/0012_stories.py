"""Service stories (`/cerita`): a member's story of service, its review, consent and
publication to the instansi's public channel.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 05:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "story",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "author_id",
            sa.Integer(),
            sa.ForeignKey("member.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("value", sa.String(2), nullable=False),
        sa.Column("text", sa.String(1000), nullable=False),
        sa.Column("photo_file_id", sa.String(200), nullable=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("reason", sa.String(300), nullable=True),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("consent_author", sa.Boolean(), nullable=False),
        sa.Column("consent_others", sa.Boolean(), nullable=False),
        sa.Column("broadcast_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_story_status_created", "story", ["status", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_story_status_created", table_name="story")
    op.drop_table("story")
