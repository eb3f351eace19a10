"""Names as typed (review finding L6): format characters such as bidi overrides are removed
(the ZWNJ of Persian spelling kept), and what a chat app would show as a link or a mention is
refused, in registration and wherever a patient's name is checked."""

from __future__ import annotations

import pytest

from clinic.errors import InvalidInput
from clinic.patients import NAME_ERRORS, PatientDetails, parse_name, validated
from tests.conftest import START

REFUSAL = NAME_ERRORS["first"]


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("\u202eمریم", "مریم"),  # right-to-left override
        ("علی\u200f", "علی"),  # right-to-left mark
        ("\u2066زهرا\u2069", "زهرا"),  # isolates
        ("\ufeffحسن\u200b", "حسن"),  # a byte-order mark and a zero-width space
        ("عبدالله\u200cزاده", "عبدالله\u200cزاده"),  # the ZWNJ is spelling: kept
        ("  فاطمه   \u200e زهرا ", "فاطمه زهرا"),
        ("كريمي", "کریمی"),  # Arabic letter forms as elsewhere
    ],
)
def test_format_characters_are_removed_and_the_zwnj_kept(typed: str, kept: str) -> None:
    assert parse_name(typed, REFUSAL) == kept


@pytest.mark.parametrize(
    "typed",
    ["@admin", "ali@example", "https://evil.example", "WWW.EXAMPLE.COM", "t.me://x", "\u202e",
     "علی2", "ز" * 81, "  "],
)  # fmt: skip
def test_links_mentions_digits_and_nothing_are_refused(typed: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_name(typed, REFUSAL)
    assert refused.value.message == REFUSAL


def test_registration_checks_names_the_same_way() -> None:
    details = PatientDetails(
        "0499370899", "09121234567", "\u202eمریم", "@karimi", "1370", "female"
    )
    with pytest.raises(InvalidInput) as refused:
        validated(details, START)
    assert refused.value.message == NAME_ERRORS["last"]
    fixed = PatientDetails("0499370899", "09121234567", "\u202eمریم", "کریمی", "1370", "female")
    assert validated(fixed, START)["first_name"] == "مریم"
