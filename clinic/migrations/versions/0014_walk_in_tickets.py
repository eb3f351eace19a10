"""walk-in tickets: each walk-in's number in its device's queue that day

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 09:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("bookings", sa.Column("ticket", sa.SmallInteger(), nullable=True))
    op.add_column("bookings", sa.Column("ticket_day", sa.Date(), nullable=True))
    op.create_index(
        "ux_bookings_ticket", "bookings", ["device_id", "ticket_day", "ticket"], unique=True
    )


def downgrade() -> None:
    op.drop_index("ux_bookings_ticket", table_name="bookings")
    op.drop_column("bookings", "ticket_day")
    op.drop_column("bookings", "ticket")
