"""chat users a running bot must forget (their drafts were deleted by another process)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 10:00:00

``chat_forget`` holds one row per chat user whose draft or conversation states retention or
an erasure deleted from ``chat_user_data`` / ``chat_conversations``: a running bot polls it
and forgets what it still holds in memory for them, so it neither carries on with nor writes
back what was deleted (``bot.forget``). Ids only; a row goes a day later. Downgrading drops
the table (a bot of that revision keeps nothing in memory to forget by it).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import clinic.db

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "chat_forget",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=10), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("at", clinic.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_forget")),
    )
    with op.batch_alter_table("chat_forget", schema=None) as batch_op:
        batch_op.create_index("ix_chat_forget_platform_id", ["platform", "id"])


def downgrade() -> None:
    op.drop_table("chat_forget")
