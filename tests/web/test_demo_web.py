"""The browser demo (issue 16): its page serves offline and right to left, only its own page
may act, and through its API a patient books with the real bot, is reminded by the real worker
when the clock is moved on, and is told when the hospital's report arrives over HL7/MLLP."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import aiohttp
import pytest
from sqlalchemy import select

from bot.health_worker import patients as worker_menu
from bot.staff import menu
from bot.staff import reception as reception_steps
from bot.views import STATUS
from clinic.actors import Actor
from clinic.booking import bookings_for_patient
from clinic.jalali import to_tehran
from clinic.models import AuditEntry, BookingStatus
from clinic.patients import find_by_national_code
from radyar.demo_web import people
from radyar.demo_web.server import STATIC, serving_page
from radyar.demo_web.stack import running_demo
from tests.conftest import START
from tests.factories import national_code
from tests.orthanc import require_orthanc
from tests.web.client import DemoClient, fa, fixed_part
from tests.web.conftest import Running
from tests.web.flows import admit, book_chest_xray, png, register, request_with_photo

if TYPE_CHECKING:
    from pathlib import Path

REMINDER = "Reminder: your appointment for {exam} is on {date} at {time}, {place}. Code: {code}."
BOOKED = "Your appointment is booked: {exam}, {date} at {time}, {place}. Booking code: {code}."
APPROVED = "Good news: your referral for {exam} was approved. You can choose a time now."
REPORT_READY = "Your report is ready. Pickup code: {pickup}. Collect it at {where}."
UPDATED = "An updated report is ready. Pickup code: {pickup}. Collect it at {where}."
ANYWHERE = re.compile(r"https?://|//[a-z]", re.IGNORECASE)


def _persona(key: str) -> people.Persona:
    found = people.persona(key)
    assert found is not None
    return found


async def test_the_page_and_its_font_serve_from_this_computer_right_to_left(
    running: Running,
) -> None:
    http = running.client.http
    async with http.get(running.url) as page:
        assert page.status == 200
        html = await page.text()
        policy = page.headers["Content-Security-Policy"]
    assert '<html lang="fa" dir="rtl">' in html
    assert "default-src 'self'" in policy and "connect-src 'self'" in policy
    for asset in ("style.css", "app.js"):
        async with http.get(f"{running.url}static/{asset}") as response:
            assert response.status == 200
            # Nothing is fetched from elsewhere: no CDN, no absolute address.
            assert not ANYWHERE.search(await response.text()), asset
    assert not ANYWHERE.search(html.replace("127.0.0.1", ""))
    for weight in ("Regular", "Bold"):
        async with http.get(f"{running.url}static/fonts/Vazirmatn-{weight}.woff2") as font:
            assert font.status == 200
            assert (await font.read())[:4] == b"wOF2"
    assert "SIL Open Font License" in (STATIC / "fonts" / "OFL.txt").read_text(encoding="utf-8")


async def test_only_the_demos_own_page_may_act_and_only_as_its_people(running: Running) -> None:
    client, url = running.client, running.url
    async with client.http.post(f"{url}api/clock", json={"step": "1h"}) as response:
        assert response.status == 403  # no Origin: not a page's request
    headers = {"Origin": "http://evil.example"}
    async with client.http.post(f"{url}api/clock", json={"step": "1h"}, headers=headers) as r:
        assert r.status == 403
    async with client.http.get(f"{url}api/state", headers={"Host": "evil.example"}) as r:
        assert r.status == 421  # a rebound name: not this machine's page
    async with client.http.get(f"{url}sandbox/bot/reset") as r:
        assert r.status == 404  # not a control call the page makes
    stranger = {"Origin": client.origin, "Content-Type": "application/json"}
    async with client.http.post(
        f"{url}sandbox/bot/users/424242/text", data='{"text": "hi"}', headers=stranger
    ) as r:
        assert r.status == 404  # not one of the demo's people
    with pytest.raises(ValueError, match=r"127\.0\.0\.1 only"):
        async with serving_page(running.demo, host="0.0.0.0"):
            pass
    before = (await client.get("api/state"))["now"]
    after = (await client.advance("1h"))["now"]
    assert after > before  # and the page's own request is accepted


async def _booking(running: Running, patient: people.Persona) -> tuple[str, dict[str, str]]:
    """Where the patient is on today's day lists (the staff page): the device, the row."""
    page = await running.client.get("api/staff")
    name = f"{patient.first_name} {patient.last_name}"
    for device in page["devices"]:
        for row in device["rows"]:
            if row["patient"] == name:
                return device["device"], row
    raise AssertionError(f"{name} is on no day list today")


async def _starts_at(running: Running, n: int) -> datetime:
    """When patient ``n``'s one booking starts (read from the database, as reception would
    see it)."""
    async with running.demo.app.uow().reading() as uow:
        found = await find_by_national_code(uow, national_code(n))
        assert found is not None
        [booked] = await bookings_for_patient(uow, Actor.patient(found.id), found.id)
    assert booked.status == BookingStatus.CONFIRMED
    return booked.starts_at


async def _advance_to(running: Running, moment: datetime) -> None:
    """Move the clock on by the page's buttons until it is at ``moment`` or up to an hour
    past it."""
    clock, client = running.demo.clock, running.client
    while clock.now() + timedelta(days=1) <= moment:
        await client.advance("1d")
    while clock.now() < moment:
        await client.advance("1h")


async def test_a_patient_books_is_reminded_and_told_when_the_report_is_final(
    running: Running,
) -> None:
    client = running.client
    patient, reception = _persona("patient-1"), _persona("reception")
    await register(client, patient, 11)
    await book_chest_xray(client, patient.user_id, day=2)  # the third free day
    await client.wait_for(patient.user_id, fixed_part(BOOKED))  # from the worker
    starts_at = await _starts_at(running, 11)
    reminder = fixed_part(REMINDER)
    assert not [t for t in await client.bot_texts(patient.user_id) if reminder in t]

    # The clock moves on to the day before: the 24-hour reminder comes through the worker.
    await _advance_to(running, starts_at - timedelta(hours=24))
    await client.wait_for(patient.user_id, reminder)

    # The exam day: reception admits with the accession number, the RIS's report arrives.
    while to_tehran(running.demo.clock.now()).date() < to_tehran(starts_at).date():
        await client.advance("morning")
    device, row = await _booking(running, patient)
    await admit(client, reception.user_id, device, row["patient"], "RAD-2026-0042")
    admitted = (await client.get("api/hospital"))["admitted"]
    assert [a["accession"] for a in admitted] == ["RAD-2026-0042"]
    answer = (await client.post("api/hospital/report", {"accession": "RAD-2026-0042"}))["answer"]
    assert answer.startswith("MSA|AA|")
    await client.wait_for(patient.user_id, fixed_part(REPORT_READY))

    # The HIS corrects it by its signed webhook: the patient is told again.
    corrected = {"accession": "RAD-2026-0042", "corrected": True}
    answer = (await client.post("api/hospital/webhook", corrected))["answer"]
    assert answer.startswith("HTTP 200")
    await client.wait_for(patient.user_id, fixed_part(UPDATED))


async def test_a_prescriptions_photo_reaches_reception_and_their_approval_the_patient(
    running: Running,
) -> None:
    client = running.client
    patient, reception = _persona("patient-3"), _persona("reception")
    photo = png()
    await register(client, patient, 13)
    await request_with_photo(client, patient.user_id, photo)
    [sent] = [m for m in await client.chat(patient.user_id) if m["out"] and "photo" in m]
    async with client.http.get(running.url + sent["photo"].lstrip("/")) as shown:
        assert await shown.read() == photo  # the chat shows the photo the visitor uploaded

    await client.say(reception.user_id, "/staff")
    await client.press(reception.user_id, fa(menu.ITEMS[0][1]))  # referrals to review
    await client.press(reception.user_id, index=0)
    [document] = [m for m in await client.chat(reception.user_id) if "document" in m]
    async with client.http.get(running.url + document["document"]["url"].lstrip("/")) as file:
        assert await file.read() == photo  # reception sees the very file the patient sent
    await client.press(reception.user_id, fa(reception_steps.APPROVE))
    await client.wait_for(patient.user_id, fixed_part(APPROVED))
    # The bot edits the messages whose buttons were used: the page shows them as edited.
    assert any(m["edited"] for m in await client.chat(reception.user_id))


async def test_the_health_worker_and_reception_are_linked_as_their_codes_link_them(
    running: Running,
) -> None:
    client = running.client
    worker, reception = _persona("health-worker"), _persona("reception")
    await client.say(worker.user_id, "/worker")
    await client.wait_for(worker.user_id, fa(worker_menu.MENU))
    await client.say(reception.user_id, "/staff")
    await client.wait_for(reception.user_id, fa(menu.MENU))
    names = [p["name"] for p in (await client.get("api/state"))["personas"]]
    assert names == [f"{p.first_name} {p.last_name}" for p in people.PEOPLE]


async def test_past_the_day_an_appointment_nobody_came_to_is_a_no_show(running: Running) -> None:
    client = running.client
    patient = _persona("patient-2")
    await register(client, patient, 14)
    await book_chest_xray(client, patient.user_id)  # today
    _device, row = await _booking(running, patient)
    assert row["status"] == fa(STATUS["confirmed"])
    await client.advance("morning")  # the day ended: housekeeping's day end has run
    async with running.demo.app.uow().reading() as uow:
        found = await find_by_national_code(uow, national_code(14))
        assert found is not None
        actor = Actor.patient(found.id)
        [missed] = await bookings_for_patient(uow, actor, found.id, upcoming_only=False)
    assert missed.status == BookingStatus.NO_SHOW


async def test_a_bad_accession_number_gets_a_clear_answer(running: Running) -> None:
    async with running.client.http.post(
        f"{running.url}api/hospital/report",
        json={"accession": "  "},
        headers={"Origin": running.client.origin},
    ) as response:
        assert response.status == 400
        assert "accession" in (await response.json())["error"]


IMAGES_READY = "The images of your exam on {date} are ready. We will tell you when the report is."


@pytest.mark.slow
async def test_with_orthanc_the_images_ready_button_reaches_the_patient(tmp_path: Path) -> None:
    require_orthanc()
    async with (
        running_demo(tmp_path / "demo", start=START, with_orthanc=True) as demo,
        serving_page(demo) as url,
        aiohttp.ClientSession() as http,
    ):
        client = DemoClient(http, url)
        patient, reception = _persona("patient-2"), _persona("reception")
        await register(client, patient, 12)
        await book_chest_xray(client, patient.user_id)  # today
        device, row = await _booking(Running(demo, url, client), patient)
        await admit(client, reception.user_id, device, row["patient"], "RAD-2026-0077")
        assert (await client.get("api/hospital"))["orthanc"] is True
        answer = await client.post("api/hospital/images", {"accession": "RAD-2026-0077"})
        assert answer["answer"] == "Orthanc: Success"
        # The product's poller reads Orthanc's changes; the study settles, the worker tells.
        await client.wait_for(patient.user_id, fixed_part(IMAGES_READY))


async def test_the_staff_page_s_refreshes_are_one_look_until_the_list_changes(
    running: Running,
) -> None:
    async def looks() -> int:
        async with running.demo.app.uow().reading() as uow:
            rows = await uow.session.scalars(
                select(AuditEntry.id).where(AuditEntry.action == "day_list.read")
            )
            return len(list(rows))

    await running.client.get("api/staff")
    first = await looks()
    assert first >= 1  # each device's list, read as reception
    for _ in range(3):  # the page refreshes every few seconds
        await running.client.get("api/staff")
    assert await looks() == first  # nothing changed: no new look
    await running.client.advance("morning")  # another day: other lists
    await running.client.get("api/staff")
    assert await looks() == 2 * first
