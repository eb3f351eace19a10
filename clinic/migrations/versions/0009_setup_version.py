"""a count of changes to the department's setup, so each process may keep a copy

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 07:00:00
"""

import time
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    table = op.create_table(
        "setup_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_setup_version")),
    )
    # The count starts at the time in milliseconds, so a table made again (a downgrade and an
    # upgrade) never repeats a count a running process may still hold.
    op.bulk_insert(table, [{"id": 1, "version": time.time_ns() // 1_000_000}])


def downgrade() -> None:
    op.drop_table("setup_version")
