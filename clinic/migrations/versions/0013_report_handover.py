"""reports handed over at the results desk: when, by whom, to whom, with a note

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (
    ("collected_at", sa.DateTime(timezone=True)),
    ("collected_by", sa.Integer()),
    ("collected_to", sa.String(length=10)),
    ("collected_note", sa.Text()),
)


def upgrade() -> None:
    for name, kind in COLUMNS:
        op.add_column("reports", sa.Column(name, kind, nullable=True))
    op.create_index(op.f("ix_reports_pickup_code"), "reports", ["pickup_code"])


def downgrade() -> None:
    op.drop_index(op.f("ix_reports_pickup_code"), table_name="reports")
    for name, _ in reversed(COLUMNS):
        op.drop_column("reports", name)
