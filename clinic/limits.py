"""No hoarding: caps on one patient's open referrals and future bookings, one referral per code.

- An **open referral** is submitted or approved, and not yet used: none of its bookings has been
  admitted or completed. Rejected and withdrawn referrals are closed. A cancelled, missed
  (no-show), moved or expired booking leaves its referral open, so the patient may book it again
  (or withdraw it).
- A **future booking** is held (and the hold has not run out) or confirmed, and starts after now.
  Counted per referral, so a reschedule (a hold that will replace the same referral's confirmed
  booking) counts once.

The caps bind patients, health workers and the operator (``radyar`` commands); staff decide for
themselves, and moves the department makes (closures) never pass through here.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, and_, case, exists, func, or_, select, text

from clinic.errors import (
    BookingForExam,
    NotFound,
    OpenReferralForExam,
    TooManyFutureBookings,
    TooManyOpenReferrals,
    TrackingCodeInUse,
)
from clinic.models import ActorKind, Booking, BookingStatus, Patient, Referral, ReferralStatus
from clinic.no_shows import check_no_show_limit

if TYPE_CHECKING:
    from clinic.actors import Actor
    from clinic.uow import UnitOfWork

log = logging.getLogger(__name__)

OPEN_REFERRAL = (ReferralStatus.SUBMITTED, ReferralStatus.APPROVED)
# A booking admitted or done has used its referral (the prescription was handed in).
USED_BOOKING = (BookingStatus.CHECKED_IN, BookingStatus.COMPLETED)
FUTURE_BOOKING = (BookingStatus.HELD, BookingStatus.CONFIRMED)


def used_clause() -> ColumnElement[bool]:
    """True for a referral one of whose bookings was admitted or completed."""
    return exists().where(Booking.referral_id == Referral.id, Booking.status.in_(USED_BOOKING))


def open_clause() -> ColumnElement[bool]:
    """True for an open referral (see the module docstring)."""
    return and_(Referral.status.in_(OPEN_REFERRAL), ~used_clause())


def future_clause(now: datetime) -> ColumnElement[bool]:
    """True for a future booking (see the module docstring)."""
    return and_(
        Booking.status.in_(FUTURE_BOOKING),
        Booking.starts_at > now,
        or_(Booking.status != BookingStatus.HELD, Booking.hold_expires_at > now),
    )


def capped(actor: Actor) -> bool:
    """Whether the caps apply to what ``actor`` does (everyone but staff)."""
    return actor.kind is not ActorKind.STAFF


async def lock_patient(uow: UnitOfWork, patient_id: int, *, skip_locked: bool = False) -> bool:
    """Lock the patient's row until commit, so their counts cannot change under us.

    Two submits or holds for one patient then run one after the other on PostgreSQL (SQLite's
    BEGIN IMMEDIATE already serialises writers). With ``skip_locked``, return False at once if
    another transaction holds the lock, instead of waiting (callers already holding other
    patients' locks must not wait: that could deadlock).
    """
    if uow.dialect == "sqlite":
        return True  # the transaction already holds SQLite's one write lock
    row = await uow.session.scalar(
        select(Patient.id).where(Patient.id == patient_id).with_for_update(skip_locked=skip_locked)
    )
    if row is None and not skip_locked:
        raise NotFound()
    return row is not None


async def is_used(uow: UnitOfWork, referral_id: int) -> bool:
    """Whether a booking of the referral has been admitted or completed."""
    found = await uow.session.scalar(
        select(Booking.id)
        .where(Booking.referral_id == referral_id, Booking.status.in_(USED_BOOKING))
        .limit(1)
    )
    return found is not None


async def _open_referrals(uow: UnitOfWork, patient_id: int, exam_id: int) -> tuple[int, int]:
    """(open referrals of the patient for ``exam_id``, and in all), in one statement."""
    for_exam = func.count(case((Referral.exam_id == exam_id, Referral.id)))
    row = (
        await uow.session.execute(
            select(for_exam, func.count(Referral.id)).where(
                Referral.patient_id == patient_id, open_clause()
            )
        )
    ).one()
    return int(row[0] or 0), int(row[1] or 0)


async def check_new_referral(
    uow: UnitOfWork, actor: Actor, patient_id: int, exam_id: int | None = None
) -> None:
    """Raise unless the patient may have one more open referral (for ``exam_id``, if given).

    The caller has locked the patient's row (``lock_patient``) when it is about to add one.
    Raises OpenReferralForExam, TooManyOpenReferrals.
    """
    if not capped(actor):
        return
    policy, mine = uow.policy, actor.kind is ActorKind.PATIENT
    for_exam, overall = await _open_referrals(uow, patient_id, exam_id or 0)
    if exam_id is not None and for_exam >= policy.max_open_referrals_per_exam:
        _refused(patient_id, "open_referral_for_exam")
        raise OpenReferralForExam(for_patient=mine)
    if overall >= policy.max_open_referrals:
        _refused(patient_id, "too_many_open_referrals")
        raise TooManyOpenReferrals(for_patient=mine, count=policy.max_open_referrals)


async def _future_bookings(uow: UnitOfWork, referral: Referral) -> tuple[int, int]:
    """Other referrals of the patient with a future booking, for the same exam and in all
    (this one is not counted), in one statement."""
    same_exam = case((Booking.exam_id == referral.exam_id, Booking.referral_id))
    row = (
        await uow.session.execute(
            select(
                func.count(func.distinct(same_exam)),
                func.count(func.distinct(Booking.referral_id)),
            ).where(
                Booking.patient_id == referral.patient_id,
                Booking.referral_id != referral.id,
                future_clause(uow.clock.now()),
            )
        )
    ).one()
    return int(row[0] or 0), int(row[1] or 0)


async def exceeds_bookings(uow: UnitOfWork, referral: Referral) -> str | None:
    """Which booking cap a new future booking of ``referral`` would pass, or None.

    The referral's own bookings are left out: its new time replaces them (a reschedule).
    """
    per_exam, overall = uow.policy.max_future_bookings_per_exam, uow.policy.max_future_bookings
    for_exam, in_all = await _future_bookings(uow, referral)
    if for_exam >= per_exam:
        return BookingForExam.code
    if in_all >= overall:
        return TooManyFutureBookings.code
    return None


async def check_new_booking(uow: UnitOfWork, actor: Actor, referral: Referral) -> None:
    """Raise unless the patient may hold a time for ``referral`` (its patient's row locked).

    Raises BookingForExam, TooManyFutureBookings, NoShowLimit.
    """
    if not capped(actor):
        return
    patient = await uow.session.get(Patient, referral.patient_id)
    if patient is not None:
        check_no_show_limit(uow, actor, patient)
    which = await exceeds_bookings(uow, referral)
    if which is None:
        return
    _refused(referral.patient_id, which)
    mine = actor.kind is ActorKind.PATIENT
    if which == BookingForExam.code:
        raise BookingForExam(for_patient=mine)
    raise TooManyFutureBookings(for_patient=mine, count=uow.policy.max_future_bookings)


async def may_offer(uow: UnitOfWork, referral_id: int) -> bool:
    """Whether a freed place may be offered to this referral's waitlist entry.

    The referral must still be approved and unused, and the offer (a new future booking unless
    it replaces the referral's own) must keep the patient within the caps. A patient whose row
    another transaction holds is passed over rather than waited for.
    """
    referral = await uow.session.get(Referral, referral_id)
    if referral is None or referral.status != ReferralStatus.APPROVED:
        return False
    if await is_used(uow, referral.id):
        return False
    if not await lock_patient(uow, referral.patient_id, skip_locked=True):
        return False
    return await exceeds_bookings(uow, referral) is None


def _code_key(code: str) -> int:
    # A stable signed 64-bit key per tracking code for PostgreSQL's advisory locks.
    digest = hashlib.sha256(f"radyar:tracking:{code}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


async def check_tracking_code(uow: UnitOfWork, actor: Actor, code: str) -> None:
    """Raise TrackingCodeInUse when the code already backs an open referral (of anyone).

    Two patients sending one code at once are serialised by a transaction-scoped advisory lock
    on PostgreSQL (SQLite serialises writers), so only one of them gets it.
    """
    if uow.dialect == "postgresql":
        lock = text("SELECT pg_advisory_xact_lock(:key)")
        await uow.session.execute(lock, {"key": _code_key(code)})
    found = await uow.session.scalar(
        select(Referral.id).where(Referral.tracking_code == code, open_clause()).limit(1)
    )
    if found is not None:
        log.info("referral refused: tracking code already backs referral %s", found)
        raise TrackingCodeInUse(for_patient=actor.kind is ActorKind.PATIENT)


async def repeat_needs_review(uow: UnitOfWork, patient_id: int, exam_id: int) -> bool:
    """Whether the patient sent a referral for this exam within the policy's repeat window.

    A repeat soon after another (perhaps withdrawn to get past the cap) goes to staff review
    instead of being approved at once.
    """
    days = uow.policy.repeat_review_days
    if days <= 0:
        return False
    since = uow.clock.now() - timedelta(days=days)
    found = await uow.session.scalar(
        select(Referral.id)
        .where(
            Referral.patient_id == patient_id,
            Referral.exam_id == exam_id,
            Referral.created_at >= since,
        )
        .limit(1)
    )
    return found is not None


def _refused(patient_id: int, which: str) -> None:
    # Ids and the rule only: an outbreak of refusals is visible to the operator, no personal data.
    log.info("patient %s refused: %s", patient_id, which)
