"""The buttons the notifier puts under a notice are the ones the bot routes: each press reaches
the booking step it names, with the ids the notice carried."""

from __future__ import annotations

from typing import Any

import pytest
from telegram import CallbackQuery, Update, User

from bot.callbacks import MAX_BYTES, unpack
from bot.handlers.booking import booking_handlers, confirm_pressed, days_pressed
from clinic.outbox import Notice
from notifier.render import buttons

CASES = [
    pytest.param(Notice.REFERRAL_APPROVED, {"referral_id": 41}, days_pressed, ("ref", "41", "0")),
    pytest.param(Notice.CLOSURE_CANCELLED, {"referral_id": 7}, days_pressed, ("ref", "7", "0")),
    pytest.param(Notice.WAITLIST_OFFER, {"booking_id": 93}, confirm_pressed, ("93",)),
    pytest.param(Notice.CLOSURE_MOVED, {"booking_id": 12}, days_pressed, ("bk", "12", "0")),
    pytest.param(Notice.BOOKING_CONFIRMED, {"booking_id": 5}, days_pressed, ("bk", "5", "0")),
]


def press(data: str) -> Update:
    user = User(id=9, first_name="بیمار", is_bot=False)
    return Update(1, callback_query=CallbackQuery("1", user, chat_instance="c", data=data))


@pytest.mark.parametrize(("kind", "params", "step", "args"), CASES)
def test_a_notice_button_reaches_the_step_it_names(
    kind: Notice, params: dict[str, Any], step: Any, args: tuple[str, ...]
) -> None:
    (label, data), *more = buttons(kind, params, lambda text: text)
    assert not more and label
    assert len(data.encode()) <= MAX_BYTES
    taken = [h for h in booking_handlers() if h.check_update(press(data))]
    assert [h.callback for h in taken] == [step]
    parsed = unpack(data)
    assert parsed is not None
    assert parsed.args == args


def test_notices_without_an_action_carry_no_buttons() -> None:
    for kind in (Notice.REFERRAL_REJECTED, Notice.REPORT_READY):
        assert buttons(kind, {"referral_id": 1, "booking_id": 2}, lambda text: text) == []
