"""Checks that the gettext catalogues match the code: every marked string is in the template and
in each language, Persian complete, not fuzzy, with the placeholders of its English msgid.

``python -m clinic.i18n_check`` (``scripts/i18n.sh check``, run by ``./run.sh test``) prints the
problems and exits 1; the tests call ``problems()``.
"""

from __future__ import annotations

import re
import string
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

from clinic.i18n import DOMAIN, locale_dir

if TYPE_CHECKING:
    from babel.messages.catalog import Catalog, Message

ROOT = Path(__file__).resolve().parents[1]
SOURCE_DIRS = ("clinic", "radyar", "bot", "notifier")  # as in babel.cfg
# pybabel's defaults (gettext, ngettext, ...) plus the project's N_ and _, as scripts/i18n.sh does.
KEYWORDS = {**DEFAULT_KEYWORDS, "N_": None, "_": None}


def code_msgids(root: Path = ROOT) -> set[str]:
    """Every msgid marked with N_(), _() or gettext's functions in the packages under ``root``."""
    found: set[str] = set()
    for name in SOURCE_DIRS:
        folder = root / name
        if not folder.is_dir():
            continue
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(folder), method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            msgid = message if isinstance(message, str) else message[0]
            if msgid:
                found.add(msgid)
    return found


def load(path: Path, locale: str | None = None) -> Catalog:
    """A .po or .pot file."""
    with path.open("rb") as f:
        return read_po(f, locale=locale)


def msgid_of(message: Message) -> str:
    """The msgid (the singular one for ngettext messages)."""
    return str(message.id if isinstance(message.id, str) else message.id[0])


def translations(message: Message) -> tuple[str, ...]:
    """The msgstr, or each plural form's."""
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    return tuple(str(s) for s in strings)


def source(message: Message) -> str:
    """The English text a translation must match: the plural form for ngettext msgids."""
    return str(message.id[-1] if isinstance(message.id, tuple) else message.id)


def placeholders(text: str) -> set[str] | None:
    """``{name}`` fields of a str.format template (``{a.b}``, ``{a[0]}`` count as ``a``); None
    when the braces are malformed."""
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError:
        return None
    return {re.split(r"[.\[]", field)[0] for _, field, _, _ in parsed if field is not None}


def problems(root: Path = ROOT, locales: Path | None = None) -> list[str]:
    """Everything wrong with the catalogues under ``locales`` for the code under ``root``."""
    folder = locales or locale_dir()
    pot_path = folder / f"{DOMAIN}.pot"
    paths = {lang: folder / lang / "LC_MESSAGES" / f"{DOMAIN}.po" for lang in ("fa", "en")}
    missing = [str(p) for p in (pot_path, *paths.values()) if not p.is_file()]
    if missing:
        return [f"missing: {p} (run scripts/i18n.sh)" for p in missing]
    code = code_msgids(root)
    pot = {msgid_of(m) for m in load(pot_path) if m.id}
    found = [f"not in {pot_path.name}: {m!r}" for m in sorted(code - pot)]
    found += [f"in {pot_path.name} but no longer in the code: {m!r}" for m in sorted(pot - code)]
    fa = load(paths["fa"], "fa")
    for msgid in sorted(code):
        message = fa.get(msgid)
        if message is None:
            found.append(f"fa: missing: {msgid!r}")
        elif not all(translations(message)):
            found.append(f"fa: untranslated: {msgid!r}")
        elif message.fuzzy:
            found.append(f"fa: fuzzy (review it, then remove the fuzzy flag): {msgid!r}")
        elif any(placeholders(t) != placeholders(source(message)) for t in translations(message)):
            found.append(f"fa: placeholders differ from the msgid: {msgid!r}")
    english = {msgid_of(m) for m in load(paths["en"], "en") if m.id}
    found += [f"en: missing: {m!r}" for m in sorted(code - english)]
    return found


def main() -> int:
    """Print the problems; 1 if there are any."""
    found = problems()
    if found:
        print("i18n check failed:", *found, sep="\n  ", file=sys.stderr)  # noqa: T201
        print(  # noqa: T201
            "Run scripts/i18n.sh (extract + update + compile), then translate every empty or "
            "fuzzy msgstr in the Persian catalogue.",
            file=sys.stderr,
        )
        return 1
    print(f"i18n check: {len(code_msgids())} msgids, catalogues up to date, Persian complete")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
