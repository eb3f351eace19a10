"""One mapping of a setup file (catalogue, department) read field by field: each reader checks
its value, records a problem with the line it is on and returns a placeholder, so one pass over
a file reports every problem at once."""

from __future__ import annotations

import difflib
import re
from typing import TYPE_CHECKING

from clinic.models import Modality
from clinic.text import normalize_digits

if TYPE_CHECKING:
    from clinic.catalogue_files import Node, Problem

INTEGER = re.compile(r"[+-]?[0-9]+")
_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")
_PERSIAN_LETTER = re.compile(r"[\u0621-\u064a\u067e\u0686\u0698\u06a9\u06af\u06cc]")
# Arabic Yeh and Kaf, as keyboards and Word documents often type them, to the Persian letters.
_PERSIAN_LETTERS = str.maketrans({"\u064a": "\u06cc", "\u0649": "\u06cc", "\u0643": "\u06a9"})
_TRUE = ("true", "yes", "1")
_FALSE = ("false", "no", "0")


def parse_modality(raw: str) -> Modality | None:
    """``CT``/``MR``/… or the names ``mri``, ``ultrasound``, ``bone_densitometry``…; else None."""
    word = re.sub(r"[\s-]+", "_", raw.strip()).upper()
    if word in Modality.__members__:
        return Modality[word]
    try:
        return Modality(word)
    except ValueError:
        return None


class Record:
    """One mapping in the file; each getter records its problems and returns a placeholder."""

    def __init__(self, node: Node, what: str, problems: list[Problem]) -> None:
        self.line, self.what, self._problems = node.line, what, problems
        self.ok = self.shaped = isinstance(node.value, dict)
        self.fields = node.value if isinstance(node.value, dict) else {}
        if not self.ok:
            problems.append((node.line, f"{what} must be written as fields (name: value)"))

    def child(self, node: Node, what: str) -> Record:
        """A record of ``node`` (inside this one) reporting to the same problems."""
        return Record(node, what, self._problems)

    def _compound(self, name: str) -> bool:
        node = self.fields.get(name)
        return node is not None and isinstance(node.value, (list, dict))

    def problem(self, line: int, message: str) -> None:
        """Record a problem on ``line``; the record is then not ok."""
        self.ok = False
        self._problems.append((line, message))

    def only(self, allowed: tuple[str, ...]) -> None:
        """A problem for each field not in ``allowed`` (with the closest allowed name)."""
        for name, node in self.fields.items():
            if name not in allowed:
                close = difflib.get_close_matches(name, allowed, n=1)
                hint = f"; did you mean {close[0]}?" if close else ""
                self.problem(node.line, f"unknown field {name!r} in {self.what}{hint}")

    def _scalar(self, name: str, required: bool) -> tuple[str | None, int]:
        node = self.fields.get(name)
        if node is None:
            if required and self.shaped:  # a malformed record is reported once, not per field
                self.problem(self.line, f"{name} is required in {self.what}")
            return None, self.line
        if isinstance(node.value, (list, dict)):
            self.problem(node.line, f"{name} must be a single value")
            return None, node.line
        return node.value, node.line

    def text(self, name: str, *, persian: bool = False, limit: int = 2000) -> str:
        """A required text field, trimmed (checked for Persian letters with ``persian``)."""
        raw, line = self._scalar(name, required=True)
        value = (raw or "").strip()
        if persian:
            value = value.translate(_PERSIAN_LETTERS)
        if raw is None and self._compound(name):
            pass  # already reported as not a single value
        elif name in self.fields and not value:
            self.problem(line, f"{name} must not be empty")
        elif persian and value and not _PERSIAN_LETTER.search(value):
            self.problem(line, f"{name} must be written in Persian")
        elif len(value) > limit:
            self.problem(line, f"{name} must be at most {limit} characters")
        return value

    def code(self, name: str, pattern: re.Pattern[str], *, lower: bool, shape: str) -> str:
        """A required code matching ``pattern`` (described as ``shape`` in the problem)."""
        raw, line = self._scalar(name, required=True)
        value = (raw or "").strip()
        value = value.lower() if lower else value.upper()
        if raw is not None and not value:
            self.problem(line, f"{name} must not be empty")
        elif raw is not None and not pattern.fullmatch(value):
            self.problem(line, f"{name} {raw!r} must be {shape}")
        return value

    def modality(self, name: str) -> Modality | None:
        """A required modality (a DICOM code or its name)."""
        raw, line = self._scalar(name, required=True)
        found = parse_modality(raw) if raw is not None else None
        if raw is not None and found is None:
            codes = ", ".join(m.value for m in Modality)
            self.problem(line, f"unknown modality {raw!r}; use one of {codes}")
        return found

    def boolean(self, name: str, *, nullable: bool = False) -> bool | None:
        """An optional true/false (false, or None with ``nullable``, when not given)."""
        raw, line = self._scalar(name, required=False)
        word = (raw or "").strip().lower()
        if raw is None:
            return None if nullable else False
        if word in _TRUE or word in _FALSE:
            return word in _TRUE
        choices = "true, false or null" if nullable else "true or false"
        self.problem(line, f"{name} must be {choices}, not {raw!r}")
        return None

    def integer(
        self, name: str, lo: int, hi: int, *, required: bool = False, what: str = "number"
    ) -> int | None:
        """A whole number in ``lo..hi`` (None when not given or null)."""
        node = self.fields.get(name)
        if node is None:
            self._scalar(name, required)
            return None
        if node.value is None and not required:
            return None  # null: not set
        return self.whole(node, name, lo, hi, what=what)

    def whole(self, node: Node, name: str, lo: int, hi: int, *, what: str) -> int | None:
        """``node`` as a whole number in ``lo..hi`` (Persian digits accepted)."""
        text = normalize_digits(node.value if isinstance(node.value, str) else "").strip()
        if INTEGER.fullmatch(text) and lo <= int(text) <= hi:
            return int(text)
        self.problem(node.line, f"{name} must be a whole {what} between {lo} and {hi}")
        return None

    def hours(self, name: str) -> float | None:
        """An optional number of hours, 0 to 168."""
        raw, line = self._scalar(name, required=False)
        if raw is None:
            return None
        text = normalize_digits(raw).replace("\u066b", ".").strip()
        if not _NUMBER.fullmatch(text):
            self.problem(line, f"{name} must be a number of hours, like 6 or 0.5")
        elif float(text) < 0:
            self.problem(line, f"{name} must not be negative")
        elif float(text) > 168:
            self.problem(line, f"{name} must be at most 168 (one week)")
        else:
            return float(text)
        return None

    def items(self, name: str) -> list[Node]:
        """The list field ``name`` (empty when not given)."""
        node = self.fields.get(name)
        if node is None or node.value is None:
            return []
        if not isinstance(node.value, list):
            self.problem(node.line, f"{name} must be a list")
            return []
        return node.value
