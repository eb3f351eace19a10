"""sites: every imaging department of the university's hospitals in one deployment; each
device, referral and report belongs to one, staff may be held to some, and an accession
number is unique within its site

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 14:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DETAILS = (
    ("county", 120), ("his_facility", 60), ("phone", 40), ("address_fa", 300),
    ("address_en", 300), ("hours_fa", 300), ("hours_en", 300), ("pickup_fa", 300),
    ("pickup_en", 300), ("orthanc_url", 300),
)  # fmt: skip


def upgrade() -> None:
    for name, length in _DETAILS:
        op.add_column(
            "departments",
            sa.Column(name, sa.String(length=length), nullable=False, server_default=""),
        )
    # Plain columns added in place (a copied devices table would break the keys pointing at it).
    op.add_column("devices", sa.Column("department_id", sa.Integer(), nullable=True))
    op.create_index(op.f("ix_devices_department_id"), "devices", ["department_id"])
    op.add_column("referrals", sa.Column("department_id", sa.Integer(), nullable=True))
    op.create_index(op.f("ix_referrals_department_id"), "referrals", ["department_id"])
    op.add_column("closures", sa.Column("department_id", sa.Integer(), nullable=True))
    op.add_column("patients", sa.Column("county", sa.String(length=120), nullable=True))
    op.create_table(
        "staff_sites",
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False, server_default=""),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_staff_sites_staff_id_staff"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"],
            name=op.f("fk_staff_sites_department_id_departments"),
        ),
        sa.PrimaryKeyConstraint(
            "staff_id", "department_id", "role", name=op.f("pk_staff_sites")
        ),
    )  # fmt: skip
    _first_site()
    with op.batch_alter_table("reports") as batch:
        batch.add_column(sa.Column("site_id", sa.Integer(), nullable=False, server_default="0"))
        batch.drop_constraint("uq_reports_accession_number", type_="unique")
        batch.create_unique_constraint(
            batch.f("uq_reports_site_id_accession_number"), ["site_id", "accession_number"]
        )
    op.add_column("rejected_messages", sa.Column("site_id", sa.Integer(), nullable=True))
    op.add_column(
        "unmatched_events",
        sa.Column("site_id", sa.Integer(), nullable=False, server_default="0"),
    )
    for table in ("reports", "unmatched_events"):
        op.execute(f"UPDATE {table} SET site_id = COALESCE((SELECT MIN(id) FROM departments), 0)")


def _first_site() -> None:
    """What one department ran before belongs to the first site: the department row the file
    made, or (devices set up before there was a file) one named for the department."""
    bind = op.get_bind()
    has_devices = bind.execute(sa.text("SELECT COUNT(*) FROM devices")).scalar()
    has_site = bind.execute(sa.text("SELECT COUNT(*) FROM departments")).scalar()
    if has_devices and not has_site:
        bind.execute(
            sa.text(
                "INSERT INTO departments (hospital_code, hospital_name_fa, hospital_name_en,"
                " code, name_fa, name_en) VALUES ('hospital', 'بیمارستان', 'Hospital',"
                " 'radiology', 'بخش تصویربرداری', 'Medical imaging')"
            )
        )
    first = "(SELECT MIN(id) FROM departments)"
    op.execute(f"UPDATE devices SET department_id = {first} WHERE department_id IS NULL")
    op.execute(
        "UPDATE referrals SET department_id = (SELECT d.department_id FROM bookings b"
        " JOIN devices d ON d.id = b.device_id WHERE b.referral_id = referrals.id"
        " ORDER BY b.id DESC LIMIT 1)"
    )
    op.execute(f"UPDATE referrals SET department_id = {first} WHERE department_id IS NULL")
    op.execute(f"UPDATE closures SET department_id = {first} WHERE device_id IS NULL")


def downgrade() -> None:
    op.drop_column("rejected_messages", "site_id")
    op.drop_column("unmatched_events", "site_id")
    with op.batch_alter_table("reports") as batch:
        batch.drop_constraint("uq_reports_site_id_accession_number", type_="unique")
        batch.create_unique_constraint("uq_reports_accession_number", ["accession_number"])
        batch.drop_column("site_id")
    op.drop_table("staff_sites")
    op.drop_column("patients", "county")
    op.drop_column("closures", "department_id")
    op.drop_index(op.f("ix_referrals_department_id"), table_name="referrals")
    op.drop_column("referrals", "department_id")
    op.drop_index(op.f("ix_devices_department_id"), table_name="devices")
    op.drop_column("devices", "department_id")
    for name, _ in reversed(_DETAILS):
        op.drop_column("departments", name)
