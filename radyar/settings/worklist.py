"""The DICOM Modality Worklist's settings: off unless RADYAR_MWL_PORT names a port."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from radyar.settings.parse import SettingsError, _int

if TYPE_CHECKING:
    from collections.abc import Mapping

# DICOM's AE VR: at most 16 characters of the default repertoire, no backslash; spaces at the
# ends do not count, and a title of spaces only is no title.
_AE_TITLE = re.compile(r"[\x21-\x5b\x5d-\x7e](?:[\x20-\x5b\x5d-\x7e]{0,14}[\x21-\x5b\x5d-\x7e])?")
_HOST_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?", re.ASCII)


@dataclass(frozen=True)
class WorklistSettings:
    """The worklist for a department with no RIS: where it listens, what it calls itself, who
    may ask (calling AE titles; none: any) and the site it serves (HIS name; empty: all).

    ``port`` 0 (the default) is off; 11112 is DICOM's registered port, the usual choice (104
    needs root)."""

    port: int = 0
    host: str = "127.0.0.1"
    ae_title: str = "RADYAR"
    allowed_callers: tuple[str, ...] = ()
    site: str = ""

    @property
    def enabled(self) -> bool:
        """Whether the worklist is served: a port is set."""
        return self.port != 0


def _ae_title(name: str, raw: str) -> str:
    title = raw.strip()
    if not _AE_TITLE.fullmatch(title):
        raise SettingsError(
            f"{name} must be a DICOM AE title: 1 to 16 letters, digits or ASCII signs (no"
            f" backslash), got {raw!r}"
        )
    return title


def _host(raw: str) -> str:
    host = raw.strip() or "127.0.0.1"
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if not _HOST_NAME.fullmatch(host):
            raise SettingsError(
                f"RADYAR_MWL_HOST must be an IP address or a host name, got {raw!r}"
            ) from None
    return host


def _callers(raw: str) -> tuple[str, ...]:
    titles = [
        _ae_title("each of RADYAR_MWL_ALLOWED_CALLERS", part)
        for part in raw.split(",")
        if part.strip()
    ]
    return tuple(dict.fromkeys(titles))


def worklist_settings(env: Mapping[str, str]) -> WorklistSettings:
    """RADYAR_MWL_PORT (0: off, the default), RADYAR_MWL_HOST (127.0.0.1), RADYAR_MWL_AE_TITLE
    (RADYAR), RADYAR_MWL_ALLOWED_CALLERS (AE titles separated by commas; empty: any caller)
    and RADYAR_MWL_SITE (the site's HIS name; empty: every site). Raises SettingsError."""
    return WorklistSettings(
        port=_int(env, "RADYAR_MWL_PORT", 0, 0, 65535),
        host=_host(env.get("RADYAR_MWL_HOST", "")),
        ae_title=_ae_title("RADYAR_MWL_AE_TITLE", env.get("RADYAR_MWL_AE_TITLE") or "RADYAR"),
        allowed_callers=_callers(env.get("RADYAR_MWL_ALLOWED_CALLERS", "")),
        site=env.get("RADYAR_MWL_SITE", "").strip(),
    )
