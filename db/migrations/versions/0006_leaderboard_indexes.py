"""Covering indexes for the leaderboards: score totals per period and unit, and live
members per unit, read from the index alone (bench/leaderboard.py).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 16:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0006"
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_member_unit_id'))
        batch_op.create_index('ix_member_unit_deleted', ['unit_id', 'deleted_at'], unique=False)

    with op.batch_alter_table('score', schema=None) as batch_op:
        batch_op.drop_index('ix_score_period_unit')
        batch_op.create_index('ix_score_board', ['period', 'unit_id', 'points', 'answered', 'correct', 'reflections'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('score', schema=None) as batch_op:
        batch_op.drop_index('ix_score_board')
        batch_op.create_index('ix_score_period_unit', ['period', 'unit_id'], unique=False)

    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.drop_index('ix_member_unit_deleted')
        batch_op.create_index(batch_op.f('ix_member_unit_id'), ['unit_id'], unique=False)
