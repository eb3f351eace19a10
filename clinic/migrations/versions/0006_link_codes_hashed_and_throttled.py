"""link codes stored as hashes, bound to one open code per person; /link tries counted

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 10:00:00.000000

The old ``link_codes`` kept each code in plain text as its primary key. Those rows are dropped,
not converted: a code lives at most 24 hours, its issue and use are already in the audit log,
and anyone still holding one asks for a new code (which now also needs their mobile on record).
Downgrading drops the new table the same way, since a hash cannot be turned back into a code.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import clinic.db

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("used_at IS NULL AND revoked_at IS NULL")


def upgrade() -> None:
    op.drop_table("link_codes")
    op.create_table(
        "link_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", clinic.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", clinic.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", clinic.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", clinic.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("failures", sa.SmallInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_link_codes_code_hash")),
    )
    op.create_index(
        "ix_link_codes_one_open",
        "link_codes",
        ["kind", "target_id"],
        unique=True,
        sqlite_where=OPEN,
        postgresql_where=OPEN,
    )
    op.create_table(
        "link_throttles",
        sa.Column("scope", sa.String(length=10), nullable=False),
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_started_at", clinic.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("locked_until", clinic.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("scope", "user_id", name=op.f("pk_link_throttles")),
    )


def downgrade() -> None:
    op.drop_table("link_throttles")
    op.drop_index("ix_link_codes_one_open", table_name="link_codes")
    op.drop_table("link_codes")
    op.create_table(
        "link_codes",
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("expires_at", clinic.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", clinic.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_link_codes")),
    )
