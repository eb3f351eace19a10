"""The Persian catalogue covers every string in the code and keeps its placeholders."""

from __future__ import annotations

import gettext
import re
from typing import TYPE_CHECKING

import pytest
from babel.messages.mofile import write_mo

from clinic.errors import HoldExpired, InvalidNationalCode
from clinic.i18n import locale_dir
from clinic.i18n_check import (
    ROOT,
    load,
    placeholders,
    problems,
    source,
    translations,
)

if TYPE_CHECKING:
    from pathlib import Path

    from babel.messages.catalog import Catalog

FA_PO = locale_dir() / "fa" / "LC_MESSAGES" / "messages.po"
PERSIAN_LETTER = re.compile(r"[\u0600-\u06FF]")


def load_fa() -> Catalog:
    return load(FA_PO, "fa")


def test_the_catalogues_match_the_code() -> None:
    assert problems() == []


def test_the_check_finds_a_string_missing_from_the_catalogues(tmp_path: Path) -> None:
    package = tmp_path / "bot"
    package.mkdir()
    (package / "new.py").write_text('N_("A sentence nobody translated yet.")\n', encoding="utf-8")
    for name in ("clinic", "radyar", "notifier"):
        (tmp_path / name).symlink_to(ROOT / name)
    found = problems(tmp_path)
    assert "not in messages.pot: 'A sentence nobody translated yet.'" in found
    assert "fa: missing: 'A sentence nobody translated yet.'" in found
    assert "en: missing: 'A sentence nobody translated yet.'" in found
    # Everything the real bot/ marks is now "no longer in the code": the check compares both ways.
    assert any("but no longer in the code" in p for p in found)


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
