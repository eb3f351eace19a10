"""Reading a one-digit SMS answer: digits in any script, the words people write, nothing else."""

from __future__ import annotations

import pytest

from clinic.sms_answers import Answer, parse_answer, parse_choice, says_nothing

YES = ["1", "۱", "١", " ۱. ", "بله", "بلی", "آره", "اره", "میام", "می‌آیم", "می آیم", "میایم",
       "مي‌آيم", "سلام، بله ممنون", "بله میام", "باشه", "قبول", "Yes", "ok!", "۱🙏"]  # fmt: skip
NO = ["2", "۲", "٢", "خیر", "نه", "نه ممنون", "لغو", "لغو کنید", "کنسل", "كنسل", "نمی‌آیم",
      "نمیام", "No", "cancel", "انصراف"]  # fmt: skip
NEITHER = ["", "   ", "3", "12", "1 2", "بله نه", "ساعت چند؟", "سلام", "ممنون", "1403", "?"]


@pytest.mark.parametrize("text", YES)
def test_yes_in_digits_and_words(text: str) -> None:
    assert parse_answer(text) is Answer.YES


@pytest.mark.parametrize("text", NO)
def test_no_in_digits_and_words(text: str) -> None:
    assert parse_answer(text) is Answer.NO


@pytest.mark.parametrize("text", NEITHER)
def test_anything_else_is_no_answer(text: str) -> None:
    assert parse_answer(text) is None


@pytest.mark.parametrize(
    ("text", "count", "chosen"),
    [("۲", 2, 2), ("١", 3, 1), ("3 ممنون", 3, 3), ("۳", 2, None), ("0", 2, None),
     ("بله", 2, None), ("1 2", 2, None), ("۱۲", 12, 12)],
)  # fmt: skip
def test_a_choice_is_one_number_of_the_list(text: str, count: int, chosen: int | None) -> None:
    assert parse_choice(text, count) == chosen


@pytest.mark.parametrize(
    ("text", "nothing"),
    [("ممنون", True), ("سلام، مرسی 🙏", True), ("👍", True), ("", True), ("بله", False),
     ("ساعت چند؟", False), ("3", False)],
)  # fmt: skip
def test_thanks_and_emoji_say_nothing_to_answer(text: str, nothing: bool) -> None:
    assert says_nothing(text) is nothing
