"""FHIR R4 Appointments for outbound booking events (built and validated with fhir.resources),
the adapter that writes them to the hospital's FHIR server, and the read endpoint's Bundle.

fhir.resources 7 and later have no R4 (4.0.1) package, only R4B (4.3.0): R4B's Appointment has
R4's elements, cardinalities and status codes unchanged, so an R4 server reads what it builds.
R4 proper is only in fhir.resources < 6.5, which is built on pydantic v1 (end of life).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

import aiohttp
from fhir.resources.R4B.appointment import Appointment, AppointmentParticipant
from fhir.resources.R4B.bundle import Bundle, BundleEntry, BundleEntrySearch, BundleLink
from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.coding import Coding
from fhir.resources.R4B.identifier import Identifier
from fhir.resources.R4B.reference import Reference
from pydantic import ValidationError
from yarl import URL

from clinic.jalali import to_tehran
from clinic.outbound_views import OutboundKind
from notifier.outbound.answers import fhir_outcome
from notifier.outbound.base import Delivery

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

    from clinic.outbound_views import OutboundBooking

log = logging.getLogger(__name__)

# Our own namespaces: the booking code (the first one of a chain of moves, so one appointment
# keeps one identifier), the exam catalogue, the devices and rooms of the department file.
BOOKING_SYSTEM = "urn:radyar:booking"
EXAM_SYSTEM = "urn:radyar:exam"
DEVICE_SYSTEM = "urn:radyar:device"
ROOM_SYSTEM = "urn:radyar:room"
# The Iranian national code (کد ملی), issued by the National Organization for Civil
# Registration (sabteahval.ir). No NamingSystem for it is published (no Iranian FHIR core IG),
# so the issuer's address stands for it; the identifier type (v2-0203 NI) says what it is.
NATIONAL_CODE_SYSTEM = "https://www.sabteahval.ir/national-code"
IDENTIFIER_TYPES = "http://terminology.hl7.org/CodeSystem/v2-0203"
DICOM_MODALITIES = "http://dicom.nema.org/resources/ontology/DCM"
FHIR_JSON = "application/fhir+json"
# Appointment.status (R4 value set appointmentstatus). A move keeps the appointment booked
# with its new time; an admission is "arrived" (R4's checked-in is for a patient checked in
# but not yet at the service, which reception's admission is not).
STATUS = {
    OutboundKind.BOOKED: "booked",
    OutboundKind.MOVED: "booked",
    OutboundKind.ADMITTED: "arrived",
    OutboundKind.CANCELLED: "cancelled",
    OutboundKind.NO_SHOW: "noshow",
}
ANSWER_SHOWN = 200  # characters of the receiver's diagnostics kept for staff
MAX_ANSWER_BODY = 64 * 1024  # an OperationOutcome is small; more is not read
_TRANSIENT = {408, 429}  # and every 5xx: the receiver's own trouble, worth sending again


def _type(code: str, display: str) -> CodeableConcept:
    return CodeableConcept(coding=[Coding(system=IDENTIFIER_TYPES, code=code, display=display)])


def booking_search(event: OutboundBooking) -> str:
    """The search that finds ``event``'s appointment on the receiver (If-None-Exist and the
    conditional update's query): ``identifier=<system>|<code>``."""
    return f"identifier={BOOKING_SYSTEM}|{event.booking_code}"


def appointment(event: OutboundBooking, *, status: str | None = None) -> Appointment:
    """``event`` as an Appointment: its status (``status`` instead, for the read endpoint's
    completed exams), booking code and accession number, exam, time, patient, device, room
    and the staff member who made the change, validated by fhir.resources. Raises ValueError
    for a naive ``starts_at``, pydantic.ValidationError (a ValueError) for what R4 refuses
    (an empty code or name)."""
    start = to_tehran(event.starts_at)
    identifiers = [
        Identifier(
            use="official", type=_type("PLAC", "Placer Identifier"),
            system=BOOKING_SYSTEM, value=event.booking_code,
        )
    ]  # fmt: skip
    if event.accession_number:
        # The RIS's number, not ours: no system of ours; each site's RIS numbers its own.
        assigner = Reference(display=event.site_facility) if event.site_facility else None
        identifiers.append(
            Identifier(
                use="secondary", type=_type("ACSN", "Accession ID"),
                value=event.accession_number, assigner=assigner,
            )
        )  # fmt: skip
    return Appointment(
        language="fa",
        identifier=identifiers,
        status=status or STATUS[event.kind],
        serviceCategory=[
            CodeableConcept(coding=[Coding(system=DICOM_MODALITIES, code=event.modality)])
        ],
        serviceType=[
            CodeableConcept(
                coding=[Coding(system=EXAM_SYSTEM, code=event.exam_code, display=event.exam_name)],
                text=event.exam_name,
            )
        ],
        description=event.exam_name,  # the exam's name only: no clinical content
        start=start,
        end=start + timedelta(minutes=event.duration_minutes),
        minutesDuration=event.duration_minutes,
        participant=_participants(event),
    )


def _participants(event: OutboundBooking) -> list[AppointmentParticipant]:
    """The patient and the device (and the room, and who made the change, where known),
    referred to by identifier: the receiver need not hold a Patient or Device of ours."""
    patient = Reference(
        type="Patient",
        identifier=Identifier(
            type=_type("NI", "National unique individual identifier"),
            system=NATIONAL_CODE_SYSTEM, value=event.national_code,
        ),
        display=f"{event.first_name} {event.last_name}",
    )  # fmt: skip
    device = Reference(
        type="Device",
        identifier=Identifier(system=DEVICE_SYSTEM, value=event.device_code),
        display=event.device_name,
    )
    actors = [(patient, "required"), (device, "required")]
    if event.room:
        room = Identifier(system=ROOM_SYSTEM, value=event.room)
        actors.append(
            (Reference(type="Location", identifier=room, display=event.room), "required")
        )
    if event.staff_name:
        staff = Reference(type="Practitioner", display=event.staff_name)
        actors.append((staff, "information-only"))
    return [
        AppointmentParticipant(actor=actor, required=required, status="accepted")
        for actor, required in actors
    ]


def appointment_bundle(appointments: Iterable[Appointment], *, self_url: str) -> Bundle:
    """A searchset Bundle of ``appointments`` (each a match), answering the search at
    ``self_url``."""
    entries = [
        BundleEntry(resource=item, search=BundleEntrySearch(mode="match")) for item in appointments
    ]
    return Bundle(
        type="searchset",
        total=len(entries),
        link=[BundleLink(relation="self", url=self_url)],
        entry=entries or None,
    )


class FhirAdapter:
    """Writes booking events to a FHIR server: a new booking by conditional create (a retry
    finds the one it made), every later change by conditional update on the booking code."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str = "",
        timeout_seconds: float = 10.0,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self._base = base_url.rstrip("/")
        self._token = token
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._session = session
        self._own_session = session is None

    @property
    def name(self) -> str:
        """The adapter's key: ``fhir``."""
        return "fhir"

    async def deliver(
        self,
        event: OutboundBooking,
        now: datetime,  # noqa: ARG002  (the FHIR server stamps meta.lastUpdated itself)
    ) -> Delivery:
        """POST (BOOKED, with If-None-Exist) or conditional PUT ``event``'s Appointment. 2xx:
        taken; 408, 429, 5xx, refused, dropped or timed out: transient; other 4xx: refused,
        with the status and the OperationOutcome's diagnostics."""
        try:
            body = appointment(event).model_dump_json().encode("utf-8")
        except ValidationError as exc:
            # Our data, not the receiver's answer: sending it again is refused again. The
            # error's text quotes the value (a name, a national code): only its place is kept.
            where = _invalid(exc)
            log.error(
                "FHIR: outbound event %s is no valid Appointment (%s)", event.event_id, where
            )
            return Delivery(False, f"not valid FHIR R4: {where}")
        search = booking_search(event)
        headers = {"Content-Type": f"{FHIR_JSON}; charset=utf-8", "Accept": FHIR_JSON}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        if event.kind is OutboundKind.BOOKED:
            method, url = "POST", URL(f"{self._base}/Appointment")
            headers["If-None-Exist"] = search
        else:
            method, url = "PUT", URL(f"{self._base}/Appointment?{search}")
        try:
            delivery = await self._send(method, url, body, headers)
        except TimeoutError:
            delivery = Delivery(False, "no answer in time", transient=True)
        except aiohttp.ClientError as exc:  # refused, reset, closed mid-answer
            delivery = Delivery(False, f"connection: {exc.__class__.__name__}", transient=True)
        log.info(
            "FHIR %s of outbound event %s (%s): %s",
            method, event.event_id, event.kind.value, "taken" if delivery.ok else "not taken",
        )  # fmt: skip
        return delivery

    async def _send(self, method: str, url: URL, body: bytes, headers: dict[str, str]) -> Delivery:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        async with self._session.request(
            method, url, data=body, headers=headers, timeout=self._timeout, allow_redirects=False
        ) as response:
            raw = await _read_some(response, MAX_ANSWER_BODY)
            status = f"HTTP {response.status} {response.reason or ''}".rstrip()
            if 200 <= response.status < 300:
                where = _resource_path(response.headers.get("Location", ""))
                return Delivery(True, f"{status} {where}".rstrip())
            # Issue codes and places as sent; the diagnostics, which may quote a value (a
            # name, a national code), apart: stored masked.
            issues, said = fhir_outcome(raw)
            answer = f"{status} ({issues})" if issues else status
            transient = response.status in _TRANSIENT or response.status >= 500
            return Delivery(False, answer, transient=transient, said=said[:ANSWER_SHOWN])

    async def aclose(self) -> None:
        """Close the HTTP session if the adapter made it (a given one is its owner's)."""
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None


async def _read_some(response: aiohttp.ClientResponse, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        chunk = await response.content.read(limit - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _invalid(exc: ValidationError) -> str:
    """Where ``exc`` found fault (``Reference.display``), never the value it found there."""
    places = {
        ".".join([exc.title, *(str(part) for part in error["loc"])])
        for error in exc.errors(include_input=False, include_url=False)
    }
    return ", ".join(sorted(places))[:ANSWER_SHOWN]


def _resource_path(location: str) -> str:
    """``Appointment/<id>/_history/<v>`` of a Location header (the server's address left
    out): what staff can look the appointment up by."""
    at = location.rfind("Appointment/")
    return location[at:] if at >= 0 else ""


__all__ = [
    "BOOKING_SYSTEM",
    "NATIONAL_CODE_SYSTEM",
    "STATUS",
    "FhirAdapter",
    "appointment",
    "appointment_bundle",
    "booking_search",
]
