"""``POST /api/v1/events/report``: the HIS/RIS says a report is final or corrected.

Authentication: the HIS signs ``<timestamp>.<body>`` with HMAC-SHA256 and the shared secret,
and sends ``X-Radyar-Timestamp: <unix seconds>`` and ``X-Radyar-Signature: sha256=<hex>``.
A request outside the time window, with a wrong signature, or with a signature already used
(a replay) is refused. Only signed requests are looked at; a signed request whose body we cannot
use gets a 4xx with a clear error and is kept for staff (``rejected_messages``), masked: its
keys and accession number stay, names, national codes and report text go.

Body (JSON, UTF-8)::

    {"accession_number": "A123", "status": "final" | "corrected",
     "time": "2026-11-30T12:00:00+03:30",            # optional; Tehran time without an offset
     "national_code": "0499370899", "modality": "CT",  # optional, for last-resort matching
     "study_date": "2026-11-30",                       # optional, with the two above
     "site": "BOJNURD-RIS"}   # the HIS's facility name (as in its HL7 MSH-4); with one site,
                              # optional; with several, required, and an unknown one is 422

Answers (JSON): 200 ``{"outcome": "applied" | "duplicate"}``, 202 ``{"outcome": "unmatched"}``
(no booking has this number yet; kept for staff and applied when it arrives), 400 bad JSON,
401 bad or missing signature or timestamp, 408 the body did not arrive within ``read_seconds``,
409 replay, 413 too large, 415 not JSON, 422 invalid fields (a missing or unknown ``site``
among them), 503 not configured or the database is unavailable (the HIS retries). The HTTP
listener's limits (``notifier.http_guard``) may answer first: 403 from an address not allowed
to post events, 429 and 503 with Retry-After.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from aiohttp import web

from clinic.errors import ClinicError
from clinic.hospital import PatientHint, hospital_report_event
from clinic.hospital_inbox import keep_rejected
from clinic.intake_state import accept_signature
from clinic.jalali import TEHRAN
from clinic.reports import ReportEvent, parse_accession
from clinic.sites import his_site

if TYPE_CHECKING:
    from collections.abc import Callable

    from clinic.uow import UnitOfWork

log = logging.getLogger(__name__)

PATH = "/api/v1/events/report"
TIMESTAMP_HEADER = "X-Radyar-Timestamp"
SIGNATURE_HEADER = "X-Radyar-Signature"
MAX_BODY = 64 * 1024
_STATUSES = {"final": ReportEvent.FINAL, "corrected": ReportEvent.CORRECTED}


@dataclass(frozen=True)
class WebhookConfig:
    """The shared secret (empty: the endpoint answers 503), the allowed clock difference, and
    how long the body may take to arrive."""

    secret: bytes
    window: timedelta = timedelta(minutes=5)
    read_seconds: float = 30.0


CONFIG: web.AppKey[WebhookConfig] = web.AppKey("his_webhook")
UOW: web.AppKey[Callable[[], UnitOfWork]] = web.AppKey("his_webhook_uow")


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    """The signature header value the HIS sends: ``sha256=`` + hex HMAC of ``ts.body``."""
    mac = hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": code, "message": message}, status=status)


class BadPayload(ValueError):
    """A signed body we cannot use; ``status`` is 400 or 422."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


@dataclass(frozen=True)
class ReportMessage:
    """One HIS report event from the webhook: accession number, event, time, and a hint
    to match the patient by when the accession number is unknown."""

    accession_number: str
    kind: ReportEvent
    occurred_at: datetime | None
    hint: PatientHint | None
    facility: str | None = None  # which hospital's HIS sent it (``site``)


def _parse_time(raw: object, field: str) -> datetime | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise BadPayload(422, "invalid_field", f"{field} must be an ISO 8601 string")
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise BadPayload(422, "invalid_field", f"{field} is not an ISO 8601 time") from None
    return value if value.tzinfo else value.replace(tzinfo=TEHRAN)


def parse_body(body: bytes) -> ReportMessage:
    """The report message in a request body; raises BadPayload."""
    try:
        data: Any = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise BadPayload(400, "bad_json", "the body is not UTF-8 JSON") from None
    if not isinstance(data, dict):
        raise BadPayload(400, "bad_json", "the body must be a JSON object")
    accession = data.get("accession_number")
    if not isinstance(accession, str) or not accession.strip():
        raise BadPayload(422, "missing_field", "accession_number is required (a string)")
    try:
        accession = parse_accession(accession)
    except ClinicError:
        raise BadPayload(
            422, "invalid_field", "accession_number must be 1-64 letters, digits, . _ / -"
        ) from None
    status = data.get("status")
    if status not in _STATUSES:
        raise BadPayload(422, "invalid_field", "status must be 'final' or 'corrected'")
    occurred = _parse_time(data.get("time"), "time")
    facility = data.get("site")
    if facility is not None and not isinstance(facility, str):
        raise BadPayload(422, "invalid_field", "site must be a string (the HIS facility name)")
    hint = None
    if data.get("national_code") is not None:
        study_date = data.get("study_date")
        try:
            day = date.fromisoformat(study_date) if isinstance(study_date, str) else None
        except ValueError:
            raise BadPayload(422, "invalid_field", "study_date must be YYYY-MM-DD") from None
        modality = data.get("modality")
        hint = PatientHint.of(
            str(data["national_code"]), modality if isinstance(modality, str) else None, day
        )
    return ReportMessage(accession, _STATUSES[status], occurred, hint, facility)


async def _site(uow: UnitOfWork, message: ReportMessage) -> int:
    """The site the HIS named; among several, none or an unknown one is refused, never
    guessed (another hospital's accession number is another patient's exam)."""
    site = await his_site(uow, message.facility)
    if site is None and not (message.facility or "").strip():
        raise BadPayload(422, "missing_field", "site is required: several hospitals are served")
    if site is None:
        raise BadPayload(422, "unknown_site", "site names no hospital this service serves")
    return site


async def receive_report(request: web.Request) -> web.Response:
    """Authenticate, parse and apply one report event (see the module docstring)."""
    config = request.app[CONFIG]
    if not config.secret:
        return _error(503, "not_configured", "the HIS webhook secret is not configured")
    too_large = _error(413, "too_large", f"the body may hold at most {MAX_BODY} bytes")
    if request.content_length is not None and request.content_length > MAX_BODY:
        return too_large
    try:
        async with asyncio.timeout(config.read_seconds):
            body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return too_large
    except TimeoutError:
        log.warning("HIS webhook refused: the body did not arrive in time")
        slow = _error(408, "slow_body", f"the body must arrive within {config.read_seconds:g} s")
        slow.force_close()  # the rest of the body is not worth waiting for
        return slow
    if len(body) > MAX_BODY:
        return too_large
    refused = _check_signature(request, config, body)
    if refused is not None:
        log.warning("HIS webhook refused: %s", refused.text)
        return refused
    signature = request.headers[SIGNATURE_HEADER].removeprefix("sha256=").lower()
    try:
        async with request.app[UOW]() as uow:
            if not await accept_signature(uow, signature, config.window):
                await uow.commit()
                log.warning("HIS webhook refused: replayed signature")
                return _error(409, "replayed", "this signed request was already received")
            response = await _apply(uow, body)
            await uow.commit()
            return response
    except Exception as exc:  # the database is down or failed: the HIS should retry later
        log.error("HIS webhook: could not store the event (%s)", type(exc).__name__)
        return _error(503, "unavailable", "the event could not be stored; retry later")


def _check_signature(
    request: web.Request, config: WebhookConfig, body: bytes
) -> web.Response | None:
    stamp = request.headers.get(TIMESTAMP_HEADER, "")
    given = request.headers.get(SIGNATURE_HEADER, "")
    if not stamp or not given:
        return _error(401, "unsigned", f"{TIMESTAMP_HEADER} and {SIGNATURE_HEADER} are required")
    try:
        timestamp = int(stamp)
    except ValueError:
        return _error(401, "bad_timestamp", f"{TIMESTAMP_HEADER} must be Unix seconds")
    now = request.app[UOW]().clock.now().timestamp()
    if abs(now - timestamp) > config.window.total_seconds():
        return _error(401, "stale", "the timestamp is outside the allowed window")
    # compare_digest takes str only when it is ASCII (else TypeError): compare bytes
    expected = sign(config.secret, timestamp, body).encode("ascii")
    if not hmac.compare_digest(expected, given.lower().encode("utf-8", "surrogateescape")):
        return _error(401, "bad_signature", "the signature does not match the body")
    return None


async def _apply(uow: UnitOfWork, body: bytes) -> web.Response:
    try:
        message = parse_body(body)
        site = await _site(uow, message)
    except BadPayload as exc:
        kept = await keep_rejected(
            uow, "his", f"{exc.code}: {exc}", body.decode("utf-8", "replace"), kind="json"
        )
        log.warning("HIS webhook: bad payload kept for staff as #%s (%s)", kept, exc.code)
        return web.json_response(
            {"error": exc.code, "message": str(exc), "kept_as": kept}, status=exc.status
        )
    outcome = await hospital_report_event(
        uow,
        source="his",
        accession_number=message.accession_number,
        kind=message.kind,
        occurred_at=message.occurred_at or uow.clock.now(),
        hint=message.hint,
        payload={"via": "webhook"},
        site=site,
    )
    log.info("HIS webhook: %s %s", message.kind.value, outcome.value)
    if outcome.value == "unmatched":
        return web.json_response(
            {
                "outcome": outcome.value,
                "message": "no booking has this accession number yet; "
                "kept for staff and applied when it arrives",
            },
            status=202,
        )
    return web.json_response({"outcome": outcome.value})


def add_routes(app: web.Application, uow: Callable[[], UnitOfWork], config: WebhookConfig) -> None:
    """Mount the report webhook on an aiohttp application."""
    app[CONFIG] = config
    app[UOW] = uow
    app.router.add_post(PATH, receive_report)
