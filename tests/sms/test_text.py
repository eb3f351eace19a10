"""SMS text rules: segment counting (GSM-7 and UCS-2) and the national-code guard."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from clinic.identity import is_valid_national_code
from notifier.sms.text import ensure_no_national_code, is_gsm7, segments
from tests.sms.conftest import MOBILE, Case

if TYPE_CHECKING:
    from notifier.sms import SmsProvider
    from sandbox.sms import SmsSandbox

NATIONAL_CODE = "0499370899"


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("", 0),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("€" * 80, 1),  # extension characters take two septets
        ("€" * 81, 2),
        ("Your MRI is on 1 Dec at 08:30.", 1),
        ("س" * 70, 1),
        ("س" * 71, 2),
        ("س" * 134, 2),
        ("س" * 135, 3),
        ("نوبت شما فردا ساعت ۸:۳۰ است.", 1),
        ("MRI " + "س" * 66, 1),  # one Persian letter makes the whole text UCS-2
        ("MRI " + "س" * 67, 2),
        ("😀" * 35, 1),  # astral characters take two UTF-16 units
        ("😀" * 36, 2),
    ],
)
def test_segments(text: str, parts: int) -> None:
    assert segments(text) == parts


def test_persian_is_not_gsm7_and_latin_is() -> None:
    assert is_gsm7("Radyar: appointment 08:30 {room 2}")
    assert not is_gsm7("رادیار")


def test_the_example_code_is_a_valid_national_code() -> None:
    assert is_valid_national_code(NATIONAL_CODE)


@pytest.mark.parametrize(
    "text",
    [
        NATIONAL_CODE,
        f"کد ملی {NATIONAL_CODE} ثبت شد",
        "کد ملی ۰۴۹۹۳۷۰۸۹۹",
        "کد ملی ٠٤٩٩٣٧٠٨٩٩",
        "ID 049-937089-9",
        "ID 0499 370 899",
        f"({NATIONAL_CODE})",
    ],
)
def test_a_text_with_a_national_code_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="national code") as caught:
        ensure_no_national_code(text)
    assert NATIONAL_CODE not in str(caught.value)


@pytest.mark.parametrize(
    "text",
    [
        "تماس: 09121234567",
        "0912 123 4567",
        "0499370898",  # wrong check digit
        "1111111111",  # repeated digits pass the checksum but are never issued
        "04993708991",  # 11 digits
        "نوبت ۱۴۰۵/۰۹/۰۸ ساعت ۰۸:۳۰، کد پذیرش 48213",
        "amount 1,200,000 rials",
    ],
)
def test_a_text_without_a_national_code_passes(text: str) -> None:
    ensure_no_national_code(text)


async def test_providers_refuse_a_national_code_before_sending(
    case: Case, provider: SmsProvider, sandbox: SmsSandbox
) -> None:
    with pytest.raises(ValueError, match="national code"):
        await provider.send(MOBILE, f"کد ملی {NATIONAL_CODE}", idempotency_key="k")
    params = {"date": NATIONAL_CODE, "time": "08:30"}
    with pytest.raises(ValueError, match="national code"):
        await provider.send_template(MOBILE, "reminder", params, idempotency_key="k")
    assert sandbox.requests() == []
