"""A patient's registration and booking, and reception's admission, through the demo page's
API (the real bot behind the forwarded Bot API sandbox controls)."""

from __future__ import annotations

import base64
import struct
import zlib
from typing import TYPE_CHECKING

from bot.booking_steps import CHOOSE_DAY, CHOOSE_TIME
from bot.conversations import registration as reg
from bot.conversations import request as req
from bot.handlers import booking
from bot.keyboards import NEW_REQUEST
from bot.staff import daylist, menu
from bot.views import MODALITY_NAMES
from tests.factories import national_code, tracking_code
from tests.web.client import CODE, fa, fixed_part

if TYPE_CHECKING:
    from radyar.demo_web.people import Persona
    from tests.web.client import DemoClient

CHEST_XRAY = "رادیوگرافی قفسه سینه"
BRAIN_MRI = "ام‌آر‌آی مغز"
TODAYS_LIST = next(label for _role, label, _route in menu.ITEMS if "Today" in label)


async def register(client: DemoClient, who: Persona, n: int) -> None:
    """/start, the contact button, national code (a one-time SMS code when one is asked),
    names, birth year, sex."""
    uid = who.user_id
    await client.say(uid, "/start")
    assert fa(reg.SHARE) in await client.keyboard(uid)
    await client.tap(uid, fa(reg.SHARE))
    await client.wait_for(uid, fa(reg.ASK_NATIONAL_CODE))
    seen = len(await client.sms(who.mobile))
    await client.say(uid, national_code(n))
    if fa(reg.ASK_FIRST_NAME) not in (await client.bot_texts(uid))[-1]:
        # The national code is checked with a one-time code sent to the shared mobile.
        found = CODE.search(await client.next_sms(who.mobile, seen))
        assert found is not None
        await client.say(uid, found.group(0))
    await client.wait_for(uid, fa(reg.ASK_FIRST_NAME))
    for answer in (who.first_name, who.last_name, "۱۳۶۸"):
        await client.say(uid, answer)
    await client.press(uid, fa(reg.FEMALE))
    assert fa(NEW_REQUEST) in await client.keyboard(uid)


async def book_chest_xray(client: DemoClient, uid: int, *, day: int = 0) -> None:
    """A chest X-ray with an e-prescription: no safety concern, the first insurer, the
    ``day``-th free day (0: the earliest), its earliest time, confirmed."""
    await client.tap(uid, fa(NEW_REQUEST))
    await client.press(uid, fa(MODALITY_NAMES["CR"]))
    await client.press(uid, CHEST_XRAY)
    while [label for _m, label, _d in await client.buttons(uid)] == [fa(req.YES), fa(req.NO)]:
        await client.press(uid, fa(req.NO))
    await client.wait_for(uid, fa(req.ASK_SOURCE))
    await client.say(uid, tracking_code())
    if fa(req.ASK_INSURER) in (await client.bot_texts(uid))[-1]:
        await client.press(uid, index=0)
    await client.wait_for(uid, fa(CHOOSE_DAY))
    await client.press(uid, index=day)
    await client.wait_for(uid, fixed_part(CHOOSE_TIME))
    await client.press(uid, index=0)
    await client.press(uid, fa(booking.CONFIRM))
    await client.wait_for(uid, fa(booking.BOOKED))


async def admit(
    client: DemoClient, staff_uid: int, device: str, patient: str, accession: str
) -> None:
    """Reception: /staff, today's list, the device, the patient's row, admit with the
    accession number."""
    await client.say(staff_uid, "/staff")
    await client.press(staff_uid, fa(TODAYS_LIST))
    await client.press(staff_uid, device)
    rows = [label for _m, label, _d in await client.buttons(staff_uid) if patient in label]
    assert rows, f"{patient} is not on today's list of {device}"
    await client.press(staff_uid, rows[0])
    await client.press(staff_uid, fa(daylist.WITH_ACCESSION))
    await client.wait_for(staff_uid, fa(daylist.ASK_ACCESSION))
    await client.say(staff_uid, accession)


def png(width: int = 8, height: int = 8) -> bytes:
    """A small grey PNG image (a phone's photo of a paper prescription, as far as the bot and
    the file store can tell)."""
    row = b"\x00" + b"\x80" * width  # filter byte, then one grey byte a pixel

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = zlib.compress(row * height)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", pixels)
        + chunk(b"IEND", b"")
    )


async def request_with_photo(client: DemoClient, uid: int, photo: bytes) -> None:
    """A brain MRI (staff review its referrals), no safety concern, with the paper
    prescription's photo."""
    await client.tap(uid, fa(NEW_REQUEST))
    await client.press(uid, fa(MODALITY_NAMES["MR"]))
    await client.press(uid, BRAIN_MRI)
    while [label for _m, label, _d in await client.buttons(uid)] == [fa(req.YES), fa(req.NO)]:
        await client.press(uid, fa(req.NO))
    await client.wait_for(uid, fa(req.ASK_SOURCE))
    await client.photo(uid, base64.b64encode(photo).decode())
    if fa(req.ASK_INSURER) in (await client.bot_texts(uid))[-1]:
        await client.press(uid, index=0)
    await client.wait_for(uid, fa(req.WAIT_REVIEW)[:40])
