"""The department's rules: account linking, what one patient may keep at once, and the
department's own details (name, address…)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from clinic.policy import Department, LinkRules
from radyar.settings.parse import SettingsError, _int

if TYPE_CHECKING:
    from collections.abc import Mapping


def _link(env: Mapping[str, str]) -> LinkRules:
    key = env.get("RADYAR_LINK_CODE_KEY", "")
    if key and len(key) < 16:
        raise SettingsError("RADYAR_LINK_CODE_KEY must be at least 16 characters")
    return LinkRules(
        code_lifetime=timedelta(hours=_int(env, "RADYAR_LINK_CODE_HOURS", 24, 1, 168)),
        account_failures=_int(env, "RADYAR_LINK_MAX_FAILURES", 5, 1, 100),
        window=timedelta(minutes=_int(env, "RADYAR_LINK_WINDOW_MINUTES", 60, 1, 1440)),
        lockout=timedelta(minutes=_int(env, "RADYAR_LINK_LOCKOUT_MINUTES", 60, 1, 10080)),
        code_failures=_int(env, "RADYAR_LINK_CODE_MAX_FAILURES", 3, 1, 20),
        global_failures=_int(env, "RADYAR_LINK_GLOBAL_FAILURES", 50, 0, 100000),
        key=key.encode(),
    )


def _caps(env: Mapping[str, str]) -> dict[str, int]:
    """What one patient may keep at once (no hoarding); a per-exam cap is within the overall."""
    caps = {
        "max_open_referrals_per_exam": _int(env, "RADYAR_MAX_OPEN_REFERRALS_PER_EXAM", 1, 1, 50),
        "max_open_referrals": _int(env, "RADYAR_MAX_OPEN_REFERRALS", 3, 1, 50),
        "max_future_bookings_per_exam": _int(env, "RADYAR_MAX_FUTURE_BOOKINGS_PER_EXAM", 1, 1, 50),
        "max_future_bookings": _int(env, "RADYAR_MAX_FUTURE_BOOKINGS", 3, 1, 50),
        "repeat_review_days": _int(env, "RADYAR_REPEAT_REFERRAL_REVIEW_DAYS", 7, 0, 365),
        "no_show_limit": _int(env, "RADYAR_NO_SHOW_LIMIT", 2, 0, 100),
    }
    for kind in ("OPEN_REFERRALS", "FUTURE_BOOKINGS"):
        per_exam, overall = caps[f"max_{kind.lower()}_per_exam"], caps[f"max_{kind.lower()}"]
        if per_exam > overall:
            raise SettingsError(
                f"RADYAR_MAX_{kind}_PER_EXAM ({per_exam}) must not be more than "
                f"RADYAR_MAX_{kind} ({overall})"
            )
    return caps


def _department(env: Mapping[str, str]) -> Department:
    defaults = Department()
    values = {
        name: env.get(f"RADYAR_DEPARTMENT_{name.upper()}") or getattr(defaults, name)
        for name in defaults.__dataclass_fields__
    }
    return Department(**values)
