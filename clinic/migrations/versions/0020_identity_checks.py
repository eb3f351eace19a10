"""one-time SMS codes before a national code is claimed; throttle scopes for every kind of code

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05 10:00:00

``identity_checks`` holds the one-time codes sent by SMS before a chat account, a family or
a health worker registers or claims a national code (issue 15, part 5): the code itself is
never stored (it is an HMAC of the row's salt), the national code only as a keyed digest.
``link_throttles.scope`` grows from 10 to 20 characters, so one-time codes, pickup codes and
the SMS the codes cost are counted there too, under scopes of their own (``otp.telegram``).
Downgrading drops the codes (they live ten minutes) and the rows of the new scopes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import clinic.db

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("link_throttles", schema=None) as batch_op:
        batch_op.alter_column(
            "scope", existing_type=sa.String(length=10), type_=sa.String(length=20)
        )
    op.create_table(
        "identity_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("asker_scope", sa.String(length=20), nullable=False),
        sa.Column("asker_id", sa.BigInteger(), nullable=False),
        sa.Column("national_code_hash", sa.String(length=64), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("mobile", sa.String(length=11), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("salt", sa.String(length=32), nullable=False),
        sa.Column("sends", sa.SmallInteger(), nullable=False),
        sa.Column("attempts", sa.SmallInteger(), nullable=False),
        sa.Column("sent_at", clinic.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", clinic.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("verified_at", clinic.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("used_at", clinic.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", clinic.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_identity_checks_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_checks")),
    )
    with op.batch_alter_table("identity_checks", schema=None) as batch_op:
        batch_op.create_index("ix_identity_checks_asker", ["asker_scope", "asker_id"])
        batch_op.create_index(
            batch_op.f("ix_identity_checks_national_code_hash"), ["national_code_hash"]
        )


def downgrade() -> None:
    op.drop_table("identity_checks")
    op.execute("DELETE FROM link_throttles WHERE length(scope) > 10 OR scope LIKE '%.%'")
    with op.batch_alter_table("link_throttles", schema=None) as batch_op:
        batch_op.alter_column(
            "scope", existing_type=sa.String(length=20), type_=sa.String(length=10)
        )
