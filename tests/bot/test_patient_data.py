"""Admin staff in the bot: a patient's data on their request. The national code typed gives
the card; «Export» sends the zip to the admin's own chat with a warning; «Erase» shows what
goes and what stays, cancels what is open and erases. Nobody else gets near it, whatever
buttons they forge."""

from __future__ import annotations

import io
import json
import zipfile
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select

from bot.handlers.common import STALE
from bot.staff import menu
from bot.staff import patient_data as pd
from clinic.erased import erased_code
from clinic.errors import InvalidNationalCode
from clinic.models import AuditEntry, Booking, ChatAccount, Patient, Platform
from clinic.patients import link_chat_account
from clinic.text import to_persian_digits
from tests.bot.harness import Chat, Harness, assert_calm
from tests.bot.test_staff_reception import TUESDAY, book_many, staff_chat
from tests.factories import national_code

if TYPE_CHECKING:
    from collections.abc import Iterator

PATIENT_DATA = next(label for _, label, route in menu.ITEMS if route.code == "spd")


@pytest.fixture(autouse=True)
def _calm(harness: Harness, caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    yield
    assert_calm(harness, caplog)


async def _booked_patient(harness: Harness, n: int, user_id: int) -> tuple[int, int, Chat]:
    """Patient ``n`` with a confirmed X-ray on Tuesday, on their own Telegram account."""
    [booking] = await book_many(harness, "XR-1", TUESDAY, 1, first_patient=n)
    async with harness.env.uow() as uow:
        found = await uow.session.get(Booking, booking)
        assert found is not None
        await link_chat_account(uow, found.patient_id, Platform.TELEGRAM, user_id, user_id)
        await uow.commit()
    chat = harness.user(user_id)
    await chat.command("start")  # the bot now holds something for this account
    return found.patient_id, booking, chat


async def _card(chat: Chat, code: str) -> None:
    await chat.command("staff")
    await chat.press_msgid(PATIENT_DATA)
    assert chat.last_text() == chat._(pd.ASK_CODE)
    await chat.say("۱۲۳۴۵")  # mistyped: said so, and typed again
    assert chat.last_text().startswith(chat._(InvalidNationalCode.message))
    await chat.say(to_persian_digits(code))


async def _actions(harness: Harness, action: str) -> list[AuditEntry]:
    async with harness.env.uow() as uow:
        rows = await uow.session.scalars(select(AuditEntry).where(AuditEntry.action == action))
        return list(rows)


async def test_an_admin_exports_a_patients_data_to_their_own_chat(harness: Harness) -> None:
    pid, booking, _ = await _booked_patient(harness, 5, 3201)
    admin, staff_id = await staff_chat(harness, 7401, "admin")
    await _card(admin, national_code(5))
    card = admin.last_text()
    assert "علی رضایی" in card and to_persian_digits(str(pid)) in card
    assert admin.buttons()[:2] == [admin._(pd.EXPORT), admin._(pd.ERASE)]

    await admin.press_msgid(pd.EXPORT)
    [document] = [m for m in admin.bot_messages() if "document" in m.data]
    assert document.data["caption"] == admin._(pd.CAPTION).format(id=to_persian_digits(str(pid)))
    assert document.data["document"]["file_name"].startswith(f"patient-{pid}-")
    stored = harness.sandbox.world.files.by_id(document.data["document"]["file_id"])
    assert stored is not None
    with zipfile.ZipFile(io.BytesIO(stored.data)) as archive:
        data = json.loads(archive.read("patient.json").decode("utf-8"))
    assert data["patient"]["national_code"] == national_code(5)
    assert [b["id"] for b in data["bookings"]] == [booking]
    assert admin.last().message_id == document.message_id  # after the card saying it comes
    assert admin.bot_messages()[-2].text == admin._(pd.EXPORTED)
    [exported] = await _actions(harness, "patient.exported")
    assert (exported.actor_kind, exported.actor_id, exported.entity_id) == ("staff", staff_id, pid)
    assert [e.entity_id for e in await _actions(harness, "patient.read")] == [pid]


async def test_an_admin_erases_a_patients_data_cancelling_their_appointment(
    harness: Harness,
) -> None:
    pid, booking, patient = await _booked_patient(harness, 6, 3202)
    assert harness.application is not None and patient.user_id in harness.application.user_data
    admin, staff_id = await staff_chat(harness, 7402, "admin")
    await _card(admin, national_code(6))
    await admin.press_msgid(pd.ERASE)
    preview = admin.last_text()
    assert admin._(pd.CANCEL_FIRST).format(upcoming="۱", requests="۰") in preview
    async with harness.env.uow() as uow:  # nothing changed before confirming
        still = await uow.session.get(Booking, booking)
        assert still is not None and still.status == "confirmed"
    assert admin.buttons() == [admin._(pd.YES_CANCEL), admin._(pd.KEEP)]

    await admin.press_msgid(pd.YES_CANCEL)
    assert admin.last_text().startswith(admin._(pd.ERASED).split("{id}")[0])
    async with harness.env.uow() as uow:
        erased = await uow.session.get(Patient, pid)
        cancelled = await uow.session.get(Booking, booking)
        accounts = await uow.session.scalar(
            select(func.count()).where(ChatAccount.patient_id == pid)
        )
    assert erased is not None and erased.national_code == erased_code(pid)
    assert cancelled is not None and cancelled.status == "cancelled"
    assert accounts == 0
    assert patient.user_id not in harness.application.user_data
    [entry] = await _actions(harness, "patient.erased")
    assert (entry.actor_id, entry.details["cancelled"]) == (staff_id, 1)
    # The patient's chat no longer opens their record; the code finds no one now.
    await patient.command("start")
    assert "علی" not in patient.last_text()
    await admin.command("staff")
    await admin.press_msgid(PATIENT_DATA)
    await admin.say(national_code(6))
    assert admin.last_text().startswith(admin._("No patient has this national code."))
    # A second tap on the old confirmation finds nothing to erase.
    await admin.forge(f"spdxok:{pid}:1")
    assert admin.last_text().startswith(admin._("We could not find that record."))


async def test_only_admins_see_the_button_and_forged_presses_do_nothing(
    harness: Harness,
) -> None:
    pid, booking, patient = await _booked_patient(harness, 7, 3203)
    forged = ["spd", f"spde:{pid}", f"spdx:{pid}", f"spdxok:{pid}:1", f"spdxok:{pid}:0"]
    for n, roles in enumerate((("reception",), ("broadcaster",), ("reception", "reporting"))):
        clerk, _ = await staff_chat(harness, 7410 + n, *roles)
        await clerk.command("staff")
        assert clerk._(PATIENT_DATA) not in clerk.buttons()
        for data in forged:
            before = len(clerk.bot_messages())
            query = clerk.fire_forge(data, clerk.last().message_id)
            await harness.settle()
            answer = harness.sandbox.callback_answer(query) or {}
            assert (answer.get("text"), len(clerk.bot_messages())) == (clerk._(STALE), before)
    for data in forged:  # the patient themself, too
        query = patient.fire_forge(data, patient.last().message_id)
        await harness.settle()
        assert (harness.sandbox.callback_answer(query) or {}).get("text") == patient._(STALE)
    assert not [m for m in harness.bot_messages() if "document" in m.data]
    async with harness.env.uow() as uow:
        untouched = await uow.session.get(Patient, pid)
        booked = await uow.session.get(Booking, booking)
    assert untouched is not None and untouched.national_code == national_code(7)
    assert booked is not None and booked.status == "confirmed"
    assert await _actions(harness, "patient.exported") == []
    assert await _actions(harness, "patient.erased") == []
