"""The Persian catalogue covers every string in the code and keeps its placeholders."""

from __future__ import annotations

import gettext
import re
import string
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from clinic.errors import HoldExpired, InvalidNationalCode

ROOT = Path(__file__).resolve().parents[2]
FA_PO = ROOT / "locales" / "fa" / "LC_MESSAGES" / "messages.po"
SOURCE_DIRS = ("clinic", "radyar", "bot", "notifier")  # as in babel.cfg
# pybabel's defaults (gettext, ngettext, ...) plus the project's N_ and _, as scripts/i18n.sh does.
KEYWORDS = {**DEFAULT_KEYWORDS, "N_": None, "_": None}
PERSIAN_LETTER = re.compile(r"[\u0600-\u06FF]")


def code_msgids() -> set[str]:
    """Every msgid marked with N_() or _() in the packages, as ``scripts/i18n.sh`` extracts."""
    found: set[str] = set()
    for name in SOURCE_DIRS:
        folder = ROOT / name
        if not folder.is_dir():
            continue
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(folder), method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            msgid = message if isinstance(message, str) else message[0]
            if msgid:
                found.add(msgid)
    return found


def load_fa() -> Catalog:
    with FA_PO.open("rb") as f:
        return read_po(f, locale="fa")


def translations(message: Message) -> tuple[str, ...]:
    """The msgstr, or each plural form's."""
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    return tuple(str(s) for s in strings)


def source(message: Message) -> str:
    """The English text a translation must match: the plural form for ngettext msgids."""
    return str(message.id[-1] if isinstance(message.id, tuple) else message.id)


def placeholders(text: str) -> set[str]:
    """``{name}`` fields of a str.format template (``{a.b}``, ``{a[0]}`` count as ``a``)."""
    return {
        re.split(r"[.\[]", field)[0]
        for _literal, field, _spec, _conversion in string.Formatter().parse(text)
        if field is not None
    }


def test_code_has_msgids() -> None:
    assert len(code_msgids()) > 20


def test_every_msgid_has_a_persian_translation() -> None:
    catalog = load_fa()
    problems = []
    for msgid in sorted(code_msgids()):
        message = catalog.get(msgid)
        if message is None:
            problems.append(f"missing: {msgid}")
        elif not all(translations(message)):
            problems.append(f"untranslated: {msgid}")
        elif message.fuzzy:
            problems.append(f"fuzzy: {msgid}")
    assert not problems, "run scripts/i18n.sh and translate:\n" + "\n".join(problems)


def test_persian_keeps_the_placeholders() -> None:
    wrong = [
        f"{source(message)!r}: {text!r}"
        for message in load_fa()
        if message.id
        for text in translations(message)
        if text and placeholders(text) != placeholders(source(message))
    ]
    assert not wrong, "\n".join(wrong)


def test_persian_translations_are_persian() -> None:
    latin_only = [
        source(message)
        for message in load_fa()
        if message.id
        for text in translations(message)
        if text and not PERSIAN_LETTER.search(text)
    ]
    assert not latin_only


@pytest.fixture
def fa(tmp_path: Path) -> gettext.NullTranslations:
    mo = tmp_path / "fa" / "LC_MESSAGES" / "messages.mo"
    mo.parent.mkdir(parents=True)
    with mo.open("wb") as f:
        write_mo(f, load_fa())
    return gettext.translation("messages", tmp_path, languages=["fa"])


def test_typed_error_renders_in_persian(fa: gettext.NullTranslations) -> None:
    text = InvalidNationalCode().render(fa.gettext)
    assert PERSIAN_LETTER.search(text)
    assert text != InvalidNationalCode.message


def test_placeholders_are_filled_after_translation(fa: gettext.NullTranslations) -> None:
    text = HoldExpired(minutes=10).render(fa.gettext)
    assert PERSIAN_LETTER.search(text)
    assert "10" in text
    assert "{" not in text
