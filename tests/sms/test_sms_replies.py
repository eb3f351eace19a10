"""Patients answer our reminders and waitlist offers by SMS, through the real gateways' wire
formats: the SMS sandbox's receive APIs polled, or Kavenegar forwarding to our callback."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

import pytest

from clinic.actors import Actor
from clinic.booking import bookings_for_patient, cancel_booking, get_booking
from clinic.hospital_inbox import rejected_messages
from clinic.models import BookingStatus
from clinic.outbox import Notice
from clinic.sms_questions import attendance_confirmed
from clinic.sms_replies import Outcome
from clinic.text import to_persian_digits
from clinic.waitlist import join_waitlist
from tests.factories import RECEPTION, add_patient, approved_referral, build_department
from tests.sms.replies_world import MONDAY, WEDNESDAY, book, invite, relative, said, tehran

if TYPE_CHECKING:
    from tests.sms.replies_world import Replies

MOBILE = "09120000000"  # add_patient(n=0)'s
OTHER_MOBILE = "09120000001"  # add_patient(n=1)'s
PHONE = to_persian_digits("058-3100-0000")  # the department's, as a Persian SMS shows it


async def _reminded(replies: Replies, hour: int = 9) -> tuple[int, int]:
    """A patient booked on Wednesday; the two-days-ahead reminder has gone by SMS."""
    async with replies.uow() as uow:
        dept = await build_department(uow)
        patient = await add_patient(uow)
        booking = await book(uow, dept, patient, tehran(WEDNESDAY, hour))
        await uow.commit()
    await replies.deliver()  # the confirmation
    replies.at(tehran(MONDAY, hour))
    await replies.deliver()  # the reminder, asking
    return patient, booking


async def _status(replies: Replies, patient: int, booking: int) -> BookingStatus:
    async with replies.uow() as uow:
        return (await get_booking(uow, Actor.patient(patient), booking)).status


async def test_a_reminder_by_sms_invites_a_digit_and_1_confirms_attendance(
    replies: Replies,
) -> None:
    patient, booking = await _reminded(replies)
    reminder = replies.last(MOBILE)
    assert invite(Notice.REMINDER) in reminder
    confirmation = replies.texts(MOBILE)[0]
    assert invite(Notice.REMINDER) not in confirmation  # a confirmation asks nothing

    assert await replies.answer("+989120000000", "۱") == [Outcome.CONFIRMED]

    thanks = replies.last(MOBILE)
    assert said(Notice.SMS_CONFIRMED) in thanks
    assert "۰۹:۰۰" in thanks
    assert await _status(replies, patient, booking) == BookingStatus.CONFIRMED
    async with replies.uow() as uow:  # what staff's day list can show
        assert await attendance_confirmed(uow, [booking]) == {booking}


async def test_a_patient_who_said_1_may_still_cancel_with_2(replies: Replies) -> None:
    patient, booking = await _reminded(replies)
    assert await replies.answer(MOBILE, "1") == [Outcome.CONFIRMED]

    assert await replies.answer(MOBILE, "2") == [Outcome.CANCELLED]

    assert await _status(replies, patient, booking) == BookingStatus.CANCELLED
    assert await replies.answer(MOBILE, "1") == [Outcome.HELP_SENT]  # nothing left to answer


@pytest.mark.parametrize(
    ("reply", "outcome"),
    [
        ("٢", Outcome.CANCELLED),
        ("کنسل", Outcome.CANCELLED),
        ("لغو کنید", Outcome.CANCELLED),
        ("بله", Outcome.CONFIRMED),
        ("می آیم", Outcome.CONFIRMED),
    ],
)
async def test_the_answer_may_be_a_digit_in_any_script_or_a_word(
    replies: Replies, reply: str, outcome: Outcome
) -> None:
    patient, booking = await _reminded(replies)
    replies.at(tehran(MONDAY, 9, 30))

    assert await replies.answer(MOBILE, reply) == [outcome]

    status = await _status(replies, patient, booking)
    if outcome is Outcome.CANCELLED:
        assert status == BookingStatus.CANCELLED
        assert said(Notice.BOOKING_CANCELLED) in replies.last(MOBILE)
        async with replies.uow() as uow:  # no appointment left
            assert await bookings_for_patient(uow, Actor.patient(patient), patient) == []
    else:
        assert status == BookingStatus.CONFIRMED
        assert said(Notice.SMS_CONFIRMED) in replies.last(MOBILE)


async def test_a_cancel_too_close_to_the_appointment_gets_the_phone_and_1_still_works(
    replies: Replies,
) -> None:
    patient, booking = await _reminded(replies)
    replies.at(tehran(WEDNESDAY, 7))  # the reminder two hours before
    await replies.deliver()

    assert await replies.answer(MOBILE, "2") == [Outcome.TOO_LATE]

    sorry = replies.last(MOBILE)
    assert said(Notice.SMS_TOO_LATE) in sorry
    assert PHONE in sorry
    assert await _status(replies, patient, booking) == BookingStatus.CONFIRMED
    assert await replies.answer(MOBILE, "1") == [Outcome.CONFIRMED]


async def test_an_unreadable_reply_gets_one_help_sms_then_goes_to_staff(
    replies: Replies,
) -> None:
    patient, booking = await _reminded(replies)
    sent = len(replies.texts(MOBILE))

    assert await replies.answer(MOBILE, "ساعت چند باید بیایم؟") == [Outcome.HELP_SENT]
    assert said(Notice.SMS_HELP) in replies.last(MOBILE)
    assert PHONE in replies.last(MOBILE)
    assert await replies.answer(MOBILE, "کجای بیمارستان باید برم") == [Outcome.TO_STAFF]

    assert len(replies.texts(MOBILE)) == sent + 1  # one help SMS, no more
    async with replies.uow() as uow:
        kept = await rejected_messages(uow, RECEPTION)
    # kept masked: who sent it and what they wrote stay in the inbound SMS row only
    assert [(m.source, m.body) for m in kept] == [("sms", "###########: **** ********* **** ***")]
    assert await _status(replies, patient, booking) == BookingStatus.CONFIRMED
    # The question still waits for its digit.
    assert await replies.answer(MOBILE, "۱") == [Outcome.CONFIRMED]


async def test_thanks_get_no_answer_and_count_for_nothing(replies: Replies) -> None:
    await _reminded(replies)
    sent = len(replies.texts(MOBILE))

    assert await replies.answer(MOBILE, "سلام، خیلی ممنون 🙏") == [Outcome.NOTHING]

    assert len(replies.texts(MOBILE)) == sent
    assert await replies.answer(MOBILE, "ساعت چند باید بیایم؟") == [Outcome.HELP_SENT]


async def test_a_family_sharing_a_mobile_is_asked_which_booking_the_answer_is_for(
    replies: Replies,
) -> None:
    async with replies.uow() as uow:
        dept = await build_department(uow)
        father = await add_patient(uow)
        mother = await relative(uow, 5, MOBILE, "مریم")
        his = await book(uow, dept, father, tehran(WEDNESDAY, 10))
        hers = await book(uow, dept, mother, tehran(WEDNESDAY, 9))
        await uow.commit()
    replies.at(tehran(MONDAY, 10))
    await replies.deliver()  # both reminders, to the one phone

    assert await replies.answer(MOBILE, "۲") == [Outcome.ASKED_WHICH]
    which = replies.last(MOBILE)
    assert "۱ = مریم" in which and "۰۹:۰۰" in which  # by time: hers first
    assert "۲ = علی" in which and "۱۰:۰۰" in which
    assert await _status(replies, father, his) == BookingStatus.CONFIRMED

    assert await replies.answer(MOBILE, "2") == [Outcome.CANCELLED]

    assert await _status(replies, father, his) == BookingStatus.CANCELLED
    assert await _status(replies, mother, hers) == BookingStatus.CONFIRMED
    assert "۱۰:۰۰" in replies.last(MOBILE)  # the cancellation says which
    # Her reminder still waits for an answer, and now it is the only one.
    assert await replies.answer(MOBILE, "۱") == [Outcome.CONFIRMED]
    assert "۰۹:۰۰" in replies.last(MOBILE)


async def test_a_family_choice_that_is_no_number_of_the_list_gets_help(
    replies: Replies,
) -> None:
    async with replies.uow() as uow:
        dept = await build_department(uow)
        father = await add_patient(uow)
        mother = await relative(uow, 5, MOBILE, "مریم")
        await book(uow, dept, father, tehran(WEDNESDAY, 10))
        await book(uow, dept, mother, tehran(WEDNESDAY, 9))
        await uow.commit()
    replies.at(tehran(MONDAY, 10))
    await replies.deliver()
    assert await replies.answer(MOBILE, "بله") == [Outcome.ASKED_WHICH]

    assert await replies.answer(MOBILE, "۳") == [Outcome.HELP_SENT]
    assert await replies.answer(MOBILE, "۱") == [Outcome.CONFIRMED]  # the choice still waits


async def _offered(replies: Replies) -> int:
    """Patient 1 waits for an earlier CT; patient 0 cancels Wednesday 09:00: offered by SMS."""
    async with replies.uow() as uow:
        dept = await build_department(uow)
        first, waiting = await add_patient(uow, 0), await add_patient(uow, 1)
        freed = await book(uow, dept, first, tehran(WEDNESDAY, 9))
        referral = await approved_referral(uow, waiting, dept.ct_brain)
        await join_waitlist(uow, Actor.patient(waiting), referral, date(2026, 12, 20))
        await cancel_booking(uow, Actor.patient(first), freed)
        await uow.commit()
    await replies.deliver()
    return waiting


async def test_an_offer_taken_by_sms_is_booked(replies: Replies) -> None:
    waiting = await _offered(replies)
    offer = replies.last(OTHER_MOBILE)
    assert invite(Notice.WAITLIST_OFFER) in offer

    assert await replies.answer(OTHER_MOBILE, "بلی") == [Outcome.TAKEN]

    assert said(Notice.BOOKING_CONFIRMED) in replies.last(OTHER_MOBILE)
    async with replies.uow() as uow:
        booked = await bookings_for_patient(uow, Actor.patient(waiting), waiting)
    assert [b.starts_at for b in booked] == [tehran(WEDNESDAY, 9)]


async def test_an_offer_answered_after_it_lapsed_gets_a_kind_answer(replies: Replies) -> None:
    waiting = await _offered(replies)
    replies.at(replies.env.clock.now() + timedelta(hours=3))  # held for two

    assert await replies.answer(OTHER_MOBILE, "1") == [Outcome.OFFER_GONE]

    assert said(Notice.SMS_OFFER_GONE) in replies.last(OTHER_MOBILE)
    async with replies.uow() as uow:
        assert await bookings_for_patient(uow, Actor.patient(waiting), waiting) == []


async def test_no_thanks_to_an_offer_keeps_the_patient_on_the_waitlist(replies: Replies) -> None:
    waiting = await _offered(replies)

    assert await replies.answer(OTHER_MOBILE, "نه ممنون") == [Outcome.DECLINED]

    assert said(Notice.SMS_OFFER_DECLINED) in replies.last(OTHER_MOBILE)
    async with replies.uow() as uow:
        assert await bookings_for_patient(uow, Actor.patient(waiting), waiting) == []


async def test_a_reply_forwarded_twice_by_the_gateway_acts_once(replies: Replies) -> None:
    patient, booking = await _reminded(replies)
    replies.at(tehran(MONDAY, 9, 30))
    replies.sms.set_forward_url(replies.callback_url)
    replies.phones.append("لغو")

    reply = await replies.sms.text_us("00989120000000", "لغو")
    assert await replies.sms.forward(reply) == 200  # the gateway was not sure: again
    await replies.deliver()

    assert reply.forwards == [200, 200]
    assert await _status(replies, patient, booking) == BookingStatus.CANCELLED
    cancelled = [t for t in replies.texts(MOBILE) if said(Notice.BOOKING_CANCELLED) in t]
    assert len(cancelled) == 1


async def test_the_callback_refuses_a_wrong_secret(replies: Replies) -> None:
    patient, booking = await _reminded(replies)
    sent = len(replies.texts(MOBILE))
    wrong = replies.callback_url.replace("sms-callback", "guessed-secret")
    fields = {"messageid": "77", "from": MOBILE, "to": "10004346", "message": "2"}

    async with replies.http.get(wrong, params=fields) as response:
        assert response.status == 404
    async with replies.http.post(replies.callback_url, data={"from": MOBILE}) as response:
        assert response.status == 400  # no message id, no text
    await replies.deliver()

    assert await _status(replies, patient, booking) == BookingStatus.CONFIRMED
    assert len(replies.texts(MOBILE)) == sent


async def test_smsir_answers_its_latest_messages_every_time_and_each_acts_once(
    replies: Replies,
) -> None:
    replies.gateway = "smsir"
    patient, booking = await _reminded(replies)

    assert await replies.answer(MOBILE, "١") == [Outcome.CONFIRMED]
    assert await replies.poll() == [Outcome.DUPLICATE]  # the same message, polled again

    thanks = [t for t in replies.texts(MOBILE) if said(Notice.SMS_CONFIRMED) in t]
    assert len(thanks) == 1
    assert await _status(replies, patient, booking) == BookingStatus.CONFIRMED


async def test_an_sms_from_a_number_no_patient_has_goes_to_staff_once_a_day(
    replies: Replies,
) -> None:
    await _reminded(replies)
    stranger = "09351112233"

    assert await replies.answer(stranger, "نوبت من کی است") == [Outcome.TO_STAFF]
    assert await replies.answer(stranger, "جواب بدهید") == [Outcome.IGNORED]

    assert replies.texts(stranger) == []
    async with replies.uow() as uow:
        kept = await rejected_messages(uow, RECEPTION)
    assert [m.body for m in kept] == ["###########: **** ** ** ***"]


async def test_a_reply_the_gateway_held_for_days_is_not_acted_on(replies: Replies) -> None:
    patient, booking = await _reminded(replies)
    replies.sms.phone_sends(MOBILE, "2")
    replies.at(tehran(MONDAY, 9) + timedelta(hours=30))  # the poller was down

    assert await replies.poll() == [Outcome.STALE]
    await replies.deliver()

    assert await _status(replies, patient, booking) == BookingStatus.CONFIRMED
