"""No clinical content in SMS (issue 15, part 6): every SMS template, in Persian and English,
carries only the department, times, codes and the phone, never the exam, its place or a
preparation step; a preparation notice by SMS says to read it in the bot."""

from __future__ import annotations

import string
from datetime import datetime, time
from typing import TYPE_CHECKING

import pytest

from clinic.actors import Actor
from clinic.booking import confirm_booking, hold_slot
from clinic.i18n import translator
from clinic.jalali import TEHRAN
from notifier.texts import WORDING
from tests.factories import add_patient, approved_referral, build_department

if TYPE_CHECKING:
    from tests.notifier.conftest import World

# What an SMS may name: whoever holds the phone may read it.
ALLOWED = {
    "department", "date", "time", "code", "phone", "pickup", "expires", "reason", "text",
    "choices",
}  # fmt: skip


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("lang", ["fa", "en"])
@pytest.mark.parametrize("kind", sorted(WORDING, key=str))
def test_every_sms_template_names_nothing_clinical(kind: object, lang: str) -> None:
    sms = translator(lang).gettext(WORDING[kind].sms)  # type: ignore[index]
    assert _fields(sms) <= ALLOWED, (kind, sms)


async def test_a_preparation_sms_quotes_no_step(world: World) -> None:
    async with world.env.uow() as uow:
        dept = await build_department(uow)
        patient = await add_patient(uow, 0)  # no chat account: everything goes by SMS
        referral = await approved_referral(uow, patient, dept.ct_contrast)
        me = Actor.patient(patient)
        start = datetime.combine(datetime(2026, 11, 30).date(), time(9), tzinfo=TEHRAN)
        await confirm_booking(uow, me, (await hold_slot(uow, me, referral, dept.ct.id, start)).id)
        await uow.commit()
    world.env.clock.set(datetime(2026, 11, 30, 7, 30, tzinfo=TEHRAN))
    await world.drain()
    texts = [m.text for m in world.sms.inbox("09120000000")]
    preparation = [t for t in texts if "آمادگی" in t]
    assert preparation, texts
    for text in texts:
        for step in ("چیزی نخورید", "کراتینین", "تزریق", "سی‌تی"):
            assert step not in text, text
