"""Places kept back on a device (``kept_back`` in the department file): for walk-ins, inpatients
or urgent cases. Bookings made for another purpose (a patient in chat, a health worker, an
ordinary desk booking) leave them free: per slot, the last places of every slot; per day, the
last places of the device's day."""

from __future__ import annotations

from typing import TYPE_CHECKING

from clinic.models import KeepPer

if TYPE_CHECKING:
    from clinic.models import Keep
    from clinic.setup_views import DeviceView


def spare_per_slot(device: DeviceView, keep: Keep | None) -> int:
    """Places of each slot a booking for ``keep`` (None: an ordinary one) must leave free."""
    return sum(k.places for k in device.kept if k.per == KeepPer.SLOT and k.keep != keep)


def spare_per_day(device: DeviceView, keep: Keep | None) -> int:
    """Places of the device's day a booking for ``keep`` must leave free."""
    return sum(k.places for k in device.kept if k.per == KeepPer.DAY and k.keep != keep)
