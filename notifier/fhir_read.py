"""``GET /fhir/Appointment``: a day's appointments as a FHIR R4 searchset Bundle, for the
hospital's systems to read (the RIS's day schedule, a worklist).

Search parameters: ``date`` (required) is one day in Tehran time, ``YYYY-MM-DD`` or
``eqYYYY-MM-DD``; ``actor`` (optional) is ``Device/<device code>`` or ``Location/<room>``.
Others are ignored, as FHIR's lenient handling does. The day's bookings are those reception's
day list shows: booked, arrived, fulfilled (the exam was done) and noshow; holds, lapsed
holds, the old times of moved bookings and cancelled ones are not listed (a cancelled booking
frees its place: the day's schedule is the appointments that stand or stood).

Answers are ``application/fhir+json``: 200 a Bundle; 400 an OperationOutcome for a missing or
bad ``date`` or ``actor``; 401 one for a missing or wrong ``Authorization: Bearer <token>``;
503 one when the database does not answer.
"""

from __future__ import annotations

import hmac
import logging
import re
from datetime import date
from typing import TYPE_CHECKING

from aiohttp import web
from fhir.resources.R4B.operationoutcome import OperationOutcome, OperationOutcomeIssue

from clinic.appointment_feed import day_bookings
from clinic.models import BookingStatus
from clinic.outbound_views import OutboundKind, booking_view
from clinic.text import normalize_digits
from notifier.outbound.fhir import FHIR_JSON, appointment, appointment_bundle

if TYPE_CHECKING:
    from collections.abc import Callable

    from fhir.resources.R4B.appointment import Appointment

    from clinic.models import Booking
    from clinic.uow import UnitOfWork

log = logging.getLogger(__name__)

PATH = "/fhir/Appointment"
_DAY = re.compile(r"(?:eq)?(\d{4}-\d{2}-\d{2})", re.ASCII)
# A booking's state as the change the hospital's systems were last told of; a completed exam
# was told as an admission, and is read as fulfilled.
_KINDS = {
    BookingStatus.CONFIRMED: (OutboundKind.BOOKED, None),
    BookingStatus.CHECKED_IN: (OutboundKind.ADMITTED, None),
    BookingStatus.COMPLETED: (OutboundKind.ADMITTED, "fulfilled"),
    BookingStatus.NO_SHOW: (OutboundKind.NO_SHOW, None),
}


class BadSearch(ValueError):
    """A search parameter we cannot use: its text is the OperationOutcome's diagnostics."""


def outcome(status: int, code: str, text: str) -> web.Response:
    """An OperationOutcome with one error issue (FHIR issue type ``code``)."""
    body = OperationOutcome(
        issue=[OperationOutcomeIssue(severity="error", code=code, diagnostics=text)]
    )
    return _fhir(body.model_dump_json(), status)


def _fhir(text: str, status: int = 200) -> web.Response:
    return web.Response(text=text, status=status, content_type=FHIR_JSON, charset="utf-8")


def parse_day(values: list[str]) -> date:
    """The one day that ``date`` asks for. Raises BadSearch."""
    if len(values) != 1:
        raise BadSearch("date is required, once: date=YYYY-MM-DD (one day, Tehran time)")
    match = _DAY.fullmatch(normalize_digits(values[0].strip()))
    if match is None:
        raise BadSearch("date must be one day, YYYY-MM-DD or eqYYYY-MM-DD (Tehran time)")
    try:
        return date.fromisoformat(match[1])
    except ValueError:
        raise BadSearch("date names no day of the calendar") from None


def parse_actor(values: list[str]) -> tuple[str | None, str | None]:
    """(device code, room) that ``actor`` asks for, (None, None) when it is not given.
    Raises BadSearch."""
    if not values:
        return None, None
    kind, _, key = values[0].strip().partition("/")
    if len(values) > 1 or not key or kind not in ("Device", "Location"):
        raise BadSearch("actor must be Device/<device code> or Location/<room>, once")
    return (key, None) if kind == "Device" else (None, key)


def _authorised(request: web.Request, token: bytes) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode("utf-8"), token)


async def _appointments(uow: UnitOfWork, bookings: list[Booking]) -> list[Appointment]:
    now = uow.clock.now()
    found = []
    for booking in bookings:
        kind, status = _KINDS[booking.status]
        if kind is OutboundKind.BOOKED and booking.replaces_id is not None:
            kind = OutboundKind.MOVED
        view = await booking_view(uow, booking, kind, event_id=0, occurred_at=now)
        found.append(appointment(view, status=status))
    return found


def fhir_routes(uow: Callable[[], UnitOfWork], token: bytes) -> list[web.RouteDef]:
    """The read endpoint's route, answering only requests bearing ``token``. Raises
    ValueError for an empty token (the endpoint is off then: do not mount it)."""
    if not token:
        raise ValueError("the FHIR read endpoint needs a token")

    async def search_appointments(request: web.Request) -> web.Response:
        """One day's appointments as a searchset Bundle (see the module docstring)."""
        if not _authorised(request, token):
            log.warning("FHIR read refused: missing or wrong bearer token")
            refused = outcome(401, "login", "a valid Authorization: Bearer token is required")
            refused.headers["WWW-Authenticate"] = 'Bearer realm="radyar-fhir"'
            return refused
        try:
            day = parse_day(request.query.getall("date", []))
            device_code, room = parse_actor(request.query.getall("actor", []))
        except BadSearch as exc:
            return outcome(400, "invalid", str(exc))
        try:
            async with uow().reading() as work:
                bookings = await day_bookings(work, day, device_code=device_code, room=room)
                found = await _appointments(work, bookings)
        except Exception as exc:  # the database is down or failed: the reader may ask again
            log.error("FHIR read: the database did not answer (%s)", type(exc).__name__)
            return outcome(503, "transient", "the appointments could not be read; retry later")
        log.info("FHIR read: %d appointments of %s", len(found), day.isoformat())
        return _fhir(appointment_bundle(found, self_url=str(request.url)).model_dump_json())

    return [web.get(PATH, search_appointments, allow_head=False)]


__all__ = ["PATH", "BadSearch", "fhir_routes", "outcome", "parse_actor", "parse_day"]
