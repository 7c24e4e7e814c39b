"""Ideas (`/ide`): the idea with its author, unit, target, value and status, and the
supports and offers to help it gathers.

Revision ID: 0010
Revises: 0007
Create Date: 2026-12-07 05:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0010"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "idea",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "author_id", sa.Integer(), sa.ForeignKey("member.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column(
            "unit_id", sa.Integer(), sa.ForeignKey("unit.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column(
            "target_unit_id",
            sa.Integer(),
            sa.ForeignKey("unit.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("value", sa.String(2), nullable=False),
        sa.Column("title", sa.String(100), nullable=False),
        sa.Column("description", sa.String(1000), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("reason", sa.String(300), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_idea_fingerprint", "idea", ["fingerprint"])
    op.create_index("ix_idea_target_created", "idea", ["target_unit_id", "created_at"])
    op.create_index("ix_idea_author_created", "idea", ["author_id", "created_at"])
    op.create_table(
        "idea_vote",
        sa.Column(
            "idea_id",
            sa.Integer(),
            sa.ForeignKey("idea.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "member_id",
            sa.Integer(),
            sa.ForeignKey("member.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("kind", sa.String(8), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("idea_vote")
    op.drop_index("ix_idea_author_created", table_name="idea")
    op.drop_index("ix_idea_target_created", table_name="idea")
    op.drop_index("ix_idea_fingerprint", table_name="idea")
    op.drop_table("idea")
