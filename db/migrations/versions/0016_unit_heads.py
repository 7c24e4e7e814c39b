"""Unit heads (kepala unit): who an admin named to move their unit's ideas and review its
members' stories; whether an offer of help on an idea crossed generations; and indexes for
the Friday post's counts of a unit's week.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 14:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "unit_head",
        sa.Column(
            "unit_id",
            sa.Integer(),
            sa.ForeignKey("unit.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "member_id",
            sa.Integer(),
            sa.ForeignKey("member.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_unit_head_member_id", "unit_head", ["member_id"])
    # Plain ALTER TABLE, never batch mode (see 0013): a nullable column needs no rebuild.
    op.add_column("idea_vote", sa.Column("cross_generation", sa.Boolean(), nullable=True))
    # The Friday post counts a unit's week of thanks and of help on its ideas.
    op.create_index("ix_idea_unit_created", "idea", ["unit_id", "created_at"])
    op.create_index(
        "ix_appreciation_receiver_unit_created",
        "appreciation",
        ["receiver_unit_id", "created_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_appreciation_receiver_unit_created", table_name="appreciation")
    op.drop_index("ix_idea_unit_created", table_name="idea")
    op.drop_column("idea_vote", "cross_generation")
    op.drop_index("ix_unit_head_member_id", table_name="unit_head")
    op.drop_table("unit_head")
