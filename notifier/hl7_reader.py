r"""Reading one HL7 v2 message: bytes in the declared character set in, segments out.

The ``hl7`` package (python-hl7) does the structure: ``hl7.parse`` takes the separators from
MSH-1/MSH-2 (custom ones too) and splits the message into ``hl7.Segment``, ``hl7.Field``,
``hl7.Repetition`` and ``hl7.Component`` containers, which ``Segment`` below indexes by HL7
position (``segment(n)``; as in HL7, MSH-1 is the field separator and MSH-2 the encoding
characters).

We do ourselves what it does not do, or does in a way we cannot use:

- Character set (MSH-18, HL7 table 0211), read from the raw bytes of the MSH line, which is
  ASCII in every set we take: empty or absent is UTF-8 (our default), as are ``UNICODE UTF-8``
  and ``UTF-8``; ``ASCII``; ``8859/1`` to ``8859/9`` and ``8859/15`` (``8859/6`` is Arabic);
  and the non-standard but common ``WINDOWS-1256``, ``CP1256`` and ``ARABIC`` for Windows-1256.
  Anything else (``UNICODE UTF-16``, ``ISO IR87``...) is AR 103; bytes invalid in the declared
  set are AR 102. Only MSH-18's first repetition counts: later ones name the alternate sets of
  ISO 2022 escape sequences, which we do not switch. ``hl7.parse`` would decode bytes itself.
  Decoding is faithful, not normalised: Windows-1256 has Persian پ چ ژ گ ک but no Farsi Yeh,
  so Persian senders write ی as Arabic ي; ISO 8859-6 has none of the six Persian letters
  (Arabic ك and ي instead of ک and ی). Compare names through ``clinic.text.normalize_text``.
- Line endings: ``hl7.parse`` splits segments at ``\r`` only (with ``\n`` it keeps only MSH), so
  ``\r\n`` and ``\n`` become ``\r``; a BOM, surrounding whitespace, blank lines and lines
  that are not segments (a line break inside a value, noise) are dropped. One message per frame;
  the MSH-2 characters are checked (at least two, all different) before ``hl7.parse`` sees them.
- Escapes: ``Encoding.unescape`` undoes ``\F\ \S\ \T\ \R\ \E\ \.br\`` and
  ``\Xhh..\`` (read in the message's character set) in every value read. hl7's ``unescape``
  (also behind ``extract_field`` and ``Message.unescape``) logs whole field values, patient data,
  through the deprecated ``logger.warn`` when an escape is odd, and ``hl7.split_file`` logs
  segment text; we call neither. ``hl7.parse`` and the container indexing used here log nothing.

Whatever hl7 raises on a message it cannot split becomes ``Hl7Error`` (AR 100). A character-set
error carries the MSH read on its own (``Hl7Error.msh``), so its AR can still answer the sender.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any

import hl7

from clinic.jalali import TEHRAN

_SEGMENT = re.compile(r"[A-Z][A-Z0-9]{2}")
_MSH = re.compile(r"MSH[!-/:-@\[-`{-~]")  # then a printable ASCII separator
_NOISE = b" \t\r\n\x0b"  # around a message; MLLP's 0x0b start byte too
# MSH-18 (HL7 table 0211, plus the Windows-1256 names Iranian HIS/RIS use) → Python codec.
_CHARSETS = {
    "": "utf-8",
    "UNICODE UTF-8": "utf-8",
    "UTF-8": "utf-8",
    "ASCII": "ascii",
    **{f"8859/{n}": f"iso8859_{n}" for n in (1, 2, 3, 4, 5, 6, 7, 8, 9, 15)},
    "WINDOWS-1256": "cp1256",
    "CP1256": "cp1256",
    "ARABIC": "cp1256",
}
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
        self.msh: Segment | None = None  # the MSH alone, when the rest could not be decoded


@dataclass(frozen=True)
class Encoding:
    """The separators a message declares in MSH-1 and MSH-2, and its MSH-18 codec."""

    field: str = "|"
    component: str = "^"
    repetition: str = "~"
    escape: str = "\\"
    subcomponent: str = "&"
    charset: str = "utf-8"

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
                return bytes.fromhex(seq[1:]).decode(self.charset)
            except ValueError:  # odd or non-hex digits, or bytes invalid in the charset
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
        """How many repetitions SEG-n has (1 when absent)."""
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
        """The MSH segment."""
        return self.segments[0]


def _body(raw: bytes) -> bytes:
    """The message without surrounding whitespace and a leading UTF-8 BOM."""
    return raw.lstrip(_NOISE).removeprefix(b"\xef\xbb\xbf").lstrip(_NOISE)


def _msh_line(body: bytes) -> str:
    """The first line, read byte for byte (MSH is ASCII in every character set we take)."""
    return re.split(rb"[\r\n]", body, maxsplit=1)[0].decode("latin-1")


def _declared(msh: str) -> str:
    """MSH-18's first repetition, upper-case; empty when absent (or no MSH)."""
    if not _MSH.match(msh):
        return ""
    fields = msh.split(msh[3])  # fields[n - 1] is MSH-n
    if len(fields) < 18:
        return ""
    return fields[17].split(fields[1][1:2] or "~")[0].strip().upper()


def _codec(raw: bytes) -> str | None:
    """The Python codec for the character set ``raw`` declares; None when we do not take it."""
    return _CHARSETS.get(_declared(_msh_line(_body(raw))))


def readable(raw: bytes) -> str:
    """``raw`` as text for staff: in its declared character set, else UTF-8, never failing."""
    return raw.decode(_codec(raw) or "utf-8", errors="replace")


def _lines(text: str) -> list[str]:
    """The message's segment lines, MSH first, without the noise around and between them."""
    text = text.lstrip("\ufeff \t\r\n\x0b")
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


def _parse(text: str, codec: str) -> Message:
    r"""The decoded message, split by its own separators (``codec`` reads its \X escapes)."""
    lines = _lines(text)
    sep = lines[0][3]
    chars = lines[0][4:].split(sep, 1)[0]
    used = sep + chars + ("&" if len(chars) < 4 else "")  # hl7.parse's default subcomponent
    if len(chars) < 2 or len(set(used)) != len(used):
        raise Hl7Error(100, "unreadable MSH-2 encoding characters", "MSH^1^2")
    enc = Encoding(sep, chars[0], chars[1], chars[2:3], chars[3:4] or "&", codec)
    try:
        parsed = hl7.parse("\r".join(lines))
        segments = [Segment(str(seg[0]), seg, enc) for seg in parsed]
    except (hl7.HL7Exception, ValueError, LookupError, AssertionError):
        raise Hl7Error(100, "unreadable segment structure", "MSH") from None
    return Message(segments)


def parse_message(raw: bytes) -> Message:
    """Read one HL7 v2 message. Raises Hl7Error (bad bytes, no MSH, two messages...)."""
    body = _body(raw)
    msh = _msh_line(body)
    declared = _declared(msh)
    codec = _CHARSETS.get(declared)
    if codec is None:
        shown = re.sub(r"[^ -~]", "?", declared)[:40]
        raise _with_msh(Hl7Error(103, f"unsupported character set {shown}", "MSH^1^18"), msh)
    try:
        text = body.decode(codec)
    except UnicodeDecodeError:
        name = "UTF-8" if codec == "utf-8" else declared
        raise _with_msh(Hl7Error(102, f"the message is not {name}"), msh) from None
    return _parse(text, codec)


def _with_msh(exc: Hl7Error, msh: str) -> Hl7Error:
    """``exc`` with the MSH line read on its own (it is ASCII), for the ACK, when readable."""
    with contextlib.suppress(Hl7Error):
        exc.msh = _parse(msh, "latin-1").msh
    return exc


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
