"""Keyboards: the main menu and inline choices, labels through the catalogue."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)
from telegram.ext import filters

from bot.callbacks import pack
from bot.routes import Route
from clinic.i18n import LANGUAGES, N_, translator

if TYPE_CHECKING:
    from collections.abc import Sequence

NEW_REQUEST = N_("🩻 New imaging request")
MY_APPOINTMENTS = N_("📅 My appointments")
PREPARATION = N_("📋 Preparation instructions")
MY_RESULTS = N_("📄 My results")
HELP = N_("☎️ Help and contact")
LANGUAGE = N_("🌐 Language")
FAMILY = N_("👪 Family")
MENU_ROWS = (
    (NEW_REQUEST,),
    (MY_APPOINTMENTS, MY_RESULTS),
    (PREPARATION, HELP),
    (FAMILY, LANGUAGE),
)
PAGE_SIZE = 8


def labels(msgid: str) -> set[str]:
    """The button text of ``msgid`` in every language (a menu press may come in either)."""
    return {translator(lang).gettext(msgid) for lang in LANGUAGES}


def menu_filter(msgid: str) -> filters.BaseFilter:
    """A filter matching a press of the main-menu button ``msgid``."""
    return filters.ChatType.PRIVATE & filters.Text(sorted(labels(msgid)))


def all_menu_labels() -> list[str]:
    """Every main-menu label in every language."""
    return sorted({label for row in MENU_ROWS for msgid in row for label in labels(msgid)})


def main_menu(lang: str) -> ReplyKeyboardMarkup:
    """The main menu: large buttons, two per row at most."""
    _ = translator(lang).gettext
    rows = [[KeyboardButton(_(msgid)) for msgid in row] for row in MENU_ROWS]
    return ReplyKeyboardMarkup(rows, resize_keyboard=True, is_persistent=True)


def contact_keyboard(label: str) -> ReplyKeyboardMarkup:
    """One button that shares the user's own phone number."""
    return ReplyKeyboardMarkup(
        [[KeyboardButton(label, request_contact=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


def choices(
    items: Sequence[tuple[str, str]], *, columns: int = 1, extra: Sequence[tuple[str, str]] = ()
) -> InlineKeyboardMarkup:
    """Inline buttons from (label, callback data) pairs, ``columns`` per row, extras last."""
    rows: list[list[InlineKeyboardButton]] = []
    for i in range(0, len(items), columns):
        rows.append([InlineKeyboardButton(t, callback_data=d) for t, d in items[i : i + columns]])
    rows.extend([InlineKeyboardButton(t, callback_data=d)] for t, d in extra)
    return InlineKeyboardMarkup(rows)


def paged(
    items: Sequence[tuple[str, str]],
    page: int,
    route: Route | str,
    *args: object,
    more: str,
    back: str,
    columns: int = 1,
    size: int = PAGE_SIZE,
    extra: Sequence[tuple[str, str]] = (),
) -> InlineKeyboardMarkup:
    """One page of ``items`` with next/previous buttons that press ``route(*args, page)``.

    A page out of range (an old or forged button) shows the nearest page that exists. A bare
    action code in place of the route packs its arguments unchecked.
    """
    to_page = route if isinstance(route, Route) else partial(pack, route)
    pages = max(1, -(-len(items) // size))
    page = min(max(page, 0), pages - 1)
    window = items[page * size : (page + 1) * size]
    nav = []
    if page > 0:
        nav.append((back, to_page(*args, page - 1)))
    if page < pages - 1:
        nav.append((more, to_page(*args, page + 1)))
    return choices(window, columns=columns, extra=[*nav, *extra])
