"""sendMessage, keyboards, edits, deletes and the strict Telegram errors, through PTB's Bot."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from telegram import (
    Bot,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    ReplyParameters,
)
from telegram.error import BadRequest, Forbidden, InvalidToken

if TYPE_CHECKING:
    from sandbox.botapi import BotApiSandbox

    from .conftest import FakeClock


def inline(*pairs: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(t, callback_data=d)] for t, d in pairs])


async def test_get_me_reports_the_registered_bot(bot: Bot) -> None:
    me = await bot.get_me()
    assert me.id == 123456789
    assert me.is_bot
    assert bot.username == me.username


async def test_unknown_token_is_invalid_token(sandbox: BotApiSandbox) -> None:
    stranger = Bot("555:nope", base_url=sandbox.base_url, base_file_url=sandbox.base_file_url)
    with pytest.raises(InvalidToken):
        async with stranger:
            pass


async def test_send_message_with_inline_keyboard_is_seen_by_the_user(
    sandbox: BotApiSandbox, bot: Bot
) -> None:
    user = sandbox.create_user(1001, "Sara")
    sent = await bot.send_message(1001, "نوبت شما", reply_markup=inline(("Yes", "ok:1")))
    assert sent.chat.id == user.id
    assert sent.reply_markup is not None
    seen = sandbox.last_message(1001)
    assert seen is not None
    assert seen.message_id == sent.message_id
    assert seen.text == "نوبت شما"
    assert seen.buttons == [{"text": "Yes", "callback_data": "ok:1"}]


async def test_html_is_parsed_into_entities_and_bad_html_rejected(
    sandbox: BotApiSandbox, bot: Bot
) -> None:
    sandbox.create_user(1001)
    sent = await bot.send_message(1001, "<b>سلام</b> &lt;x&gt;", parse_mode="HTML")
    assert sent.text == "سلام <x>"
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [("bold", 0, 4)]
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(1001, "<br>line", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(1001, "<b>open", parse_mode="HTML")


async def test_reply_keyboard_contact_button_shares_the_users_own_contact(
    sandbox: BotApiSandbox, bot: Bot
) -> None:
    sandbox.create_user(1001, "Ali", phone_number="989121234567")
    keyboard = ReplyKeyboardMarkup(
        [[KeyboardButton("Share my number", request_contact=True)]],
        one_time_keyboard=True,
        resize_keyboard=True,
    )
    sent = await bot.send_message(1001, "Your number please", reply_markup=keyboard)
    assert sent.reply_markup is None  # Telegram echoes inline keyboards only
    assert sandbox.current_keyboard(1001) is not None
    message = sandbox.tap_keyboard(1001, "Share my number")
    assert message["contact"] == {
        "phone_number": "989121234567",
        "first_name": "Ali",
        "user_id": 1001,
    }
    assert sandbox.current_keyboard(1001) is None
    await bot.send_message(1001, "Thanks", reply_markup=ReplyKeyboardRemove())
    await bot.send_message(1001, "Name?", reply_markup=ForceReply(input_field_placeholder="…"))


async def test_edit_text_and_not_modified(sandbox: BotApiSandbox, bot: Bot) -> None:
    sandbox.create_user(1001)
    sent = await bot.send_message(1001, "Pick", reply_markup=inline(("A", "a")))
    edited = await bot.edit_message_text("Picked A", chat_id=1001, message_id=sent.message_id)
    assert isinstance(edited, object)
    stored = sandbox.last_message(1001)
    assert stored is not None
    assert (stored.text, stored.buttons, stored.edited) == ("Picked A", [], True)
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("Picked A", chat_id=1001, message_id=sent.message_id)
    await bot.edit_message_reply_markup(1001, sent.message_id, reply_markup=inline(("B", "b")))
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_reply_markup(1001, sent.message_id, reply_markup=inline(("B", "b")))
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", chat_id=1001, message_id=999)


async def test_text_limits(sandbox: BotApiSandbox, bot: Bot) -> None:
    sandbox.create_user(1001)
    await bot.send_message(1001, "ب" * 4096)
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(1001, "ب" * 4097)
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(1001, "   ")


async def test_callback_data_is_limited_to_64_bytes(sandbox: BotApiSandbox, bot: Bot) -> None:
    sandbox.create_user(1001)
    await bot.send_message(1001, "ok", reply_markup=inline(("x", "d" * 64)))
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(1001, "no", reply_markup=inline(("x", "d" * 65)))
    with pytest.raises(
        BadRequest, match=r"(?i)BUTTON_DATA_INVALID"
    ):  # 33 Persian letters = 66 bytes
        await bot.send_message(1001, "no", reply_markup=inline(("x", "ب" * 33)))


async def test_inline_keyboard_size_limit(sandbox: BotApiSandbox, bot: Bot) -> None:
    sandbox.create_user(1001)
    rows = [[InlineKeyboardButton(str(i), callback_data=str(i))] for i in range(101)]
    with pytest.raises(BadRequest, match=r"(?i)REPLY_MARKUP_TOO_LONG"):
        await bot.send_message(1001, "many", reply_markup=InlineKeyboardMarkup(rows))


async def test_blocked_user_and_unknown_chats(sandbox: BotApiSandbox, bot: Bot) -> None:
    sandbox.create_user(1001)
    sandbox.create_user(1002, started=False)
    sandbox.block(1001)
    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        await bot.send_message(1001, "hello")
    sandbox.unblock(1001)
    await bot.send_message(1001, "hello again")
    with pytest.raises(Forbidden, match=r"(?i)can't initiate conversation"):
        await bot.send_message(1002, "hello")
    sandbox.send_text(1002, "hi")
    await bot.send_message(1002, "hello")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(424242, "hello")
    kinds = [next(k for k in u if k != "update_id") for u in sandbox.pending_updates()]
    assert kinds == ["my_chat_member", "my_chat_member", "message"]


async def test_delete_and_reply(sandbox: BotApiSandbox, bot: Bot) -> None:
    sandbox.create_user(1001)
    question = sandbox.send_text(1001, "When?")
    answer = await bot.send_message(
        1001, "Tomorrow", reply_parameters=ReplyParameters(question["message_id"])
    )
    assert answer.reply_to_message is not None
    assert answer.reply_to_message.text == "When?"
    assert await bot.delete_message(1001, answer.message_id)
    assert sandbox.last_message(1001) is None
    assert sandbox.messages_to(1001)[0].deleted
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(1001, answer.message_id)


async def test_callback_query_answer_once(sandbox: BotApiSandbox, bot: Bot) -> None:
    sandbox.create_user(1001)
    await bot.send_message(1001, "Confirm?", reply_markup=inline(("Yes", "yes"), ("No", "no")))
    query_id = sandbox.press_button(1001, text="No")
    assert await bot.answer_callback_query(query_id, text="Cancelled")
    assert sandbox.callback_answer(query_id) == {
        "text": "Cancelled",
        "show_alert": False,
        "url": None,
        "cache_time": None,
    }
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(query_id)
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query("12345")


async def test_callback_queries_expire(sandbox: BotApiSandbox, bot: Bot, clock: FakeClock) -> None:
    sandbox.create_user(1001)
    sent = await bot.send_message(1001, "Old menu", reply_markup=inline(("Go", "go")))
    query_id = sandbox.forge_callback(1001, sent.message_id, "forged")
    clock.advance(901)
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(query_id)


async def test_chat_action(sandbox: BotApiSandbox, bot: Bot) -> None:
    sandbox.create_user(1001)
    assert await bot.send_chat_action(1001, "typing")
    with pytest.raises(BadRequest, match=r"(?i)wrong parameter action"):
        await bot.send_chat_action(1001, "dancing")
    assert sandbox.request_counts()["sendChatAction"] == 2
