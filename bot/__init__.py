"""The patient bot: a thin python-telegram-bot front end for Telegram and Bale."""
