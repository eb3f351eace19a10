"""The log check every notifier test runs under (conftest.py) finds what it should."""

from __future__ import annotations

import logging

from radyar.cli import quiet_libraries
from tests.notifier.conftest import (
    Capture,
    Line,
    World,
    find_leaks,
    mobile_forms,
    name_forms,
    text_forms,
)

TEST = "tests/notifier/x.py::t"


def _line(text: str, logger: str = "notifier.delivery") -> Line:
    return Line(logger, "INFO", "delivery.py:1", text)


def test_a_mobile_is_found_in_each_form_and_never_shown() -> None:
    values = list(mobile_forms("09121234567"))
    for logged in ("to 09121234567", "to 989121234567", "to +989121234567", "to ۰۹۱۲۱۲۳۴۵۶۷"):
        leaks = find_leaks(TEST, [_line(logged)], values)
        assert leaks, logged
        assert all("1234567" not in leak for leak in leaks)
        assert "'notifier.delivery'" in leaks[0]
        assert TEST in leaks[0]
    assert find_leaks(TEST, [_line("to 952f5ce636")], values) == []


def test_texts_are_found_as_repr_json_and_url_and_line_by_line() -> None:
    text = "نوبت شما ثبت شد: سی‌تی‌اسکن\nکد نوبت: ۷۲۳۷۵۸۹"
    values = list(text_forms("SMS text", text))
    for logged in (
        f"params {{'text': {text!r}}}",
        '{"message": "\\u0646\\u0648\\u0628\\u062a ' + text[4:].encode("unicode_escape").decode(),
        "message=%DA%A9%D8%AF%20%D9%86%D9%88%D8%A8%D8%AA%3A%20%DB%B7%DB%B2%DB%B3%DB%B7%DB%B5%DB%B8%DB%B9",
        "second line only: کد نوبت: ۷۲۳۷۵۸۹",
    ):
        assert find_leaks(TEST, [_line(logged)], values), logged


def test_short_names_are_not_matched_by_chance() -> None:
    values = [*name_forms("patient first name", "علی"), *name_forms("patient last name", "رضایی")]
    assert find_leaks(TEST, [_line("علی")], values) == []
    assert find_leaks(TEST, [_line("x رضایی")], values)


def test_an_exception_text_is_checked_too() -> None:
    capture = Capture()
    logger = logging.getLogger("tests.logcheck")
    logger.addHandler(capture)
    logger.propagate = False
    try:
        try:
            raise ValueError("bad national code 0499370899")
        except ValueError:
            logger.exception("failed")
    finally:
        logger.removeHandler(capture)
        logger.propagate = True
    leaks = find_leaks(TEST, capture.lines, [("patient national code", "0499370899")])
    assert leaks == [
        f"{TEST}: logger 'tests.logcheck' (ERROR, {capture.lines[0].where}): patient national code"
    ]


async def test_the_capture_sees_debug_records_of_every_logger(
    world: World, no_personal_data_in_logs: Capture
) -> None:
    from tests.notifier.test_status import _notice_for_patient

    await _notice_for_patient(world, chat_user=7100)
    loggers = {line.logger for line in no_personal_data_in_logs.lines}
    assert {"notifier.delivery", "sandbox.botapi", "sandbox.sms"} <= loggers
    assert logging.getLogger("notifier").isEnabledFor(logging.DEBUG)
    assert logging.getLogger("aiohttp.client").isEnabledFor(logging.DEBUG)
    assert not logging.getLogger("httpx").isEnabledFor(logging.INFO)  # as in production


def test_the_product_keeps_telegram_request_logging_off() -> None:
    bot = logging.getLogger("telegram.Bot")
    saved = bot.level
    bot.setLevel(logging.NOTSET)
    try:
        quiet_libraries("DEBUG")
        assert not bot.isEnabledFor(logging.DEBUG)
    finally:
        bot.setLevel(saved)
