"""The frozen views of the department's setup that the core, the bot and the notifier read:
exams with their preparation and questions, devices with their shifts, and the setup as a
whole with its calendar. ``clinic.department_setup`` reads them and keeps one copy per process."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import TYPE_CHECKING

from clinic.errors import NotFound

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping

    from clinic.models import Modality

# (device id or None for the whole department, starts, ends)
ClosureSpan = tuple[int | None, datetime, datetime]


@dataclass(frozen=True, slots=True)
class PrepView:
    """One preparation instruction; ``hours_before`` set means a timed reminder."""

    id: int
    position: int
    kind: str
    text_fa: str
    text_en: str
    hours_before: float | None


@dataclass(frozen=True, slots=True)
class QuestionView:
    """A safety question; ``blocking_answer`` is the answer that rules the exam out for now."""

    id: int
    code: str
    text_fa: str
    text_en: str
    blocking_answer: bool | None
    female_only: bool
    min_age: int | None
    max_age: int | None


@dataclass(frozen=True, slots=True)
class ExamView:
    """An exam as patients and staff see it, with its preparation and questions in order."""

    id: int
    code: str
    name_fa: str
    name_en: str
    modality: str
    body_part: str
    duration_minutes: int
    contrast: bool
    needs_review: bool
    walk_in: bool
    reminder_hours: tuple[int, ...] | None
    active: bool
    preparation: tuple[PrepView, ...]
    questions: tuple[QuestionView, ...]


@dataclass(frozen=True, slots=True)
class ShiftView:
    """One shift; weekday 0 is Saturday, 6 is Friday (the Iranian week)."""

    weekday: int
    starts: time
    ends: time


@dataclass(frozen=True, slots=True)
class KeptView:
    """Places of a device kept back for walk-ins, inpatients or urgent cases (booked by staff
    only), in every slot or in all of a day."""

    keep: str
    per: str
    places: int


@dataclass(frozen=True, slots=True)
class DeviceView:
    """A device with its room, slots and weekly shifts."""

    id: int
    code: str
    name_fa: str
    name_en: str
    modality: str
    room: str
    room_en: str
    slot_minutes: int
    places_per_slot: int
    active: bool
    floor: int | None
    hours: tuple[ShiftView, ...]
    kept: tuple[KeptView, ...] = ()
    site: int | None = None  # the site it belongs to (clinic/sites.py)

    def room_in(self, lang: str) -> str:
        """Where the device is, in ``lang`` (English falls back to the Persian name)."""
        return (self.room_en or self.room) if lang == "en" else self.room


@dataclass(frozen=True)
class DepartmentSetup:
    """Exams, devices and their links at one ``version`` of the setup."""

    version: int | None
    exams: Mapping[int, ExamView]
    devices: Mapping[int, DeviceView]
    questions: Mapping[int, QuestionView]
    performed_by: Mapping[int, tuple[int, ...]]  # exam id: device ids, by device code
    overrides: Mapping[date, bool]  # staff's word on a day: True opens, False closes
    closures: tuple[ClosureSpan, ...]  # not cancelled, in the order they start

    def exam(self, exam_id: int) -> ExamView:
        """The exam, active or not; NotFound if there is none."""
        found = self.exams.get(exam_id)
        if found is None:
            raise NotFound()
        return found

    def active_exam(self, exam_id: int) -> ExamView:
        """The exam if it is active; NotFound otherwise."""
        found = self.exams.get(exam_id)
        if found is None or not found.active:
            raise NotFound()
        return found

    def exam_by_code(self, code: str) -> ExamView | None:
        """The exam (active or not) with this code, any case."""
        wanted = code.strip().upper()
        return next((e for e in self.exams.values() if e.code == wanted), None)

    def device_by_code(self, code: str) -> DeviceView | None:
        """The device (in service or not) with this code, any case."""
        wanted = code.strip().upper()
        return next((d for d in self.devices.values() if d.code == wanted), None)

    def exams_of(self, modality: Modality) -> list[ExamView]:
        """The active exams of one modality, in catalogue order."""
        return [e for e in self.exams.values() if e.active and e.modality == modality.value]

    def devices_for(self, exam_id: int, site: int | None = None) -> list[DeviceView]:
        """The active devices that perform the exam, by code (with ``site``: of that site)."""
        return [
            self.devices[d]
            for d in self.performed_by.get(exam_id, ())
            if self.devices[d].active and (site is None or self.devices[d].site == site)
        ]

    def overrides_between(self, first: date, last: date) -> dict[date, bool]:
        """Staff's decisions for days in ``first..last``."""
        return {day: is_open for day, is_open in self.overrides.items() if first <= day <= last}

    def closures_of(
        self, device_ids: Collection[int], first: datetime, last: datetime
    ) -> list[ClosureSpan]:
        """Closures of these devices or of the whole department that overlap ``first..last``."""
        return [
            (device, starts, ends)
            for device, starts, ends in self.closures
            if (device is None or device in device_ids) and starts < last and ends > first
        ]

    def preparation_steps(self, step_ids: Collection[int]) -> list[PrepView]:
        """These preparation steps (of any exam) in their order; ids no longer there are left
        out."""
        wanted = set(step_ids)
        found = {p.id: p for e in self.exams.values() for p in e.preparation if p.id in wanted}
        return sorted(found.values(), key=lambda p: (p.position, p.id))

    def active_devices(self, within: Collection[int] | None = None) -> list[DeviceView]:
        """Every active device (of the sites ``within``, when given), in the order they were
        added."""
        return sorted(
            (
                d
                for d in self.devices.values()
                if d.active and (within is None or d.site in within)
            ),
            key=lambda d: d.id,
        )
