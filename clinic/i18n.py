"""Gettext catalogues from ``locales/``, loaded once per language; English msgids."""

from __future__ import annotations

import gettext
import os
from functools import lru_cache
from pathlib import Path

DOMAIN = "messages"
LANGUAGES = ("fa", "en")
DEFAULT_LANGUAGE = "fa"


def N_(message: str) -> str:  # noqa: N802  (gettext's marker name; pybabel extracts -k N_)
    """Mark a string for extraction without translating it now (translated where shown)."""
    return message


def locale_dir() -> Path:
    """``RADYAR_LOCALE_DIR``, else the ``locales/`` folder beside the packages (a source
    checkout), else ``clinic/locales/`` (an installed wheel, where setup.py compiled them)."""
    configured = os.environ.get("RADYAR_LOCALE_DIR")
    if configured:
        return Path(configured)
    checkout = Path(__file__).resolve().parents[1] / "locales"
    return checkout if checkout.is_dir() else Path(__file__).resolve().parent / "locales"


def missing_catalogue() -> str | None:
    """Why the Persian catalogue cannot be loaded, or None when it can.

    Without it every patient would silently be answered in English.
    """
    if gettext.find(DOMAIN, locale_dir(), languages=[DEFAULT_LANGUAGE]) is not None:
        return None
    return (
        f"the Persian catalogue ({DEFAULT_LANGUAGE}/LC_MESSAGES/{DOMAIN}.mo) is not in "
        f"{locale_dir()}: compile it with scripts/i18n.sh compile (./run.sh does), install "
        "from a wheel (which carries it), or point RADYAR_LOCALE_DIR at the folder"
    )


@lru_cache(maxsize=len(LANGUAGES))
def translator(language: str) -> gettext.NullTranslations:
    """The catalogue for ``language``; unknown languages and missing files fall back to English."""
    if language not in LANGUAGES:
        language = DEFAULT_LANGUAGE
    return gettext.translation(DOMAIN, locale_dir(), languages=[language], fallback=True)


def pick_language(saved: str | None, client: str | None) -> str:
    """The patient's saved choice, then the chat client's language, then Persian."""
    for candidate in (saved, (client or "")[:2].lower()):
        if candidate in LANGUAGES:
            return candidate
    return DEFAULT_LANGUAGE
