"""Appreciation (`/apresiasi`): one colleague's thanks to another for living a value, with
the weight and points it counts for and whether it crossed generations.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 05:25:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "appreciation",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "giver_id", sa.Integer(), sa.ForeignKey("member.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column(
            "receiver_id",
            sa.Integer(),
            sa.ForeignKey("member.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("giver_unit_id", sa.Integer(), nullable=True),
        sa.Column("receiver_unit_id", sa.Integer(), nullable=True),
        sa.Column("value", sa.String(2), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("cross_generation", sa.Boolean(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ix_appreciation_giver_created", "appreciation", ["giver_id", "created_at"]
    )
    op.create_index(
        "ix_appreciation_receiver_created", "appreciation", ["receiver_id", "created_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_appreciation_receiver_created", table_name="appreciation")
    op.drop_index("ix_appreciation_giver_created", table_name="appreciation")
    op.drop_table("appreciation")
