"""Reading an ``.ics`` file back as a calendar application would, with icalendar's own rules."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from icalendar import Calendar, Component, Event


def parse_valid(data: bytes) -> tuple[Calendar, Event]:
    """The calendar and its one event, after checking the file as RFC 5545 writes it: CRLF
    lines of at most 75 octets, no parse errors, every component's required properties there,
    its single ones once, never two exclusive ones, and the calendar's own ``validate``."""
    assert data.endswith(b"\r\n")
    lines = data.split(b"\r\n")[:-1]
    assert all(len(line) <= 75 for line in lines), max(lines, key=len)
    assert b"\n" not in b"".join(lines)  # no bare LF inside a line
    calendar = Calendar.from_ical(data)
    calendar.validate()  # type: ignore[no-untyped-call]
    for component in calendar.walk():
        _check(component)
    events = [c for c in calendar.walk() if isinstance(c, Event)]
    assert len(events) == 1
    return calendar, events[0]


def _check(component: Component) -> None:
    assert not component.errors, component.errors
    required: tuple[str, ...] = component.required
    singletons: tuple[str, ...] = component.singletons
    exclusive: tuple[str, ...] = component.exclusive
    for name in required:
        assert name in component, (component.name, name)
    for name in singletons:
        assert not isinstance(component.get(name), list), (component.name, name)
    assert sum(name in component for name in exclusive) <= 1, component.name


def prop(component: Component, name: str) -> Any:
    """A property as icalendar parsed it (``.dt``, ``.td``, ``.params``: by its type)."""
    found: Any = component.get(name)
    assert found is not None, name
    return found


def text(component: Component, name: str) -> str:
    """A text property's value, unescaped."""
    return str(prop(component, name))


def number(component: Component, name: str) -> int:
    """An integer property's value (SEQUENCE)."""
    return int(prop(component, name))


def moment(component: Component, name: str) -> datetime:
    """A date-time property's value, aware (DTSTART, DTEND, an absolute TRIGGER)."""
    found = prop(component, name).dt
    assert isinstance(found, datetime) and found.tzinfo is not None, found
    return found
