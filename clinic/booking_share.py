"""The Ministry's e-booking share: per day and modality, the appointments by how they were made.

An appointment counts on the day it is for, once it is given (confirmed, checked in, done, or a
no-show), not while it is only held nor after it was cancelled or moved (the booking it moved to
counts, with the channel the patient first used). Booked electronically: by the patient in chat
or by a health worker; the desk, the phone and walk-ins are not. The Ministry asks each public
hospital for at least 60% booked electronically.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from clinic.jalali import tehran_datetime, to_tehran, utc
from clinic.models import Booking, BookingChannel, BookingStatus, Device, Exam

if TYPE_CHECKING:
    from collections.abc import Collection

    from clinic.uow import UnitOfWork

TARGET = 0.60  # the Ministry's target for the share booked electronically
GIVEN = (
    BookingStatus.CONFIRMED,
    BookingStatus.CHECKED_IN,
    BookingStatus.COMPLETED,
    BookingStatus.NO_SHOW,
)
MAX_DAYS = 400  # a report covers at most about a year


@dataclass
class ShareRow:
    """The appointments of one day and modality (or of a whole range: ``day`` None), by channel."""

    day: date | None
    modality: str  # a DICOM code, or "" for every modality
    by_channel: dict[BookingChannel, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Every appointment counted."""
        return sum(self.by_channel.values())

    @property
    def electronic(self) -> int:
        """Those booked electronically (in chat or by a health worker)."""
        return sum(n for channel, n in self.by_channel.items() if channel.electronic)

    @property
    def share(self) -> float | None:
        """The electronic share, 0..1 (None with no appointment)."""
        return self.electronic / self.total if self.total else None

    def add(self, channel: BookingChannel, n: int = 1) -> None:
        """Count ``n`` more appointments made through ``channel``."""
        self.by_channel[channel] = self.by_channel.get(channel, 0) + n


@dataclass(frozen=True)
class ShareReport:
    """The rows by day and modality, each modality's total, each site's and the grand total."""

    first: date
    last: date
    rows: list[ShareRow]
    by_modality: list[ShareRow]
    total: ShareRow
    by_site: dict[int, ShareRow] = field(default_factory=dict)  # 0: devices of no site


async def booking_share(
    uow: UnitOfWork, first: date, last: date, *, site_ids: Collection[int] | None = None
) -> ShareReport:
    """The share for appointments on ``first..last`` (Tehran days, both included), at the
    sites ``site_ids`` (None: the whole university).

    Raises ValueError for a reversed range or one longer than MAX_DAYS (the caller checks).
    """
    if last < first or (last - first).days >= MAX_DAYS:
        raise ValueError("the range must run forwards and cover at most MAX_DAYS days")
    start = utc(tehran_datetime(first, time.min))
    end = utc(tehran_datetime(last + timedelta(days=1), time.min))
    stmt = (
        select(Booking.starts_at, Exam.modality, Booking.channel, Device.department_id)
        .join(Exam, Exam.id == Booking.exam_id)
        .join(Device, Device.id == Booking.device_id)
        .where(Booking.status.in_(GIVEN), Booking.starts_at >= start, Booking.starts_at < end)
    )
    if site_ids is not None:
        stmt = stmt.where(Device.department_id.in_(sorted(site_ids)))
    cells: dict[tuple[date, str], ShareRow] = {}
    modalities: dict[str, ShareRow] = {}
    by_site: dict[int, ShareRow] = {}
    total = ShareRow(None, "")
    for starts_at, modality, channel, site in (await uow.session.execute(stmt)).tuples():
        day, code = to_tehran(utc(starts_at)).date(), str(modality)
        cells.setdefault((day, code), ShareRow(day, code)).add(channel)
        modalities.setdefault(code, ShareRow(None, code)).add(channel)
        by_site.setdefault(site or 0, ShareRow(None, "")).add(channel)
        total.add(channel)
    return ShareReport(
        first,
        last,
        [cells[key] for key in sorted(cells)],
        [modalities[code] for code in sorted(modalities)],
        total,
        dict(sorted(by_site.items())),
    )


async def recent(uow: UnitOfWork, days: int) -> ShareReport:
    """The share over the last ``days`` Tehran days, today included, with each site's."""
    today = to_tehran(uow.clock.now()).date()
    return await booking_share(uow, today - timedelta(days=days - 1), today)
