"""Two-step cases: a question may name a follow-up, sent right after it is answered; a poll
keeps the follow-up it plans and, on a follow-up, the first step's poll it follows.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 14:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ALTER TABLE, never batch mode: on SQLite a batch rebuilds the table (copy, drop,
# rename), and dropping quiz_poll or question would cascade to the answers that point at it.


def upgrade() -> None:
    op.add_column("question", sa.Column("follow_up", sa.String(16), nullable=True))
    op.add_column("quiz_poll", sa.Column("follow_up", sa.String(16), nullable=True))
    op.add_column("quiz_poll", sa.Column("follows", sa.String(64), nullable=True))
    # "Has this first step's follow-up gone out?" is asked by poll id before each send.
    op.create_index("ix_quiz_poll_follows", "quiz_poll", ["follows"])


def downgrade() -> None:
    op.drop_index("ix_quiz_poll_follows", table_name="quiz_poll")
    op.drop_column("quiz_poll", "follows")
    op.drop_column("quiz_poll", "follow_up")
    op.drop_column("question", "follow_up")
