"""Quiz polls as sent and their answers.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 13:58:05.814461
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0004"
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('quiz_poll',
    sa.Column('poll_id', sa.String(length=64), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.String(length=16), nullable=False),
    sa.Column('practice', sa.Boolean(), nullable=False),
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['question_id'], ['question.id'], ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('poll_id')
    )
    with op.batch_alter_table('quiz_poll', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quiz_poll_member_id'), ['member_id'], unique=False)

    op.create_table('quiz_answer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('poll_id', sa.String(length=64), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.String(length=16), nullable=False),
    sa.Column('option', sa.Integer(), nullable=False),
    sa.Column('correct', sa.Boolean(), nullable=False),
    sa.Column('seconds', sa.Integer(), nullable=False),
    sa.Column('practice', sa.Boolean(), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['poll_id'], ['quiz_poll.poll_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('poll_id')
    )
    with op.batch_alter_table('quiz_answer', schema=None) as batch_op:
        batch_op.create_index('ix_quiz_answer_member', ['member_id', 'answered_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('quiz_answer', schema=None) as batch_op:
        batch_op.drop_index('ix_quiz_answer_member')

    op.drop_table('quiz_answer')
    with op.batch_alter_table('quiz_poll', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quiz_poll_member_id'))

    op.drop_table('quiz_poll')
