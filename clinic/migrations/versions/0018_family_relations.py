"""what a family member is to the chat account that acts for them

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Accounts acting for someone else before this revision: their relation is not known.
    op.add_column("chat_accounts", sa.Column("relation", sa.String(10), nullable=True))


def downgrade() -> None:
    op.drop_column("chat_accounts", "relation")
