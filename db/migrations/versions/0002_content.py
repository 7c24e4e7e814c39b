"""Questions and reflection prompts, loaded from content/ and imported by HR.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 11:54:14.944495
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0002"
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('prompt',
    sa.Column('id', sa.String(length=16), nullable=False),
    sa.Column('value', sa.String(length=2), nullable=False),
    sa.Column('guideline', sa.String(length=3), nullable=False),
    sa.Column('text', sa.String(length=500), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('prompt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_prompt_value'), ['value'], unique=False)

    op.create_table('question',
    sa.Column('id', sa.String(length=16), nullable=False),
    sa.Column('value', sa.String(length=2), nullable=False),
    sa.Column('guideline', sa.String(length=3), nullable=False),
    sa.Column('difficulty', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('scene', sa.String(length=1000), nullable=True),
    sa.Column('question', sa.String(length=300), nullable=False),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('correct', sa.Integer(), nullable=False),
    sa.Column('explanation', sa.String(length=200), nullable=False),
    sa.Column('source', sa.String(length=8), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('question', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_question_value'), ['value'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('question', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_question_value'))

    op.drop_table('question')
    with op.batch_alter_table('prompt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_prompt_value'))

    op.drop_table('prompt')
