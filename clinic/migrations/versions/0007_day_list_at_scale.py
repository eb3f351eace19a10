"""day list at scale: counter rows per device and day, and a covering index

``slot_days`` holds each device's ``slot_usage`` rows per Tehran day in total (how many, their
places left, their first and last slot), so the day list reads one row per device and day;
it is filled here from the rows already there. The covering index lets the per-slot reads
(one day's times, the days a closure or the lead time cuts) skip the table.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 23:10:00.000000
"""

from collections.abc import Sequence
from datetime import UTC, date
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TEHRAN = ZoneInfo("Asia/Tehran")


def upgrade() -> None:
    op.create_index(
        "ix_slot_usage_places",
        "slot_usage",
        ["device_id", "starts_at", "used", "capacity"],
        unique=False,
    )
    slot_days = op.create_table(
        "slot_days",
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("slots", sa.Integer(), nullable=False),
        sa.Column("places_left", sa.Integer(), nullable=False),
        sa.Column("first_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_start", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_slot_days_device_id_devices")
        ),
        sa.PrimaryKeyConstraint("device_id", "day", name=op.f("pk_slot_days")),
    )
    assert slot_days is not None
    op.bulk_insert(slot_days, _totals())


def _totals() -> list[dict[str, object]]:
    usage = sa.table(
        "slot_usage",
        sa.column("device_id", sa.Integer()),
        sa.column("starts_at", sa.DateTime(timezone=True)),
        sa.column("used", sa.SmallInteger()),
        sa.column("capacity", sa.SmallInteger()),
    )
    found: dict[tuple[int, date], list[Any]] = {}  # slots, places left, first, last
    for device_id, starts_at, used, capacity in op.get_bind().execute(sa.select(usage)):
        start = starts_at if starts_at.tzinfo else starts_at.replace(tzinfo=UTC)  # SQLite
        key = (device_id, start.astimezone(TEHRAN).date())
        total = found.setdefault(key, [0, 0, start, start])
        total[0] += 1
        total[1] += capacity - used
        total[2], total[3] = min(total[2], start), max(total[3], start)
    return [
        {"device_id": device_id, "day": day, "slots": slots, "places_left": left}
        | {"first_start": first, "last_start": last}
        for (device_id, day), (slots, left, first, last) in found.items()
    ]


def downgrade() -> None:
    op.drop_table("slot_days")
    op.drop_index("ix_slot_usage_places", table_name="slot_usage")
