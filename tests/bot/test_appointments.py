"""My appointments end to end: list, details, cancel, reschedule, the waitlist and its offers."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from bot.conversations import request as req
from bot.handlers import appointments as appt
from bot.handlers import booking as bk
from bot.handlers import deeplinks as links
from bot.handlers import open_requests
from bot.handlers.common import SORRY
from bot.keyboards import MY_APPOINTMENTS
from bot.views import STATUS, when
from clinic.actors import Actor
from clinic.booking import cancel_booking
from clinic.errors import NotFound, TooLateToCancel
from clinic.jalali import format_day_short, format_time, to_tehran
from clinic.models import (
    Booking,
    ChatAccount,
    Insurer,
    OutboxMessage,
    WaitlistEntry,
    WaitlistStatus,
)
from clinic.text import to_persian_digits
from tests.bot.flows import register, request_exam
from tests.bot.test_booking_flow import CT_BRAIN

if TYPE_CHECKING:
    from tests.bot.harness import Chat, Harness

TODAY = date(2026, 11, 29)  # the frozen clock's day (Sunday 8 Azar 1405)
FAR = 2  # the third bookable day: more than 24 hours ahead, so patients may cancel or move


async def patient_of(harness: Harness, chat: Chat) -> int:
    """The patient id behind a chat."""
    async with harness.env.uow() as uow:
        pid = await uow.session.scalar(
            select(ChatAccount.patient_id).where(ChatAccount.user_id == chat.user_id)
        )
    assert pid is not None
    return pid


async def bookings_of(harness: Harness, chat: Chat) -> list[Booking]:
    """The chat's patient's bookings, oldest first."""
    pid = await patient_of(harness, chat)
    async with harness.env.uow() as uow:
        rows = await uow.session.scalars(
            select(Booking).where(Booking.patient_id == pid).order_by(Booking.id)
        )
        return list(rows)


async def book(chat: Chat, day: int = FAR, time: int = 0) -> None:
    """From the day buttons: the ``day``-th day, its ``time``-th time, confirm."""
    await chat.press(chat.buttons()[day])
    await chat.press(chat.buttons()[time])
    await chat.press_msgid(bk.CONFIRM)


async def registered_with_booking(
    harness: Harness,
    chat: Chat,
    n: int,
    *,
    day: int = FAR,
    modality: str = "CT",
    exam: str = CT_BRAIN,
) -> Booking:
    """Register patient ``n``, request ``exam`` and book it on the ``day``-th bookable day."""
    await register(chat, n)
    await request_exam(chat, modality, exam)
    await chat.press_msgid(req.INSURERS[Insurer.TAMIN])
    await book(chat, day)
    return (await bookings_of(harness, chat))[-1]


async def open_details(chat: Chat) -> None:
    """Main menu → my appointments → the first appointment."""
    await chat.tap(MY_APPOINTMENTS)
    await chat.press(chat.buttons()[0])


def fa(text: str, lang: str = "fa") -> str:
    return to_persian_digits(text) if lang == "fa" else text


async def test_the_list_and_the_details(harness: Harness) -> None:
    chat = harness.user(3001)
    booking = await registered_with_booking(harness, chat, 10)
    await chat.tap(MY_APPOINTMENTS)
    assert chat.last_text() == chat._(appt.LIST)
    [label] = chat.buttons()
    assert "آذر" in label
    assert format_time(booking.starts_at, "fa") in label
    assert CT_BRAIN in label
    await chat.press(label)
    card = chat.last_text()
    assert chat._(STATUS["confirmed"]) in card
    assert fa(booking.code) in card
    assert chat.buttons() == [
        chat._(appt.CANCEL),
        chat._(appt.MOVE),
        chat._(appt.EARLIER),
        chat._(appt.RESEND),
        chat._(appt.TO_LIST),
    ]
    await chat.press_msgid(appt.TO_LIST)
    assert chat.last_text() == chat._(appt.LIST)


async def test_no_appointments_is_said_kindly(harness: Harness) -> None:
    chat = harness.user(3002)
    await register(chat, 11)
    await chat.tap(MY_APPOINTMENTS)
    assert chat.last_text() == chat._(appt.NONE_YET)
    assert chat.buttons() == []  # the main menu (a reply keyboard) stays


async def test_cancel_asks_first_then_cancels(harness: Harness) -> None:
    chat = harness.user(3003)
    booking = await registered_with_booking(harness, chat, 12)
    await open_details(chat)
    await chat.press_msgid(appt.CANCEL)
    day, time = when(booking.starts_at, "fa")
    assert chat.last_text() == chat._(appt.SURE).format(date=day, time=time)
    await chat.press_msgid(appt.NO_KEEP)
    assert chat._(STATUS["confirmed"]) in chat.last_text()
    assert [b.status for b in await bookings_of(harness, chat)] == ["confirmed"]
    await chat.press_msgid(appt.CANCEL)
    await chat.press_msgid(appt.YES_CANCEL)
    cancelled = chat._(appt.CANCELLED).format(date=day, time=time)
    assert chat.last_text() == f"{cancelled}\n\n{chat._(appt.STILL_OPEN)}"
    assert chat.buttons() == [
        chat._(open_requests.CHOOSE_TIME),
        chat._(open_requests.CANCEL_REQUEST),
        chat._(appt.TO_LIST),
    ]
    assert [b.status for b in await bookings_of(harness, chat)] == ["cancelled"]
    # The referral is still open (it counts towards the caps): it shows, to book or cancel.
    await chat.tap(MY_APPOINTMENTS)
    assert chat.buttons() == [f"📝 {CT_BRAIN} · {chat._(open_requests.NO_TIME)}"]


async def test_cancel_within_the_notice_is_refused_and_explained(harness: Harness) -> None:
    chat = harness.user(3004)
    booking = await registered_with_booking(harness, chat, 13)
    harness.env.clock.set(booking.starts_at - timedelta(hours=5))
    await open_details(chat)
    await chat.press_msgid(appt.CANCEL)
    await chat.press_msgid(appt.YES_CANCEL)
    refusal = TooLateToCancel(hours=24).render(chat._, persian_digits=True)
    assert chat.last_text() == refusal
    assert [b.status for b in await bookings_of(harness, chat)] == ["confirmed"]
    # Moving it is refused with the same rule, before any day is offered.
    await open_details(chat)
    await chat.press_msgid(appt.MOVE)
    assert chat.last_text() == refusal


async def test_reschedule_end_to_end(harness: Harness) -> None:
    chat = harness.user(3005)
    old = await registered_with_booking(harness, chat, 14)
    await open_details(chat)
    await chat.press_msgid(appt.MOVE)
    assert chat.last_text() == chat._(bk.CHOOSE_DAY)
    assert all(d.startswith(("day:bk:", "days:bk:")) for d in chat.button_data())
    await chat.press(chat.buttons()[FAR + 2])
    await chat.press(chat.buttons()[0])
    # Held, not yet confirmed: the old booking is still there.
    assert [b.status for b in await bookings_of(harness, chat)] == ["confirmed", "held"]
    await chat.press_msgid(bk.CONFIRM)
    old_now, new = await bookings_of(harness, chat)
    assert (old_now.id, old_now.status, new.status) == (old.id, "rescheduled", "confirmed")
    assert new.starts_at > old.starts_at
    assert fa(new.code) in (chat.bot_messages()[-3].text or "")  # then the .ics, the menu


async def test_join_the_waitlist_for_an_earlier_date(harness: Harness) -> None:
    chat = harness.user(3006)
    booking = await registered_with_booking(harness, chat, 15, day=7)
    await open_details(chat)
    await chat.press_msgid(appt.EARLIER)
    assert chat.last_text() == chat._(appt.ASK_BEFORE)
    by_three = TODAY + timedelta(days=3)
    label = chat._(appt.WITHIN[0][1]).format(date=format_day_short(by_three, "fa"))
    by_week = format_day_short(TODAY + timedelta(days=7), "fa")
    # Only dates before the booking (Monday 7 Dec): two weeks is too late, and "any earlier
    # day" (Sunday 6 Dec) is the same day as "within a week".
    assert chat.buttons() == [
        label,
        chat._(appt.WITHIN[1][1]).format(date=by_week),
        chat._(appt.TO_LIST),
    ]
    await chat.press(label)
    minutes = fa(str(harness.env.policy.waitlist_offer_minutes))
    expected = chat._(appt.WAITING).format(date=format_day_short(by_three, "fa"), minutes=minutes)
    assert chat.last_text() == expected
    async with harness.env.uow() as uow:
        entry = await uow.session.scalar(select(WaitlistEntry))
    assert entry is not None
    assert (entry.referral_id, entry.wanted_before) == (booking.referral_id, by_three)
    assert entry.status == WaitlistStatus.WAITING


async def test_no_earlier_day_for_an_appointment_tomorrow(harness: Harness) -> None:
    chat = harness.user(3007)
    await registered_with_booking(harness, chat, 16, day=1)
    await open_details(chat)
    await chat.press_msgid(appt.EARLIER)
    assert chat.last_text() == chat._(appt.NO_EARLIER)
    assert chat.buttons() == [chat._(appt.TO_LIST)]


async def _offer_for(harness: Harness, waiting: Chat, other: Chat) -> tuple[Booking, int]:
    """``waiting`` books late and joins the waitlist; ``other`` books earlier, then cancels."""
    late = await registered_with_booking(harness, waiting, 20, day=7)
    await open_details(waiting)
    await waiting.press_msgid(appt.EARLIER)
    await waiting.press(waiting.buttons()[0])
    early = await registered_with_booking(harness, other, 21, day=FAR)
    async with harness.env.uow() as uow:
        await cancel_booking(uow, Actor.patient(early.patient_id), early.id)
        await uow.commit()
        row = await uow.session.scalar(
            select(OutboxMessage).where(OutboxMessage.kind == "waitlist_offer")
        )
    assert row is not None
    assert row.recipient_id == late.patient_id
    return late, int(row.params["booking_id"])


async def test_a_waitlist_offer_opened_by_deep_link_is_confirmed(harness: Harness) -> None:
    waiting, other = harness.user(3008), harness.user(3009)
    late, offer_id = await _offer_for(harness, waiting, other)
    await waiting.command("start", f"offer{offer_id}")
    async with harness.env.uow() as uow:
        offer = await uow.session.get(Booking, offer_id)
    assert offer is not None
    assert offer.hold_expires_at is not None
    day, time = when(offer.hold_expires_at, "fa")
    card = waiting.last_text()
    assert card.startswith(waiting._(links.OFFER).format(time=time, date=day))
    assert fa(offer.code) in card
    assert waiting.buttons() == [waiting._(bk.CONFIRM)]
    await waiting.press_msgid(bk.CONFIRM)
    statuses = {b.id: b.status for b in await bookings_of(harness, waiting)}
    assert statuses == {late.id: "rescheduled", offer_id: "confirmed"}
    # Opening the link again shows the appointment it became.
    await waiting.command("start", f"offer{offer_id}")
    assert waiting._(STATUS["confirmed"]) in waiting.last_text()


async def test_an_expired_offer_says_so(harness: Harness) -> None:
    waiting, other = harness.user(3010), harness.user(3011)
    late, offer_id = await _offer_for(harness, waiting, other)
    harness.env.clock.advance(minutes=harness.env.policy.waitlist_offer_minutes + 1)
    await waiting.command("start", f"offer{offer_id}")
    assert waiting.last_text() == waiting._(links.OFFER_GONE)
    assert waiting.buttons() != [waiting._(bk.CONFIRM)]
    statuses = {b.id: b.status for b in await bookings_of(harness, waiting)}
    assert statuses[late.id] == "confirmed"  # the original appointment is untouched


async def test_resend_the_preparation_with_its_clock_time(harness: Harness) -> None:
    chat = harness.user(3012)
    booking = await registered_with_booking(
        harness, chat, 17, modality="US", exam="سونوگرافی شکم و لگن"
    )
    await open_details(chat)
    card_id = chat.last().message_id
    await chat.press_msgid(appt.RESEND)
    text = chat.last_text()
    assert chat.last().message_id != card_id  # a new message; the card stays
    fasting_from = to_tehran(booking.starts_at - timedelta(hours=6))
    assert format_time(fasting_from, "fa") in text
    assert format_day_short(fasting_from.date(), "fa") in text
    assert "از ۶ ساعت پیش از سونوگرافی چیزی نخورید" in text
    water_from = to_tehran(booking.starts_at - timedelta(hours=1))
    assert format_time(water_from, "fa") in text


async def test_another_patients_booking_shows_nothing_of_theirs(harness: Harness) -> None:
    owner, stranger = harness.user(3013), harness.user(3014)
    theirs = await registered_with_booking(harness, owner, 18)
    await register(stranger, 19)
    await stranger.tap(MY_APPOINTMENTS)
    not_found = NotFound().render(stranger._, persian_digits=True)
    for data in ("appt", "cx", "cxok", "mv", "wl", "prep"):
        await stranger.forge(f"{data}:{theirs.id}")
        assert stranger.last_text() == not_found, data
    await stranger.forge(f"wlj:{theirs.id}:20261130")
    await stranger.forge("appt:99999999999999999999")  # forged, beyond any id
    before = len(stranger.texts())
    await stranger.command("start", f"bk{theirs.id}")
    await stranger.command("start", f"offer{theirs.id}")
    await stranger.command("start", "bk")
    after = stranger.texts()[before:]
    assert len(after) == 3  # only the greetings
    for text in stranger.texts():
        assert fa(theirs.code) not in text
        assert theirs.code not in text
    async with harness.env.uow() as uow:
        assert await uow.session.scalar(select(WaitlistEntry)) is None
    assert stranger._(SORRY) not in stranger.texts()
    assert [b.status for b in await bookings_of(harness, owner)] == ["confirmed"]


async def test_a_deep_link_opens_ones_own_booking(harness: Harness) -> None:
    chat = harness.user(3015)
    booking = await registered_with_booking(harness, chat, 22)
    await chat.command("start", f"bk{booking.id}")
    assert fa(booking.code) in chat.last_text()
    assert chat._(appt.CANCEL) in chat.buttons()


async def test_appointments_in_english(harness: Harness) -> None:
    chat = harness.user(3016, lang="en")
    await register(chat, 23)
    await request_exam(chat, "CT", "CT brain without contrast")
    await chat.press_msgid(req.INSURERS[Insurer.SALAMAT])
    await book(chat)
    [booking] = await bookings_of(harness, chat)
    await chat.tap(MY_APPOINTMENTS)
    assert chat.last_text() == "Your appointments. Choose one to see it, cancel it or move it:"
    [label] = chat.buttons()
    assert "Azar" in label
    assert "CT brain without contrast" in label
    await chat.press(label)
    assert "Your appointment (Confirmed)" in chat.last_text()
    assert booking.code in chat.last_text()
    await chat.press("❌ Cancel")
    await chat.press("Yes, cancel it")
    day, time = when(booking.starts_at, "en")
    assert chat.last_text().startswith(f"Your appointment on {day} at {time} has been cancelled.")
