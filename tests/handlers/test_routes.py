"""The one table of callback routes (``bot.routes``): every code is unique, every route's data
reads back as the values it was built from, a wrong value is refused when the button is built,
and each route reaches exactly one of the real application's button handlers (so no keyboard
offers a button nobody handles, and no handler waits for a button nobody offers)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import pytest
from telegram import CallbackQuery, Update, User
from telegram.ext import BaseHandler, CallbackQueryHandler, ConversationHandler

from bot import routes
from bot.callbacks import MAX_ID, Callback, unpack
from bot.health_worker import ANSWERS
from bot.health_worker import BUTTONS as WORKER_BUTTONS
from bot.keyboards import paged
from bot.routes import MAX_NUMBER, ROUTES, Arg, Route
from bot.staff import BUTTONS as STAFF_BUTTONS
from clinic import notice_buttons
from clinic.jalali import TEHRAN
from tests.handlers.offline import offline_bot

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator
    from pathlib import Path

    from tests.conftest import ClinicEnv

SAMPLE: dict[Arg, object] = {
    Arg.ID: 41,
    Arg.PAGE: 3,
    Arg.NUMBER: 1,
    Arg.DAY: date(2026, 3, 4),
    Arg.MOMENT: datetime(2026, 3, 4, 9, 30, tzinfo=TEHRAN),
    Arg.WORD: "CT",
    Arg.TARGET: "bk",
}
# A value of the wrong type for each kind, and one of the right type but out of its range.
WRONG_TYPE: dict[Arg, object] = {
    Arg.ID: "41",
    Arg.PAGE: 1.0,
    Arg.NUMBER: True,
    Arg.DAY: datetime(2026, 3, 4, tzinfo=TEHRAN),
    Arg.MOMENT: date(2026, 3, 4),
    Arg.WORD: 7,
    Arg.TARGET: None,
}
OUT_OF_RANGE: dict[Arg, object] = {
    Arg.ID: MAX_ID + 1,
    Arg.PAGE: -1,
    Arg.NUMBER: MAX_NUMBER + 1,
    Arg.DAY: date(1999, 12, 31),
    Arg.MOMENT: datetime(2026, 3, 4, 9, 30),  # naive: which Tehran time would it be?
    Arg.WORD: "a:b",
    Arg.TARGET: "ok",
}
ALL = sorted(ROUTES.values(), key=lambda r: r.code)


def _ids(route: Route) -> str:
    return route.code


def samples(route: Route) -> Iterator[tuple[object, ...]]:
    """The route's sample values, with each number of optional arguments it may leave out."""
    values = tuple(SAMPLE[kind] for kind in route.args)
    for count in range(route.required, len(route.args) + 1):
        yield values[:count]


def _read(kind: Arg, choice: Callback, index: int) -> object:
    """An argument through the accessors the handlers use."""
    if kind in (Arg.ID, Arg.PAGE, Arg.NUMBER):
        return choice.int_arg(index)
    if kind is Arg.DAY:
        return choice.day_arg(index)
    if kind is Arg.MOMENT:
        return choice.moment_arg(index)
    return choice.args[index]


# The table ----------------------------------------------------------------------------------


def test_every_code_is_unique_and_every_named_route_is_in_the_table() -> None:
    named = [v for v in vars(routes).values() if isinstance(v, Route)]
    assert len({r.code for r in named}) == len(named) == len(ROUTES)
    assert set(named) == set(ROUTES.values())
    assert all(code == route.code for code, route in ROUTES.items())
    groups = (
        routes.PATIENT,
        routes.STAFF,
        routes.RECEPTION,
        routes.ADMIN,
        routes.REPORTING,
        routes.BROADCASTER,
        routes.HEALTH_WORKER,
    )
    assert sum(len(g) for g in groups) == len(ROUTES)  # each route in exactly one mode
    assert all(route.doc for route in ALL)


def test_a_code_defined_twice_is_refused_when_the_table_is_built() -> None:
    with pytest.raises(ValueError, match="'x' is defined twice"):
        routes._table([Route("x", (), "one")], [Route("x", (Arg.ID,), "the other")])
    with pytest.raises(TypeError):
        ROUTES["x"] = Route("x")  # type: ignore[index]


def test_a_route_must_have_a_code_that_fits_callback_data() -> None:
    for bad in ("", "a:b", "ا", "x" * 25):
        with pytest.raises(ValueError, match="not a callback part"):
            Route(bad)
    with pytest.raises(ValueError, match="optional"):
        Route("x", (Arg.ID,), optional=2)


def test_the_wire_codes_stay_as_the_messages_in_chats_carry_them() -> None:
    """A few codes that old messages and the notifier's notices carry, pinned."""
    assert routes.DAYS.code == notice_buttons.DAYS == "days"
    assert routes.CONFIRM.code == notice_buttons.CONFIRM == "ok"
    assert routes.REFERRAL_REJECT_LISTED(12, 0) == "srxr:12:0"
    assert routes.WORKER_BOOKING(5) == "wbk:5"
    assert routes.DAYS("ref", 7, 0) == "days:ref:7:0"
    assert routes.HOLD("ref", 7, 2, datetime(2026, 3, 4, 6, 0, tzinfo=UTC)) == (
        "hold:ref:7:2:202603040930"  # written in Tehran time
    )
    assert routes.WAITLIST_JOIN(3, date(2026, 3, 4)) == "wlj:3:20260304"
    assert routes.STAFF_MENU() == "smenu" and routes.APPOINTMENTS() == "appts"
    assert (routes.PREPARATION_KIND(), routes.PREPARATION_KIND("CT")) == ("pm", "pm:CT")
    assert (routes.ROLES(), routes.ROLES("ar")) == ("sadd", "sadd:ar")


def test_the_notifiers_buttons_are_the_routes_outputs() -> None:
    assert notice_buttons.book_referral(41) == routes.DAYS("ref", 41, 0)
    assert notice_buttons.move_booking(12) == routes.DAYS("bk", 12, 0)
    assert notice_buttons.confirm_hold(93) == routes.CONFIRM(93)


def test_the_mode_tables_are_keyed_by_routes_of_their_mode() -> None:
    staff = [route for _, steps in STAFF_BUTTONS for route in steps]
    assert set(staff) | {routes.STAFF_MENU} == {
        *routes.STAFF,
        *routes.RECEPTION,
        *routes.ADMIN,
        *routes.REPORTING,
        *routes.BROADCASTER,
    }
    assert len(staff) == len(set(staff))
    assert set(WORKER_BUTTONS) == set(routes.HEALTH_WORKER)
    assert set(ANSWERS) <= set(WORKER_BUTTONS)


# Building and reading back ------------------------------------------------------------------


@pytest.mark.parametrize("route", ALL, ids=_ids)
def test_a_route_built_from_its_kinds_reads_back_as_the_same_values(route: Route) -> None:
    for values in samples(route):
        data = route(*values)
        choice = unpack(data)
        assert choice is not None and choice.action == route.code, data
        assert len(choice.args) == len(values)
        read = tuple(_read(kind, choice, i) for i, kind in enumerate(route.args[: len(values)]))
        assert read == values, data
        assert route.parse(data) == values


@pytest.mark.parametrize("route", ALL, ids=_ids)
def test_the_largest_values_still_fit_in_a_button(route: Route) -> None:
    largest: dict[Arg, object] = {
        **SAMPLE,
        Arg.ID: MAX_ID,
        Arg.PAGE: MAX_NUMBER,
        Arg.NUMBER: MAX_NUMBER,
        Arg.WORD: "w" * 10,  # the longest word we send: a language, modality or insurer code
    }
    values = tuple(largest[kind] for kind in route.args)
    assert route.parse(route(*values)) == values


@pytest.mark.parametrize("route", ALL, ids=_ids)
def test_a_wrong_count_of_values_is_refused(route: Route) -> None:
    values = tuple(SAMPLE[kind] for kind in route.args)
    with pytest.raises(TypeError, match=route.code):
        route(*values, 1)
    if route.required:
        with pytest.raises(TypeError, match=route.code):
            route(*values[: route.required - 1])


@pytest.mark.parametrize("route", [r for r in ALL if r.args], ids=_ids)
def test_a_value_of_the_wrong_kind_is_refused(route: Route) -> None:
    values = [SAMPLE[kind] for kind in route.args]
    for i, kind in enumerate(route.args):
        with pytest.raises(TypeError):
            route(*values[:i], WRONG_TYPE[kind], *values[i + 1 :])
        with pytest.raises(ValueError):  # noqa: PT011 (each kind words its own message)
            route(*values[:i], OUT_OF_RANGE[kind], *values[i + 1 :])


def test_a_moment_is_written_in_tehran_time_whatever_its_zone() -> None:
    utc = datetime(2026, 3, 4, 6, 0, tzinfo=UTC)
    data = routes.HOLD("ref", 1, 2, utc)
    assert data.endswith(":202603040930")
    assert routes.HOLD.parse(data) == ("ref", 1, 2, utc)


def test_parse_refuses_what_the_route_never_builds() -> None:
    assert routes.DAYS.parse("days:ref:7") is None  # too few
    assert routes.DAYS.parse("days:ref:7:0:1") is None  # too many
    assert routes.DAYS.parse("days:xx:7:0") is None  # not a target
    assert routes.DAYS.parse("day:ref:7:20260304") is None  # another route
    assert routes.DAY.parse("day:ref:7:20261304") is None  # no such day
    assert routes.CONFIRM.parse(f"ok:{MAX_ID + 1}") is None
    assert routes.CONFIRM.parse(None) is None
    assert routes.WORKER_PATIENTS.parse(f"wlist:{MAX_NUMBER + 1}") is None


def test_paging_presses_the_route_with_the_page() -> None:
    items = [(str(i), routes.PREPARATION_EXAM(i)) for i in range(30)]
    markup = paged(items, 1, routes.PREPARATION_KIND, "CT", more=">", back="<")
    nav = [b.callback_data for row in markup.inline_keyboard for b in row if b.text in "<>"]
    assert nav == ["pm:CT:0", "pm:CT:2"]


# Keyboards and handlers ---------------------------------------------------------------------


@pytest.fixture
async def button_handlers(
    sqlite_env: ClinicEnv, tmp_path: Path
) -> AsyncIterator[list[tuple[int, CallbackQueryHandler[Any, Any]]]]:
    """Every CallbackQueryHandler with a pattern in the real application, with its owner: the
    top-level handler it was registered as (a conversation owns the handlers of its states)."""
    async with offline_bot(sqlite_env, tmp_path / "files") as bot:
        found: list[tuple[int, CallbackQueryHandler[Any, Any]]] = []
        catch_all = 0
        top = [
            h
            for group in sorted(bot.application.handlers)
            for h in bot.application.handlers[group]
        ]
        for owner, handler in enumerate(top):
            for inner in _inner(handler):
                if isinstance(inner, CallbackQueryHandler):
                    if inner.pattern is None:
                        catch_all += 1
                    else:
                        found.append((owner, inner))
        assert catch_all == 1  # the last one, for presses nobody takes (old or forged)
        yield found


def _inner(handler: BaseHandler[Any, Any, Any]) -> list[BaseHandler[Any, Any, Any]]:
    if isinstance(handler, ConversationHandler):
        states = [h for hs in handler.states.values() for h in hs]
        return [*handler.entry_points, *states, *handler.fallbacks]
    return [handler]


def _press(data: str) -> Update:
    user = User(id=9, first_name="کاربر", is_bot=False)
    return Update(1, callback_query=CallbackQuery("1", user, chat_instance="c", data=data))


async def test_every_route_reaches_exactly_one_handler_and_every_handler_a_route(
    button_handlers: list[tuple[int, CallbackQueryHandler[Any, Any]]],
) -> None:
    used: set[int] = set()
    for route in ALL:
        for values in samples(route):
            data = route(*values)
            taken = [i for i, (_, h) in enumerate(button_handlers) if h.check_update(_press(data))]
            owners = {button_handlers[i][0] for i in taken}
            # One registered handler; a conversation may list the same step in two states
            # (the request's modality, offered again beside its exams).
            assert len(owners) == 1, (data, owners)
            assert len({button_handlers[i][1].pattern for i in taken}) == 1, data
            used.update(taken)
    unused = [h.pattern for i, (_, h) in enumerate(button_handlers) if i not in used]
    assert unused == []
