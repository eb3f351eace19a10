"""Staff settle hospital events no booking matched, and look at refused messages, in the bot."""

from __future__ import annotations

from datetime import date, time
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from bot.staff import events, menu, told
from clinic.daylist import check_in
from clinic.hospital_inbox import keep_rejected
from clinic.models import (
    AuditEntry,
    Booking,
    OutboundEvent,
    OutboxMessage,
    OutboxStatus,
    Report,
    UnmatchedEvent,
)
from clinic.reports import ReportEvent, report_event
from clinic.text import to_persian_digits
from tests.bot.harness import Harness, assert_calm
from tests.bot.test_staff_reception import book_many, staff_chat
from tests.factories import RECEPTION

if TYPE_CHECKING:
    from collections.abc import Iterator

TODAY = date(2026, 11, 29)
NATIONAL = "0499370899"
# An ORU the RIS sent without an accession number: refused, with a patient and a report in it.
ORU = (
    "MSH|^~\\&|RIS|IMAM|RADYAR|IMAM|202611291230||ORU^R01|RIS0042|P|2.5.1\r"
    f"PID|1||{NATIONAL}^^^IRN^NNIRN||رضایی^مریم||19820321\r"
    "OBR|1|P-1|F-1|CT^CT head||||||||||||||||||||CT|F\r"
    "OBX|1|TX|19005-8^Impression^LN|1|suspicious for malignancy||||||F\r"
    "OBX|2|TX|19005-8^Impression^LN|2|یافته‌ای به نفع خونریزی||||||F"
)
SECRETS = (NATIONAL, "رضایی", "مریم", "19820321", "malignancy", "خونریزی")


@pytest.fixture(autouse=True)
def _calm(harness: Harness, caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    yield
    assert_calm(harness, caplog)


async def _waiting(harness: Harness) -> Booking:
    """An admitted booking without a number, a report for an unknown number, a refused message."""
    [booking_id] = await book_many(harness, "XR-1", TODAY, 1, start=time(10, 30))
    async with harness.env.uow() as uow:
        booking = await check_in(uow, RECEPTION, booking_id)
        for accession in ("LATE-9", "ELSEWHERE-1"):
            await report_event(
                uow,
                source="his",
                accession_number=accession,
                kind=ReportEvent.FINAL,
                occurred_at=uow.clock.now(),
            )
        await keep_rejected(uow, "hl7", "no accession number in OBR 1", ORU, kind="hl7")
        await uow.commit()
    return booking


async def test_reception_links_a_waiting_report_to_its_appointment(harness: Harness) -> None:
    booking = await _waiting(harness)
    chat, member = await staff_chat(harness, 7101, "reception")
    await chat.command("staff")
    await chat.press_msgid(menu.ITEMS[-2][1])
    assert chat.last_text() == chat._(events.OVERVIEW).format(
        events=to_persian_digits("2"), refused=to_persian_digits("1"), told=to_persian_digits("0")
    )
    await chat.press(chat.buttons()[0])
    card = chat.last_text()
    assert "LATE-9" in card and chat._(events.KINDS["final"]) in card
    await chat.press_msgid(events.LINK)
    assert chat.last_text() == chat._(events.ASK_CODE)
    await chat.say("۱۲۳")  # a wrong code: a kind answer, and the step waits for another
    await chat.say(to_persian_digits(booking.code))
    assert chat.last_text().startswith(chat._(events.LINKED).split("{")[0])
    async with harness.env.uow() as uow:
        report = await uow.session.scalar(
            select(Report).where(Report.accession_number == "LATE-9")
        )
        notices = list(
            await uow.session.scalars(
                select(OutboxMessage).where(OutboxMessage.kind == "report_ready")
            )
        )
        audited = set(await uow.session.scalars(select(AuditEntry.action)))
    assert report is not None and report.booking_id == booking.id
    assert [n.recipient_id for n in notices] == [booking.patient_id]
    assert "report.accession" in audited
    # The other event belongs to no appointment here: dismissed, nobody told.
    await chat.press_msgid(events.TO_EVENTS)
    await chat.press(chat.buttons()[0])
    assert "ELSEWHERE-1" in chat.last_text()
    await chat.press_msgid(events.DISMISS)
    async with harness.env.uow() as uow:
        open_events = list(
            await uow.session.scalars(
                select(UnmatchedEvent).where(UnmatchedEvent.resolved_at.is_(None))
            )
        )
        audited = set(await uow.session.scalars(select(AuditEntry.action)))
    assert open_events == []
    assert "hospital.dismissed" in audited
    assert member > 0


async def test_reception_reads_a_refused_message_and_clears_it(harness: Harness) -> None:
    await _waiting(harness)
    chat, member = await staff_chat(harness, 7102, "reception")
    await chat.command("staff")
    await chat.press_msgid(menu.ITEMS[-2][1])
    refused_label = chat._(events.REFUSED_BUTTON).format(count=to_persian_digits("1"))
    await chat.press(refused_label)
    await chat.press(chat.buttons()[0])
    card = chat.last_text()
    assert "no accession number in OBR 1" in card
    # what the RIS team needs to find and fix the message
    segments = "MSH(12) PID(7) OBR(25) OBX(11)×2"
    shape = chat._(events.SHAPE_HL7).format(type="ORU^R01", control="RIS0042", segments=segments)
    assert shape in card
    assert not any(secret in text for text in chat.texts() for secret in SECRETS)
    await chat.press_msgid(events.REVIEWED_BUTTON)
    await chat.press_msgid(events.TO_EVENTS)
    assert chat.last_text() == chat._(events.NO_REFUSED)
    async with harness.env.uow() as uow:
        read = list(
            await uow.session.scalars(
                select(AuditEntry).where(AuditEntry.action == "rejected_message.read")
            )
        )
    assert [(e.entity, e.actor_id) for e in read] == [("rejected_message", member)]


async def test_refused_json_and_sms_show_their_keys_and_length_only(harness: Harness) -> None:
    sms = "09121234567: فردا ساعت ۱۰ میام"
    async with harness.env.uow() as uow:
        await keep_rejected(uow, "his", "bad_json: the body must be a JSON object",
                            f'[{{"national_code": "{NATIONAL}"}}]', kind="json")  # fmt: skip
        await keep_rejected(uow, "his", "invalid_field: status must be 'final' or 'corrected'",
                            '{"accession_number": "A1", "status": "draft", "report": "malignancy",'
                            f' "national_code": "{NATIONAL}"}}', kind="json")  # fmt: skip
        await keep_rejected(uow, "sms", "not an answer", sms, kind="text")
        await uow.commit()
    chat, _ = await staff_chat(harness, 7107, "reception")
    await chat.command("staff")
    await chat.press_msgid(menu.ITEMS[-2][1])
    await chat.press(chat._(events.REFUSED_BUTTON).format(count=to_persian_digits("3")))
    shown = []
    for index in range(3):
        await chat.press(chat.buttons()[index])
        shown.append(chat.last_text())
        await chat.press_msgid(events.TO_EVENTS)
        await chat.press(chat._(events.REFUSED_BUTTON).format(count=to_persian_digits("3")))
    assert chat._(events.SHAPE_JSON_LIST).format(count=to_persian_digits("1")) in shown[0]
    keys = "accession_number, status, report, national_code"
    assert chat._(events.SHAPE_JSON).format(keys=keys) in shown[1]
    length = to_persian_digits(str(len(sms)))
    assert chat._(events.SHAPE_TEXT).format(length=length) in shown[2]
    assert not any(s in text for text in chat.texts() for s in (*SECRETS, "09121234567", "فردا"))


async def test_someone_without_the_role_cannot_open_the_waiting_events(harness: Harness) -> None:
    await _waiting(harness)
    chat, _ = await staff_chat(harness, 7103, "broadcaster")
    await chat.command("staff")
    await chat.forge("sev")
    await chat.forge("srjd:1")
    assert all("RIS0042" not in text and "LATE-9" not in text for text in chat.texts())


async def _refused_by_the_ris(harness: Harness) -> Booking:
    """A booking whose confirmation the RIS refused (as the outbound sender records it), and
    the booking's cancellation waiting behind it."""
    [booking_id] = await book_many(harness, "XR-1", TODAY, 1, start=time(10, 30))
    async with harness.env.uow() as uow:
        booking = await uow.session.get(Booking, booking_id)
        assert booking is not None
        now = uow.clock.now()
        for kind, status, answer in (
            ("booked", OutboxStatus.FAILED, "AR 101 PID-3 is not a known patient"),
            ("cancelled", OutboxStatus.PENDING, None),
        ):
            uow.session.add(
                OutboundEvent(
                    adapter="hl7_siu", kind=kind, booking_id=booking.id,
                    referral_id=booking.referral_id, status=status, attempts=1,
                    next_attempt_at=now, answer=answer, created_at=now,
                )
            )  # fmt: skip
        await uow.commit()
    return booking


async def test_reception_sees_what_the_ris_refused_and_sends_it_again(harness: Harness) -> None:
    booking = await _refused_by_the_ris(harness)
    chat, _ = await staff_chat(harness, 7104, "reception")
    await chat.command("staff")
    await chat.press_msgid(menu.ITEMS[-2][1])
    assert chat.last_text() == chat._(events.OVERVIEW).format(
        events=to_persian_digits("0"), refused=to_persian_digits("0"), told=to_persian_digits("1")
    )
    await chat.press(chat._(told.BUTTON).format(count=to_persian_digits("1")))
    assert chat.last_text() == chat._(told.HEADER)
    await chat.press(chat.buttons()[0])
    card = chat.last_text()
    assert "AR 101 PID-3 is not a known patient" in card and "RIS (HL7 SIU)" in card
    assert to_persian_digits(booking.code) in card and chat._(told.KINDS["booked"]) in card
    await chat.press_msgid(told.RETRY)
    assert chat.last_text().startswith(chat._(told.RETRIED).split("{")[0])
    await chat.press_msgid(told.TO_LIST)
    assert chat.last_text() == chat._(told.NONE)
    async with harness.env.uow() as uow:
        states = list(await uow.session.scalars(select(OutboundEvent.status)))
        audited = set(await uow.session.scalars(select(AuditEntry.action)))
    assert states == [OutboxStatus.PENDING, OutboxStatus.PENDING]
    assert "outbound.retry" in audited


async def test_reception_sets_aside_a_change_entered_at_the_ris_by_hand(harness: Harness) -> None:
    await _refused_by_the_ris(harness)
    chat, _ = await staff_chat(harness, 7105, "reception")
    await chat.command("staff")
    await chat.press_msgid(menu.ITEMS[-2][1])
    await chat.press(chat._(told.BUTTON).format(count=to_persian_digits("1")))
    await chat.press(chat.buttons()[0])
    await chat.press_msgid(told.SKIP)
    assert chat.last_text().startswith(chat._(told.SKIPPED).split("{")[0])
    await chat.forge("sofd:1")  # set aside: no longer shown, and not another's either
    assert "AR 101" not in chat.last_text()
    async with harness.env.uow() as uow:
        states = list(await uow.session.scalars(select(OutboundEvent.status)))
    assert states == [OutboxStatus.CANCELLED, OutboxStatus.PENDING]


async def test_a_broadcaster_cannot_resend_what_the_ris_refused(harness: Harness) -> None:
    await _refused_by_the_ris(harness)
    chat, _ = await staff_chat(harness, 7106, "broadcaster")
    await chat.command("staff")
    await chat.forge("sofd:1")
    await chat.forge("sofr:1")
    assert all("AR 101" not in text for text in chat.texts())
    async with harness.env.uow() as uow:
        states = list(await uow.session.scalars(select(OutboundEvent.status)))
    assert states[0] == OutboxStatus.FAILED
