"""the department as a file: the department row, each device's floor, and the places kept
back for walk-ins, inpatients and urgent cases

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "departments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hospital_code", sa.String(length=40), nullable=False),
        sa.Column("hospital_name_fa", sa.String(length=160), nullable=False),
        sa.Column("hospital_name_en", sa.String(length=160), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name_fa", sa.String(length=160), nullable=False),
        sa.Column("name_en", sa.String(length=160), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_departments")),
        sa.UniqueConstraint(
            "hospital_code", "code", name=op.f("uq_departments_hospital_code_code")
        ),
    )
    # Added in place, not by copying the table (which other tables' keys point at).
    op.add_column("devices", sa.Column("floor", sa.SmallInteger(), nullable=True))
    op.create_table(
        "kept_places",
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("keep", sa.String(length=12), nullable=False),
        sa.Column("per", sa.String(length=4), nullable=False),
        sa.Column("places", sa.SmallInteger(), nullable=False),
        sa.CheckConstraint("places > 0", name=op.f("ck_kept_places_places")),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["devices.id"],
            name=op.f("fk_kept_places_device_id_devices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("device_id", "keep", name=op.f("pk_kept_places")),
    )


def downgrade() -> None:
    op.drop_table("kept_places")
    op.drop_column("devices", "floor")
    op.drop_table("departments")
