"""Reading a patient's one-digit SMS answer: Persian, Arabic or ASCII digits, or the words."""

from __future__ import annotations

import unicodedata
from enum import StrEnum

from clinic.text import normalize_text


class Answer(StrEnum):
    """What a reply to a reminder or an offer says: 1 (coming, take it) or 2 (cancel, no)."""

    YES = "yes"
    NO = "no"


# Words as ``_words`` leaves them: no zero-width non-joiner, آ/أ/إ as ا, no punctuation. So
# "می‌آیم", "می آیم" and "میایم" are one word; common misspellings are listed as they come.
YES_WORDS = frozenset(
    {
        "1",
        "بله",
        "بلی",
        "اره",
        "اری",
        "میام",
        "میایم",
        "میاییم",
        "میرسم",
        "حتما",
        "باشه",
        "قبول",
        "قبوله",
        "قبولمیکنم",
        "موافقم",
        "تایید",
        "yes",
        "y",
        "ok",
        "okay",
        "اوکی",
    }
)
NO_WORDS = frozenset(
    {
        "2",
        "خیر",
        "نه",
        "نخیر",
        "لغو",
        "لغوکنید",
        "لغوکن",
        "کنسل",
        "کنسله",
        "کنسلکنید",
        "کنسلکن",
        "نمیام",
        "نمیایم",
        "نمیتونم",
        "نمیتوانم",
        "نمیخوام",
        "نمیخواهم",
        "انصراف",
        "no",
        "n",
        "cancel",
    }
)
# Said around an answer and ignored: "سلام، بله ممنون" is a yes.
COURTESY = frozenset(
    {
        "سلام",
        "باسلام",
        "ممنون",
        "ممنونم",
        "مرسی",
        "متشکرم",
        "تشکر",
        "سپاس",
        "خیلی",
        "بسیار",
        "بخیر",
        "لطفا",
        "خواهشا",
        "thanks",
        "thank",
        "you",
        "please",
        "hi",
        "hello",
    }
)
_LETTERS = str.maketrans({"آ": "ا", "أ": "ا", "إ": "ا", "ة": "ه", "ۀ": "ه", "\u200c": None})


def _words(text: str) -> list[str]:
    """The reply's words, normalised, without punctuation, emoji or courtesy words."""
    text = normalize_text(text).lower().translate(_LETTERS)
    kept = "".join(
        ch if unicodedata.category(ch)[0] in "LN" or ch.isspace() else " " for ch in text
    )
    return [word for word in kept.split() if word not in COURTESY]


def parse_answer(text: str) -> Answer | None:
    """YES for 1, ۱, ١, بله, آره, میام, می‌آیم …; NO for 2, ۲, ٢, خیر, نه, لغو, کنسل …;
    None for anything else (a question, both answers, another number)."""
    words = _words(text)
    if not words:
        return None
    if len(words) > 1:  # "می آیم" is one word written as two
        joined = _answer("".join(words))
        if joined is not None:
            return joined
    answers = {_answer(word) for word in words}
    return answers.pop() if len(answers) == 1 else None


def _answer(word: str) -> Answer | None:
    if word in YES_WORDS:
        return Answer.YES
    if word in NO_WORDS:
        return Answer.NO
    return None


def parse_choice(text: str, count: int) -> int | None:
    """The number 1 … ``count`` a reply chose (Persian or Arabic digits too), else None."""
    words = _words(text)
    if len(words) != 1 or not words[0].isascii() or not words[0].isdigit():
        return None
    number = int(words[0])
    return number if 1 <= number <= count else None


def says_nothing(text: str) -> bool:
    """True for a reply with nothing to act on or help with: only thanks or greetings, emoji,
    punctuation, or nothing at all ("ممنون", "🙏", "سلام!")."""
    return not _words(text)
