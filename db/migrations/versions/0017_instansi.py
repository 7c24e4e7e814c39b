"""Many instansi: the registry of the instansi this deployment serves besides the default
one, and the leases that share their bots among worker processes. Only the default
instansi's copies are used; every schema gets the same tables, so that one migration
history serves them all.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 21:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "instansi",
        sa.Column("code", sa.String(30), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("data_controller", sa.String(100), nullable=False),
        sa.Column("bot_id", sa.BigInteger(), nullable=False, unique=True),
        sa.Column("token_cipher", sa.String(400), nullable=False),
        sa.Column("superadmin_ids", sa.JSON(), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "lease",
        sa.Column("name", sa.String(80), primary_key=True),
        sa.Column("holder", sa.String(80), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("lease")
    op.drop_table("instansi")
