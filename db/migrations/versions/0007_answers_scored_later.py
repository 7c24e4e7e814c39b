"""Answers are recorded first and scored moments later in batches: `quiz_answer.scored`,
and a partial index on the few not yet scored. Answers recorded before this were scored
with them.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 18:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0007"
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('quiz_answer', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('scored', sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.execute(sa.text("UPDATE quiz_answer SET scored = true"))
    with op.batch_alter_table('quiz_answer', schema=None) as batch_op:
        batch_op.create_index(
            'ix_quiz_answer_unscored',
            ['id'],
            unique=False,
            sqlite_where=sa.text('NOT scored'),
            postgresql_where=sa.text('NOT scored'),
        )


def downgrade() -> None:
    with op.batch_alter_table('quiz_answer', schema=None) as batch_op:
        batch_op.drop_index('ix_quiz_answer_unscored')
        batch_op.drop_column('scored')
