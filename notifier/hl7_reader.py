"""Reading one HL7 v2 message: UTF-8 bytes in, segments with unescaped values out.

The ``hl7`` package (python-hl7) does the structure: ``hl7.parse`` takes the separators from
MSH-1/MSH-2 (custom ones too) and splits the message into ``hl7.Segment``, ``hl7.Field``,
``hl7.Repetition`` and ``hl7.Component`` containers, which ``Segment`` below indexes by HL7
position (``segment(n)``; as in HL7, MSH-1 is the field separator and MSH-2 the encoding
characters).

We do ourselves what it does not do, or does in a way we cannot use:

- Bytes must be UTF-8 (else AR 102); ``hl7.parse`` would decode them itself.
- Line endings: ``hl7.parse`` splits segments at ``\\r`` only (with ``\\n`` it keeps only MSH), so
  ``\\r\\n`` and ``\\n`` become ``\\r``; a BOM, surrounding whitespace, blank lines and lines
  that are not segments (a line break inside a value, noise) are dropped. One message per frame;
  the MSH-2 characters are checked (at least two, all different) before ``hl7.parse`` sees them.
- Escapes: ``Encoding.unescape`` undoes ``\\F\\ \\S\\ \\T\\ \\R\\ \\E\\ \\.br\\`` and
  ``\\Xhh..\\`` (read as UTF-8) in every value read. hl7's ``unescape`` (also behind
  ``extract_field`` and ``Message.unescape``) logs whole field values, patient data, through the
  deprecated ``logger.warn`` when an escape is odd, and ``hl7.split_file`` logs segment text; we
  call neither. ``hl7.parse`` and the container indexing used here log nothing.

Whatever hl7 raises on a message it cannot split becomes ``Hl7Error`` (AR 100).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any

import hl7

from clinic.jalali import TEHRAN

_SEGMENT = re.compile(r"[A-Z][A-Z0-9]{2}")
_MSH = re.compile(r"MSH[!-/:-@\[-`{-~]")  # then a printable ASCII separator
_TS = re.compile(
    r"(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})?(?:\.\d{1,4})?)?([+-]\d{4})?", re.ASCII
)


class Hl7Error(Exception):
    """A message we do not take; ``error`` is its HL7 table 0357 code, ``where`` an ERL."""

    def __init__(self, error: int, text: str, where: str = "") -> None:
        super().__init__(text)
        self.error = error
        self.text = text
        self.where = where


@dataclass(frozen=True)
class Encoding:
    """The separators a message declares in MSH-1 and MSH-2."""

    field: str = "|"
    component: str = "^"
    repetition: str = "~"
    escape: str = "\\"
    subcomponent: str = "&"

    def unescape(self, value: str) -> str:
        """``value`` with its escape sequences undone (unknown ones dropped)."""
        esc = self.escape
        if not esc or esc not in value:
            return value
        out: list[str] = []
        i = 0
        while (start := value.find(esc, i)) >= 0 and (end := value.find(esc, start + 1)) >= 0:
            out += [value[i:start], self._sequence(value[start + 1 : end])]
            i = end + 1
        return "".join([*out, value[i:]])

    def _sequence(self, seq: str) -> str:
        simple = {
            "F": self.field,
            "S": self.component,
            "T": self.subcomponent,
            "R": self.repetition,
            "E": self.escape,
            ".br": "\n",
        }
        if seq in simple:
            return simple[seq]
        if seq.startswith("X"):
            try:
                return bytes.fromhex(seq[1:]).decode("utf-8")
            except ValueError:  # odd or non-hex digits, or bytes that are not UTF-8
                return ""
        return ""  # highlighting, formatting and character-set switches carry no data we read


def _children(node: Any) -> list[Any]:
    """The parts of an hl7 container; a value hl7 left unsplit (no separator in it) is one part."""
    return [node] if isinstance(node, str) else list(node)


@dataclass(frozen=True)
class Segment:
    """One segment, read through its ``hl7.Segment``; SEG-n is ``parsed(n)``."""

    name: str
    parsed: Any  # hl7.Segment: Field → Repetition → Component → subcomponent strings
    enc: Encoding

    def raw(self, n: int) -> str:
        """SEG-n as sent (still escaped); empty when absent."""
        return str(self.parsed(n)) if 0 <= n < len(self.parsed) else ""

    def _repetitions(self, n: int) -> list[Any]:
        return _children(self.parsed(n)) if 0 <= n < len(self.parsed) else [""]

    def repetitions(self, n: int) -> int:
        return len(self._repetitions(n))

    def components(self, n: int, repetition: int = 1) -> list[str]:
        """The components of SEG-n (one repetition), unescaped, first subcomponent only."""
        if self.name == "MSH" and n <= 2:
            return [self.raw(n)]
        reps = self._repetitions(n)
        rep = reps[repetition - 1] if 0 < repetition <= len(reps) else ""
        return [self.enc.unescape(str(_children(c)[0])).strip() for c in _children(rep)]

    def get(self, n: int, component: int = 1, repetition: int = 1) -> str:
        """SEG-n.component (of one repetition), unescaped; empty when absent."""
        parts = self.components(n, repetition)
        return parts[component - 1] if 0 < component <= len(parts) else ""


@dataclass(frozen=True)
class Message:
    """A parsed message: MSH first, then the other segments in order."""

    segments: list[Segment]

    @property
    def msh(self) -> Segment:
        return self.segments[0]


def _lines(raw: bytes) -> list[str]:
    """The message's segment lines, MSH first, without the noise around and between them."""
    try:
        text = raw.decode("utf-8").lstrip("\ufeff \t\r\n\x0b")
    except UnicodeDecodeError:
        raise Hl7Error(102, "the message is not UTF-8") from None
    lines = [line.strip() for line in text.replace("\r\n", "\r").replace("\n", "\r").split("\r")]
    if not _MSH.match(lines[0]) or len(lines[0]) < 8:
        raise Hl7Error(100, "no MSH segment", "MSH")
    sep = lines[0][3]
    kept = [
        line
        for line in lines
        if _SEGMENT.fullmatch(line[:3]) and line[3:4] in ("", sep)  # else a wrapped value
    ]
    if sum(line.startswith("MSH") for line in kept) > 1:
        raise Hl7Error(100, "more than one message in one frame", "MSH")
    if sep not in kept[0][4:]:
        kept[0] += sep  # hl7.parse needs MSH-2 closed
    return kept


def parse_message(raw: bytes) -> Message:
    """Read one HL7 v2 message. Raises Hl7Error (not UTF-8, no MSH, two messages...)."""
    lines = _lines(raw)
    sep = lines[0][3]
    chars = lines[0][4:].split(sep, 1)[0]
    used = sep + chars + ("&" if len(chars) < 4 else "")  # hl7.parse's default subcomponent
    if len(chars) < 2 or len(set(used)) != len(used):
        raise Hl7Error(100, "unreadable MSH-2 encoding characters", "MSH^1^2")
    enc = Encoding(sep, chars[0], chars[1], chars[2:3], chars[3:4] or "&")
    try:
        parsed = hl7.parse("\r".join(lines))
        segments = [Segment(str(seg[0]), seg, enc) for seg in parsed]
    except (hl7.HL7Exception, ValueError, LookupError, AssertionError):
        raise Hl7Error(100, "unreadable segment structure", "MSH") from None
    return Message(segments)


def parse_ts(raw: str) -> datetime | None:
    """An HL7 TS/DTM (at least a full date) as an aware UTC datetime; None when unreadable."""
    m = _TS.fullmatch(raw.strip())
    if m is None:
        return None
    year, month, day, hour, minute, second, offset = m.groups()
    try:
        tz: tzinfo = TEHRAN
        if offset:
            sign = -1 if offset[0] == "-" else 1
            tz = timezone(sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[3:])))
        moment = datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            tzinfo=tz,
        )
    except ValueError:  # month 13, hour 25, offset over a day...
        return None
    return moment.astimezone(UTC)
