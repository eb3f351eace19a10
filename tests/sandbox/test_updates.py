"""getUpdates long polling and the shape of every update kind, parsed by PTB 22.8."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import Conflict

from .conftest import TOKEN, assert_no_unknown_fields, png

if TYPE_CHECKING:
    from sandbox.botapi import BotApiSandbox


async def test_long_poll_returns_when_the_user_writes(sandbox: BotApiSandbox, bot: Bot) -> None:
    sandbox.create_user(1001, "Sara", language_code="fa")
    poll = asyncio.create_task(bot.get_updates(timeout=10))
    await asyncio.sleep(0.05)
    assert not poll.done()
    started = time.monotonic()
    sandbox.send_text(1001, "سلام")
    updates = await asyncio.wait_for(poll, 5)
    assert time.monotonic() - started < 2
    assert len(updates) == 1
    message = updates[0].message
    assert message is not None
    assert message.text == "سلام"
    assert message.from_user is not None
    assert message.from_user.language_code == "fa"
    assert message.chat.type == "private"
    assert_no_unknown_fields(updates[0])


async def test_empty_long_poll_times_out(bot: Bot) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == ()
    assert 0.9 < time.monotonic() - started < 3


async def test_offsets_confirm_and_limit(sandbox: BotApiSandbox, bot: Bot) -> None:
    sandbox.create_user(1001)
    for text in ("one", "two", "three"):
        sandbox.send_text(1001, text)
    first = await bot.get_updates(limit=2)
    assert [u.message.text for u in first if u.message] == ["one", "two"]
    again = await bot.get_updates()
    assert len(again) == 3  # nothing confirmed yet
    rest = await bot.get_updates(offset=first[-1].update_id + 1)
    assert [u.message.text for u in rest if u.message] == ["three"]
    assert await bot.get_updates(offset=rest[-1].update_id + 1) == ()
    assert sandbox.pending_updates() == []


async def test_every_update_kind_parses_without_unknown_fields(
    sandbox: BotApiSandbox, bot: Bot
) -> None:
    sandbox.create_user(1001, "Ali", last_name="Rezaei", phone_number="+989121234567")
    sandbox.create_user(1002, "Mina", username="mina")
    sandbox.create_group(-4001, "Clinic staff")
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Book", callback_data="book:7")]])
    await bot.send_message(1001, "Menu", reply_markup=markup)
    text = sandbox.send_text(1001, "hello")
    sandbox.edit_text(1001, text["message_id"], "hello, edited")
    sandbox.send_command(1001, "start", "ref_abc")
    sandbox.send_contact(1001)
    sandbox.send_contact(1001, "09120000000", first_name="Mother")
    sandbox.send_photo(1001, png(1600, 1200), caption="referral")
    sandbox.send_document(1001, b"%PDF-1.4", file_name="ref.pdf", mime_type="application/pdf")
    sandbox.send_sticker(1001)
    sandbox.send_voice(1001)
    sandbox.send_location(1001, 35.7, 51.4)
    sandbox.send_text(1001, "fwd", forward_from=1002)
    sandbox.send_text(1001, "fwd hidden", forward_sender_name="Someone")
    sandbox.send_text(1001, "/help@sandbox_bot", group_id=-4001)
    query_id = sandbox.press_button(1001, text="Book")
    sandbox.block(1001)

    updates = await bot.get_updates()
    assert len(updates) == 15
    for update in updates:
        assert_no_unknown_fields(update)
    message = updates[0].message
    edited = updates[1].edited_message
    command = updates[2].message
    assert message is not None and edited is not None and command is not None
    assert message.text == "hello"  # the queued update is not rewritten by the later edit
    assert edited.text == "hello, edited" and edited.edit_date is not None
    assert command.text == "/start ref_abc"
    assert command.entities[0].type == "bot_command" and command.entities[0].length == 6
    own, other = updates[3].message, updates[4].message
    assert own is not None and own.contact is not None and own.contact.user_id == 1001
    assert other is not None and other.contact is not None and other.contact.user_id is None
    photo = updates[5].message
    assert photo is not None and photo.caption == "referral"
    assert [(p.width, p.height) for p in photo.photo][-1] == (1600, 1200)
    document = updates[6].message
    assert document is not None and document.document is not None
    assert document.document.file_name == "ref.pdf"
    assert updates[7].message and updates[7].message.sticker
    assert updates[8].message and updates[8].message.voice
    assert updates[9].message and updates[9].message.location
    forwarded = updates[10].message
    assert forwarded is not None and forwarded.forward_origin is not None
    assert forwarded.forward_origin.type == "user"
    group = updates[12].message
    assert group is not None and group.chat.type == "group" and group.chat.id == -4001
    callback = updates[13].callback_query
    assert callback is not None and callback.id == query_id
    assert callback.data == "book:7" and callback.message is not None
    assert callback.message.message_id == message.message_id - 1
    blocked = updates[14].my_chat_member
    assert blocked is not None and blocked.new_chat_member.status == "kicked"


async def test_allowed_updates_filters_new_updates(sandbox: BotApiSandbox, bot: Bot) -> None:
    sandbox.create_user(1001)
    await bot.send_message(
        1001,
        "x",
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("b", callback_data="b")]]),
    )
    assert await bot.get_updates(allowed_updates=["callback_query"]) == ()
    sandbox.send_text(1001, "ignored")
    sandbox.press_button(1001, data="b")
    updates = await bot.get_updates()
    assert [u.callback_query is not None for u in updates] == [True]


async def test_a_second_poller_terminates_the_first(sandbox: BotApiSandbox, bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.05)
    async with Bot(TOKEN, base_url=sandbox.base_url) as other_instance:
        second = asyncio.create_task(other_instance.get_updates(timeout=5))
        with pytest.raises(Conflict, match=r"(?i)terminated by other getupdates"):
            await asyncio.wait_for(first, 3)
        sandbox.create_user(1001)
        sandbox.send_text(1001, "hi")
        assert len(await asyncio.wait_for(second, 3)) == 1


async def test_update_de_json_accepts_the_raw_payload(sandbox: BotApiSandbox, bot: Bot) -> None:
    sandbox.create_user(1001)
    sandbox.send_text(1001, "/start")
    raw = sandbox.pending_updates()[0]
    update = Update.de_json(raw, bot)
    assert update.message is not None and update.message.text == "/start"
