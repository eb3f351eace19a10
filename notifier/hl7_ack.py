"""The HL7 v2 original-mode ACK we answer every message with: the sender's MSH read back, the
outcome (MSA) and, for an error, its ERR segment. Always UTF-8, and it says so in MSH-18."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from clinic.jalali import TEHRAN
from notifier.hl7_reader import Segment, parse_ts

if TYPE_CHECKING:
    from datetime import datetime

APPLICATION = "RADYAR"
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_ERRORS = {
    100: "Segment sequence error",
    101: "Required field missing",
    102: "Data type error",
    103: "Table value not found",
    200: "Unsupported message type",
    204: "Unknown key identifier",
    207: "Application internal error",
}


@dataclass(frozen=True)
class Header:
    """What the ACK needs from MSH (values unescaped)."""

    sender: tuple[list[str], list[str]]  # MSH-3, MSH-4 as components
    receiver: tuple[list[str], list[str]]  # MSH-5, MSH-6
    sent_at: datetime | None
    message_type: str  # "ORU^R01"
    trigger: str
    control_id: str
    processing_id: str
    version: str

    @classmethod
    def of(cls, msh: Segment) -> Header:
        """The header read from the MSH segment."""
        return cls(
            (msh.components(3), msh.components(4)),
            (msh.components(5), msh.components(6)),
            parse_ts(msh.get(7)),
            f"{msh.get(9, 1).upper()}^{msh.get(9, 2).upper()}",
            msh.get(9, 2).upper(),
            msh.get(10),
            msh.get(11) or "P",
            msh.get(12) or "2.5.1",
        )

    @property
    def facility(self) -> str:
        """The sending facility (MSH-4's first component): which hospital's HIS/RIS sent it."""
        return self.sender[1][0] if self.sender[1] else ""


@dataclass(frozen=True)
class Answer:
    """The outcome an ACK reports: MSA-1 code, a short text, and the HL7 error if any."""

    code: str
    text: str = ""
    error: int | None = None
    where: str = ""
    accessions: int = 0


def _escape(value: str) -> str:
    r"""``value`` for our ACK (default separators); hl7's escape writes non-ASCII as \Xhh\.

    Control characters (C0 and DEL; among them MLLP's framing bytes 0x0b and 0x1c, which would
    end the sender's frame early) become spaces, and so do C1 ones."""
    for char, code in zip("\\|^&~", "EFSTR", strict=True):
        value = value.replace(char, f"\\{code}\\")
    return _CONTROL.sub(" ", value)


def _hd(components: list[str]) -> str:
    return "^".join(_escape(c) for c in components).rstrip("^")


def build_ack(head: Header | None, answer: Answer, now: datetime) -> bytes:
    """The original-mode ACK; with no readable MSH, a minimal AR with defaults."""
    empty: tuple[list[str], list[str]] = ([], [])
    sender, receiver = (head.sender, head.receiver) if head else (empty, empty)
    ids = (head.trigger, head.processing_id, head.version) if head else ("", "P", "2.5.1")
    trigger, processing, version = (_escape(value) for value in ids)
    msh = ["MSH", "^~\\&", _hd(receiver[0]) or APPLICATION, _hd(receiver[1]), _hd(sender[0])]
    msh += [_hd(sender[1]), now.astimezone(TEHRAN).strftime("%Y%m%d%H%M%S%z"), ""]
    msh += [f"ACK^{trigger}^ACK", uuid.uuid4().hex[:20].upper(), processing, version]
    msh += ["", "", "", "", "", "UNICODE UTF-8"]  # MSH-13..17 empty; MSH-18: what we encode
    control = _escape(head.control_id) if head else ""
    segments = ["|".join(msh), "|".join(["MSA", answer.code, control, _escape(answer.text)])]
    if answer.error is not None:
        code = f"{answer.error}^{_ERRORS[answer.error]}^HL70357"
        segments.append(
            "|".join(["ERR", "", answer.where, code, "E", "", "", "", _escape(answer.text)])
        )
    return "\r".join(segments).encode("utf-8")
