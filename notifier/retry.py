"""When a failed delivery is tried again (claiming due rows is ``clinic.outbox_store``)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

BASE_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(hours=1)
_JITTER = random.Random()


def backoff(attempts: int, now: datetime, rng: random.Random | None = None) -> datetime:
    """When to try again after ``attempts`` failures: doubling from 30 s, at most an hour,
    with jitter (between half and all of the delay) so retries do not arrive together."""
    delay = min(BASE_DELAY * (1 << min(max(attempts - 1, 0), 20)), MAX_DELAY)
    factor = (rng or _JITTER).uniform(0.5, 1.0)
    return now + delay * factor
