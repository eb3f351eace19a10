"""Unexpected input gets a short, kind answer (or none), never an error: at the menu, during
registration and during a request; edits, forwards, groups and commands mid-conversation."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select

from bot.conversations import registration as reg
from bot.conversations import request as req
from bot.handlers import common, info
from bot.keyboards import HELP, LANGUAGE, NEW_REQUEST
from bot.prescriptions import NOT_A_PRESCRIPTION
from bot.views import MODALITY_NAMES
from clinic.errors import InvalidNationalCode
from clinic.models import ChatAccount, Patient, Referral
from tests.bot.flows import register
from tests.bot.harness import Chat, Harness, assert_calm
from tests.bot.sms import code_sent
from tests.factories import national_code

if TYPE_CHECKING:
    from collections.abc import Iterator

CT_BRAIN = "سی‌تی‌اسکن مغز بدون تزریق"
LONG = "ب" * 5000


@pytest.fixture(autouse=True)
def _calm(harness: Harness, caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    yield
    assert_calm(harness, caplog)


async def _count(harness: Harness, model: type[object]) -> int:
    async with harness.env.uow() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(model)) or 0)


async def test_odd_input_at_the_menu_gets_one_kind_line_and_the_menu(harness: Harness) -> None:
    chat = harness.user(3001)
    await register(chat, 0)
    for act in (
        chat.sticker,
        chat.voice,
        chat.location,
        lambda: chat.say("سلام، وقت بخیر"),
        lambda: chat.say(LONG),
        lambda: chat.say("٠١٢٣٤٥٦٧٨٩"),
        lambda: chat.forward("hello", from_user=None),
    ):
        sent = await act()
        assert [m.text for m in sent] == [chat._(common.NOT_UNDERSTOOD)]
        assert chat._(NEW_REQUEST) in str(sent[0].markup)


async def test_a_stranger_is_pointed_to_start(harness: Harness) -> None:
    chat = harness.user(3002)
    for act in (chat.sticker, lambda: chat.say("salam"), chat.location):
        assert [m.text for m in await act()] == [chat._(common.START_FIRST)]
    await chat.tap(NEW_REQUEST)
    assert chat.last_text() == chat._("Please send /start first.")
    assert await _count(harness, Patient) == 0


async def test_registration_takes_only_typed_answers_and_persian_or_arabic_digits(
    harness: Harness,
) -> None:
    chat = harness.user(3003)
    await chat.command("start")
    # The phone: only the own contact shared with the button counts.
    for act in (chat.sticker, chat.voice, chat.location, lambda: chat.say("09120003003")):
        await act()
        assert chat.last_text() == chat._(reg.OWN_NUMBER_ONLY)
    await chat.forward_contact("989120003003", contact_user_id=chat.user_id)
    assert chat.last_text() == chat._(reg.OWN_NUMBER_ONLY)
    await chat.share_contact()
    assert chat.last_text() == chat._(reg.ASK_NATIONAL_CODE)
    # The national code: typed, not a sticker, not forwarded, not an edit of an old message.
    await chat.sticker()
    assert chat.last_text() == chat._(reg.WRITE_IT)
    await chat.say(LONG)
    assert chat.last_text() == chat._(InvalidNationalCode.message)
    await chat.forward("0499370899", from_user=None)
    assert chat.last_text() == chat._(reg.NOT_FORWARDED)
    await chat.edit(chat.own_message_ids()[-1], "0499370899")
    assert chat.last_text() == chat._(common.EDITS_IGNORED)
    await chat.say("٠٤٩٩٣٧٠٨٩٩")  # Arabic-Indic digits
    assert chat.last_text() == chat._(reg.CODE_SENT)
    await chat.say(await code_sent(harness.env))  # the one-time code from the text message
    assert chat.last_text() == chat._(reg.ASK_FIRST_NAME)
    await chat.voice()
    assert chat.last_text() == chat._(reg.WRITE_IT)
    await chat.say(LONG)
    assert chat.last_text() != chat._(reg.ASK_LAST_NAME)
    await chat.say("زهرا")
    await chat.say("احمدی")
    await chat.say("١٣٦٥")
    assert chat.last_text() == chat._(reg.ASK_SEX)
    await chat.say("زن")  # typed instead of pressed: the buttons again
    assert chat.last_text() == chat._(reg.ASK_SEX)
    assert chat.buttons() == [chat._(reg.FEMALE), chat._(reg.MALE)]
    await chat.press_msgid(reg.FEMALE)
    assert chat.last_text() == chat._(reg.DONE).format(name="زهرا")
    async with harness.env.uow() as uow:
        patient = await uow.session.scalar(select(Patient))
    assert patient is not None
    assert (patient.national_code, patient.birth_year, patient.mobile) == (
        "0499370899",
        1365,
        "09120003003",
    )


async def test_commands_during_registration(harness: Harness) -> None:
    chat = harness.user(3004)
    await chat.command("start")
    await chat.share_contact()
    await chat.command("help")  # answered, and registration goes on where it was
    assert "058" in chat.last_text() or "۰۵۸" in chat.last_text()
    await chat.say("0790419904")
    assert chat.last_text() == chat._(reg.CODE_SENT)
    await chat.command("start")  # starts over
    markup = chat.last().markup
    assert markup is not None
    assert markup.get("keyboard")  # the share-contact button again
    await chat.share_contact()
    await chat.say("0790419904")
    await chat.command("cancel")
    assert chat.last_text() == chat._(info.CANCELLED_GUEST)
    await chat.say("مریم")  # no longer an answer to "first name"
    assert chat.last_text() == chat._(common.START_FIRST)
    assert await _count(harness, Patient) == 0
    await register(chat, 1)
    assert chat.last_text() == chat._(reg.DONE).format(name="علی")


async def _to_source(chat: Chat) -> None:
    await chat.tap(NEW_REQUEST)
    await chat.press_msgid(MODALITY_NAMES["CT"])
    await chat.press(CT_BRAIN)
    assert chat.last_text() == chat._(req.ASK_SOURCE)


async def test_odd_input_and_commands_during_a_request(harness: Harness) -> None:
    chat = harness.user(3005)
    await register(chat, 2)
    await chat.tap(NEW_REQUEST)
    await chat.say("سی تی")  # typed where a button is expected
    assert chat.last_text() == chat._(req.USE_BUTTONS)
    await chat.press_msgid(MODALITY_NAMES["CT"])
    await chat.sticker()
    assert chat.last_text() == chat._(req.USE_BUTTONS)
    await chat.press(CT_BRAIN)
    for act in (chat.sticker, chat.voice, chat.location):
        await act()
        assert chat.last_text() == chat._(req.ASK_SOURCE)
    await chat.say(LONG)
    assert chat.last_text() != chat._(req.ASK_INSURER)
    await chat.command("help")  # answered; the request waits
    await chat.say("١٢٣٤٥٦٧٨٩")  # Arabic-Indic digits
    assert chat.last_text() == chat._(req.ASK_INSURER)
    async with harness.env.uow() as uow:
        assert await uow.session.scalar(select(Referral)) is None  # not before the insurer


async def test_start_or_another_menu_button_leaves_a_request(harness: Harness) -> None:
    chat = harness.user(3006)
    await register(chat, 3)
    await _to_source(chat)
    await chat.command("start")
    assert chat.last_text() == chat._(reg.WELCOME_BACK).format(name="علی")
    await chat.say("123456789")  # not taken as a tracking code any more
    assert chat.last_text() == chat._(common.NOT_UNDERSTOOD)
    await _to_source(chat)
    await chat.tap(HELP)  # does what the button says, and the request is over
    assert "058" in chat.last_text() or "۰۵۸" in chat.last_text()
    await chat.say("123456789")
    assert chat.last_text() == chat._(common.NOT_UNDERSTOOD)
    await chat.tap(NEW_REQUEST)
    await chat.tap(LANGUAGE)  # in the middle of choosing the modality
    assert chat.last_text() == chat._(info.CHOOSE_LANGUAGE)
    await _to_source(chat)
    await chat.command("cancel")
    assert chat.last_text() == chat._(info.CANCELLED)
    await chat.say("123456789")
    assert chat.last_text() == chat._(common.NOT_UNDERSTOOD)
    assert await _count(harness, Referral) == 0


async def test_an_old_button_after_the_conversation_moved_on_is_answered_softly(
    harness: Harness,
) -> None:
    chat = harness.user(3007)
    await register(chat, 4)
    sex_question = chat.bot_messages()[-2].message_id
    await chat.tap(NEW_REQUEST)
    modality_message = chat.last().message_id
    await chat.press_msgid(MODALITY_NAMES["CT"])
    await chat.command("cancel")
    before = len(chat.bot_messages())
    for data, message_id in (
        ("sex:male", sex_question),
        ("mod:CT", modality_message),
        ("exam:1", modality_message),
        ("ins:tamin", modality_message),
    ):
        query = chat.fire_forge(data, message_id)
        await harness.settle()
        answer = harness.sandbox.callback_answer(query)
        assert answer is not None
        assert answer.get("text") == chat._(common.STALE)
    assert len(chat.bot_messages()) == before
    assert await _count(harness, Patient) == 1


async def test_edits_are_not_read_as_new_answers(harness: Harness) -> None:
    chat = harness.user(3008)
    await register(chat, 5)
    sent = await chat.edit(chat.own_message_ids()[0], "/start")
    assert [m.text for m in sent] == [chat._(common.EDITS_IGNORED)]


async def test_in_a_group_the_bot_answers_start_with_one_line_only(harness: Harness) -> None:
    group = harness.sandbox.create_group(-100_500, "خانواده")
    chat = harness.user(3009)
    english = harness.user(3010, lang="en")
    assert [m.text for m in await chat.in_group(group, "/start")] == [chat._(common.PRIVATE_ONLY)]
    assert [m.text for m in await english.in_group(group, "/start@sandbox_123456_bot")] == [
        english._(common.PRIVATE_ONLY)
    ]
    for text in ("0499370899", "/cancel", "/request", "سلام"):
        assert await chat.in_group(group, text) == []
    assert chat.bot_messages() == []  # nothing in private either
    assert english.bot_messages() == []
    assert await _count(harness, ChatAccount) == 0


async def test_someone_elses_national_code_opens_nothing(harness: Harness) -> None:
    owner = harness.user(3011)
    await register(owner, 6)
    other = harness.user(3012)
    await other.command("start")
    await other.share_contact()
    await other.say(national_code(6))
    assert other.last_text() == other._(reg.CODE_SENT)  # as for a new code: a code went by SMS
    assert await _count(harness, ChatAccount) == 1  # only the owner's own account
    assert not [t for t in other.texts() if "علی" in t or "رضایی" in t]


async def test_a_file_that_is_not_a_prescription_is_refused_kindly(harness: Harness) -> None:
    chat = harness.user(3013)
    await register(chat, 7)
    await _to_source(chat)
    await chat.document(b"MZ\x90\x00", "setup.exe", "application/x-msdownload")
    assert chat.last_text() == chat._(NOT_A_PRESCRIPTION)
    await chat.document(b"%PDF-1.4\n" + b"0" * 100, "nesakhe.pdf", "application/pdf")
    assert chat.last_text() == chat._(req.ASK_INSURER)


async def test_a_user_who_blocks_the_bot_mid_answer_causes_no_error(harness: Harness) -> None:
    chat = harness.user(3014)
    await register(chat, 8)
    sandbox = harness.sandbox

    def write_then_block() -> None:
        sandbox.send_text(chat.user_id, "سلام")
        sandbox.block(chat.user_id)  # before the bot answers: its reply gets 403

    # The message, and the "blocked" notice.
    harness.fire(write_then_block, updates=2, user_id=chat.user_id)
    await harness.settle()
    harness.fire(lambda: sandbox.unblock(chat.user_id), user_id=chat.user_id)
    await harness.settle()
    sent = await chat.say("سلام")
    assert [m.text for m in sent] == [chat._(common.NOT_UNDERSTOOD)]
