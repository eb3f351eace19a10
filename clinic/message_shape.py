"""What staff are shown of a kept (masked) hospital message: its structure, never its content."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from clinic.message_mask import detect, hl7_lines

if TYPE_CHECKING:
    from clinic.message_mask import BodyKind

_SHOWN_ID = re.compile(r"[A-Za-z0-9^._-]{1,40}")


@dataclass(frozen=True)
class Shape:
    """What a message is, for staff to tell its sender: its kind and length; for HL7 its
    type (MSH-9), control id (MSH-10) and segments (id, field count); for JSON its top-level
    keys (or ``items`` of a list)."""

    kind: BodyKind
    length: int
    message_type: str = ""
    control_id: str = ""
    segments: tuple[tuple[str, int], ...] = ()
    other_lines: int = 0
    keys: tuple[str, ...] = ()
    items: int | None = None

    def segment_list(self, limit: int = 40) -> str:
        """``MSH(12) PID(19) OBX(11)×3``: runs of the same segment and field count joined."""
        runs: list[tuple[str, int, int]] = []
        for name, count in self.segments:
            if runs and runs[-1][:2] == (name, count):
                runs[-1] = (name, count, runs[-1][2] + 1)
            else:
                runs.append((name, count, 1))
        shown = [f"{n}({c})" + (f"×{times}" if times > 1 else "") for n, c, times in runs]
        more = " …" if len(shown) > limit else ""
        return " ".join(shown[:limit]) + more


def _shown(value: str) -> str:
    """A sender's id as it is when it is a plain one, else ``?`` (it could be anything)."""
    return value if _SHOWN_ID.fullmatch(value) else "?" if value else ""


def describe(body: str) -> Shape:
    """The shape of a kept message (see ``Shape``); never raises."""
    kind = detect(body)
    if kind == "hl7":
        return _describe_hl7(body)
    if kind == "json":
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            data = None
        if isinstance(data, dict):
            keys = tuple(re.sub(r"[^\w .:/-]", "?", str(k))[:40] for k in data)
            return Shape("json", len(body), keys=keys)
        if isinstance(data, list):
            return Shape("json", len(body), items=len(data))
    return Shape("text", len(body))


def _describe_hl7(body: str) -> Shape:
    segments: list[tuple[str, int]] = []
    other = 0
    message_type = control_id = ""
    for fields in hl7_lines(body):
        if fields is None:
            other += 1
            continue
        if not fields:
            continue
        if fields[0] == "MSH" and not any(name == "MSH" for name, _ in segments):
            message_type = _shown(fields[8] if len(fields) > 8 else "")
            control_id = _shown(fields[9] if len(fields) > 9 else "")
        # MSH counts MSH-1, the field separator, which is not among ``fields``
        segments.append((fields[0], len(fields) if fields[0] == "MSH" else len(fields) - 1))
    return Shape("hl7", len(body), message_type, control_id, tuple(segments), other)
