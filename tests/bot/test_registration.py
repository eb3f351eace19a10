"""A new patient registers in Persian in seven answers, the one-time SMS code among them; bad
input is answered kindly. Whether a national code is on record is never told: a new one and
one on record with another mobile get the same answer, and a record on file is linked only
after the code sent to its own mobile."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import func, select

from bot import registration_steps as steps
from bot.conversations import registration as reg
from bot.keyboards import NEW_REQUEST
from clinic.identity_checks import (
    CheckNeeded,
    CodePaused,
    CodeUsedUp,
    NoMoreCodes,
    WaitToResend,
    WrongCode,
)
from clinic.models import AuditEntry, ChatAccount, IdentityCheck, Patient
from clinic.text import to_persian_digits
from tests.bot.flows import register
from tests.bot.sms import code_sent, deliver_sms
from tests.factories import add_patient, national_code

if TYPE_CHECKING:
    from tests.bot.harness import Chat, Harness


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 100_000:05d}"


async def _at_code(chat: Chat, code: str) -> None:
    """/start, the contact, the national code: the one-time code is asked."""
    await chat.command("start")
    await chat.share_contact()
    await chat.say(code)


async def _on_record(harness: Harness, n: int) -> int:
    """A patient registered at the desk with the mobile 0912000000n (not any chat user's)."""
    async with harness.env.uow() as uow:
        pid = await add_patient(uow, n)
        await uow.commit()
    return pid


async def test_a_new_patient_registers_in_seven_answers(harness: Harness) -> None:
    chat = harness.user(1001)
    await chat.command("start")
    assert chat.last().markup is not None  # the privacy notice with the share-contact button
    chat.actions = 0  # opening the bot is not part of registration
    await chat.share_contact()
    assert chat.last_text() == chat._(reg.ASK_NATIONAL_CODE)
    await chat.say("۰۴۹۹۳۷۰۸۹۹")
    assert chat.last_text() == chat._(reg.CODE_SENT)
    [sms] = await deliver_sms(harness.env)
    assert sms.mobile.endswith("9120001001")  # a new record: the number just shared
    assert "0499370899" not in sms.text and sms.code is not None
    await chat.say(to_persian_digits(sms.code))  # Persian digits, as the phone shows them
    assert chat.last_text() == chat._(reg.ASK_FIRST_NAME)
    await chat.say("فاطمه")
    await chat.say("كريمي")
    await chat.say("۱۳۷۰")
    await chat.press_msgid(reg.FEMALE)
    assert chat.actions <= 7
    assert chat._(NEW_REQUEST) in str(chat.last().markup)
    async with harness.env.uow() as uow:
        patient = await uow.session.scalar(select(Patient))
        account = await uow.session.scalar(select(ChatAccount))
        check = await uow.session.scalar(select(IdentityCheck))
    assert patient is not None and account is not None and check is not None
    assert (patient.national_code, patient.mobile, patient.last_name, patient.sex) == (
        "0499370899",
        "09120001001",
        "کریمی",
        "female",
    )
    assert patient.consent_via == "self+sms"
    assert (account.user_id, account.patient_id) == (1001, patient.id)
    assert check.used_at is not None  # spent: it registers no one else


async def test_invalid_national_code_is_explained_and_asked_again(harness: Harness) -> None:
    chat = harness.user(1002)
    await chat.command("start")
    await chat.share_contact()
    await chat.say("1234567890")
    assert "۱۰" in chat.last_text() or "10" in chat.last_text()
    await chat.say("0790419904")
    assert chat.last_text() == chat._(reg.CODE_SENT)


async def test_only_the_senders_own_contact_is_accepted(harness: Harness) -> None:
    chat = harness.user(1003)
    await chat.command("start")
    await chat.share_contact("989350000000", own=False)
    assert chat.last_text() == chat._(reg.OWN_NUMBER_ONLY)
    await chat.say("09121234567")  # typing the number is not verifying it
    assert chat.last_text() == chat._(reg.OWN_NUMBER_ONLY)


async def test_a_returning_patient_goes_straight_to_the_menu(harness: Harness) -> None:
    chat = harness.user(1004)
    await register(chat, 4)
    await chat.command("start")
    assert chat.last_text() == chat._(reg.WELCOME_BACK).format(name="علی")


async def test_registration_survives_a_restart(harness: Harness) -> None:
    chat = harness.user(1005)
    await _at_code(chat, "0963695398")
    code = await code_sent(harness.env)
    await harness.restart()
    await chat.say(code)
    assert chat.last_text() == chat._(reg.ASK_FIRST_NAME)
    await chat.say("مریم")
    assert chat.last_text() == chat._(reg.ASK_LAST_NAME)


async def test_a_new_code_and_one_on_record_get_the_same_answer(harness: Harness) -> None:
    await _on_record(harness, 7)
    new, taken = harness.user(1006), harness.user(1007)
    await _at_code(new, national_code(8))  # nobody's
    await _at_code(taken, national_code(7))  # on record with 09120000007, not this phone
    assert new.last_text() == taken.last_text() == new._(reg.CODE_SENT)
    assert new.buttons() == taken.buttons() == [new._(steps.CODE_AGAIN)]
    assert [m.buttons for m in new.bot_messages()] == [m.buttons for m in taken.bot_messages()]
    # A wrong code is answered alike too.
    for chat in (new, taken):
        await chat.say("12345")
    assert new.last_text() == taken.last_text()
    assert not [t for t in taken.texts() if "علی" in t or "رضایی" in t]


async def test_a_record_on_file_is_linked_only_with_the_code_sent_to_its_mobile(
    harness: Harness,
) -> None:
    pid = await _on_record(harness, 9)
    claimant = harness.user(1009, phone="989351112233")
    await _at_code(claimant, national_code(9))
    [sms] = await deliver_sms(harness.env)
    assert sms.mobile.endswith("9120000009")  # the mobile on record, not the claimant's
    assert sms.code is not None
    await claimant.say(_wrong(sms.code))
    assert claimant.last_text() == claimant._(WrongCode.message).format(left="۴")
    async with harness.env.uow() as uow:
        linked = await uow.session.scalar(select(func.count(ChatAccount.id)))
    assert linked == 0  # nothing yet
    await claimant.say(sms.code)
    assert claimant.last_text() == claimant._(reg.LINKED).format(name="علی")
    async with harness.env.uow() as uow:
        account = await uow.session.scalar(select(ChatAccount))
        claim = await uow.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "patient.claim")
        )
    assert account is not None and (account.user_id, account.patient_id) == (1009, pid)
    assert account.is_self
    assert claim is not None and claim.details["evidence"] == "sms_code"
    assert "9120000009" not in str(claim.details) and national_code(9) not in str(claim.details)
    # The mobile on record is told, as banks tell of a new device; nothing goes to the claimant.
    [told] = await deliver_sms(harness.env)
    assert told.mobile.endswith("9120000009") and told.code is None
    await claimant.command("start")
    assert claimant.last_text() == claimant._(reg.WELCOME_BACK).format(name="علی")


async def test_the_record_s_own_phone_is_linked_at_once(harness: Harness) -> None:
    pid = await _on_record(harness, 1010)  # its mobile is this user's own: 09120001010
    chat = harness.user(1010)
    await _at_code(chat, national_code(1010))
    assert chat.last_text() == chat._(reg.LINKED).format(name="علی")
    assert await deliver_sms(harness.env) == []  # no code needed
    async with harness.env.uow() as uow:
        account = await uow.session.scalar(select(ChatAccount))
    assert account is not None and account.patient_id == pid


async def test_wrong_codes_run_out_and_a_new_code_a_minute_later_works(harness: Harness) -> None:
    chat = harness.user(1011)
    await _at_code(chat, national_code(11))
    code = await code_sent(harness.env)
    for left in ("۴", "۳", "۲", "۱"):
        await chat.say(_wrong(code))
        assert chat.last_text() == chat._(WrongCode.message).format(left=left)
    await chat.say(_wrong(code))
    assert chat.last_text() == chat._(CodeUsedUp.message)
    await chat.say(code)  # the right one, too late: the code is void
    assert chat.last_text() == chat._(CodeUsedUp.message)
    await chat.press_msgid(steps.CODE_AGAIN)
    assert chat.last_text() == chat._(WaitToResend.message)  # not within the minute
    harness.env.clock.advance(seconds=61)
    await chat.press_msgid(steps.CODE_AGAIN)
    assert chat.last_text() == chat._(steps.SENT_AGAIN)
    fresh = await code_sent(harness.env)
    await chat.say(f" {fresh[:2]} {fresh[2:]} ")  # spaces are fine
    assert chat.last_text() == chat._(reg.ASK_FIRST_NAME)


async def test_too_many_wrong_codes_pause_the_account(harness: Harness) -> None:
    chat = harness.user(1012)
    await _at_code(chat, national_code(12))
    first = await code_sent(harness.env)
    for _ in range(5):
        await chat.say(_wrong(first))
    harness.env.clock.advance(seconds=61)
    await chat.press_msgid(steps.CODE_AGAIN)
    code = await code_sent(harness.env)
    for _ in range(4):
        await chat.say(_wrong(code))
    await chat.say(_wrong(code))  # the tenth wrong code within the hour
    paused = chat.last_text()
    await chat.say(code)  # no code is looked at while paused, the right one neither
    assert chat.last_text() == paused
    prefix = chat._(CodePaused.message).split("{until}")[0]
    assert paused.startswith(prefix)


async def test_a_national_code_s_owner_gets_at_most_three_codes_a_day(harness: Harness) -> None:
    await _on_record(harness, 13)
    for user in (1013, 1014, 1015):
        chat = harness.user(user)
        await _at_code(chat, national_code(13))
        assert chat.last_text() == chat._(reg.CODE_SENT)
    fourth = harness.user(1016)
    await _at_code(fourth, national_code(13))
    assert fourth.last_text() == fourth._(NoMoreCodes.message)
    sent = await deliver_sms(harness.env)
    assert len(sent) == 3 and all(s.mobile.endswith("9120000013") for s in sent)
    # The limit says the same for a new code: nothing about the record.
    others = [harness.user(user) for user in (1017, 1018, 1019, 1020)]
    for other in others:
        await _at_code(other, national_code(14))
    assert others[-1].last_text() == fourth.last_text()
    # A day later, codes go again.
    harness.env.clock.advance(days=1, seconds=1)
    await _at_code(fourth, national_code(13))
    assert fourth.last_text() == fourth._(reg.CODE_SENT)


async def test_one_account_gets_at_most_five_codes_a_day(harness: Harness) -> None:
    chat = harness.user(1021)
    for n in range(21, 26):
        await _at_code(chat, national_code(n))
        assert chat.last_text() == chat._(reg.CODE_SENT)
    harness.env.clock.advance(seconds=61)
    await chat.press_msgid(steps.CODE_AGAIN)  # sending again counts too
    assert chat.last_text() == chat._(NoMoreCodes.message)
    await _at_code(chat, national_code(26))
    assert chat.last_text() == chat._(NoMoreCodes.message)
    # Each new national code voided the check before it: only the last code goes out.
    assert len(await deliver_sms(harness.env)) == 1
    async with harness.env.uow() as uow:
        refused = await uow.session.scalar(
            select(func.count(AuditEntry.id)).where(AuditEntry.action == "identity_check.refuse")
        )
    assert refused == 2


async def test_a_code_typed_twice_within_a_minute_sends_one_message(harness: Harness) -> None:
    chat = harness.user(1027)
    await _at_code(chat, national_code(27))
    await chat.command("start")
    await chat.share_contact()
    await chat.say(national_code(27))
    assert chat.last_text() == chat._(reg.CODE_SENT)
    assert len(await deliver_sms(harness.env)) == 1


async def test_names_lose_bidi_controls_and_links_are_refused(harness: Harness) -> None:
    chat = harness.user(1028)
    await _at_code(chat, national_code(28))
    await chat.say(await code_sent(harness.env))
    await chat.say("@radyar_admin")
    assert chat.last_text() == chat._(reg.FIRST_LETTERS).format(n="۸۰")
    await chat.say("www.example.com")
    assert chat.last_text() == chat._(reg.FIRST_LETTERS).format(n="۸۰")
    await chat.say("\u202eمریم\u200f")  # a right-to-left override and a mark around the name
    await chat.say("عبدالله\u200cزاده")  # the ZWNJ is Persian spelling: kept
    await chat.say("1370")
    await chat.press_msgid(reg.FEMALE)
    async with harness.env.uow() as uow:
        patient = await uow.session.scalar(select(Patient))
    assert patient is not None
    assert (patient.first_name, patient.last_name) == ("مریم", "عبدالله\u200cزاده")


async def test_a_stale_confirmation_does_not_register(harness: Harness) -> None:
    chat = harness.user(1029)
    await _at_code(chat, national_code(29))
    await chat.say(await code_sent(harness.env))
    for answer in ("علی", "رضایی", "1360"):
        await chat.say(answer)
    harness.env.clock.advance(hours=1, seconds=1)  # the confirmation lives an hour
    await chat.press_msgid(reg.MALE)
    assert chat.last_text() == chat._(CheckNeeded.message)
    async with harness.env.uow() as uow:
        assert await uow.session.scalar(select(func.count(Patient.id))) == 0
