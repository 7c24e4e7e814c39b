"""Verified identity: HR's employee list, a registration waiting for HR's approval, and one
NIP per account guaranteed by the database itself.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 14:10:00.000000
"""

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")

# Members with a NIP that an earlier member (lower id) registered too: before 0014 two
# presses at once could both pass the check in code.
_LATER_DUPLICATES = (
    "FROM member WHERE nip IS NOT NULL AND id NOT IN "
    "(SELECT MIN(id) FROM member WHERE nip IS NOT NULL GROUP BY nip)"
)


def upgrade() -> None:
    op.create_table(
        "employee",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("nip", sa.String(length=18), nullable=False),
        sa.Column("full_name", sa.String(length=100), nullable=False),
        sa.Column("unit_code", sa.String(length=24), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("nip"),
    )
    # Plain ADD COLUMN, no batch: nullable columns need no table rebuild on SQLite.
    op.add_column("registration", sa.Column("verify", sa.String(length=8), nullable=True))
    op.add_column(
        "registration", sa.Column("requested_at", sa.DateTime(timezone=True), nullable=True)
    )
    bind = op.get_bind()
    duplicates = bind.execute(sa.text(f"SELECT COUNT(*) {_LATER_DUPLICATES}")).scalar_one()
    if duplicates:
        # The first account keeps the NIP; the later ones stay members without it (the
        # member can ask HR, who sees it in the employee list). Counted, never named.
        bind.execute(
            sa.text(f"UPDATE member SET nip = NULL WHERE id IN (SELECT id {_LATER_DUPLICATES})")
        )
        log.warning("0014: %d later account(s) shared a NIP; their NIP was cleared", duplicates)
    op.create_index(
        "uq_member_nip",
        "member",
        ["nip"],
        unique=True,
        sqlite_where=sa.text("nip IS NOT NULL"),
        postgresql_where=sa.text("nip IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_member_nip", table_name="member")
    op.drop_column("registration", "requested_at")
    op.drop_column("registration", "verify")
    op.drop_table("employee")
