"""What a hospital system answered to a booking change, in the parts staff may read as sent:
codes and places (HL7 MSA-1, table 0357 error codes, ERR locations; OperationOutcome issue
codes and FHIRPath expressions). Its own words (MSA-3, ERR-8, diagnostics) may quote the
message, and so a patient: they are kept apart, and stored masked (``Delivery.shown``)."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

from clinic.message_mask import mask_text

if TYPE_CHECKING:
    from notifier.hl7_reader import Segment

ERRORS_SHOWN = 5  # ERR segments, or OperationOutcome issues, named in one answer
# HL7 table 0357 (message error condition codes), v2.5: our names for them, so staff know
# what a code means without the receiver's own text.
ERROR_NAMES = {
    "0": "message accepted",
    "100": "segment sequence error",
    "101": "required field missing",
    "102": "data type error",
    "103": "table value not found",
    "104": "value too long",
    "200": "unsupported message type",
    "201": "unsupported event code",
    "202": "unsupported processing id",
    "203": "unsupported version id",
    "204": "unknown key identifier",
    "205": "duplicate key identifier",
    "206": "application record locked",
    "207": "application internal error",
}
# An error code: table 0357's numbers, or a local one with a short prefix (E101). Ten digits
# (a national code) or a word (a name) is not one.
_CODE = re.compile(r"[A-Z]{0,3}[0-9]{1,6}", re.ASCII)
_SEGMENT = re.compile(r"[A-Z][A-Z0-9]{2}", re.ASCII)
_NUMBER = re.compile(r"[0-9]{1,3}", re.ASCII)
# A FHIRPath naming an element (Appointment.participant[0].actor): no quotes, no values.
_STEP = r"[A-Za-z][A-Za-z0-9_]*(?:\[[0-9]{1,3}\])?"
_PATH = re.compile(rf"{_STEP}(?:\.{_STEP})*", re.ASCII)
_ISSUE_CODE = re.compile(r"[a-z][a-z-]{1,29}", re.ASCII)


def _code(code: str) -> str:
    """An error code as sent, with its table 0357 name; anything else masked."""
    if not code:
        return ""
    if not _CODE.fullmatch(code):
        return mask_text(code)
    name = ERROR_NAMES.get(code)
    return f"{code} ({name})" if name else code


def _place(parts: list[str]) -> str:
    """An ERR location (v2.5 ERR-2 ERL, v2.3/2.4 ERR-1 ELD: segment ^ sequence ^ field, the
    ERL's component fifth) as ``PID-3``, ``OBR[2]-18`` or ``PID-5.1``; "" when it is none."""
    parts = [*parts, "", "", "", "", ""]
    segment, sequence, field, component = parts[0], parts[1], parts[2], parts[4]
    if not _SEGMENT.fullmatch(segment):
        return ""
    place = segment
    if _NUMBER.fullmatch(sequence) and sequence.lstrip("0") not in ("", "1"):
        place += f"[{sequence.lstrip('0')}]"
    if _NUMBER.fullmatch(field):
        place += f"-{field}"
        if _NUMBER.fullmatch(component):
            place += f".{component}"
    return place


def hl7_error(err: Segment) -> str:
    """One ERR segment as staff read it: ``101 (required field missing) at PID-3``. The
    code is ERR-3.1 (v2.5), else ERR-1.4 (v2.3/2.4); the place ERR-2, else ERR-1."""
    code = _code(err.get(3) or err.get(1, 4))
    place = _place(err.components(2)) or _place(err.components(1))
    return " at ".join(part for part in (code, place) if part)


def hl7_errors(segments: list[Segment]) -> tuple[str, ...]:
    """Each ERR segment's code and place (the first ERRORS_SHOWN), those that name one."""
    errors = (hl7_error(s) for s in segments if s.name == "ERR")
    return tuple(e for e in errors if e)[:ERRORS_SHOWN]


def fhir_outcome(raw: bytes) -> tuple[str, str]:
    """The OperationOutcome in ``raw``: each issue's code and where (``required at
    Appointment.status``), shown as sent, and its words (diagnostics, else the details' text)
    on one line, to be stored masked. ``("", "")`` when ``raw`` is not one."""
    try:
        outcome = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return "", ""
    if not isinstance(outcome, dict) or outcome.get("resourceType") != "OperationOutcome":
        return "", ""
    kept: list[str] = []
    said: list[str] = []
    issues = outcome.get("issue")
    for issue in issues if isinstance(issues, list) else []:
        if not isinstance(issue, dict):
            continue
        code = issue.get("code")
        where = _strings(issue.get("expression") or issue.get("location"))
        places = [p for p in where if len(p) <= 100 and _PATH.fullmatch(p)]
        named = str(code) if isinstance(code, str) and _ISSUE_CODE.fullmatch(code) else ""
        kept.append(" at ".join(p for p in (named, ", ".join(places[:2])) if p))
        details = issue.get("details")
        text = issue.get("diagnostics") or (
            details.get("text") if isinstance(details, dict) else None
        )
        said.append(str(text or ""))
    shown = [k for k in kept if k][:ERRORS_SHOWN]
    return "; ".join(shown), " ".join("; ".join(s for s in said if s).split())


def _strings(value: object) -> list[str]:
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


__all__ = ["ERROR_NAMES", "fhir_outcome", "hl7_error", "hl7_errors"]
