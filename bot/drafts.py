"""What the bot keeps for a person between their messages: every draft's shape, in one place.

Drafts live in ``context.user_data`` and are persisted as JSON (``bot.persistence``), so they
hold ids, choices and the answers a flow gathers (never message text beyond the field typed
for it, never a photo: a stored file's key). Each draft is a ``TypedDict`` under its own key,
read and written through a ``Draft`` slot, so mypy checks every field a handler touches and a
reader sees here everything the bot remembers about someone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Generic, Required, TypedDict, TypeVar, cast

if TYPE_CHECKING:
    from bot.context import BotContext

T = TypeVar("T")


class Draft(Generic[T]):
    """One draft kept in the person's persisted data under ``key``."""

    def __init__(self, key: str) -> None:
        """A slot for the drafts stored under ``key``."""
        self.key = key

    def get(self, context: BotContext) -> T | None:
        """The draft, or None when there is none (or what is stored is not a draft)."""
        value = context.data.get(self.key)
        return cast("T", value) if isinstance(value, dict) else None

    def put(self, context: BotContext, draft: T) -> T:
        """Keep ``draft`` (replacing any earlier one) and return it."""
        context.data[self.key] = draft
        return draft

    def drop(self, context: BotContext) -> T | None:
        """Forget the draft, returning what it was."""
        value = context.data.pop(self.key, None)
        return cast("T", value) if isinstance(value, dict) else None


class StoredFileRef(TypedDict):
    """A prescription photo or file already in the file store (``clinic.files``): its ref."""

    ref: str
    content_type: str
    size: int


class RequestDraft(TypedDict, total=False):
    """A new request (a referral) being put together, by the patient or for them
    (``bot.request_steps``); empty until the exam is chosen."""

    exam_id: int
    site_id: int  # the centre chosen, where several do the exam
    questions: list[int]  # the exam's safety questions, in order
    answers: dict[str, bool]  # question id (as JSON keys are strings) → yes/no
    tracking_code: str  # an e-prescription's tracking code, when typed
    file: StoredFileRef  # a photo or PDF of the paper prescription, when sent
    insurer: str  # an Insurer value


class RegistrationDraft(TypedDict, total=False):
    """A patient's registration, gathered field by field (``bot.registration_steps``), then
    stored in the patient table."""

    national_code: str
    mobile: str  # verified: the phone number the messenger shared
    first_name: str
    last_name: str
    birth_year: int
    sex: str  # a Sex value (female, male)
    check: int  # the one-time SMS code's check (clinic.identity_checks), never the code
    confirmed: bool  # the code was right: the questions of a new record follow
    prompt: int  # the message with the button that sends the code again (the newest only)


class FamilyDraft(RegistrationDraft, total=False):
    """A family member being added by the account's holder (``bot.conversations.family``):
    the registration's fields (the mobile typed, not verified), then what they are to the
    holder."""

    relation: str  # a Relation value
    no_mobile: bool  # they have no mobile of their own: the holder's is kept
    on_record: bool  # the code was right and they are a patient already: linked as they are


class RequestFor(TypedDict):
    """Whom a new request is for, when the account acts for family members too."""

    patient: int  # a patient the account acts for (checked again at every step)


class LinkDraft(TypedDict):
    """A health worker's link code, checked, waiting for their number (never the code)."""

    code: int  # the link code's id


class ClosureDraft(TypedDict, total=False):
    """A closure being previewed by an admin, before it is confirmed (``bot.staff.admin``)."""

    device: Required[int]  # 0: the whole department (``site``'s, or every site's)
    site: int  # the site closed whole, where there are several
    first: Required[str]  # ISO days, the first and the last closed (inclusive)
    last: Required[str]
    reason: Required[str]  # what patients will be told


class StaffInput(TypedDict, total=False):
    """The typed answer a staff step waits for (``kind``, ``bot.staff``) and the ids and
    choices it is about; each typed answer ends the wait unless its step asks again."""

    kind: Required[str]
    device: int  # a closure's device (0: the whole department) or a broadcast's
    site: int  # a closure's site closed whole (none: the only or every site)
    first: str  # a closure's days, ISO, once typed
    last: str
    roles: list[str]  # a new staff member's Role values
    house: int  # the health house of a new health worker
    booking: int  # the booking admitted with a typed accession number
    event: str | int  # an unmatched hospital event's id, or the report kind (f, c)
    referral: int  # the referral rejected with a typed reason
    audience: dict[str, object]  # a broadcast's audience (clinic.broadcasts.Audience.as_json)
    report: int  # the report a proxy collects (the note is typed)


class DeskDraft(TypedDict, total=False):
    """A booking reception is making for a patient at the desk or on the phone, or a walk-in's
    ticket (``bot.staff.desk``): the patient found by the national code typed (their id, never
    the code), then the choices made, step by step."""

    walk_in: Required[bool]  # a ticket in today's queue rather than an appointment
    patient: int
    exam: int
    insurer: str  # an Insurer value
    tracking_code: str  # the e-prescription's, when typed
    paper: bool  # the paper prescription is in reception's hands
    questions: list[int]  # the safety questions the exam asks of this patient, in order
    answers: dict[str, bool]  # question id (as JSON keys are strings) → yes/no
    channel: str  # a BookingChannel value: desk or phone
    keep: str  # a Keep value (urgent, inpatient) whose kept-back places it may use


class WorkerInput(RegistrationDraft, RequestDraft, total=False):
    """What a health worker is in the middle of (``kind``: reg_… while registering a patient,
    req… while sending a request for one, find): the patient a request is for and the fields
    gathered so far."""

    kind: Required[str]
    patient_id: int  # the patient a request is for (not while registering one)


REQUEST: Draft[RequestDraft] = Draft("request")
REGISTRATION: Draft[RegistrationDraft] = Draft("registration")
FAMILY: Draft[FamilyDraft] = Draft("family")
REQUEST_FOR: Draft[RequestFor] = Draft("request_for")
LINK: Draft[LinkDraft] = Draft("link")
CLOSURE: Draft[ClosureDraft] = Draft("staff_closure")
STAFF_INPUT: Draft[StaffInput] = Draft("staff_input")
DESK: Draft[DeskDraft] = Draft("staff_desk")
WORKER_INPUT: Draft[WorkerInput] = Draft("worker_input")
