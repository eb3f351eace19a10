"""HIS orders and last-resort matching: an accession number finds its booking, never by a guess."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from clinic.actors import Actor
from clinic.booking import confirm_booking, hold_slot
from clinic.daylist import check_in
from clinic.hospital import (
    OrderOutcome,
    PatientHint,
    hospital_report_event,
    link_order,
    normalize_modality,
)
from clinic.hospital_inbox import keep_rejected, rejected_messages
from clinic.intake_state import accept_signature, read_cursor, write_cursor
from clinic.jalali import TEHRAN
from clinic.models import Booking, Exam, Report, UnmatchedEvent
from clinic.outbox import pending
from clinic.reports import Outcome, ReportEvent
from tests.factories import (
    RECEPTION,
    Department,
    add_patient,
    approved_referral,
    build_department,
    national_code,
)

if TYPE_CHECKING:
    from clinic.uow import UnitOfWork
    from tests.conftest import ClinicEnv

MONDAY = date(2026, 11, 30)


def at(hh: int, mm: int = 0) -> datetime:
    return datetime.combine(MONDAY, time(hh, mm), tzinfo=TEHRAN)


async def _booked(
    uow: UnitOfWork, dept: Department, patient: int, start: datetime, exam: Exam | None = None
) -> Booking:
    me = Actor.patient(patient)
    referral = await approved_referral(uow, patient, exam or dept.ct_brain)
    return await confirm_booking(
        uow, me, (await hold_slot(uow, me, referral, dept.ct.id, start)).id
    )


def test_modality_codes_from_dicom_and_hl7_map_to_ours() -> None:
    assert normalize_modality("DX") == "CR"
    assert normalize_modality("mr") == "MR"
    assert normalize_modality("SR\\CT") == "CT"
    assert normalize_modality("OT") is None
    assert normalize_modality("") is None
    assert PatientHint.of("0499370899", "CT", MONDAY).usable
    assert not PatientHint.of("1234567890", "CT", MONDAY).usable  # bad check digit
    assert PatientHint.of("۰۴۹۹۳۷۰۸۹۹", "CT", MONDAY).national_code == "0499370899"


async def test_an_order_gives_the_one_fitting_booking_its_accession_number(
    env: ClinicEnv,
) -> None:
    async with env.uow() as uow:
        dept = await build_department(uow)
        patient = await add_patient(uow, 0)
        booking = await _booked(uow, dept, patient, at(9))
        await uow.commit()
    hint = PatientHint.of(national_code(0), "CT", MONDAY)
    async with env.uow() as uow:
        outcome = await link_order(
            uow, source="hl7", accession_number="ORD100", hint=hint, occurred_at=at(7)
        )
        again = await link_order(
            uow, source="hl7", accession_number="ORD100", hint=hint, occurred_at=at(7)
        )
        await uow.commit()
        report = await uow.session.scalar(
            select(Report).where(Report.accession_number == "ORD100")
        )
    assert (outcome, again) == (OrderOutcome.LINKED, OrderOutcome.ALREADY)
    assert report is not None and report.booking_id == booking.id
    # After admission the report arrives with that number and reaches the patient.
    env.clock.set(at(9, 5))
    async with env.uow() as uow:
        await check_in(uow, RECEPTION, booking.id)
        result = await hospital_report_event(
            uow,
            source="his",
            accession_number="ORD100",
            kind=ReportEvent.FINAL,
            occurred_at=at(12),
        )
        await uow.commit()
        notices = await pending(uow, kind="report_ready")
    assert result is Outcome.APPLIED
    assert [n.recipient_id for n in notices] == [patient]


async def test_an_order_that_fits_no_booking_or_two_waits_for_staff(env: ClinicEnv) -> None:
    async with env.uow() as uow:
        dept = await build_department(uow)
        patient = await add_patient(uow, 0)
        await _booked(uow, dept, patient, at(9))
        await _booked(uow, dept, patient, at(11), dept.ct_contrast)  # two CT exams one morning
        await add_patient(uow, 1)
        await uow.commit()
    async with env.uow() as uow:
        two = await link_order(
            uow,
            source="hl7",
            accession_number="ORD200",
            hint=PatientHint.of(national_code(0), "CT", MONDAY),
            occurred_at=at(7),
        )
        none = await link_order(
            uow,
            source="hl7",
            accession_number="ORD201",
            hint=PatientHint.of(national_code(1), "CT", MONDAY),
            occurred_at=at(7),
        )
        wrong_day = await link_order(
            uow,
            source="hl7",
            accession_number="ORD202",
            hint=PatientHint.of(national_code(0), "CT", MONDAY + timedelta(days=1)),
            occurred_at=at(7),
        )
        await uow.commit()
        kept = list(await uow.session.scalars(select(UnmatchedEvent).order_by(UnmatchedEvent.id)))
        reports = await uow.session.scalar(select(func.count()).select_from(Report))
    assert (two, none, wrong_day) == (
        OrderOutcome.AMBIGUOUS,
        OrderOutcome.UNMATCHED,
        OrderOutcome.UNMATCHED,
    )
    assert [(e.accession_number, e.kind, e.payload["reason"]) for e in kept] == [
        ("ORD200", "order", "ambiguous"),
        ("ORD201", "order", "no booking"),
        ("ORD202", "order", "no booking"),
    ]
    assert reports == 0


async def test_an_unknown_accession_joins_the_one_admitted_booking_of_that_patient(
    env: ClinicEnv,
) -> None:
    async with env.uow() as uow:
        dept = await build_department(uow)
        patient = await add_patient(uow, 0)
        other = await add_patient(uow, 1)
        booking = await _booked(uow, dept, patient, at(9))
        await _booked(uow, dept, other, at(9, 15))
        await uow.commit()
    env.clock.set(at(9, 5))
    async with env.uow() as uow:
        await check_in(uow, RECEPTION, booking.id)  # reception typed no accession number
        await uow.commit()
    async with env.uow() as uow:
        outcome = await hospital_report_event(
            uow,
            source="pacs",
            accession_number="PACS77",
            kind=ReportEvent.IMAGES_READY,
            occurred_at=at(9, 40),
            hint=PatientHint.of(national_code(0), "CT", MONDAY),
        )
        # The other patient is booked but not admitted: no match, kept for staff.
        kept = await hospital_report_event(
            uow,
            source="pacs",
            accession_number="PACS78",
            kind=ReportEvent.IMAGES_READY,
            occurred_at=at(9, 40),
            hint=PatientHint.of(national_code(1), "CT", MONDAY),
        )
        await uow.commit()
        notices = await pending(uow, kind="images_ready")
    assert (outcome, kept) == (Outcome.APPLIED, Outcome.UNMATCHED)
    assert [n.recipient_id for n in notices] == [patient]


async def test_two_admitted_bookings_that_fit_are_never_guessed(env: ClinicEnv) -> None:
    async with env.uow() as uow:
        dept = await build_department(uow)
        patient = await add_patient(uow, 0)
        first = await _booked(uow, dept, patient, at(9))
        second = await _booked(uow, dept, patient, at(9, 15), dept.ct_contrast)
        await uow.commit()
    env.clock.set(at(9, 5))
    async with env.uow() as uow:
        await check_in(uow, RECEPTION, first.id)
        await check_in(uow, RECEPTION, second.id)
        outcome = await hospital_report_event(
            uow,
            source="his",
            accession_number="AMB1",
            kind=ReportEvent.FINAL,
            occurred_at=at(12),
            hint=PatientHint.of(national_code(0), "CT", MONDAY),
        )
        await uow.commit()
        kept = await uow.session.scalar(select(UnmatchedEvent))
        notices = await pending(uow, kind="report_ready")
    assert outcome is Outcome.UNMATCHED
    assert notices == []
    assert kept is not None and kept.payload["reason"] == "ambiguous"


async def test_rejected_messages_cursors_and_webhook_receipts(env: ClinicEnv) -> None:
    window = timedelta(minutes=5)
    async with env.uow() as uow:
        await build_department(uow)
        assert await read_cursor(uow, "orthanc") is None
        await write_cursor(uow, "orthanc", 41)
        await write_cursor(uow, "orthanc", 42)
        first_id = await keep_rejected(uow, "his", "not JSON", "x" * 100_000)
        assert await accept_signature(uow, "a" * 64, window)
        assert not await accept_signature(uow, "a" * 64, window)
        await uow.commit()
    env.clock.advance(minutes=11)
    async with env.uow() as uow:
        assert await read_cursor(uow, "orthanc") == 42
        kept = await rejected_messages(uow, RECEPTION)
        # An old receipt is pruned; its request would fail the timestamp check anyway.
        assert await accept_signature(uow, "a" * 64, window)
        await uow.commit()
    assert [(m.id, m.source, m.reason, len(m.body)) for m in kept] == [
        (first_id, "his", "not JSON", 64 * 1024)
    ]


async def test_a_booking_that_has_a_number_is_not_given_a_second_by_a_guess(
    env: ClinicEnv,
) -> None:
    async with env.uow() as uow:
        dept = await build_department(uow)
        patient = await add_patient(uow, 0)
        booking = await _booked(uow, dept, patient, at(9))
        await uow.commit()
    env.clock.set(at(9, 5))
    hint = PatientHint.of(national_code(0), "CT", MONDAY)
    async with env.uow() as uow:
        await check_in(uow, RECEPTION, booking.id, accession_number="TYPED1")
        order = await link_order(
            uow, source="hl7", accession_number="OTHER1", hint=hint, occurred_at=at(9)
        )
        study = await hospital_report_event(
            uow,
            source="pacs",
            accession_number="OTHER2",
            kind=ReportEvent.IMAGES_READY,
            occurred_at=at(9, 30),
            hint=hint,
        )
        await uow.commit()
        numbers = list(await uow.session.scalars(select(Report.accession_number)))
        notices = await pending(uow, kind="images_ready")
    assert (order, study) == (OrderOutcome.AMBIGUOUS, Outcome.UNMATCHED)
    assert numbers == ["TYPED1"]
    assert notices == []


async def test_a_repeated_event_waits_for_staff_once(env: ClinicEnv) -> None:
    async with env.uow() as uow:
        for minute in (0, 5):  # the PACS says "stable" again after a late instance
            await hospital_report_event(
                uow,
                source="pacs",
                accession_number="NOBODY-1",
                kind=ReportEvent.IMAGES_READY,
                occurred_at=at(9, minute),
            )
        for day in (1, 2):  # two corrections are two events
            await hospital_report_event(
                uow,
                source="his",
                accession_number="NOBODY-1",
                kind=ReportEvent.CORRECTED,
                occurred_at=at(9) + timedelta(days=day),
            )
        first = await keep_rejected(uow, "pacs", "no accession", '{"study": "x"}', once=True)
        again = await keep_rejected(uow, "pacs", "no accession", '{"study": "x"}', once=True)
        await uow.commit()
        kinds = list(await uow.session.scalars(select(UnmatchedEvent.kind)))
    assert sorted(kinds) == ["corrected", "corrected", "images_ready"]
    assert first == again


async def test_a_refused_message_is_masked_before_it_is_kept_or_compared(env: ClinicEnv) -> None:
    code = national_code(0)
    oru = (
        "MSH|^~\\&|RIS|IMAM|RADYAR|IMAM|202611301230||ORU^R01|RIS0042|P|2.5.1\r"
        f"PID|1||{code}^^^IRN^NNIRN||رضایی^مریم||19820321\r"
        "OBR|1|P-1|F-1|CT^CT head||||||||||||||||||||CT|F\r"
        "OBX|1|TX|19005-8^Impression^LN|1|suspicious for malignancy||||||F"
    )
    async with env.uow() as uow:
        first = await keep_rejected(uow, "hl7", "no accession number in OBR 1", oru, kind="hl7")
        # The same message about another patient is the same fault at the source: kept once.
        other = oru.replace(code, national_code(1)).replace("رضایی^مریم", "کریمی^علی")
        again = await keep_rejected(
            uow, "hl7", "no accession number in OBR 1", other, once=True, kind="hl7"
        )
        webhook = f'{{"accession_number": "A 1", "status": "final", "national_code": "{code}"}}'
        sms = await keep_rejected(uow, "sms", "unreadable", "09121234567: فردا میام", kind="text")
        his = await keep_rejected(uow, "his", "invalid_field: accession_number", webhook)
        await uow.commit()
        kept = {m.id: m.body for m in await rejected_messages(uow, RECEPTION)}
    assert first == again and set(kept) == {first, sms, his}
    assert kept[first].split("\r") == [
        "MSH|^~\\&|RIS|IMAM|RADYAR|IMAM|202611301230||ORU^R01|RIS0042|P|2.5.1",
        "PID|1||***^^^***^***||***^***||***",
        "OBR|1|P-1|F-1|CT^CT head||||||||||||||||||||CT|F",
        "OBX|1|TX|19005-8^Impression^LN|1|***||||||F",
    ]
    assert kept[sms] == "###########: **** ****"
    assert kept[his] == '{"accession_number": "A 1", "status": "final", "national_code": "***"}'
