"""Gettext catalogues from ``locales/``, loaded once per language; English msgids."""

from __future__ import annotations

import gettext
import os
from functools import lru_cache
from pathlib import Path

DOMAIN = "messages"
LANGUAGES = ("fa", "en")
DEFAULT_LANGUAGE = "fa"


def locale_dir() -> Path:
    """``RADYAR_LOCALE_DIR``, else the ``locales/`` folder beside the packages."""
    configured = os.environ.get("RADYAR_LOCALE_DIR")
    return Path(configured) if configured else Path(__file__).resolve().parents[1] / "locales"


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
