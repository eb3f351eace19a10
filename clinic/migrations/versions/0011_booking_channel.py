"""how each booking was made: in chat, by a health worker, at the desk, on the phone, walk-in

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "bookings",
        sa.Column("channel", sa.String(length=16), nullable=False, server_default="chat"),
    )
    bookings = sa.table(
        "bookings",
        sa.column("id", sa.Integer()),
        sa.column("created_by", sa.String()),
        sa.column("replaces_id", sa.Integer()),
        sa.column("channel", sa.String()),
    )
    # What the rows already say: a health worker's booking, or reception's (at the desk).
    for kind, channel in (("health_worker", "health_worker"), ("staff", "desk")):
        op.execute(bookings.update().where(bookings.c.created_by == kind).values(channel=channel))
    # A booking the department moved keeps the channel of the one it replaces (a few links
    # of a chain at most: each pass follows one more).
    earlier = sa.alias(bookings, "earlier")
    for _ in range(5):
        op.execute(
            bookings.update()
            .where(bookings.c.created_by == "system", bookings.c.replaces_id.is_not(None))
            .values(
                channel=sa.select(earlier.c.channel)
                .where(earlier.c.id == bookings.c.replaces_id)
                .scalar_subquery()
            )
        )


def downgrade() -> None:
    op.drop_column("bookings", "channel")
