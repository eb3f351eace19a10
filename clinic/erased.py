"""How an erased patient's record is told apart (clinic/patient_data.py): by its national code.

An erased record keeps its row (the hospital's bookings and reports point to it) but no
identity. Its national code becomes ``X`` and the id, nine digits: never a real code (ten
digits with a check digit), never another record's, so the real code is free to register
again as a new record. No column marks it, so the readers that list patients skip these codes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from clinic.models import Patient

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement

PREFIX = "X"
NAME = "—"  # an erased record's first and last name: a dash, in every language


def erased_code(patient_id: int) -> str:
    """The national code an erased record carries: ``X000000012`` for patient 12."""
    if not 0 < patient_id < 10**9:
        raise ValueError("patient ids above 999999999 do not fit the erased code")
    return f"{PREFIX}{patient_id:09d}"


def is_erased(patient: Patient) -> bool:
    """Whether ``patient`` is an erased record."""
    return patient.national_code.startswith(PREFIX)


def not_erased() -> ColumnElement[bool]:
    """True for a patient row that was not erased (for a reader's WHERE)."""
    return ~Patient.national_code.startswith(PREFIX, autoescape=True)
