"""sms questions and inbound sms: answers by SMS reply to reminders and waitlist offers, each
inbound message kept once per gateway id

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import clinic.db

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sms_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mobile", sa.String(length=11), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.Column("options", sa.JSON(), nullable=True),
        sa.Column("pending", sa.String(length=10), nullable=True),
        sa.Column("asked_at", clinic.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answered_at", clinic.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("answer", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(
            ["booking_id"], ["bookings.id"], name=op.f("fk_sms_questions_booking_id_bookings")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_sms_questions_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_questions")),
        sa.UniqueConstraint("outbox_id", name=op.f("uq_sms_questions_outbox_id")),
    )
    op.create_index(
        "ix_sms_questions_open", "sms_questions", ["mobile", "answered_at", "asked_at"]
    )
    op.create_table(
        "inbound_sms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("provider_message_id", sa.String(length=64), nullable=False),
        sa.Column("mobile", sa.String(length=20), nullable=False),
        sa.Column("line", sa.String(length=20), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("sent_at", clinic.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("received_at", clinic.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["sms_questions.id"],
            name=op.f("fk_inbound_sms_question_id_sms_questions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_sms")),
        sa.UniqueConstraint(
            "provider",
            "provider_message_id",
            name=op.f("uq_inbound_sms_provider_provider_message_id"),
        ),
    )
    op.create_index("ix_inbound_sms_mobile", "inbound_sms", ["mobile", "received_at"])


def downgrade() -> None:
    op.drop_index("ix_inbound_sms_mobile", table_name="inbound_sms")
    op.drop_table("inbound_sms")
    op.drop_index("ix_sms_questions_open", table_name="sms_questions")
    op.drop_table("sms_questions")
