"""each patient's missed appointments, and how many of them staff forgave

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 08:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for name in ("no_shows", "no_shows_forgiven"):
        op.add_column(
            "patients",
            sa.Column(name, sa.SmallInteger(), nullable=False, server_default="0"),
        )
    # The no-shows staff already marked count.
    op.execute(
        "UPDATE patients SET no_shows = (SELECT count(*) FROM bookings"
        " WHERE bookings.patient_id = patients.id AND bookings.status = 'no_show')"
    )


def downgrade() -> None:
    op.drop_column("patients", "no_shows_forgiven")
    op.drop_column("patients", "no_shows")
