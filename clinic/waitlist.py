"""The waitlist: a freed place is offered, held for a while, to the first patient who wants it."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from clinic import audit, capacity, limits, sites
from clinic.availability import is_bookable, slots_needed
from clinic.codes import unique_booking_code
from clinic.department_setup import department_setup
from clinic.errors import Conflict, InvalidInput, NotFound, ReferralNotApproved, SlotFull
from clinic.i18n import N_
from clinic.jalali import to_tehran
from clinic.models import (
    ACTIVE_BOOKING,
    ActorKind,
    Booking,
    BookingChannel,
    BookingStatus,
    DeviceExam,
    Referral,
    ReferralStatus,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistStatus,
)
from clinic.outbox import Notice, enqueue
from clinic.patients import check_access, get_patient

if TYPE_CHECKING:
    from clinic.actors import Actor
    from clinic.uow import UnitOfWork


async def join_waitlist(
    uow: UnitOfWork, actor: Actor, referral_id: int, wanted_before: date
) -> WaitlistEntry:
    """Ask to be offered an earlier place for the referral's exam, before ``wanted_before``.

    Joining again updates the date. Raises NotFound, ReferralNotApproved, InvalidInput.
    """
    referral = await uow.session.get(Referral, referral_id)
    if referral is None:
        raise NotFound()
    check_access(actor, await get_patient(uow, referral.patient_id))
    if referral.status != ReferralStatus.APPROVED:
        raise ReferralNotApproved()
    if wanted_before <= to_tehran(uow.clock.now()).date():
        raise InvalidInput(N_("Please choose a date after today."))
    entry = await uow.session.scalar(
        select(WaitlistEntry).where(
            WaitlistEntry.referral_id == referral.id,
            WaitlistEntry.status.in_([WaitlistStatus.WAITING, WaitlistStatus.OFFERED]),
        )
    )
    if entry is None:
        entry = WaitlistEntry(
            patient_id=referral.patient_id,
            referral_id=referral.id,
            exam_id=referral.exam_id,
            status=WaitlistStatus.WAITING,
            created_at=uow.clock.now(),
            wanted_before=wanted_before,
        )
        uow.session.add(entry)
    entry.wanted_before = wanted_before
    await uow.session.flush()
    await audit.change(uow, actor, "waitlist.join", "waitlist", entry.id)
    return entry


async def leave_waitlist(uow: UnitOfWork, actor: Actor, entry_id: int) -> None:
    """Stop waiting for an earlier place."""
    entry = await uow.session.get(WaitlistEntry, entry_id)
    if entry is None:
        raise NotFound()
    check_access(actor, await get_patient(uow, entry.patient_id))
    if entry.status not in (WaitlistStatus.WAITING, WaitlistStatus.OFFERED):
        raise Conflict()
    entry.status = WaitlistStatus.CANCELLED
    await audit.change(uow, actor, "waitlist.leave", "waitlist", entry.id)


async def _candidates(uow: UnitOfWork, freed: Booking) -> list[WaitlistEntry]:
    """Waiting entries whose exam the freed device performs, at its site (the centre their
    referral chose, or any), and who want that day, in order."""
    day = to_tehran(freed.starts_at).date()
    site = await sites.device_site(uow, freed.device_id)
    here = select(Referral.id).where(
        Referral.department_id.is_(None) | (Referral.department_id == site)
    )
    exams = select(DeviceExam.exam_id).where(DeviceExam.device_id == freed.device_id)
    already = select(WaitlistOffer.entry_id).where(
        WaitlistOffer.device_id == freed.device_id, WaitlistOffer.starts_at == freed.starts_at
    )
    rows = await uow.session.scalars(
        select(WaitlistEntry)
        .where(
            WaitlistEntry.status == WaitlistStatus.WAITING,
            WaitlistEntry.exam_id.in_(exams),
            WaitlistEntry.referral_id.in_(here),
            WaitlistEntry.wanted_before >= day,
            WaitlistEntry.id.not_in(already),
        )
        .order_by(WaitlistEntry.created_at, WaitlistEntry.id)
    )
    return list(rows)


async def _current_start(uow: UnitOfWork, referral_id: int) -> Booking | None:
    booking: Booking | None = await uow.session.scalar(
        select(Booking).where(
            Booking.referral_id == referral_id,
            Booking.status.in_(ACTIVE_BOOKING),
        )
    )
    return booking


async def offer_freed_place(uow: UnitOfWork, freed: Booking) -> WaitlistEntry | None:
    """Offer the place ``freed`` gave back to the first waiting patient it suits.

    The place is held for the policy's offer time; a lapsed offer passes on to the next entry
    (see ``mark_lapsed``). An entry whose referral is closed, or whose patient the offer would
    take past the caps, is passed over. Returns the entry offered, or None.
    """
    if freed.starts_at <= uow.clock.now():
        return None
    for entry in await _candidates(uow, freed):
        current = await _current_start(uow, entry.referral_id)
        if current is not None and current.starts_at <= freed.starts_at:
            continue  # they already have this time or an earlier one
        if not await limits.may_offer(uow, entry.referral_id):
            continue
        if not await is_bookable(uow, entry.exam_id, freed.device_id, freed.starts_at):
            continue
        if await _offer(uow, entry, freed, current):
            return entry
    return None


async def _offer(
    uow: UnitOfWork, entry: WaitlistEntry, freed: Booking, current: Booking | None
) -> bool:
    setup = await department_setup(uow)
    device, exam = setup.devices[freed.device_id], setup.exam(entry.exam_id)
    count = slots_needed(exam, device)
    try:
        async with uow.session.begin_nested():
            await capacity.take(uow, device, freed.starts_at, count)
    except SlotFull:
        return False
    now = uow.clock.now()
    expires = now + timedelta(minutes=uow.policy.waitlist_offer_minutes)
    offer = Booking(
        code=await unique_booking_code(uow),
        referral_id=entry.referral_id,
        patient_id=entry.patient_id,
        exam_id=entry.exam_id,
        device_id=device.id,
        starts_at=freed.starts_at,
        slots=count,
        status=BookingStatus.HELD,
        hold_expires_at=expires,
        replaces_id=current.id if current else None,
        waitlist_id=entry.id,
        created_by=ActorKind.SYSTEM,
        channel=current.channel if current else BookingChannel.CHAT,
        created_at=now,
    )
    uow.session.add(offer)
    await uow.session.flush()
    entry.status = WaitlistStatus.OFFERED
    uow.session.add(
        WaitlistOffer(
            entry_id=entry.id,
            booking_id=offer.id,
            device_id=device.id,
            starts_at=freed.starts_at,
            expires_at=expires,
        )
    )
    await enqueue(
        uow,
        recipient_kind=ActorKind.PATIENT,
        recipient_id=entry.patient_id,
        kind=Notice.WAITLIST_OFFER,
        dedup_key=f"waitlist:{entry.id}:offer:{offer.id}",
        params={
            "booking_id": offer.id,
            "exam_id": entry.exam_id,
            "device_id": device.id,
            "starts_at": freed.starts_at.isoformat(),
            "expires_at": expires.isoformat(),
        },
        booking_id=offer.id,
        urgent=True,
    )
    return True


async def _offer_row(uow: UnitOfWork, booking: Booking) -> WaitlistOffer | None:
    offer: WaitlistOffer | None = await uow.session.scalar(
        select(WaitlistOffer).where(WaitlistOffer.booking_id == booking.id)
    )
    return offer


async def mark_taken(uow: UnitOfWork, booking: Booking) -> None:
    """The patient confirmed the offered place: their waitlist entry is done."""
    entry = await uow.session.get(WaitlistEntry, booking.waitlist_id)
    if entry is not None:
        entry.status = WaitlistStatus.BOOKED
    offer = await _offer_row(uow, booking)
    if offer is not None:
        offer.outcome = "taken"


async def mark_lapsed(uow: UnitOfWork, booking: Booking) -> None:
    """The offer ran out: the entry waits again (this place is not offered to it twice)."""
    entry = await uow.session.get(WaitlistEntry, booking.waitlist_id)
    if entry is not None and entry.status == WaitlistStatus.OFFERED:
        entry.status = WaitlistStatus.WAITING
    offer = await _offer_row(uow, booking)
    if offer is not None:
        offer.outcome = "lapsed"


async def mark_declined(uow: UnitOfWork, booking: Booking) -> None:
    """The patient said no to the offered place (it is passed on when the hold is cancelled):
    their entry waits again, and this place is not offered to it twice."""
    entry = await uow.session.get(WaitlistEntry, booking.waitlist_id)
    if entry is not None and entry.status == WaitlistStatus.OFFERED:
        entry.status = WaitlistStatus.WAITING
    offer = await _offer_row(uow, booking)
    if offer is not None:
        offer.outcome = "declined"


async def lapse_past_entries(uow: UnitOfWork) -> int:
    """Entries whose wanted-before date has passed stop waiting."""
    today = to_tehran(uow.clock.now()).date()
    rows = await uow.session.scalars(
        select(WaitlistEntry).where(
            WaitlistEntry.status == WaitlistStatus.WAITING,
            WaitlistEntry.wanted_before < today,
        )
    )
    count = 0
    for entry in rows:
        entry.status = WaitlistStatus.LAPSED
        count += 1
    return count
