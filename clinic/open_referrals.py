"""A patient's open referrals that have no appointment: listing them, and withdrawing one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import exists, or_, select

from clinic import audit, limits
from clinic.booking import cancel_booking
from clinic.errors import Conflict
from clinic.i18n import N_
from clinic.models import (
    ACTIVE_BOOKING,
    Booking,
    BookingStatus,
    Referral,
    ReferralStatus,
    WaitlistEntry,
    WaitlistStatus,
)
from clinic.patients import check_access, get_patient
from clinic.referrals import get_referral

if TYPE_CHECKING:
    from clinic.actors import Actor
    from clinic.uow import UnitOfWork

HAS_APPOINTMENT = N_(
    "This request has an appointment. Please cancel the appointment first; then you can "
    "cancel the request."
)
CLOSED = N_("This request is already closed.")


async def unbooked_referrals(uow: UnitOfWork, actor: Actor, patient_id: int) -> list[Referral]:
    """The patient's open referrals with no live hold or confirmed booking, oldest first.

    These are the requests waiting for review or for the patient to choose a time; each one
    counts towards the caps until it is booked and done, or withdrawn. Raises NotAllowed.
    """
    check_access(actor, await get_patient(uow, patient_id))
    now = uow.clock.now()
    booked = exists().where(
        Booking.referral_id == Referral.id,
        Booking.status.in_(ACTIVE_BOOKING),
        or_(Booking.status != BookingStatus.HELD, Booking.hold_expires_at > now),
    )
    rows = await uow.session.scalars(
        select(Referral)
        .where(Referral.patient_id == patient_id, limits.open_clause(), ~booked)
        .order_by(Referral.created_at, Referral.id)
    )
    return list(rows)


async def withdraw_referral(uow: UnitOfWork, actor: Actor, referral_id: int) -> Referral:
    """The patient (or their health worker, or staff) no longer wants this request.

    A time held for it is released; its waitlist entry ends. Withdrawing twice is harmless.
    Raises NotFound (not theirs), Conflict (it has a confirmed appointment: cancel that first;
    or it is already rejected or used).
    """
    await get_referral(uow, actor, referral_id)
    referral = await uow.session.get(
        Referral, referral_id, with_for_update=True, populate_existing=True
    )
    assert referral is not None
    if referral.status == ReferralStatus.WITHDRAWN:
        return referral
    if referral.status not in limits.OPEN_REFERRAL or await limits.is_used(uow, referral.id):
        raise Conflict(CLOSED)
    active = list(
        await uow.session.scalars(
            select(Booking).where(
                Booking.referral_id == referral.id,
                Booking.status.in_(ACTIVE_BOOKING),
            )
        )
    )
    if any(b.status != BookingStatus.HELD for b in active):
        raise Conflict(HAS_APPOINTMENT)
    # Closed before its holds are released, so the freed place is not offered back to it.
    referral.status = ReferralStatus.WITHDRAWN
    await uow.session.flush()
    entries = await uow.session.scalars(
        select(WaitlistEntry).where(
            WaitlistEntry.referral_id == referral.id,
            WaitlistEntry.status.in_([WaitlistStatus.WAITING, WaitlistStatus.OFFERED]),
        )
    )
    for entry in entries:
        entry.status = WaitlistStatus.CANCELLED
    await uow.session.flush()
    for hold in active:
        await cancel_booking(uow, actor, hold.id, reason="withdrawn")
    await audit.record(uow, actor, "referral.withdraw", "referral", referral.id)
    return referral


async def check_may_request(
    uow: UnitOfWork, actor: Actor, patient_id: int, exam_id: int | None = None
) -> None:
    """Refuse a new request now, before the questions and the prescription, if it would be.

    ``submit_referral`` checks again under the patient's lock; this is the early, kind answer.
    Raises NotAllowed, OpenReferralForExam, TooManyOpenReferrals.
    """
    check_access(actor, await get_patient(uow, patient_id))
    await limits.check_new_referral(uow, actor, patient_id, exam_id)
