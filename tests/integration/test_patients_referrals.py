"""Registration, chat accounts, referrals with screening, and staff review."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from clinic.actors import Actor
from clinic.audit import entries_for
from clinic.errors import (
    Conflict,
    InvalidInput,
    InvalidMobile,
    InvalidNationalCode,
    NotAllowed,
    NotFound,
    ScreeningBlocked,
)
from clinic.models import Patient, Platform
from clinic.outbox import pending
from clinic.patients import (
    PatientDetails,
    find_by_national_code,
    link_chat_account,
    patients_for_chat,
    register_patient,
    set_language,
)
from clinic.referrals import (
    PrescriptionFile,
    ReferralRequest,
    get_referral,
    pending_review,
    review_referral,
    screening_for,
    submit_referral,
)
from tests.factories import ADMIN, RECEPTION, add_patient, build_department, worker_proof

if TYPE_CHECKING:
    from tests.conftest import ClinicEnv

WORKER = Actor.health_worker(1)


def details(**overrides: object) -> PatientDetails:
    values: dict[str, object] = {
        "national_code": "۰۴۹۹۳۷۰۸۹۹",
        "mobile": "+98 912 345 6789",
        "first_name": "فاطمه",
        "last_name": "كريمي",  # Arabic Kaf and Yeh, as some keyboards type them
        "birth_year": "۱۳۷۰",
        "sex": "زن",
    }
    values.update(overrides)
    return PatientDetails(**values)  # type: ignore[arg-type]


async def test_registration_normalises_persian_input(env: ClinicEnv) -> None:
    async with env.uow() as uow:
        patient = await register_patient(uow, Actor.system(), details(), consent=True)
        await uow.commit()
        found = await find_by_national_code(uow, "0499370899")
    assert found is not None
    assert found.id == patient.id
    assert (found.mobile, found.birth_year, found.sex) == ("09123456789", 1370, "female")
    assert found.last_name == "کریمی"
    assert found.consent_at == env.clock.now()


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("national_code", "1234567890", InvalidNationalCode),
        ("national_code", "1111111111", InvalidNationalCode),
        ("mobile", "0812345678", InvalidMobile),
        ("birth_year", "1500", InvalidInput),
        ("birth_year", "70", InvalidInput),
        ("first_name", "", InvalidInput),
        ("first_name", "x" * 81, InvalidInput),
        ("sex", "?", InvalidInput),
    ],
)
async def test_bad_registration_input_is_refused_and_nothing_saved(
    sqlite_env: ClinicEnv, field: str, value: str, error: type[Exception]
) -> None:
    async with sqlite_env.uow() as uow:
        with pytest.raises(error):
            await register_patient(uow, Actor.system(), details(**{field: value}), consent=True)
        await uow.rollback()
        assert list(await uow.session.scalars(select(Patient))) == []


async def test_registration_needs_consent(sqlite_env: ClinicEnv) -> None:
    async with sqlite_env.uow() as uow:
        with pytest.raises(InvalidInput, match="privacy"):
            await register_patient(uow, Actor.system(), details(), consent=False)


async def test_a_national_code_belongs_to_one_patient(env: ClinicEnv) -> None:
    async with env.uow() as uow:
        first = await register_patient(uow, Actor.system(), details(), consent=True)
        await uow.commit()
        # A stranger typing the same national code from another account gets no access.
        with pytest.raises(NotAllowed):
            await register_patient(uow, Actor.patient(first.id + 1), details(), consent=True)
        # The patient may correct their own details; a family may share one mobile.
        again = await register_patient(
            uow, Actor.patient(first.id), details(first_name="فاطیما"), consent=True
        )
        sibling = await register_patient(
            uow, Actor.system(), details(national_code="0790419904"), consent=True
        )
        await uow.commit()
    assert again.id == first.id
    assert again.first_name == "فاطیما"
    assert sibling.mobile == again.mobile


async def test_health_workers_register_and_act_only_for_their_patients(env: ClinicEnv) -> None:
    async with env.uow() as uow:
        from clinic.staff import add_health_house, add_health_worker

        house = await add_health_house(uow, ADMIN, name="خانه بهداشت روستای زیارت")
        await uow.session.flush()
        await build_department(uow)
        worker = await add_health_worker(
            uow, ADMIN, house_id=house.id, full_name="مریم احمدی", mobile="09151234567"
        )
        other = await add_health_worker(
            uow, ADMIN, house_id=house.id, full_name="رضا موسوی", mobile="09157654321"
        )
        proof = await worker_proof(uow, worker.id, details().national_code, details().mobile)
        patient = await register_patient(
            uow, Actor.health_worker(worker.id), details(), consent=True, proof=proof
        )
        await uow.commit()
        trail = await entries_for(uow, "patient", patient.id)
        with pytest.raises(NotAllowed):
            await set_language(uow, Actor.health_worker(other.id), patient.id, "en")
    assert patient.registered_by == "health_worker"
    assert patient.health_worker_id == worker.id
    assert patient.consent_via == "health_worker+sms"  # the patient read out the SMS code
    assert [(e.actor_kind, e.actor_id, e.action) for e in trail] == [
        ("health_worker", worker.id, "patient.register")
    ]
    assert all("0499370899" not in str(e.details) for e in trail)


async def test_chat_accounts_link_once_and_may_act_for_family(env: ClinicEnv) -> None:
    async with env.uow() as uow:
        mother = await add_patient(uow, 0, sex="female")
        child = await add_patient(uow, 1, birth_year=1398)
        for _ in range(2):
            await link_chat_account(uow, mother, Platform.BALE, 5001, 5001)
        await link_chat_account(uow, child, Platform.BALE, 5001, 5001, is_self=False)
        await uow.commit()
        mine = await patients_for_chat(uow, Platform.BALE, 5001)
        on_telegram = await patients_for_chat(uow, Platform.TELEGRAM, 5001)
    assert [p.id for p in mine] == [mother, child]
    assert on_telegram == []


async def test_screening_asks_pregnancy_only_of_women_of_child_bearing_age(
    env: ClinicEnv,
) -> None:
    async with env.uow() as uow:
        dept = await build_department(uow)
        woman = await add_patient(uow, 0, sex="female", birth_year=1375)
        older = await add_patient(uow, 1, sex="female", birth_year=1340)
        man = await add_patient(uow, 2, sex="male", birth_year=1375)
        asked = {
            p: [q.code for q in await screening_for(uow, dept.ct_brain.id, p)]
            for p in (woman, older, man)
        }
    assert asked == {woman: ["pregnancy"], older: [], man: []}


async def test_a_blocking_answer_rules_the_exam_out(env: ClinicEnv) -> None:
    async with env.uow() as uow:
        dept = await build_department(uow)
        woman = await add_patient(uow, 0, sex="female", birth_year=1375)
        request = ReferralRequest(woman, dept.ct_brain.id, "tamin", {"pregnancy": True}, "12345")
        with pytest.raises(ScreeningBlocked) as caught:
            await submit_referral(uow, Actor.patient(woman), request)
        missing = ReferralRequest(woman, dept.ct_brain.id, "tamin", {}, "12345")
        with pytest.raises(InvalidInput, match="safety question"):
            await submit_referral(uow, Actor.patient(woman), missing)
    assert "call the department" in str(caught.value)


@pytest.mark.parametrize(
    ("tracking", "file", "message"),
    [
        (None, None, "tracking code or a photo"),
        ("12", None, "4 to 20"),
        ("۱۲۳۴۵-۶۷۸", PrescriptionFile("f1", "image/jpeg", 1000), "not both"),
        (None, PrescriptionFile("f1", "application/zip", 1000), "PDF"),
        (None, PrescriptionFile("f1", "image/jpeg", 11 * 1024 * 1024), "smaller than 10 MB"),
    ],
)
async def test_bad_referral_sources_get_a_clear_answer(
    sqlite_env: ClinicEnv, tracking: str | None, file: PrescriptionFile | None, message: str
) -> None:
    async with sqlite_env.uow() as uow:
        dept = await build_department(uow)
        patient = await add_patient(uow)
        request = ReferralRequest(patient, dept.ct_brain.id, "tamin", {}, tracking, file)
        with pytest.raises(InvalidInput, match=message):
            await submit_referral(uow, Actor.patient(patient), request)


async def test_review_approves_or_rejects_with_a_notice_to_the_patient(env: ClinicEnv) -> None:
    async with env.uow() as uow:
        dept = await build_department(uow)
        patient = await add_patient(uow)
        me = Actor.patient(patient)
        photo = PrescriptionFile("referrals/2026/11/abc.jpg", "image/jpeg", 250_000)
        first = await submit_referral(
            uow,
            me,
            ReferralRequest(
                patient, dept.mri_knee.id, "salamat", {"pacemaker": False}, file=photo
            ),
        )
        second = await submit_referral(
            uow,
            me,
            ReferralRequest(patient, dept.ct_contrast.id, "salamat", {}, "۹۸۷۶۵۴۳۲"),
        )
        await uow.commit()
        assert [r.id for r in await pending_review(uow, RECEPTION)] == [first.id, second.id]
        with pytest.raises(NotAllowed):
            await pending_review(uow, me)
        with pytest.raises(InvalidInput, match="reason"):
            await review_referral(uow, RECEPTION, first.id, approve=False, reason="  ")
        await review_referral(uow, RECEPTION, first.id, approve=True)
        await review_referral(uow, RECEPTION, second.id, approve=False, reason="نسخه ناخوانا است")
        await uow.commit()
        with pytest.raises(Conflict):
            await review_referral(uow, RECEPTION, first.id, approve=False, reason="x")
        notices = await pending(uow, recipient_id=patient)
        patient_row = await uow.session.get(Patient, patient)
    assert second.tracking_code == "98765432"
    assert [(n.kind, n.params.get("reason")) for n in notices] == [
        ("referral_approved", None),
        ("referral_rejected", "نسخه ناخوانا است"),
    ]
    assert patient_row is not None
    assert patient_row.insurer == "salamat"  # remembered for the next referral


async def test_nobody_reads_another_patients_referral(env: ClinicEnv) -> None:
    async with env.uow() as uow:
        dept = await build_department(uow)
        owner, other = await add_patient(uow, 0), await add_patient(uow, 1)
        referral = await submit_referral(
            uow,
            Actor.patient(owner),
            ReferralRequest(owner, dept.ct_brain.id, "none", {}, "12345678"),
        )
        await uow.commit()
        with pytest.raises(NotFound):
            await get_referral(uow, Actor.patient(other), referral.id)
        with pytest.raises(NotAllowed):
            await submit_referral(
                uow,
                Actor.patient(other),
                ReferralRequest(owner, dept.ct_brain.id, "none", {}, "12345678"),
            )
        assert (await get_referral(uow, RECEPTION, referral.id)).status == "approved"
