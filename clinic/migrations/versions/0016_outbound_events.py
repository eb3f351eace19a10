"""outbound events: booking changes to tell the hospital's systems, written in the change's
transaction and delivered in order per referral

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 15:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import clinic.db

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outbound_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("adapter", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.SmallInteger(), nullable=False),
        sa.Column("next_attempt_at", clinic.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("created_at", clinic.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", clinic.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["booking_id"], ["bookings.id"], name=op.f("fk_outbound_events_booking_id_bookings")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbound_events")),
    )
    op.create_index("ix_outbound_due", "outbound_events", ["adapter", "status", "next_attempt_at"])
    op.create_index("ix_outbound_referral", "outbound_events", ["adapter", "referral_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_outbound_referral", table_name="outbound_events")
    op.drop_index("ix_outbound_due", table_name="outbound_events")
    op.drop_table("outbound_events")
