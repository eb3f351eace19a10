r"""Masking a refused hospital message before it is kept: its shape stays, its people go.

A message we refuse (``clinic.hospital_inbox.keep_rejected``) is kept so that IT can tell the
sender what was wrong with it; what is wrong is its structure, never the patient in it. So the
personal and clinical content is replaced on arrival and only the structure is stored.
Persian ``۰-۹`` and Arabic ``٠-٩`` digits count as digits everywhere.

HL7 v2 (segments split at ``\r`` or ``\n``; separators from MSH-1 and MSH-2, else the defaults
``|^~\&``). Every segment id and every separator is kept, so the number of fields, repetitions,
components and subcomponents stays visible; a masked value with content becomes ``***`` (``XXX``
when the sender uses ``*`` as a separator), an empty one (or the HL7 null ``""``) stays as it
was, so staff still see which field was empty.

- Kept whole: MSH (sender, receiver, time, type, control id MSH-10; fields past MSH-25, which
  no HL7 version has, are masked), EVN, TQ1, IPC, SFT, MSA, ERR, and PV1: its people are staff
  (attending, referring, consulting doctors), its location and visit number are not a
  patient's identity.
- ORC and OBR keep their order and accession numbers (ORC-2/3, OBR-2/3/18/19), exam code and
  doctors; masked: ORC-14 and OBR-17 (call-back phone numbers), OBR-12 (danger code), OBR-13
  (relevant clinical information), OBR-31 (reason for study).
- OBX keeps its type, observation id and status; OBX-5, the value (the report text), is masked.
  NTE-3, the comment, is masked.
- Every other segment (PID, PD1, NK1, GT1, IN1, IN2, PV2, DG1, AL1, Z-segments and any we do
  not know) is masked field by field, except a field 1 that is a set id (1-4 digits): an
  unknown segment may carry anything.
- A line that is not a segment (a value broken over lines, noise) is masked as free text.

JSON (HIS webhook, PACS): parsed; the values of keys naming a person (national code, name,
first, last, mobile, phone, birth, address, email, sex...) or clinical content (text, report,
impression, findings, conclusion, comment, note, history, reason, description, value...) are
masked (``***``, structure kept), and so is any other string holding ten digits in a row or an
Iranian mobile number. Keys are kept, and so are values of keys ending in an id, number,
status, time or date (accession numbers, control ids, timestamps). JSON that does not parse is
free text.

Free text (SMS replies, anything else): every letter becomes ``x`` (ASCII) or ``*`` (any other
script: Persian, Arabic, a wrongly decoded name), and every run of five digits or more (spaces,
dashes, dots or slashes between them allowed) becomes ``#`` per digit; punctuation, spaces and
short numbers stay. Latin letters go too: a Persian name or a report can be written in them.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Literal

from clinic.text import normalize_digits

BodyKind = Literal["hl7", "json", "text"]
MASK = "***"
MSH_FIELDS = 25

_NOISE = "\ufeff \t\x0b"
_SEGMENT_ID = re.compile(r"[A-Z][A-Z0-9]{2}")
_SET_ID = re.compile(r"[0-9]{1,4}")
_LINE_BREAK = re.compile(r"(\r\n|\r|\n)")
_DIGIT = "[0-9\u06f0-\u06f9\u0660-\u0669]"  # ASCII, Persian and Arabic digits
_DIGIT_RUN = re.compile(f"{_DIGIT}(?:[ ./-]?{_DIGIT}){{4,}}")
_ANY_DIGIT = re.compile(_DIGIT)
_TEN_DIGITS = re.compile("[0-9]{10}")  # on digits made ASCII
_MOBILE = re.compile("(?:[+]|00)?(?:98|0)[ -]?9[0-9]{2}[ -]?[0-9]{3}[ -]?[0-9]{4}")
_SEPARATOR = re.compile(r"[!-/:-@\[-`{-~]")  # printable ASCII punctuation

# Segments kept but for some fields (HL7 field numbers); segments not named here are masked.
_KEPT: dict[str, frozenset[int]] = {
    "MSH": frozenset(),
    "EVN": frozenset(),
    "TQ1": frozenset(),
    "IPC": frozenset(),
    "SFT": frozenset(),
    "MSA": frozenset(),
    "ERR": frozenset(),
    "PV1": frozenset(),
    "ORC": frozenset({14}),
    "OBR": frozenset({12, 13, 17, 31}),
    "OBX": frozenset({5}),
    "NTE": frozenset({3}),
}

# Words in a JSON key (split at _, -, spaces and camelCase) that name a person or clinical text.
# fmt: off
_PERSONAL = frozenset({
    "national", "nationalcode", "nationalid", "nid", "ssn", "melli", "meli", "codemelli",
    "mobile", "cellphone", "phone", "telephone", "tel", "cell", "fax", "email", "mail", "birth",
    "birthdate", "birthday", "dob", "address", "addr", "street", "postal", "postcode", "zip",
    "name", "names", "firstname", "lastname", "fullname", "surname", "family", "familyname",
    "father", "fathername", "mother", "spouse", "guardian", "kin", "sex", "gender", "insured",
    "نام", "کدملی", "ملی", "موبایل", "همراه", "تلفن", "تولد", "نشانی", "آدرس", "پدر", "جنسیت",
})
_PERSONAL_KEYS = frozenset({"first", "last", "given", "fname", "lname"})
_CLINICAL = frozenset({
    "patient", "text", "report", "reports", "impression", "impressions", "finding", "findings",
    "conclusion", "conclusions", "comment", "comments", "note", "notes", "history", "diagnosis",
    "diagnoses", "indication", "clinical", "observation", "observations", "description",
    "reason", "result", "results", "body", "content", "value", "remark", "remarks", "summary",
    "complaint", "symptom", "symptoms", "allergy", "allergies", "medication", "medications",
    "بیمار", "گزارش", "یادداشت", "توضیح", "توضیحات",
})
# A key ending in one of these is an id, a number, a status or a time: kept as sent.
_PLAIN_LAST = frozenset({
    "id", "ids", "uid", "uuid", "number", "num", "no", "nr", "seq", "status", "state", "time",
    "at", "date", "datetime", "timestamp", "ts", "type", "kind", "count", "accession",
    "modality", "site", "source", "version",
})
# fmt: on


def detect(body: str) -> BodyKind:
    """What ``body`` looks like: JSON when it starts with ``{`` or ``[``; HL7 when it starts
    with a segment (MSH, or another with ``|``) or has an MSH line further on; else text."""
    start = body.lstrip(_NOISE + "\r\n")
    if start[:1] in ("{", "["):
        return "json"
    if _is_msh(start) or (_SEGMENT_ID.fullmatch(start[:3]) and start[3:4] == "|"):
        return "hl7"
    if any(_is_msh(line.lstrip(_NOISE)) for line in _LINE_BREAK.split(start)[2::2]):
        return "hl7"
    return "text"


def mask(body: str, kind: BodyKind | None = None) -> str:
    """``body`` with its personal and clinical content replaced (see the module docstring);
    ``kind`` None: detected. Never raises."""
    kind = kind or detect(body)
    if kind == "hl7":
        return mask_hl7(body)
    if kind == "json":
        return mask_json(body)
    return mask_text(body)


def mask_text(text: str) -> str:
    """Free text reduced to its shape: letters to ``x``/``*``, long digit runs to ``#``."""
    text = _DIGIT_RUN.sub(lambda m: _ANY_DIGIT.sub("#", m.group()), text)
    return "".join(_letter(c) for c in text)


def _letter(char: str) -> str:
    if char.isalpha():
        return "x" if char.isascii() else "*"
    if not char.isascii() and unicodedata.category(char).startswith("M"):
        return "*"  # a vowel mark (Persian, Arabic) is part of its word
    return char


# HL7 v2


@dataclass(frozen=True)
class _Separators:
    field: str = "|"
    component: str = "^"
    repetition: str = "~"
    subcomponent: str = "&"
    escape: str = "\\"

    @property
    def mask(self) -> str:
        """``***``, or ``XXX`` where ``*`` is a separator (the structure must stay visible)."""
        used = (self.field, self.component, self.repetition, self.subcomponent, self.escape)
        return "XXX" if "*" in used else MASK


def _is_msh(line: str) -> bool:
    return line.startswith("MSH") and bool(_SEPARATOR.fullmatch(line[3:4]))


def _separators(lines: list[str]) -> _Separators:
    """The separators the first MSH declares (unusable ones replaced by the defaults)."""
    msh = next((s for s in (line.lstrip(_NOISE) for line in lines) if _is_msh(s)), None)
    if msh is None:
        return _Separators()
    field = msh[3]
    chars = msh[4:].split(field, 1)[0]
    default = _Separators(field)
    picked = [default.component, default.repetition, default.escape, default.subcomponent]
    for index in range(4):
        char = chars[index : index + 1]
        if char and _SEPARATOR.fullmatch(char) and char != field:
            picked[index] = char
    component, repetition, escape, subcomponent = picked
    return _Separators(field, component, repetition, subcomponent, escape)


def _segment(line: str, seps: _Separators) -> list[str] | None:
    """The line's fields (``[id, SEG-1, SEG-2...]``, MSH: ``[MSH, MSH-2, MSH-3...]``), or None
    when the line is not a segment."""
    if not _SEGMENT_ID.fullmatch(line[:3]) or line[3:4] not in ("", seps.field):
        return None
    if line.startswith("MSH") and len(line) > 3:
        return ["MSH", *line[4:].split(seps.field)]
    return line.split(seps.field)


def _mask_field(value: str, seps: _Separators) -> str:
    def leaf(part: str) -> str:
        return part if not part.strip() or part == '""' else seps.mask

    return seps.repetition.join(
        seps.component.join(
            seps.subcomponent.join(leaf(s) for s in comp.split(seps.subcomponent))
            for comp in rep.split(seps.component)
        )
        for rep in value.split(seps.repetition)
    )


def _mask_segment(fields: list[str], seps: _Separators) -> str:
    name = fields[0]
    if name == "MSH" and len(fields) == 1:
        return name
    if name == "MSH":  # fields[n - 1] is MSH-n; past MSH-25 (HL7 2.9) nothing is MSH's
        tail = [_mask_field(value, seps) for value in fields[MSH_FIELDS:]]
        return seps.field.join(["MSH" + seps.field + fields[1], *fields[2:MSH_FIELDS], *tail])
    masked = _KEPT.get(name)
    out = [name]
    for number, value in enumerate(fields[1:], 1):
        if masked is None:
            keep = number == 1 and bool(_SET_ID.fullmatch(value))
        else:
            keep = number not in masked
        out.append(value if keep else _mask_field(value, seps))
    return seps.field.join(out)


def mask_hl7(text: str) -> str:
    """An HL7 v2 message (however broken) with its patient and clinical fields masked."""
    parts = _LINE_BREAK.split(text)
    seps = _separators(parts[0::2])
    out: list[str] = []
    for index, part in enumerate(parts):
        if index % 2:  # a line break, kept as sent
            out.append(part)
            continue
        body = part.lstrip(_NOISE)
        lead = part[: len(part) - len(body)]
        fields = _segment(body, seps)
        out.append(lead + (mask_text(body) if fields is None else _mask_segment(fields, seps)))
    return "".join(out)


def hl7_lines(text: str) -> list[list[str] | None]:
    """Each line of an HL7 message as its fields (``[id, SEG-1...]``; MSH: ``[MSH, MSH-2...]``),
    ``None`` for a line that is not a segment, ``[]`` for a blank one."""
    lines = [line.lstrip(_NOISE) for line in _LINE_BREAK.split(text)[0::2]]
    seps = _separators(lines)
    return [_segment(line, seps) if line.strip() else [] for line in lines]


# JSON


def _tokens(key: str) -> list[str]:
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", key)
    return [t for t in re.split(r"[\W_]+", spaced.lower()) if t]


def _key_rule(key: str) -> Literal["mask", "keep", "check"]:
    """``mask`` the value, ``keep`` it (ids, numbers, times), or ``check`` its content."""
    tokens = _tokens(key)
    if not tokens:
        return "check"
    joined = "".join(tokens)
    if joined in _PERSONAL_KEYS or joined in _PERSONAL or any(t in _PERSONAL for t in tokens):
        return "mask"
    if tokens[-1] in _PLAIN_LAST:
        return "check" if "patient" in tokens else "keep"
    if any(t in _CLINICAL for t in tokens):
        return "mask"
    return "check"


def _identifying(text: str) -> bool:
    """Whether ``text`` holds a national code (ten digits in a row) or a mobile number."""
    ascii_digits = normalize_digits(text)
    return bool(_TEN_DIGITS.search(ascii_digits) or _MOBILE.search(ascii_digits))


def _mask_all(value: Any) -> Any:
    if isinstance(value, dict):
        return {_safe_key(k): _mask_all(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_all(v) for v in value]
    if value is None or value == "":
        return value
    return MASK


def _safe_key(key: str) -> str:
    return MASK if _identifying(key) else key


def _check(value: Any) -> Any:
    if isinstance(value, dict):
        return {_safe_key(k): _by_key(k, v) for k, v in value.items()}
    if isinstance(value, list):
        return [_check(v) for v in value]
    if isinstance(value, str) and _identifying(value):
        return MASK
    if isinstance(value, int) and not isinstance(value, bool) and len(str(abs(value))) >= 10:
        return MASK
    return value


def _by_key(key: str, value: Any) -> Any:
    rule = _key_rule(key)
    if rule == "mask":
        return _mask_all(value)
    return value if rule == "keep" else _check(value)


def mask_json(text: str) -> str:
    """A JSON body with personal and clinical values masked; unparseable: as free text."""
    try:
        data = json.loads(text)
        return json.dumps(_check(data), ensure_ascii=False)
    except (ValueError, RecursionError):
        return mask_text(text)
