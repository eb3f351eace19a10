"""Missed appointments: marked at the end of their day, counted per patient, and a block on
booking in chat (or by a health worker) after too many, which staff can lift."""

from __future__ import annotations

import logging
from datetime import time
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from clinic import audit, outbound
from clinic.errors import NoShowLimit, NotFound
from clinic.jalali import tehran_datetime, to_tehran
from clinic.models import ActorKind, Booking, BookingStatus, Patient, Role
from clinic.outbound_views import OutboundKind

if TYPE_CHECKING:
    from clinic.actors import Actor
    from clinic.uow import UnitOfWork

log = logging.getLogger(__name__)
BATCH = 500  # bookings marked per transaction


async def count_no_show(uow: UnitOfWork, booking: Booking) -> None:
    """``booking`` just became a no-show: its patient has missed one more."""
    await uow.session.execute(
        update(Patient)
        .where(Patient.id == booking.patient_id)
        .values(no_shows=Patient.no_shows + 1)
        .execution_options(synchronize_session=False)
    )


async def close_past_days(uow: UnitOfWork, actor: Actor) -> int:
    """Mark the confirmed bookings of days that have ended (Tehran time) and were never
    admitted as no-shows; how many (at most BATCH: call again while it returns BATCH).

    Run by ``radyar run`` and ``radyar worker`` every few minutes and by ``radyar day-end``;
    a second run finds nothing. The caller commits.
    """
    today = tehran_datetime(to_tehran(uow.clock.now()).date(), time.min)
    missed = list(
        await uow.session.scalars(
            select(Booking)
            .where(Booking.status == BookingStatus.CONFIRMED, Booking.starts_at < today)
            .order_by(Booking.starts_at, Booking.id)
            .limit(BATCH)
            .with_for_update(skip_locked=True)
        )
    )
    now = uow.clock.now()
    for booking in missed:
        booking.status = BookingStatus.NO_SHOW
        booking.ended_at = now
        await count_no_show(uow, booking)
        await outbound.record(uow, booking, OutboundKind.NO_SHOW)
        await audit.record(uow, actor, "booking.no_show", "booking", booking.id, automatic=True)
    if missed:
        log.info("marked %d bookings of past days as no-shows", len(missed))
    return len(missed)


def missed_unforgiven(patient: Patient) -> int:
    """The no-shows that count towards the block."""
    return max(0, patient.no_shows - patient.no_shows_forgiven)


def check_no_show_limit(uow: UnitOfWork, actor: Actor, patient: Patient) -> None:
    """Raise NoShowLimit when a patient or health worker books for a patient past the limit
    (staff book for anyone: the block sends the patient to them)."""
    limit = uow.policy.no_show_limit
    if actor.kind not in (ActorKind.PATIENT, ActorKind.HEALTH_WORKER) or limit == 0:
        return
    missed = missed_unforgiven(patient)
    if missed > limit:
        raise NoShowLimit(
            for_patient=actor.kind is ActorKind.PATIENT, count=missed, phone=uow.department.phone
        )


async def check_may_book(uow: UnitOfWork, actor: Actor, patient_id: int) -> None:
    """Raise NoShowLimit before the days are even shown to a patient (or their health worker)
    who would be refused at the hold (the same rule as ``check_no_show_limit``)."""
    patient = await uow.session.get(Patient, patient_id)
    if patient is not None:
        check_no_show_limit(uow, actor, patient)


async def lift_block(uow: UnitOfWork, actor: Actor, patient_id: int) -> Patient:
    """Forgive the patient's no-shows so far (reception or admin); audited. Raises NotAllowed,
    NotFound."""
    actor = actor.require_role(Role.RECEPTION, Role.ADMIN)
    patient = await uow.session.get(Patient, patient_id, with_for_update=True)
    if patient is None:
        raise NotFound()
    forgiven = missed_unforgiven(patient)
    patient.no_shows_forgiven = patient.no_shows
    await audit.record(
        uow, actor, "patient.no_shows_forgiven", "patient", patient.id, count=forgiven
    )
    return patient
