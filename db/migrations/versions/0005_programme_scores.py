"""The programme (slots, runs, settings), reflections, Leitner boxes and maintained scores.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 15:29:04.699600
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0005"
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('programme_slot',
    sa.Column('key', sa.String(length=16), nullable=False),
    sa.Column('time', sa.String(length=5), nullable=False),
    sa.Column('days', sa.JSON(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('questions', sa.Integer(), nullable=False),
    sa.Column('window_minutes', sa.Integer(), nullable=True),
    sa.Column('updated_by', sa.BigInteger(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('setting',
    sa.Column('key', sa.String(length=32), nullable=False),
    sa.Column('value', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('programme_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slot', sa.String(length=16), nullable=False),
    sa.Column('timezone', sa.String(length=40), nullable=False),
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('late_seconds', sa.Integer(), nullable=False),
    sa.Column('broadcast_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['broadcast_id'], ['broadcast.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('slot', 'timezone', 'local_date', name='uq_programme_run')
    )
    op.create_table('unit_value_score',
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=12), nullable=False),
    sa.Column('value', sa.String(length=2), nullable=False),
    sa.Column('answered', sa.Integer(), nullable=False),
    sa.Column('correct', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('unit_id', 'period', 'value')
    )
    with op.batch_alter_table('unit_value_score', schema=None) as batch_op:
        batch_op.create_index('ix_unit_value_score_period', ['period'], unique=False)
    op.create_table('member_day',
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('member_id', 'day')
    )
    op.create_table('question_box',
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.String(length=16), nullable=False),
    sa.Column('value', sa.String(length=2), nullable=False),
    sa.Column('box', sa.Integer(), nullable=False),
    sa.Column('due', sa.Date(), nullable=True),
    sa.Column('cycle', sa.Integer(), nullable=False),
    sa.Column('last_sent', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('member_id', 'question_id')
    )
    op.create_table('reflection',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('prompt_id', sa.String(length=16), nullable=False),
    sa.Column('value', sa.String(length=2), nullable=False),
    sa.Column('broadcast_id', sa.Integer(), nullable=True),
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('text', sa.String(length=1000), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['broadcast_id'], ['broadcast.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('reflection', schema=None) as batch_op:
        batch_op.create_index('ix_reflection_member', ['member_id', 'created_at'], unique=False)

    op.create_table('score',
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=12), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('answered', sa.Integer(), nullable=False),
    sa.Column('correct', sa.Integer(), nullable=False),
    sa.Column('reflections', sa.Integer(), nullable=False),
    sa.Column('practice_points', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('member_id', 'period')
    )
    with op.batch_alter_table('score', schema=None) as batch_op:
        batch_op.create_index('ix_score_period_unit', ['period', 'unit_id'], unique=False)

    with op.batch_alter_table('quiz_answer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('value', sa.String(length=2), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('round_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('points', sa.Integer(), nullable=False, server_default='0'))

    with op.batch_alter_table('quiz_poll', schema=None) as batch_op:
        batch_op.add_column(sa.Column('round_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_quiz_poll_round_id'), ['round_id'], unique=False)
        batch_op.create_foreign_key('fk_quiz_poll_round_id', 'broadcast', ['round_id'], ['id'], ondelete='SET NULL')



def downgrade() -> None:
    with op.batch_alter_table('quiz_poll', schema=None) as batch_op:
        batch_op.drop_constraint('fk_quiz_poll_round_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_quiz_poll_round_id'))
        batch_op.drop_column('round_id')

    with op.batch_alter_table('quiz_answer', schema=None) as batch_op:
        batch_op.drop_column('points')
        batch_op.drop_column('round_id')
        batch_op.drop_column('value')

    with op.batch_alter_table('score', schema=None) as batch_op:
        batch_op.drop_index('ix_score_period_unit')

    op.drop_table('score')
    with op.batch_alter_table('reflection', schema=None) as batch_op:
        batch_op.drop_index('ix_reflection_member')

    op.drop_table('reflection')
    op.drop_table('question_box')
    op.drop_table('member_day')
    op.drop_table('unit_value_score')
    op.drop_table('programme_run')
    op.drop_table('setting')
    op.drop_table('programme_slot')
