"""Families end to end: a daughter adds her father from her own chat (after the one-time code
sent to his mobile), books, sees and cancels for him (each card and list labelled), his
notices reach her chat labelled (the real outbox worker), limits are his own; a person on
record gets the same answer as a new one and is linked only with the code sent to their own
mobile; the father takes his record over from his own phone and revokes her access; a member
is removed."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select
from telegram import Bot

from bot import family_steps as ask
from bot import routes, whose
from bot.conversations import family as add
from bot.conversations import registration as reg
from bot.conversations import request as req
from bot.handlers import appointments as appt
from bot.handlers import booking as bk
from bot.handlers import family as fam
from bot.handlers import results as res
from bot.handlers.common import NOT_UNDERSTOOD
from bot.keyboards import FAMILY, MY_APPOINTMENTS, MY_RESULTS, NEW_REQUEST
from bot.registration_steps import CODE_AGAIN
from bot.views import MODALITY_NAMES, STATUS
from clinic.errors import NotFound, OpenReferralForExam
from clinic.family import FOR, OWN_CODE, AlreadyInFamily
from clinic.identity_checks import WrongCode
from clinic.jalali import format_date, to_tehran
from clinic.models import (
    Booking,
    ChatAccount,
    Insurer,
    OutboxMessage,
    Patient,
    Platform,
    Relation,
)
from clinic.policy import Department
from notifier.channels import ChatChannel
from notifier.delivery import Channels
from notifier.dispatch import Worker
from tests.bot.flows import register
from tests.bot.harness import TOKEN, assert_calm
from tests.bot.sms import code_sent, deliver_sms
from tests.bot.test_appointments import book
from tests.bot.test_booking_flow import CT_BRAIN
from tests.factories import national_code, tracking_code

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from tests.bot.harness import Chat, Harness

DAUGHTER, FATHER, OTHER = 4001, 4002, 4003
FATHER_CODE = national_code(31)
PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
ARABIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


@pytest.fixture(autouse=True)
def _calm(harness: Harness, caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    yield
    assert_calm(harness, caplog)


def for_father(chat: Chat) -> str:
    """The label on everything of his in her chat."""
    return chat._(FOR).format(relation=chat._("Father"), name="حسن کریمی")


async def add_father(chat: Chat, *, mobile: str | None = "۰۹۱۲۰۰۰۴۰۰۲") -> None:
    """From the family menu: his national code in Arabic digits, his own mobile (or none), the
    one-time code his phone (or hers) got, name, year in Persian digits, male, father, and her
    consent for him."""
    await chat.tap(FAMILY)
    await chat.press_msgid(fam.ADD)
    await chat.say(FATHER_CODE.translate(ARABIC))
    assert chat.last_text() == chat._(ask.ASK_MOBILE)
    if mobile is None:
        await chat.press_msgid(ask.NO_MOBILE)
    else:
        await chat.say(mobile)
    assert chat.last_text() == chat._(ask.CODE_SENT)
    await chat.say((await code_sent(chat.harness.env)).translate(PERSIAN))
    assert chat.last_text() == chat._(ask.ASK_FIRST_NAME)
    for answer in ("حسن", "كريمي", "۱۳۳۵"):
        await chat.say(answer)
    await chat.press_msgid(reg.MALE)
    assert chat.last_text() == chat._(ask.ASK_RELATION)
    assert chat.buttons() == [chat._(w) for w in ("Father", "Son", "Husband", "Brother")] + [
        chat._("Family member")
    ]
    await chat.press_msgid("Father")
    assert chat.last_text() == chat._(ask.ASK_CONSENT)
    await chat.press_msgid(ask.AGREES)


async def daughter_with_father(harness: Harness) -> Chat:
    chat = harness.user(DAUGHTER)
    await register(chat, 30, sex="female")
    await add_father(chat)
    return chat


def father_button(chat: Chat) -> str:
    return f"{chat._('Father')} — حسن"


async def request_for_father(chat: Chat) -> None:
    """A CT request for him (the insurer asked: he has none yet), then his days."""
    await chat.tap(NEW_REQUEST)
    assert chat.last_text() == chat._(req.FOR_WHOM)
    assert chat.buttons() == [chat._(whose.MYSELF), father_button(chat)]
    await chat.press(father_button(chat))
    assert chat.last_text() == f"{for_father(chat)}\n\n{chat._(req.CHOOSE_MODALITY)}"
    await chat.press_msgid(MODALITY_NAMES["CT"])
    await chat.press(CT_BRAIN)
    await chat.say(tracking_code())
    await chat.press_msgid(req.INSURERS[Insurer.SALAMAT])


async def his(harness: Harness) -> tuple[int, list[Booking]]:
    """His patient id and bookings."""
    async with harness.env.uow() as uow:
        pid = await uow.session.scalar(
            select(Patient.id).where(Patient.national_code == FATHER_CODE)
        )
        assert pid is not None
        rows = await uow.session.scalars(
            select(Booking).where(Booking.patient_id == pid).order_by(Booking.id)
        )
        return pid, list(rows)


@asynccontextmanager
async def outbox_worker(harness: Harness) -> AsyncIterator[Worker]:
    """The notifier's worker on the same database, sending through the same Bot API."""
    sandbox = harness.sandbox
    bot = Bot(TOKEN, base_url=sandbox.base_url, base_file_url=sandbox.base_file_url)
    async with bot:
        channels = Channels(chat={Platform.TELEGRAM: ChatChannel("telegram", bot)})
        yield Worker(harness.env.uow, channels, Department(), idle_seconds=0.01)


async def reminder_sent(harness: Harness, booking: Booking) -> None:
    """The clock at the booking's reminder, and the worker delivering what is due."""
    async with harness.env.uow() as uow:
        row = await uow.session.scalar(
            select(OutboxMessage).where(
                OutboxMessage.booking_id == booking.id, OutboxMessage.kind == "reminder"
            )
        )
    assert row is not None
    harness.env.clock.set(row.next_attempt_at)
    async with outbox_worker(harness) as worker:
        assert await worker.run_once() >= 1
    async with harness.env.uow() as uow:
        sent = await uow.session.get(OutboxMessage, row.id)
    assert sent is not None and sent.status == "sent"


async def test_a_father_is_added_booked_for_and_everything_of_his_is_labelled(
    harness: Harness,
) -> None:
    chat = await daughter_with_father(harness)
    done = chat._(add.ADDED).format(name="حسن")
    assert chat.last_text() == f"{for_father(chat)}\n\n{done}"
    async with harness.env.uow() as uow:
        father = await uow.session.scalar(
            select(Patient).where(Patient.national_code == FATHER_CODE)
        )
        link = await uow.session.scalar(
            select(ChatAccount).where(ChatAccount.user_id == DAUGHTER, ~ChatAccount.is_self)
        )
    assert father is not None and link is not None
    assert (father.last_name, father.birth_year, father.mobile, father.sex) == (
        "کریمی", 1335, "09120004002", "male",
    )  # fmt: skip
    assert father.consent_via is not None and father.consent_via.startswith("family:")
    assert (link.patient_id, link.relation) == (father.id, "parent")

    await request_for_father(chat)
    assert chat.last_text() == f"{for_father(chat)}\n\n{chat._(bk.CHOOSE_DAY)}"
    await chat.press(chat.buttons()[2])
    await chat.press(chat.buttons()[0])
    assert chat.last_text().startswith(for_father(chat))  # the hold card
    await chat.press_msgid(bk.CONFIRM)
    _, [booking] = await his(harness)
    assert booking.status == "confirmed"
    cards = [t for t in chat.texts() if chat._(bk.BOOKED) in t]
    assert cards and cards[-1].startswith(for_father(chat))

    await chat.tap(MY_APPOINTMENTS)
    assert chat.last_text() == chat._(appt.WHOSE)
    assert chat.buttons() == [chat._(whose.MYSELF), father_button(chat)]
    await chat.press(father_button(chat))
    assert chat.last_text() == f"{for_father(chat)}\n\n{chat._(appt.LIST)}"
    [entry] = chat.buttons()
    assert CT_BRAIN in entry
    await chat.press(entry)
    card = chat.last_text()
    assert card.startswith(for_father(chat))
    assert chat._(STATUS["confirmed"]) in card
    assert booking.code.translate(PERSIAN) in card
    assert routes.APPOINTMENTS(booking.patient_id) in chat.button_data()  # back to his list
    # Her own list is hers alone.
    await chat.tap(MY_APPOINTMENTS)
    await chat.press_msgid(whose.MYSELF)
    assert chat.last_text() == chat._(appt.NONE_YET)
    # His results, labelled.
    await chat.tap(MY_RESULTS)
    assert chat.last_text() == chat._(res.WHOSE)
    await chat.press(father_button(chat))
    assert chat.last_text() == f"{for_father(chat)}\n\n{chat._(res.NONE_YET)}"


async def test_his_notice_reaches_her_chat_labelled(harness: Harness) -> None:
    chat = await daughter_with_father(harness)
    await request_for_father(chat)
    await book(chat)
    _, [booking] = await his(harness)
    before = len(chat.bot_messages())
    await reminder_sent(harness, booking)
    notices = chat.bot_messages()[before:]
    assert notices
    assert all((m.text or "").startswith(for_father(chat) + "\n\n") for m in notices)
    assert harness.sandbox.messages_to(FATHER) == []  # he has no chat with the bot


async def test_she_cancels_for_him(harness: Harness) -> None:
    chat = await daughter_with_father(harness)
    await request_for_father(chat)
    await book(chat)
    pid, _ = await his(harness)
    await chat.tap(MY_APPOINTMENTS)
    await chat.press(father_button(chat))
    await chat.press(chat.buttons()[0])
    await chat.press_msgid(appt.CANCEL)
    assert chat.last_text().startswith(for_father(chat))
    await chat.press_msgid(appt.YES_CANCEL)
    assert chat.last_text().startswith(for_father(chat))
    assert chat._(appt.STILL_OPEN) in chat.last_text()
    assert routes.APPOINTMENTS(pid) in chat.button_data()
    _, [cancelled] = await his(harness)
    assert cancelled.status == "cancelled"


async def test_the_limits_are_his_own(harness: Harness) -> None:
    chat = harness.user(DAUGHTER)
    await register(chat, 30, sex="female")
    await chat.tap(NEW_REQUEST)  # her own CT first (no family yet: no question)
    await chat.press_msgid(MODALITY_NAMES["CT"])
    await chat.press(CT_BRAIN)
    await chat.press_msgid(req.NO)  # not pregnant
    await chat.say(tracking_code())
    await chat.press_msgid(req.INSURERS[Insurer.TAMIN])
    await book(chat)
    await add_father(chat)
    await request_for_father(chat)  # her CT does not count against him
    await book(chat)
    _, [booking] = await his(harness)
    assert booking.status == "confirmed"
    await chat.tap(NEW_REQUEST)  # a second CT for him is refused: it is his limit
    await chat.press(father_button(chat))
    await chat.press_msgid(MODALITY_NAMES["CT"])
    await chat.press(CT_BRAIN)
    assert chat.last_text() == OpenReferralForExam().render(chat._, persian_digits=True)
    assert chat.button_data() == [routes.APPOINTMENTS(booking.patient_id)]  # his list
    async with harness.env.uow() as uow:
        bookings = list(await uow.session.scalars(select(Booking).order_by(Booking.id)))
    assert [b.status for b in bookings] == ["confirmed", "confirmed"]
    assert bookings[0].patient_id != bookings[1].patient_id


async def _start_adding(chat: Chat, code: str, mobile: str) -> list[str]:
    """The national code and a typed mobile: what the bot answered, with its buttons."""
    await chat.tap(FAMILY)
    await chat.press_msgid(fam.ADD)
    await chat.say(code)
    await chat.say(mobile)
    return [chat.last_text(), *chat.buttons()]


async def test_a_person_on_record_is_linked_only_with_the_code_sent_to_their_mobile(
    harness: Harness,
) -> None:
    other = harness.user(OTHER)  # on record, with her own phone 09120004003
    await register(other, 33, sex="female")
    chat = harness.user(DAUGHTER)
    await register(chat, 30, sex="female")
    # Her own code is refused (she knows it is hers); anyone else's goes on alike.
    await chat.tap(FAMILY)
    await chat.press_msgid(fam.ADD)
    await chat.say(national_code(30))
    assert chat.last_text() == chat._(OWN_CODE)
    newcomer = await _start_adding(chat, national_code(34), "09129990000")
    on_record = await _start_adding(chat, national_code(33).translate(PERSIAN), "09129990000")
    assert on_record == newcomer == [chat._(ask.CODE_SENT), chat._(CODE_AGAIN)]
    [sms] = await deliver_sms(harness.env)  # the newcomer's check was voided by the next
    assert sms.mobile == "09120004003" and sms.code is not None  # hers, not the number typed
    for secret in ("احمدی", "0912000400", "۰۹۱۲۰۰۰۴۰۰", national_code(33)):
        assert not any(secret in t for t in chat.texts())
    await chat.say(f"{(int(sms.code) + 1) % 100_000:05d}")
    assert chat.last_text() == chat._(WrongCode.message).format(left="۴")
    await chat.say(sms.code)
    assert chat.last_text() == chat._(ask.ASK_RELATION)  # nothing else is asked: she is on file
    assert chat.buttons()[:2] == [chat._("Mother"), chat._("Daughter")]  # her sex's words
    await chat.press_msgid("Family member")
    await chat.press_msgid(ask.AGREES)
    async with harness.env.uow() as uow:
        theirs = await uow.session.scalar(
            select(Patient).where(Patient.national_code == national_code(33))
        )
        link = await uow.session.scalar(
            select(ChatAccount).where(ChatAccount.user_id == DAUGHTER, ~ChatAccount.is_self)
        )
    assert theirs is not None and link is not None
    assert (link.patient_id, link.relation) == (theirs.id, Relation.OTHER)
    assert (theirs.first_name, theirs.mobile) == ("علی", "09120004003")  # kept as it was
    [told] = await deliver_sms(harness.env)
    assert told.mobile == "09120004003" and told.code is None
    # Added once: a second time is refused without a new code.
    await chat.tap(FAMILY)
    await chat.press_msgid(fam.ADD)
    await chat.say(national_code(33))
    assert chat.last_text() == AlreadyInFamily().render(chat._, persian_digits=True)
    await chat.say("علی")  # not taken as an answer: the adding ended
    assert chat.last_text() == chat._(NOT_UNDERSTOOD)


async def test_he_takes_his_record_over_and_removes_her_access(harness: Harness) -> None:
    chat = await daughter_with_father(harness)
    await request_for_father(chat)
    await book(chat)
    pid, [booking] = await his(harness)
    # From his own phone: the number she gave for him is the one Telegram verifies.
    him = harness.user(FATHER)
    await him.command("start")
    await him.share_contact()
    await him.say(FATHER_CODE)
    assert him.last_text() == him._(reg.LINKED).format(name="حسن")
    # His notices now come to his own chat, as his own (no label).
    hers, his_own = len(chat.bot_messages()), len(him.bot_messages())
    await reminder_sent(harness, booking)
    assert chat.bot_messages()[hers:] == []
    notices = him.bot_messages()[his_own:]
    assert notices
    assert not any((m.text or "").startswith(him._(FOR).split("{")[0]) for m in notices)
    # She still books for him until he says otherwise; then she no longer can.
    await chat.tap(MY_APPOINTMENTS)
    assert chat.last_text() == chat._(appt.WHOSE)
    await him.tap(FAMILY)
    assert him.last_text() == him._(fam.INTRO)
    await him.press_msgid(fam.ACCESS)
    assert him.last_text() == him._(fam.ACCESS_LIST)
    async with harness.env.uow() as uow:
        link = await uow.session.scalar(
            select(ChatAccount).where(
                ChatAccount.user_id == DAUGHTER, ChatAccount.patient_id == pid
            )
        )
    assert link is not None
    since = format_date(to_tehran(link.linked_at).date(), "fa")
    item = him._(fam.ACCESS_ITEM).format(
        who=him._(fam.WHO[Relation.PARENT]), platform=him._("Telegram"), date=since
    )
    assert him.buttons() == [item, him._(fam.TO_FAMILY)]
    assert not any("علی" in b or "رضایی" in b for b in him.buttons())  # never who she is
    await him.press(item)
    assert him.last_text() == him._(fam.SURE_REVOKE)
    await him.press_msgid(fam.YES_REVOKE)
    assert him.last_text() == f"{him._(fam.REVOKED)}\n\n{him._(fam.NO_ACCESS)}"
    # Her old buttons on his appointment find nothing now; her menus have no family.
    await chat.forge(routes.APPOINTMENT(booking.id))
    assert chat.last_text() == NotFound().render(chat._, persian_digits=True)
    await chat.tap(MY_APPOINTMENTS)
    assert chat.last_text() == chat._(appt.NONE_YET)
    async with harness.env.uow() as uow:
        gone = await uow.session.scalar(
            select(ChatAccount).where(
                ChatAccount.user_id == DAUGHTER, ChatAccount.patient_id == pid
            )
        )
    assert gone is None


async def test_a_member_is_removed_from_the_list(harness: Harness) -> None:
    chat = await daughter_with_father(harness)
    pid, _ = await his(harness)
    await chat.tap(FAMILY)
    assert chat.last_text() == chat._(fam.LIST)
    listed = f"{chat._('Father')} — حسن کریمی"
    assert chat.buttons() == [listed, chat._(fam.ADD)]
    await chat.press(listed)
    assert chat.last_text().startswith(for_father(chat))
    await chat.press_msgid(fam.REMOVE)
    assert chat.last_text() == chat._(fam.SURE_REMOVE).format(name="حسن کریمی")
    await chat.press_msgid(fam.NO_KEEP)
    await chat.press_msgid(fam.REMOVE)
    await chat.press_msgid(fam.YES_REMOVE)
    removed = chat._(fam.REMOVED).format(name="حسن کریمی")
    assert chat.last_text() == f"{removed}\n\n{chat._(fam.INTRO)}"
    await chat.tap(NEW_REQUEST)  # no "for whom?" any more
    assert chat.last_text() == chat._(req.CHOOSE_MODALITY)
    await chat.forge(routes.FAMILY_MEMBER(pid))
    assert chat.last_text() == NotFound().render(chat._, persian_digits=True)
    async with harness.env.uow() as uow:
        kept = await uow.session.get(Patient, pid)
    assert kept is not None  # his record stays with the department


async def test_a_menu_button_midway_adds_nobody(harness: Harness) -> None:
    chat = harness.user(DAUGHTER)
    await register(chat, 30, sex="female")
    await chat.tap(FAMILY)
    await chat.press_msgid(fam.ADD)
    await chat.say(FATHER_CODE)
    await chat.tap(MY_APPOINTMENTS)  # does what it says
    assert chat.last_text() == chat._(appt.NONE_YET)
    await chat.say("حسن")
    assert chat.last_text() == chat._(NOT_UNDERSTOOD)
    async with harness.env.uow() as uow:
        assert (
            await uow.session.scalar(
                select(Patient.id).where(Patient.national_code == FATHER_CODE)
            )
            is None
        )


async def test_adding_survives_a_restart(harness: Harness) -> None:
    chat = harness.user(DAUGHTER)
    await register(chat, 30, sex="female")
    await chat.tap(FAMILY)
    await chat.press_msgid(fam.ADD)
    await chat.say(FATHER_CODE)
    await chat.press_msgid(ask.NO_MOBILE)
    await chat.say(await code_sent(harness.env, "09120004001"))  # to her phone: he has none
    await chat.say("حسن")
    await harness.restart()
    await chat.say("کریمی")
    assert chat.last_text() == chat._(ask.ASK_BIRTH_YEAR)
    await chat.sticker()  # not an answer: asked to write it
    assert chat.last_text() == chat._(reg.WRITE_IT)
    await chat.say("۱۳۳۵")
    await chat.say("زن")  # the sex is a button
    assert chat.last_text() == chat._(ask.ASK_SEX)
    await chat.press_msgid(reg.FEMALE)
    assert chat.buttons()[:4] == [chat._(w) for w in ("Mother", "Daughter", "Wife", "Sister")]
    await chat.press_msgid("Mother")
    await chat.press_msgid(ask.AGREES)
    async with harness.env.uow() as uow:
        mother = await uow.session.scalar(
            select(Patient).where(Patient.national_code == FATHER_CODE)
        )
        holder = await uow.session.scalar(
            select(Patient).where(Patient.national_code == national_code(30))
        )
    assert mother is not None and holder is not None
    assert (mother.sex, mother.mobile) == ("female", holder.mobile)
    mom = chat._(FOR).format(relation=chat._("Mother"), name="حسن کریمی")
    assert chat.last_text().startswith(mom)
