"""slot usage covering index

The day list sums free places over a horizon's counter rows; with every column it reads in
the index, neither SQLite nor PostgreSQL has to visit the table for each row.

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-01 23:10:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_slot_usage_places",
        "slot_usage",
        ["device_id", "starts_at", "used", "capacity"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_slot_usage_places", table_name="slot_usage")
