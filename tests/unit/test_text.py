"""What users type in Persian or Arabic script reaches validation as plain ASCII and Farsi."""

from __future__ import annotations

import pytest

from clinic.text import digits_only, normalize_digits, normalize_text, to_persian_digits


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("۰۱۲۳۴۵۶۷۸۹", "0123456789"),
        ("٠١٢٣٤٥٦٧٨٩", "0123456789"),
        ("۱۴۰۳/۱۲/۳۰", "1403/12/30"),
        ("٠٩١٢ 345 ۶۷۸۹", "0912 345 6789"),
        ("no digits", "no digits"),
    ],
)
def test_persian_and_arabic_digits_become_ascii(raw: str, expected: str) -> None:
    assert normalize_digits(raw) == expected


def test_normalised_digits_pass_ascii_only_checks() -> None:
    # "۱۲".isdigit() is True, so the result must really be ASCII.
    assert normalize_digits("۱۲").isascii()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("علي", "علی"),  # Arabic Yeh
        ("موسى", "موسی"),  # Alef Maksura
        ("كاظم", "کاظم"),  # Arabic Kaf
        ("مـــحمد", "محمد"),  # tatweel
        ("  زهرا    \t رضایی \n", "زهرا رضایی"),
        ("سه\u200cشنبه", "سه\u200cشنبه"),  # ZWNJ kept
        ("پلاک ۱۲", "پلاک 12"),
    ],
)
def test_text_is_normalised_to_persian_letters(raw: str, expected: str) -> None:
    assert normalize_text(raw) == expected


def test_persian_digits_for_output() -> None:
    assert to_persian_digits("14:30 on 1403/12/30") == "۱۴:۳۰ on ۱۴۰۳/۱۲/۳۰"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0499370899", "0499370899"),
        (" ۰۴۹۹-۳۷۰-۸۹۹ ", "0499370899"),
        ("٠٤٩٩ ٣٧٠ ٨٩٩", "0499370899"),
    ],
)
def test_digits_only_keeps_digits_and_drops_separators(raw: str, expected: str) -> None:
    assert digits_only(raw) == expected


@pytest.mark.parametrize("raw", ["", "   ", "- -", "049a370899", "049.937.0899", "049/9"])
def test_digits_only_rejects_anything_else(raw: str) -> None:
    assert digits_only(raw) is None


def test_digits_only_separators_are_configurable() -> None:
    assert digits_only("(0912) 345", allowed_separators=" ()") == "0912345"
    assert digits_only("0912-345", allowed_separators=" ") is None
