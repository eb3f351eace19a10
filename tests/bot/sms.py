"""The text messages the bot's actions cause, delivered as the notifier delivers them: the
one-time codes of registration (and the notices that a record was linked) go from the outbox,
through ``notifier.delivery.deliver``, to the SMS gateway sandbox, where a test reads them as
the patient's phone would."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import aiohttp
from sqlalchemy import update

from clinic.models import OutboxMessage, OutboxStatus
from clinic.outbox import Notice
from clinic.outbox_store import LEASE
from clinic.policy import Department
from clinic.text import normalize_digits
from notifier.channels import SmsChannel
from notifier.delivery import Channels, deliver
from notifier.sms import build_provider
from sandbox.sms import SmsSandbox

if TYPE_CHECKING:
    from tests.conftest import ClinicEnv

KEY = "kv-bot-tests-sms-key"
KINDS = (Notice.IDENTITY_CODE.value, Notice.RECORD_LINKED.value)
_CODE = re.compile(r"(?<![0-9])[0-9]{5}(?![0-9])")


@dataclass(frozen=True)
class Sms:
    """One text message as the phone shows it."""

    mobile: str
    text: str

    @property
    def code(self) -> str | None:
        """The 5-digit code in it, in ASCII digits (the Persian text has Persian ones)."""
        found = _CODE.findall(normalize_digits(self.text))
        return found[-1] if found else None


def inbox(env: ClinicEnv) -> list[Sms]:
    """Every message the phones got in this test, oldest first (kept with the test's clinic:
    patients registering at once each find their own code, whoever delivered it)."""
    kept: list[Sms] = env.__dict__.setdefault("sms_inbox", [])
    return kept


async def deliver_sms(env: ClinicEnv) -> list[Sms]:
    """Deliver the one-time codes and record-linked notices waiting in the outbox (only
    those: the bot tests look at the other notices as rows); the messages the phones got."""
    async with env.uow() as uow:
        claimed = await uow.session.scalars(  # leased, as the worker's claim leaves them
            update(OutboxMessage)
            .where(OutboxMessage.kind.in_(KINDS), OutboxMessage.status == OutboxStatus.PENDING)
            .values(
                status=OutboxStatus.SENDING,
                lease_until=env.clock.now() + LEASE,
                attempts=OutboxMessage.attempts + 1,
            )
            .returning(OutboxMessage.id)
        )
        ids = sorted(claimed)
        await uow.commit()
    if not ids:
        return []
    async with SmsSandbox(kavenegar_keys=[KEY]) as sandbox, aiohttp.ClientSession() as http:
        provider = build_provider(
            "kavenegar", http, api_key=KEY, base_url=sandbox.url, sender="10004346", timeout=5
        )
        channels = Channels(sms=SmsChannel(provider))
        for row_id in ids:
            async with env.uow() as uow:
                await deliver(uow, row_id, channels, Department())
        got = [Sms(m.mobile, m.text) for m in sandbox.messages()]
    inbox(env).extend(got)
    return got


async def code_sent(env: ClinicEnv, mobile: str | None = None) -> str:
    """The newest one-time code sent (to ``mobile``, 09…, when given), as the phone shows it;
    what is waiting in the outbox is delivered first."""
    for _ in range(500):  # patients registering at once: another may be delivering it
        await deliver_sms(env)
        sent = [s for s in inbox(env) if s.code and (mobile is None or s.mobile == mobile)]
        if sent:
            break
        await asyncio.sleep(0.01)
    assert sent, "no one-time code was sent"
    code = sent[-1].code
    assert code is not None
    return code
