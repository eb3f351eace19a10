"""A bare python-telegram-bot echo bot: the baseline ``bench_bot`` holds Radyar against.

Run: ``python -m bench.echo_bot TOKEN BASE_URL``. Defaults throughout, as a first bot would be
written: one update at a time, long polling with no pause between polls.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from telegram.ext import Application, ContextTypes, MessageHandler, filters

if TYPE_CHECKING:
    from telegram import Update


async def echo(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer a text with the same text."""
    if update.message is not None and update.message.text:
        await update.message.reply_text(update.message.text)


def main() -> None:
    """Poll until SIGTERM."""
    token, base_url = sys.argv[1], sys.argv[2]
    application = Application.builder().token(token).base_url(base_url).build()
    application.add_handler(MessageHandler(filters.TEXT, echo))
    application.run_polling()


if __name__ == "__main__":
    main()
