"""Hundreds of booked patients at once, by bulk inserts (the use cases take minutes for that).

For tests/notifier/test_crash.py, tests/cli/test_broadcast_cli.py and bench/bench_notifier.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import insert, select

from clinic.models import Booking, ChatAccount, Device, Exam, Patient, Referral
from tests import factories

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from clinic.uow import UnitOfWork

# Patient n's Telegram user and chat id is FIRST_USER + n.
FIRST_USER = 810_000


@dataclass(frozen=True)
class Booked:
    """Ids of what ``add_booked_patients`` inserted, in the order of the patients' numbers."""

    patients: list[int]
    bookings: list[int]


async def add_booked_patients(
    uow: UnitOfWork,
    count: int,
    *,
    first: int,
    starts_at: datetime,
    device_code: str = "CT-1",
    with_chat: bool = True,
    admitted: bool = False,
    code_prefix: str = "T",
    first_user: int = FIRST_USER,
    national_code: Callable[[int], str] = factories.national_code,
    consent_via: str = "test",
) -> Booked:
    """``count`` patients numbered from ``first``, each with an approved referral for the
    device's first exam and a booking on the device at ``starts_at`` (code ``code_prefix``
    and the number in eight digits).

    ``with_chat``: each has a Telegram account with user and chat id ``first_user + n``.
    ``admitted``: the booking is checked in (else confirmed). Needs a seeded department that
    has the device.
    """
    now = uow.clock.now()
    device = await uow.session.scalar(select(Device).where(Device.code == device_code))
    assert device is not None, f"no device {device_code}: seed the demo department first"
    exam_id = await uow.session.scalar(
        select(Exam.id).where(Exam.modality == device.modality).order_by(Exam.id).limit(1)
    )
    assert exam_id is not None, f"no exam for {device_code}"
    numbers = range(first, first + count)
    patients = list(
        await uow.session.scalars(
            insert(Patient).returning(Patient.id, sort_by_parameter_order=True),
            [
                {
                    "national_code": national_code(n),
                    "mobile": f"0912{n:07d}",
                    "first_name": "بیمار",
                    "last_name": f"شماره {n}",
                    "birth_year": 1360,
                    "sex": "female" if n % 2 else "male",
                    "language": "fa",
                    "consent_at": now,
                    "consent_via": consent_via,
                    "registered_by": "staff",
                    "created_at": now,
                    "updated_at": now,
                }
                for n in numbers
            ],
        )
    )
    if with_chat:
        await uow.session.execute(
            insert(ChatAccount),
            [
                {
                    "platform": "telegram",
                    "user_id": first_user + n,
                    "chat_id": first_user + n,
                    "patient_id": p,
                    "is_self": True,
                    "linked_at": now,
                }
                for n, p in zip(numbers, patients, strict=True)
            ],
        )
    referrals = list(
        await uow.session.scalars(
            insert(Referral).returning(Referral.id, sort_by_parameter_order=True),
            [
                {
                    "patient_id": p,
                    "exam_id": exam_id,
                    "source": "paper",
                    "insurer": "none",
                    "screening_answers": {},
                    "status": "approved",
                    "submitted_by": "staff",
                    "created_at": now,
                }
                for p in patients
            ],
        )
    )
    bookings = list(
        await uow.session.scalars(
            insert(Booking).returning(Booking.id, sort_by_parameter_order=True),
            [
                {
                    "code": f"{code_prefix}{n:08d}",
                    "referral_id": r,
                    "patient_id": p,
                    "exam_id": exam_id,
                    "device_id": device.id,
                    "starts_at": starts_at,
                    "status": "checked_in" if admitted else "confirmed",
                    "created_by": "staff",
                    "created_at": now,
                    "confirmed_at": now,
                    "checked_in_at": now if admitted else None,
                }
                for n, p, r in zip(numbers, patients, referrals, strict=True)
            ],
        )
    )
    return Booked(patients, bookings)
