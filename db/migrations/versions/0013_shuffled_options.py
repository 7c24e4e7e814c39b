"""Quiz options are shuffled per member: each poll keeps the order it was shown in, so an
answer is mapped back to the bank's option and scored against the bank's key.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 05:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ALTER TABLE, never batch mode: on SQLite a batch rebuilds quiz_poll (copy, drop,
# rename), and dropping it would cascade to every answer that points at it.


def upgrade() -> None:
    op.add_column("quiz_poll", sa.Column("shown_order", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("quiz_poll", "shown_order")
