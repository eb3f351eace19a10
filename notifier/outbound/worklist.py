"""DICOM Modality Worklist: a C-FIND SCP (pynetdicom) serving the admitted bookings.

A modality asks with a C-FIND of the Modality Worklist Information Model (1.2.840.10008.5.1.4.31)
and gets one pending response per booking ``clinic.worklist`` lists, UTF-8 (``ISO_IR 192``) so
that Persian names arrive as typed.

The query. In the Scheduled Procedure Step Sequence's item: the Start Date (``YYYYMMDD``, a
range ``A-B``, ``A-`` or ``-B``; empty: today in Tehran; a range is cut to ``MAX_DAYS`` days),
the Modality (``DX`` asks for our ``CR`` devices, as ``clinic.hospital`` maps it) and the
Scheduled Station AE Title (a device's code, without case). Patient ID and Patient's Name
match too (``*`` and ``?`` wildcards; a name without ``^`` matches the family name). Other keys
are return keys: each is answered with ours or, when we have none, empty.

The answer, per booking: Accession Number (the HIS's, else the booking code), Patient's Name
``LAST^FIRST``, Patient ID (the national code) issued by ``NNIRN``, Patient's Birth Date (1
Farvardin of the Jalali birth year, the only part we keep), Patient's Sex, a Study Instance UID
fixed per booking, Requested Procedure ID (the booking code), its description and code
(the exam's), and the step: station AE title and name (the device's code), start date and time
(Tehran, with Timezone Offset From UTC), Modality, description and protocol code (the exam's),
Step ID (the booking code) and status ``ARRIVED``.

Who may ask: the called AE title must be ours, the calling one in the allowed list when there
is one. pynetdicom answers on its own threads; each query runs on the asyncio loop that
started the server (``run_coroutine_threadsafe``). Logs carry AE titles, addresses and counts.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import re
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

from pydicom import config
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.tag import Tag
from pynetdicom import AE, _config, evt
from pynetdicom.sop_class import ModalityWorklistInformationFind  # type: ignore[attr-defined]

from clinic.hospital import normalize_modality
from clinic.jalali import to_tehran
from clinic.worklist import worklist, worklist_site

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from types import TracebackType

    from clinic.uow import UnitOfWork
    from clinic.worklist import WorklistEntry

log = logging.getLogger(__name__)

CHARSET = "ISO_IR 192"  # UTF-8
ISSUER = "NNIRN"  # Iran's national identifier, as our HL7 PID-3 says it
CODING_SCHEME = "99RADYAR"  # a local scheme ("99" prefix): our exam codes
MAX_DAYS = 7
QUERY_TIMEOUT = 10.0  # seconds for one query through the database
MAX_ASSOCIATIONS = 8
NETWORK_TIMEOUT = 60  # seconds a caller may stay silent
PENDING, CANCELLED = 0xFF00, 0xFE00
UNREADABLE, UNABLE = 0xA900, 0xC000  # the query cannot be read; we cannot answer it now
_CHARSET_TAG = Tag(0x0008, 0x0005)
_DATE = re.compile(r"(\d{8})?(-)?(\d{8})?", re.ASCII)
_AE_TITLE = re.compile(r"[\x20-\x5b\x5d-\x7e]{1,16}", re.ASCII)  # DICOM AE: no backslash
_LOGGABLE = re.compile(r"[^A-Za-z0-9 ._-]", re.ASCII)
_UNSAFE = re.compile(r"[\x00-\x1f\x7f]")


class UnknownSite(Exception):
    """RADYAR_MWL_SITE names no site's HIS: nothing is served rather than every site."""


@dataclass(frozen=True)
class WorklistQuery:
    """What a C-FIND asks for; None: any."""

    first_day: date | None  # None: today in Tehran
    days: int = 1  # 0: a range that ends before it starts
    modality: str | None = None
    station: str | None = None
    patient_id: str | None = None
    patient_name: str | None = None  # a PN pattern

    def matches(self, entry: WorklistEntry) -> bool:
        """Whether ``entry`` fits the patient keys (the others are the database's)."""
        if self.patient_id is not None and not fnmatchcase(entry.national_code, self.patient_id):
            return False
        if self.patient_name is None:
            return True
        pattern = self.patient_name.rstrip("^").lower()
        whole = f"{entry.last_name}^{entry.first_name}" if "^" in pattern else entry.last_name
        return fnmatchcase(whole.lower(), pattern)


def _value(ds: Dataset | None, keyword: str) -> str:
    value = None if ds is None else ds.get(keyword)
    if isinstance(value, MultiValue):
        raise ValueError(f"{keyword} has several values")  # single value matching only
    return str(value or "").strip()


def _key(ds: Dataset | None, keyword: str) -> str | None:
    """A matching key's value; None for universal matching (absent, empty or ``*``)."""
    value = _value(ds, keyword)
    if value in ("", "*"):
        return None
    if set("[]") & set(value):
        raise ValueError(f"{keyword} has characters we do not match")
    return value


def _day(raw: str | None) -> date | None:
    return date(int(raw[:4]), int(raw[4:6]), int(raw[6:])) if raw else None


def _dates(raw: str) -> tuple[date | None, int]:
    """The first day and how many: a range is cut to MAX_DAYS (an open end too)."""
    match = _DATE.fullmatch(raw)
    if match is None or raw == "-":
        raise ValueError("the start date is not a DICOM date or range")
    first, last = _day(match[1]), _day(match[3])  # ValueError for 20261331
    if not match[2]:
        return first, 1
    if first is None:
        assert last is not None
        return last - timedelta(days=MAX_DAYS - 1), MAX_DAYS
    if last is None:
        return first, MAX_DAYS
    return first, max(0, min((last - first).days + 1, MAX_DAYS))


def parse_query(identifier: Dataset) -> WorklistQuery:
    """The query of a C-FIND identifier. Raises ValueError (and pydicom's errors) for one we
    cannot read: a malformed date, several values, ``[]`` ranges."""
    steps = identifier.get("ScheduledProcedureStepSequence")
    step = steps[0] if steps else None
    first, days = _dates(_value(step, "ScheduledProcedureStepStartDate"))
    modality = _key(step, "Modality")
    return WorklistQuery(
        first, days,
        modality=None if modality is None else normalize_modality(modality) or modality.upper(),
        station=_key(step, "ScheduledStationAETitle"),
        patient_id=_key(identifier, "PatientID"),
        patient_name=_key(identifier, "PatientName"),
    )  # fmt: skip


def _clip(text: str, length: int, drop: str = "") -> str:
    """``text`` as a DICOM string value can hold it: no backslash (the value separator) or
    control characters, at most ``length`` characters; ``drop``: more to leave out."""
    text = _UNSAFE.sub(" ", text.replace("\\", "/"))
    return text.translate({ord(c): " " for c in drop}).strip()[:length]


def _code(entry: WorklistEntry) -> Dataset:
    code = Dataset()
    if len(entry.exam_code) <= 16:
        code.CodeValue = entry.exam_code
    else:
        code.LongCodeValue = entry.exam_code  # CodeValue is SH: 16 characters at most
    code.CodingSchemeDesignator = CODING_SCHEME
    code.CodeMeaning = _clip(entry.exam_name, 64)
    return code


def _accession(entry: WorklistEntry) -> str:
    if len(entry.accession) <= 16:
        return entry.accession
    # An accession number DICOM cannot carry (SH): the booking code, which the PACS side
    # joins like a missing one (national code, modality, day).
    log.warning("worklist: booking %s has an accession number over 16 characters: its booking"
                " code is sent instead", entry.booking_code)  # fmt: skip
    return entry.booking_code


def study_uid(entry: WorklistEntry) -> str:
    """The booking's Study Instance UID, the same at every query: a 2.25 UID of a name-based
    UUID (ISO/IEC 9834-8), named by the booking code and when the booking was made."""
    name = f"radyar:booking:{entry.booking_code}:{entry.booked_at.isoformat()}"
    return f"2.25.{uuid.uuid5(uuid.NAMESPACE_URL, name).int}"


def entry_dataset(entry: WorklistEntry) -> Dataset:
    """Every attribute we answer for ``entry`` (``answer`` keeps the ones asked for)."""
    ds = Dataset()
    ds.SpecificCharacterSet = CHARSET
    ds.AccessionNumber = _accession(entry)
    ds.ReferringPhysicianName = ""
    last = _clip(entry.last_name, 63, "^=")  # PN's component and group separators
    ds.PatientName = f"{last}^{_clip(entry.first_name, 63 - len(last), '^=')}"  # 64 in all
    ds.PatientID = entry.national_code
    ds.IssuerOfPatientID = ISSUER
    ds.PatientBirthDate = entry.birth_date.strftime("%Y%m%d")
    ds.PatientSex = entry.sex
    ds.StudyInstanceUID = study_uid(entry)
    ds.RequestedProcedureID = entry.booking_code
    ds.RequestedProcedureDescription = _clip(entry.exam_name, 64)
    ds.RequestedProcedureCodeSequence = [_code(entry)]
    starts = to_tehran(entry.starts_at)
    ds.TimezoneOffsetFromUTC = starts.strftime("%z")
    step = Dataset()
    station = entry.device_code if _AE_TITLE.fullmatch(entry.device_code) else ""
    step.ScheduledStationAETitle = station  # an AE title is 16 characters at most
    step.ScheduledStationName = _clip(entry.device_code, 16)
    step.ScheduledProcedureStepStartDate = starts.strftime("%Y%m%d")
    step.ScheduledProcedureStepStartTime = starts.strftime("%H%M%S")
    step.Modality = entry.modality
    step.ScheduledPerformingPhysicianName = ""
    step.ScheduledProcedureStepDescription = _clip(entry.exam_name, 64)
    step.ScheduledProtocolCodeSequence = [_code(entry)]
    step.ScheduledProcedureStepID = entry.booking_code
    step.ScheduledProcedureStepStatus = "ARRIVED"  # admitted at reception
    ds.ScheduledProcedureStepSequence = [step]
    return ds


def answer(request: Dataset, full: Dataset) -> Dataset:
    """The response identifier: each key ``request`` asks for, with our value or empty."""
    out = Dataset()
    out.SpecificCharacterSet = CHARSET
    _fill(out, request, full)
    return out


def _fill(out: Dataset, asked: Dataset, ours: Dataset) -> None:
    for elem in asked:
        tag = elem.tag
        if tag == _CHARSET_TAG or tag.element == 0 or tag.is_private:
            continue
        have = ours.get(tag)
        if elem.VR == "SQ":
            wanted = elem.value[0] if elem.value else None  # no item: all of ours
            items = [] if have is None or have.VR != "SQ" else list(have.value)
            if wanted is not None:
                items = [_part(wanted, item) for item in items]
            out.add_new(tag, "SQ", items)
        elif have is not None:
            out.add(have)
        else:
            out.add_new(tag, elem.VR, None)


def _part(asked: Dataset, ours: Dataset) -> Dataset:
    part = Dataset()
    _fill(part, asked, ours)
    return part


def _loggable(text: object) -> str:
    return _LOGGABLE.sub("?", str(text))[:40]


def _quiet_dicom() -> None:
    """Keep pynetdicom from logging query and response identifiers (names, national codes)
    and dumping every PDU at DEBUG (ours is one line a query), and pydicom from warning, value
    and all, about what a caller sent (our own values are made valid)."""
    config.settings.reading_validation_mode = config.IGNORE
    _config.LOG_REQUEST_IDENTIFIERS = False
    _config.LOG_RESPONSE_IDENTIFIERS = False
    _config.LOG_HANDLER_LEVEL = "none"
    logging.getLogger("pynetdicom").setLevel(logging.WARNING)


class WorklistScp:
    """The worklist's C-FIND SCP: ``async with WorklistScp(...) as scp`` serves on
    ``host:scp.port`` (``port`` 0: a free one) until the block ends."""

    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        *,
        host: str = "127.0.0.1",
        port: int = 11112,
        ae_title: str = "RADYAR",
        allowed_callers: tuple[str, ...] = (),
        site: str = "",
        timeout: float = QUERY_TIMEOUT,
    ) -> None:
        self._uow_factory = uow_factory
        self.host, self.port, self.ae_title = host, port, ae_title
        self.allowed_callers, self.site, self.timeout = allowed_callers, site, timeout
        self._ae: AE | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def __aenter__(self) -> WorklistScp:
        _quiet_dicom()
        self._loop = asyncio.get_running_loop()
        ae = AE(ae_title=self.ae_title)
        ae.add_supported_context(ModalityWorklistInformationFind)
        ae.require_called_aet = True
        ae.require_calling_aet = list(self.allowed_callers)  # empty: any
        ae.maximum_associations = MAX_ASSOCIATIONS
        ae.acse_timeout = ae.dimse_timeout = 30
        ae.network_timeout = NETWORK_TIMEOUT
        handlers: list[evt.EventHandlerType] = [
            (evt.EVT_C_FIND, self._on_find),
            (evt.EVT_REJECTED, self._on_rejected),
        ]
        server = ae.start_server((self.host, self.port), block=False, evt_handlers=handlers)
        assert server is not None  # block=False returns the server
        self._ae, self.port = ae, int(server.server_address[1])
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._ae is not None:
            await asyncio.to_thread(self._ae.shutdown)  # waits for the server's thread
            self._ae = None

    def _on_rejected(self, event: Any) -> None:
        caller = event.assoc.requestor.ae_title
        why = "called AE title not ours or too many associations"
        if self.allowed_callers and caller not in self.allowed_callers:
            why = "calling AE title not allowed"
        log.warning("worklist association from %s (%s) refused: %s",
                    _loggable(event.assoc.requestor.address), _loggable(caller), why)  # fmt: skip

    def _on_find(self, event: Any) -> Iterator[tuple[int, Dataset | None]]:
        peer = event.assoc.requestor
        caller = f"{_loggable(peer.address)} ({_loggable(peer.ae_title)})"
        try:
            request: Dataset = event.identifier
            query = parse_query(request)
        except Exception as exc:  # whatever the caller sent, it gets an answer, not a traceback
            log.warning("worklist C-FIND from %s unreadable: %s", caller, type(exc).__name__)
            yield UNREADABLE, None
            return
        try:
            entries = self._run(query)
        except UnknownSite:
            log.error("worklist C-FIND from %s not answered: its site (RADYAR_MWL_SITE) is the"
                      " HIS name of no site", caller)  # fmt: skip
            yield UNABLE, None
            return
        except Exception as exc:  # the database, a timeout, the loop gone
            log.error("worklist C-FIND from %s failed: %s", caller, type(exc).__name__)
            yield UNABLE, None
            return
        log.info("worklist C-FIND from %s: %d entries", caller, len(entries))
        for entry in entries:
            if event.is_cancelled:
                yield CANCELLED, None
                return
            try:
                found = answer(request, entry_dataset(entry))
            except Exception as exc:  # pynetdicom would log the error's text: values in it
                log.error("worklist C-FIND from %s: booking %s not answered: %s",
                          caller, entry.booking_code, type(exc).__name__)  # fmt: skip
                yield UNABLE, None
                return
            yield PENDING, found

    def _run(self, query: WorklistQuery) -> list[WorklistEntry]:
        assert self._loop is not None
        future = asyncio.run_coroutine_threadsafe(self._entries(query), self._loop)
        try:
            return future.result(self.timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise

    async def _entries(self, query: WorklistQuery) -> list[WorklistEntry]:
        async with self._uow_factory().reading() as uow:
            site = None
            if self.site:
                site = await worklist_site(uow, self.site)
                if site is None:
                    raise UnknownSite()
            first = query.first_day or to_tehran(uow.clock.now()).date()
            entries = await worklist(
                uow, first, days=query.days, modality=query.modality, station=query.station,
                site_id=site,
            )  # fmt: skip
        return [e for e in entries if query.matches(e)]


__all__ = ["WorklistQuery", "WorklistScp", "answer", "entry_dataset", "parse_query", "study_uid"]
