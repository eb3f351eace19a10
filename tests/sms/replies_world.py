"""A clinic whose patients answer our SMS: the SMS sandbox (Kavenegar and SMS.ir, receive APIs
and forwarding), the real outbox worker sending by SMS, the real inbound poller and callback."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import TYPE_CHECKING

from sqlalchemy import select

from clinic.actors import Actor
from clinic.booking import confirm_booking, hold_slot
from clinic.i18n import translator
from clinic.jalali import TEHRAN
from clinic.models import OutboxMessage, OutboxStatus, Patient
from clinic.patients import PatientDetails, register_patient
from clinic.policy import Department, Policy
from clinic.sms_questions import ASKING, record_question
from notifier.sms_inbound import SmsInboundPoller
from notifier.texts import SMS_INVITES, WORDING
from tests.factories import national_code

if TYPE_CHECKING:
    import aiohttp

    from clinic.outbox import Notice
    from clinic.sms_replies import Outcome
    from clinic.uow import UnitOfWork
    from notifier.dispatch import Worker
    from notifier.sms import SmsProvider
    from sandbox.sms import SmsSandbox
    from tests.conftest import ClinicEnv
    from tests.factories import Department as Dept

SECRET = "sms-callback-secret-7f3a9c2e5b1d"
# Replies are read; the first reminder two days ahead, so "2" to it is within the 24-hour
# cancel notice, and the second two hours ahead, when it is not.
POLICY = Policy(sms_reply_hours=72, reminder_hours=(48, 2))
DEPARTMENT = Department()
WEDNESDAY = date(2026, 12, 2)  # three days after tests.conftest.START (Sunday 08:00)
MONDAY = date(2026, 11, 30)
_PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


def tehran(day: date, hour: int, minute: int = 0) -> datetime:
    """A Tehran time."""
    return datetime.combine(day, time(hour, minute), tzinfo=TEHRAN)


def said(kind: Notice, lang: str = "fa") -> str:
    """The longest fixed part of ``kind``'s SMS as a ``lang`` patient reads it (the catalogue's
    words once translated, the English msgid until then)."""
    text = translator(lang).gettext(WORDING[kind].sms)
    return max((part.strip(" .:،,") for part in _PLACEHOLDER.split(text)), key=len)


def invite(kind: Notice, lang: str = "fa") -> str:
    """The one-digit answer an SMS of ``kind`` invites, as a ``lang`` patient reads it."""
    return translator(lang).gettext(SMS_INVITES[kind])


@dataclass
class Replies:
    """The clinic, the SMS sandbox, a worker per gateway and the callback's URL."""

    env: ClinicEnv
    sms: SmsSandbox
    http: aiohttp.ClientSession
    providers: dict[str, SmsProvider]
    workers: dict[str, Worker]
    lines: dict[str, str]
    callback_url: str
    gateway: str = "kavenegar"  # the gateway our SMS go through (and replies come back to)
    phones: list[str] = field(default_factory=list)  # texts the test's phones sent

    def uow(self) -> UnitOfWork:
        """A unit of work under the department's policy (replies read)."""
        return self.env.uow(POLICY)

    def at(self, moment: datetime) -> None:
        """Move the clock (ours and the gateways')."""
        self.env.clock.set(moment)

    async def deliver(self) -> None:
        """Run the worker until nothing is due; then record the questions its SMS asked, as
        notifier.delivery does right after an SMS of a reminder or an offer is sent."""
        worker = self.workers[self.gateway]
        for _ in range(10):
            if await worker.run_once() == 0:
                break
        async with self.uow() as uow:
            rows = await uow.session.execute(
                select(OutboxMessage, Patient.mobile)
                .join(Patient, Patient.id == OutboxMessage.recipient_id)
                .where(
                    OutboxMessage.status == OutboxStatus.SENT,
                    OutboxMessage.channel == "sms",
                    OutboxMessage.kind.in_(list(ASKING)),
                )
            )
            for row, mobile in rows.tuples():
                await record_question(uow, row, mobile)
            await uow.commit()

    async def poll(self, gateway: str | None = None) -> list[Outcome]:
        """One poll of the gateway's receive API by the real poller."""
        name = gateway or self.gateway
        poller = SmsInboundPoller(self.uow, self.providers[name], line=self.lines[name])
        return await poller.poll_once()

    async def answer(self, number: str, text: str) -> list[Outcome]:
        """The phone ``number`` answers ``text``; we poll, then send what it gets back."""
        self.phones.append(text)
        self.sms.phone_sends(number, text, gateway=self.gateway)
        outcomes = await self.poll()
        await self.deliver()
        return outcomes

    def texts(self, mobile: str) -> list[str]:
        """Every SMS the phone ``mobile`` received, oldest first."""
        return [m.text for m in self.sms.inbox(mobile)]

    def last(self, mobile: str) -> str:
        """The latest SMS the phone ``mobile`` received."""
        texts = self.texts(mobile)
        assert texts, "no SMS reached this phone"
        return texts[-1]


async def book(
    uow: UnitOfWork, dept: Dept, patient_id: int, starts: datetime, *, mri: bool = False
) -> int:
    """A confirmed booking of the patient (CT brain, or MRI knee) at ``starts``."""
    from tests.factories import approved_referral

    exam, device = (dept.mri_knee, dept.mri) if mri else (dept.ct_brain, dept.ct)
    referral = await approved_referral(uow, patient_id, exam)
    me = Actor.patient(patient_id)
    held = await hold_slot(uow, me, referral, device.id, starts)
    return (await confirm_booking(uow, me, held.id)).id


async def relative(uow: UnitOfWork, n: int, mobile: str, first_name: str) -> int:
    """Another patient on an existing patient's mobile (a family sharing one phone)."""
    details = PatientDetails(
        national_code=national_code(n),
        mobile=mobile,
        first_name=first_name,
        last_name="رضایی",
        birth_year=1330,
        sex="male",
    )
    return (await register_patient(uow, Actor.system(), details, consent=True)).id
