"""National codes and mobile numbers as patients type them are accepted or refused."""

from __future__ import annotations

import pytest

from clinic.errors import InvalidMobile, InvalidNationalCode
from clinic.identity import (
    is_valid_national_code,
    mask_mobile,
    mask_national_code,
    parse_mobile,
    parse_national_code,
)
from clinic.text import to_persian_digits

VALID_CODES = [
    "0499370899",
    "0790419904",
    "0084575948",
    "0963695398",
    "0684159414",
    "0067749828",
    "0650451252",
    "1583250689",
    "4032152314",
    "0076229645",
    "4271467685",
    "4400276201",
    "2540201288",
]
REPEATED_CODES = [str(digit) * 10 for digit in range(10)]


@pytest.mark.parametrize("code", VALID_CODES)
def test_valid_national_codes_are_accepted(code: str) -> None:
    assert is_valid_national_code(code)
    assert parse_national_code(code) == code


@pytest.mark.parametrize(
    "code",
    ["0684159415", "1234567890", "12345678", "0010000000", *REPEATED_CODES],
)
def test_invalid_national_codes_are_refused(code: str) -> None:
    assert not is_valid_national_code(code)
    with pytest.raises(InvalidNationalCode):
        parse_national_code(code)


def test_repeated_digit_codes_pass_the_checksum_yet_are_refused() -> None:
    # Guards the explicit rule: without it these would slip through.
    for code in REPEATED_CODES:
        remainder = sum(int(code[i]) * (10 - i) for i in range(9)) % 11
        check = int(code[9])
        assert check == (remainder if remainder < 2 else 11 - remainder)
        assert not is_valid_national_code(code)


def test_validator_refuses_persian_digits_it_was_not_given_normalised() -> None:
    assert not is_valid_national_code(to_persian_digits("0499370899"))


@pytest.mark.parametrize(
    "raw",
    [
        "۰۴۹۹۳۷۰۸۹۹",
        "٠٤٩٩٣٧٠٨٩٩",
        "  0499370899  ",
        "049-937089-9",
        "۰۴۹ ۹۳۷ ۰۸۹۹",
    ],
)
def test_national_code_typed_in_persian_or_with_separators(raw: str) -> None:
    assert parse_national_code(raw) == "0499370899"


@pytest.mark.parametrize(
    "raw",
    ["", "abc", "68415941", "787833770", "04993708990", "0499.370.899", "0499370899x"],
)
def test_national_code_must_be_exactly_ten_digits(raw: str) -> None:
    # Short legacy forms are valid when zero padded, but a user must type all ten digits.
    with pytest.raises(InvalidNationalCode):
        parse_national_code(raw)


@pytest.mark.parametrize(
    "raw",
    [
        "09123456789",
        "9123456789",
        "+989123456789",
        "+98 912 345 6789",
        "(+98) 912-345-6789",
        "989123456789",
        "00989123456789",
        "0098 912 345 6789",
        "۰۹۱۲۳۴۵۶۷۸۹",
        "٠٩١٢٣٤٥٦٧٨٩",
        "+۹۸۹۱۲۳۴۵۶۷۸۹",
        "0912-345-6789",
        "(0912) 345 6789",
        " 0912 345 6789 ",
    ],
)
def test_mobile_forms_become_canonical(raw: str) -> None:
    assert parse_mobile(raw) == "09123456789"


def test_unknown_operator_prefix_is_accepted() -> None:
    assert parse_mobile("09701234567") == "09701234567"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "abc",
        "0812345678",
        "02112345678",
        "091234567890",
        "0912345678",
        "+19123456789",
        "+0989123456789",
        "0912+3456789",
        "0912.345.6789",
        "09123456789 ext",
    ],
)
def test_bad_mobiles_are_refused(raw: str) -> None:
    with pytest.raises(InvalidMobile):
        parse_mobile(raw)


def test_masks_hide_the_middle_for_staff_screens() -> None:
    assert mask_mobile("09123456789") == "0912***6789"
    assert mask_national_code("0499370899") == "049***0899"
