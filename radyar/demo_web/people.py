"""Who the visitor can be: demo patients (new to the bot), the demo health worker and a
reception staff member, their chat accounts linked as staff link theirs (a one-time code,
then their own number)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from clinic import demo as demo_data
from clinic.actors import Actor
from clinic.link_codes import issue_link_code
from clinic.link_limits import ChatUser
from clinic.linking import SharedContact, bind_link_code, check_link_code
from clinic.models import Platform
from clinic.rosters import health_worker_rows, staff_rows
from clinic.staff import set_staff_mobile

if TYPE_CHECKING:
    from radyar.app import App
    from sandbox.botapi import BotApiSandbox

PATIENT, HEALTH_WORKER, STAFF = "patient", "health_worker", "staff"
RECEPTION_NAME = "فاطمه قربانی"  # one of the demo department's reception staff
RECEPTION_MOBILE = "09150000002"  # placeholders, not real people's numbers


@dataclass(frozen=True)
class Persona:
    """A Telegram account in the Bot API sandbox the visitor acts as."""

    key: str
    kind: str  # PATIENT, HEALTH_WORKER or STAFF
    user_id: int
    first_name: str
    last_name: str
    mobile: str  # 09…, as the SMS gateway addresses it
    role: str  # a short Persian caption for the tab

    @property
    def phone(self) -> str:
        """The number as Telegram shares it with the contact button (98…, no plus)."""
        return "98" + self.mobile.removeprefix("0")

    def to_json(self) -> dict[str, object]:
        """For the page."""
        return {
            "key": self.key,
            "kind": self.kind,
            "user_id": self.user_id,
            "name": f"{self.first_name} {self.last_name}",
            "mobile": self.mobile,
            "role": self.role,
        }


def _first_last(full_name: str) -> tuple[str, str]:
    first, _, last = full_name.partition(" ")
    return first, last


PEOPLE = (
    Persona("patient-1", PATIENT, 9_100_001, "زهرا", "محمدی", "09151234561", "بیمار"),
    Persona("patient-2", PATIENT, 9_100_002, "علی", "رضایی", "09151234562", "بیمار"),
    Persona("patient-3", PATIENT, 9_100_003, "مریم", "احمدی", "09151234563", "بیمار"),
    Persona(
        "health-worker",
        HEALTH_WORKER,
        9_200_001,
        *_first_last(demo_data.HEALTH_WORKER_NAME),
        demo_data.HEALTH_WORKER_MOBILE,
        "بهورز",
    ),
    Persona(
        "reception", STAFF, 9_300_001, *_first_last(RECEPTION_NAME), RECEPTION_MOBILE, "پذیرش"
    ),
)


def persona(key: str) -> Persona | None:
    """The persona with this key."""
    return next((p for p in PEOPLE if p.key == key), None)


def by_user(user_id: int) -> Persona | None:
    """The persona with this chat account."""
    return next((p for p in PEOPLE if p.user_id == user_id), None)


def reception() -> Persona:
    """The reception staff member (the staff page reads as them)."""
    found = persona("reception")
    assert found is not None
    return found


def create_users(sandbox: BotApiSandbox) -> None:
    """Every persona's Telegram account, speaking Persian, with its own number to share."""
    for p in PEOPLE:
        sandbox.create_user(
            p.user_id, p.first_name, last_name=p.last_name, language_code="fa",
            phone_number=p.phone,
        )  # fmt: skip


async def link_staff(app: App) -> None:
    """Link the health worker's and the reception member's chat accounts as they would link
    them: an admin issues a one-time code, the code is checked, their own number bound."""
    async with app.uow() as uow:
        workers = {w.full_name: w.id for w in await health_worker_rows(uow)}
        staff = {s.full_name: s.id for s in await staff_rows(uow)}
        await set_staff_mobile(uow, Actor.system(), staff[RECEPTION_NAME], RECEPTION_MOBILE)
        await uow.commit()
    for p in PEOPLE:
        if p.kind == HEALTH_WORKER:
            await _link(app, p, "health_worker", workers[demo_data.HEALTH_WORKER_NAME])
        elif p.kind == STAFF:
            await _link(app, p, "staff", staff[RECEPTION_NAME])


async def _link(app: App, p: Persona, kind: str, target_id: int) -> None:
    async with app.uow() as uow:
        code = await issue_link_code(uow, Actor.system(), kind, target_id)
        await uow.commit()
    who = ChatUser(Platform.TELEGRAM, p.user_id)
    async with app.uow() as uow:
        code_id = await check_link_code(uow, code, who)
        await bind_link_code(uow, code_id, who, SharedContact(p.phone, own=True))
        await uow.commit()
