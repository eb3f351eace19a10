"""The browser demo in a real browser (issue 16, part 2): Playwright drives Debian's Chromium
(no browser of its own is downloaded) through the page, in Persian: a patient registers and
books a chest X-ray, reception admits them with an accession number, the hospital's button
sends the RIS's final report over HL7/MLLP, and the patient's chat shows they were told. The
page is right to left and no request it makes leaves 127.0.0.1. Screenshots of each step are
kept in ``test-artefacts/web/`` (or ``$RADYAR_TEST_ARTEFACTS/web/``)."""

from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

from bot.booking_steps import CHOOSE_DAY, CHOOSE_TIME
from bot.conversations import registration as reg
from bot.conversations import request as req
from bot.handlers import booking
from bot.keyboards import NEW_REQUEST
from bot.staff import daylist
from bot.views import MODALITY_NAMES, STATUS
from radyar.demo_web import people
from tests.conftest import REQUIRE_SERVICES
from tests.factories import national_code, tracking_code
from tests.web.client import CODE, fa, fixed_part
from tests.web.flows import CHEST_XRAY, TODAYS_LIST

if TYPE_CHECKING:
    from collections.abc import Awaitable

    from playwright.async_api import Locator, Page

    from tests.web.conftest import Running

CHROMIUM = Path("/usr/bin/chromium")
ARTEFACTS = Path(
    os.environ.get("RADYAR_TEST_ARTEFACTS") or Path(__file__).parents[2] / "test-artefacts"
)
WAIT_MS = 15_000
ACCESSION = "RAD-1405-0815"
REPORT_READY = "Your report is ready. Pickup code: {pickup}. Collect it at {where}."
# Chromium's own calls home, which are no page's requests, are switched off all the same.
QUIET_BROWSER = [
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
]


def _browser() -> Path:
    """Debian's Chromium, or skip (in CI, fail) when it or Playwright is missing."""
    reason = None
    if importlib.util.find_spec("playwright") is None:
        reason = "Playwright for Python is not installed (pip install -e '.[dev]')"
    elif not CHROMIUM.exists():
        reason = f"Debian's chromium is not installed ({CHROMIUM}: apt-get install chromium)"
    if reason is not None:
        if REQUIRE_SERVICES:
            pytest.fail(reason + " (RADYAR_REQUIRE_SERVICES=1)")
        pytest.skip(reason)
    return CHROMIUM


class Screen:
    """The page as the visitor sees it: tabs, chats, the phones, the hospital panel."""

    def __init__(self, page: Page, folder: Path) -> None:
        self.page = page
        self.folder = folder
        self.shots: list[Path] = []

    async def shot(self, name: str) -> None:
        path = self.folder / f"{len(self.shots) + 1}-{name}.png"
        await self.page.screenshot(path=str(path), full_page=True)
        self.shots.append(path)

    async def tab(self, key: str) -> None:
        await self.page.locator(f'.tab[data-persona="{key}"], .tab[data-view="{key}"]').click()

    def chat(self, who: people.Persona) -> Locator:
        return self.page.locator(f'.chat[data-chat="{who.user_id}"]')

    def bot(self, who: people.Persona) -> Locator:
        return self.chat(who).locator(".msg.in")

    async def say(self, who: people.Persona, text: str) -> None:
        box = self.chat(who).locator('.composer input[type="text"]')
        await box.fill(text)
        await box.press("Enter")

    async def answered(self, who: people.Persona, *fragments: str) -> Locator:
        """The bot's newest message that holds every one of ``fragments``, once there is one
        (a question answered is often edited, and a message may follow it)."""
        from playwright.async_api import expect

        found = self.bot(who)
        for fragment in fragments:
            found = found.filter(has_text=fragment)
        await expect(found.last).to_be_visible(timeout=WAIT_MS)
        return found.last

    async def press(self, who: people.Persona, label: str | None = None) -> None:
        """An inline button of the newest bot message that has some (by label, or the first)."""
        holder = self.bot(who).filter(has=self.page.locator(".inline")).last
        buttons = holder.locator(".inline button")
        button = buttons.first if label is None else buttons.filter(has_text=label).first
        await button.click()

    async def labels(self, who: people.Persona) -> list[str]:
        holder = self.bot(who).filter(has=self.page.locator(".inline")).last
        return [t.strip() for t in await holder.locator(".inline button").all_inner_texts()]

    async def changes(self, who: people.Persona, action: Awaitable[None]) -> None:
        """Do ``action``, then wait until the bot's newest message is another one or reads
        differently (an answered question is edited, the next one may follow)."""
        newest = self.bot(who).last
        before = (await newest.get_attribute("data-id"), await newest.text_content())
        await action
        await self.page.wait_for_function(
            """([uid, id, text]) => {
                const all = document.querySelectorAll(`.chat[data-chat="${uid}"] .msg.in`);
                const last = all[all.length - 1];
                return last && (last.dataset.id !== id || last.textContent !== text);
            }""",
            arg=[who.user_id, *before],
            timeout=WAIT_MS,
        )

    async def tap(self, who: people.Persona, label: str) -> None:
        await self.chat(who).locator(".reply-keyboard button", has_text=label).click()

    async def sms_code(self, who: people.Persona) -> str:
        """The code in the newest SMS on the persona's phone."""
        from playwright.async_api import expect

        sms = self.page.locator(f'.phone[data-mobile="{who.mobile}"] .sms').first
        await expect(sms).to_be_visible(timeout=WAIT_MS)
        found = CODE.search(await sms.inner_text())
        assert found is not None
        return found.group(0)


async def _register(screen: Screen, who: people.Persona) -> None:
    await screen.say(who, "/start")
    await screen.answered(who, fixed_part(reg.WELCOME))
    await screen.tap(who, fa(reg.SHARE))
    await screen.answered(who, fa(reg.ASK_NATIONAL_CODE))
    before = await screen.bot(who).count()
    await screen.say(who, national_code(21))
    from playwright.async_api import expect

    await expect(screen.bot(who)).to_have_count(before + 1, timeout=WAIT_MS)
    if fa(reg.ASK_FIRST_NAME) not in await screen.bot(who).last.inner_text():
        # A national code not on record is checked with a code sent to the shared mobile: the
        # visitor reads it on the phone beside the chat.
        await screen.say(who, await screen.sms_code(who))
    await screen.answered(who, fa(reg.ASK_FIRST_NAME))
    await screen.say(who, who.first_name)
    await screen.answered(who, fa(reg.ASK_LAST_NAME))
    await screen.say(who, who.last_name)
    await screen.answered(who, fa(reg.ASK_BIRTH_YEAR))
    await screen.say(who, "۱۳۶۸")
    await screen.answered(who, fa(reg.ASK_SEX))
    await screen.press(who, fa(reg.FEMALE))
    await screen.answered(who, fixed_part(reg.DONE))


async def _book(screen: Screen, who: people.Persona) -> None:
    from playwright.async_api import expect

    await screen.tap(who, fa(NEW_REQUEST))
    await screen.answered(who, fa(req.CHOOSE_MODALITY))
    await screen.press(who, fa(MODALITY_NAMES["CR"]))
    await screen.answered(who, CHEST_XRAY)
    await screen.press(who, CHEST_XRAY)
    newest = screen.bot(who).last
    asked = re.compile("|".join(map(re.escape, (fa(req.ASK_SOURCE), fa(req.YES)))))
    await expect(newest).to_contain_text(asked, timeout=WAIT_MS)
    while fa(req.ASK_SOURCE) not in await newest.inner_text():  # a safety question: "no"
        await screen.changes(who, screen.press(who, fa(req.NO)))
        await expect(newest).to_contain_text(asked, timeout=WAIT_MS)
    await screen.say(who, tracking_code())
    either = re.compile(f"{re.escape(fa(req.ASK_INSURER))}|{re.escape(fa(CHOOSE_DAY))}")
    await expect(newest).to_contain_text(either, timeout=WAIT_MS)
    if fa(req.ASK_INSURER) in await newest.inner_text():  # asked the first time only
        await screen.press(who)
    await screen.answered(who, fa(CHOOSE_DAY))
    await screen.press(who)  # the earliest free day: today
    await screen.answered(who, fixed_part(CHOOSE_TIME))
    await screen.press(who)  # its earliest time
    await screen.answered(who, fixed_part(booking.HELD))
    await screen.press(who, fa(booking.CONFIRM))
    await screen.answered(who, fa(booking.BOOKED))


async def _device_of(screen: Screen, patient: people.Persona) -> str:
    """The staff page (read only): the device whose day list has the patient."""
    from playwright.async_api import expect

    await screen.tab("staff")
    name = f"{patient.first_name} {patient.last_name}"
    table = screen.page.locator("#daylists table").filter(has_text=name).first
    await expect(table).to_be_visible(timeout=WAIT_MS)
    await screen.shot("staff-day-list")
    device = await table.get_attribute("data-device")
    assert device
    return device


async def _admit(screen: Screen, staff: people.Persona, device: str, patient: str) -> None:
    await screen.tab(staff.key)
    await screen.say(staff, "/staff")
    await screen.answered(staff, fa(TODAYS_LIST))
    await screen.press(staff, fa(TODAYS_LIST))
    await screen.answered(staff, device)
    await screen.press(staff, device)
    await screen.answered(staff, patient)
    await screen.press(staff, patient)
    await screen.answered(staff, fixed_part(daylist.BOOKING))
    await screen.press(staff, fa(daylist.WITH_ACCESSION))
    await screen.answered(staff, fa(daylist.ASK_ACCESSION))
    await screen.say(staff, ACCESSION)
    await screen.answered(staff, fixed_part(daylist.BOOKING), fa(STATUS["checked_in"]))


async def _report(screen: Screen) -> None:
    from playwright.async_api import expect

    await screen.tab("hospital")
    row = screen.page.locator(f'#admitted tr[data-accession="{ACCESSION}"]')
    await expect(row).to_be_visible(timeout=WAIT_MS)
    await row.get_by_role("button").click()
    await expect(screen.page.locator("#accession")).to_have_value(ACCESSION)
    await screen.page.locator('[data-hospital="report"]:not([data-corrected])').click()
    await expect(screen.page.locator("#hospital-log li").first).to_contain_text(
        "MSA|AA", timeout=WAIT_MS
    )


async def test_in_a_browser_a_patient_books_reception_admits_and_the_report_reaches_them(
    running: Running,
) -> None:
    chromium = _browser()
    from playwright.async_api import Route, async_playwright, expect

    folder = ARTEFACTS / "web"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    patient, staff = people.persona("patient-1"), people.persona("reception")
    assert patient is not None and staff is not None
    requested: list[str] = []
    refused: list[str] = []
    console: list[str] = []  # shown when the test fails

    async def only_here(route: Route) -> None:
        requested.append(route.request.url)
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            await route.continue_()
        else:
            await route.abort()

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(chromium), headless=True, args=QUIET_BROWSER
        )
        try:
            context = await browser.new_context(viewport={"width": 1400, "height": 900})
            await context.route("**/*", only_here)
            page = await context.new_page()
            page.on("request", lambda r: requested.append(r.url))
            page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
            page.on(
                "response",
                lambda r: refused.append(f"{r.status} {r.url}") if r.status >= 400 else None,
            )
            await page.goto(running.url)
            assert await page.evaluate("document.documentElement.dir") == "rtl"
            assert await page.evaluate("document.documentElement.lang") == "fa"
            assert await page.evaluate("getComputedStyle(document.body).direction") == "rtl"
            screen = Screen(page, folder)
            await expect(page.locator(".tab[data-persona]")).to_have_count(len(people.PEOPLE))
            await page.evaluate("document.fonts.ready")
            assert await page.evaluate("document.fonts.check('16px Vazirmatn', 'سلام')")

            await _register(screen, patient)
            await _book(screen, patient)
            await screen.shot("patient-booked")
            device = await _device_of(screen, patient)
            await _admit(screen, staff, device, f"{patient.first_name} {patient.last_name}")
            await screen.shot("reception-admitted")
            await _report(screen)
            await screen.shot("hospital-report-sent")
            await screen.tab(patient.key)
            await screen.answered(patient, fixed_part(REPORT_READY))
            await screen.shot("patient-told")
            await screen.tab("patients")
            await expect(page.locator(".chat")).to_have_count(3)
            await screen.shot("patients-side-by-side")
        except BaseException:
            await page.screenshot(path=str(folder / "failed.png"), full_page=True)
            raise
        finally:
            print("\n".join(console))  # noqa: T201 - shown by pytest when the test fails
            await browser.close()

    assert requested, "the page made no request at all"
    elsewhere = [u for u in requested if urlsplit(u).scheme in ("http", "https", "ws", "wss")
                 and urlsplit(u).hostname != "127.0.0.1"]  # fmt: skip
    assert not elsewhere, f"requests left 127.0.0.1: {elsewhere}"
    assert not refused, f"the page's requests that failed: {refused}"
    assert all(p.stat().st_size > 10_000 for p in screen.shots)
