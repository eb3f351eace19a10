"""A full python-telegram-bot Application polling the sandbox, driven as a user would."""

from __future__ import annotations

from typing import TYPE_CHECKING

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from .conftest import TOKEN

if TYPE_CHECKING:
    from sandbox.botapi import BotApiSandbox


async def echo(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    """Echo the user's text."""
    assert update.effective_message is not None and update.effective_message.text is not None
    await update.effective_message.reply_text(update.effective_message.text)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer /start with the deep-link payload and a button."""
    assert update.effective_message is not None
    payload = " ".join(context.args or [])
    button = InlineKeyboardButton("OK", callback_data="ok")
    await update.effective_message.reply_text(
        f"payload={payload}", reply_markup=InlineKeyboardMarkup([[button]])
    )


async def pressed(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer the press and edit the message."""
    query = update.callback_query
    assert query is not None
    await query.answer("done")
    await query.edit_message_text(f"pressed {query.data}")


async def test_application_echoes_over_http(sandbox: BotApiSandbox) -> None:
    application = (
        Application.builder()
        .token(TOKEN)
        .base_url(sandbox.base_url)
        .base_file_url(sandbox.base_file_url)
        .build()
    )
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CallbackQueryHandler(pressed))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    sandbox.create_user(1001, "Sara")
    async with application:
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0.01, timeout=1)
        await application.start()
        try:
            sandbox.send_text(1001, "سلام، نوبت دارم؟")
            reply = await sandbox.wait_for_message(1001, timeout=5)
            assert reply.text == "سلام، نوبت دارم؟"

            sandbox.send_command(1001, "start", "ref42")
            menu = await sandbox.wait_for_message(1001, timeout=5)
            assert menu.text == "payload=ref42"
            query_id = sandbox.press_button(1001, text="OK")
            assert (await sandbox.wait_for_answer(query_id, timeout=5))["text"] == "done"
            edited = await sandbox.wait_until(
                1001, lambda chat: chat.messages[menu.message_id].edited or None, timeout=5
            )
            assert edited and menu.text == "pressed ok" and menu.buttons == []
        finally:
            await application.updater.stop()
            await application.stop()
    assert sandbox.pending_updates() == []
