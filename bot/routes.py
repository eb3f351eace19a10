"""Every button the bot offers, by name: one table of routes from wire code to argument kinds.

A button's callback data is ``code:arg:…`` (``bot.callbacks``); a ``Route`` names one code, the
kinds of the arguments it carries and what it is for. ``ROUTE(…)`` builds the data after
checking each value, ``ROUTE.pattern`` is its CallbackQueryHandler pattern and
``ROUTE.parse(data)`` reads typed values back (``ROUTE.read(data)`` as ``Args``, read by
kind). The wire codes never change: messages already in chats carry them (and the notifier
writes the notice buttons, ``clinic.notice_buttons``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from types import MappingProxyType
from typing import TYPE_CHECKING, cast

from bot.callbacks import MAX_ID, pack, pattern, unpack
from clinic import notice_buttons
from clinic.jalali import TEHRAN

if TYPE_CHECKING:
    from collections.abc import Iterable

    from bot.callbacks import Callback

MAX_NUMBER = 9_999  # a page of a list or a small index: far above any list we page
_WORD = re.compile(r"[A-Za-z0-9_.\-]{1,24}", re.ASCII)  # one callback part (bot.callbacks)
TARGETS = ("ref", "bk")  # a referral to book, or a booking to move
_YEARS = range(2000, 2100)  # the years bot.callbacks reads back (others are forged)


class Arg(Enum):
    """The kind of one argument a route carries, how it is written and read back."""

    ID = "id"  # a database id: an int in 0..MAX_ID
    PAGE = "page"  # a page of a paged list: an int in 0..MAX_NUMBER
    NUMBER = "number"  # a small int (an index into a list, a yes/no answer): 0..MAX_NUMBER
    DAY = "day"  # a datetime.date, written YYYYMMDD
    MOMENT = "moment"  # an aware datetime, written YYYYMMDDHHMM in Tehran time (to the minute)
    WORD = "word"  # a short ASCII token: a modality, insurer, language or sex code, role letters
    TARGET = "target"  # "ref" (a referral to book) or "bk" (a booking to move)

    def write(self, value: object) -> str:
        """``value`` as a callback part; TypeError or ValueError when it is not of this kind."""
        if self in (Arg.ID, Arg.PAGE, Arg.NUMBER):
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"{self.name} must be an int, not {type(value).__name__}")
            top = MAX_ID if self is Arg.ID else MAX_NUMBER
            if not 0 <= value <= top:
                raise ValueError(f"{self.name} must be in 0..{top}, not {value}")
            return str(value)
        if self is Arg.DAY:
            if not isinstance(value, date) or isinstance(value, datetime):
                raise TypeError(f"DAY must be a date, not {type(value).__name__}")
            return f"{_in_years(value):%Y%m%d}"
        if self is Arg.MOMENT:
            if not isinstance(value, datetime):
                raise TypeError(f"MOMENT must be a datetime, not {type(value).__name__}")
            if value.utcoffset() is None:
                raise ValueError("MOMENT must be an aware datetime")
            moment = value.astimezone(TEHRAN)
            _in_years(moment)
            return f"{moment:%Y%m%d%H%M}"
        if not isinstance(value, str):
            raise TypeError(f"{self.name} must be a str, not {type(value).__name__}")
        text = str.__str__(value)  # a StrEnum member's value, never its name
        if self is Arg.TARGET and text not in TARGETS:
            raise ValueError(f"TARGET must be one of {TARGETS}, not {text!r}")
        if not _WORD.fullmatch(text):
            raise ValueError(f"WORD must be a short ASCII token, not {text!r}")
        return text

    def read(self, choice: Callback, index: int) -> object | None:
        """Argument ``index`` of ``choice`` as this kind, or None when absent or malformed."""
        if self is Arg.ID:
            return choice.int_arg(index)
        if self in (Arg.PAGE, Arg.NUMBER):
            number = choice.int_arg(index)
            return number if number is not None and number <= MAX_NUMBER else None
        if self is Arg.DAY:
            return choice.day_arg(index)
        if self is Arg.MOMENT:
            return choice.moment_arg(index)
        text = choice.args[index] if index < len(choice.args) else None
        return None if self is Arg.TARGET and text not in TARGETS else text


def _in_years(value: date) -> date:
    """``value``; ValueError when bot.callbacks would not read its year back."""
    if value.year not in _YEARS:
        raise ValueError(f"year {value.year} is out of range")
    return value


@dataclass(frozen=True)
class Route:
    """One callback action: its wire code, the kinds of its arguments, what it is for.

    The last ``optional`` arguments may be left out (from the end): a button that opens the
    first of something carries fewer than the one that pages through it.
    """

    code: str
    args: tuple[Arg, ...] = ()
    doc: str = ""
    optional: int = 0

    def __post_init__(self) -> None:
        if not _WORD.fullmatch(self.code):
            raise ValueError(f"route code {self.code!r} is not a callback part")
        if not 0 <= self.optional <= len(self.args):
            raise ValueError(f"route {self.code}: optional must be in 0..{len(self.args)}")

    @property
    def required(self) -> int:
        """How many arguments every button of this route carries."""
        return len(self.args) - self.optional

    def __call__(self, *values: object) -> str:
        """The callback data carrying ``values``; TypeError or ValueError on a wrong one."""
        if not self.required <= len(values) <= len(self.args):
            expected = (
                str(len(self.args)) if not self.optional else f"{self.required}..{len(self.args)}"
            )
            raise TypeError(f"route {self.code} takes {expected} arguments, not {len(values)}")
        return pack(
            self.code, *(kind.write(v) for kind, v in zip(self.args, values, strict=False))
        )

    @property
    def pattern(self) -> str:
        """The CallbackQueryHandler pattern of this route."""
        return pattern(self.code)

    def parse(self, data: str | None) -> tuple[object, ...] | None:
        """The typed values ``data`` carries, or None when it is not a well-formed press."""
        choice = unpack(data)
        if choice is None or choice.action != self.code:
            return None
        if not self.required <= len(choice.args) <= len(self.args):
            return None
        values = tuple(
            kind.read(choice, i) for i, kind in enumerate(self.args[: len(choice.args)])
        )
        return None if any(v is None for v in values) else values

    def read(self, data: str | None) -> Args | None:
        """The press ``data`` as typed arguments of this route, or None when it is not one."""
        values = self.parse(data)
        return None if values is None else Args(self, values)


@dataclass(frozen=True)
class Args:
    """The typed arguments of one well-formed press of ``route``, read by their kind.

    Every required argument is there and of its kind (``Route.parse`` checked them), so the
    readers return plain values; asking for an argument as a kind the route does not give it
    there is a programming error (TypeError), caught by the route tests.
    """

    route: Route
    values: tuple[object, ...]

    def _at(self, index: int, *kinds: Arg) -> object | None:
        if index >= len(self.route.args) or self.route.args[index] not in kinds:
            raise TypeError(f"route {self.route.code} has no {kinds[0].name} argument {index}")
        return self.values[index] if index < len(self.values) else None

    def _given(self, index: int, *kinds: Arg) -> object:
        value = self._at(index, *kinds)
        if value is None:
            raise LookupError(f"route {self.route.code}: argument {index} was left out")
        return value

    def id(self, index: int = 0) -> int:
        """The database id at ``index``."""
        return int(cast("int", self._given(index, Arg.ID)))

    def number(self, index: int) -> int:
        """The small number at ``index`` (an index into a list, a yes/no answer)."""
        return int(cast("int", self._given(index, Arg.NUMBER)))

    def id_or_none(self, index: int = 0) -> int | None:
        """The database id at ``index``, or None when the button left it out."""
        value = self._at(index, Arg.ID)
        return None if value is None else int(cast("int", value))

    def page(self, index: int) -> int:
        """The page at ``index``; the first page (0) when the button left it out."""
        value = self._at(index, Arg.PAGE)
        return 0 if value is None else int(cast("int", value))

    def day(self, index: int) -> date:
        """The day at ``index``."""
        return cast("date", self._given(index, Arg.DAY))

    def moment(self, index: int) -> datetime:
        """The moment (an aware datetime in Tehran time) at ``index``."""
        return cast("datetime", self._given(index, Arg.MOMENT))

    def word(self, index: int = 0) -> str:
        """The word (or target) at ``index``."""
        return str(self._given(index, Arg.WORD, Arg.TARGET))

    def word_or_none(self, index: int = 0) -> str | None:
        """The word at ``index``, or None when the button left it out."""
        value = self._at(index, Arg.WORD)
        return None if value is None else str(value)


# The patient --------------------------------------------------------------------------------

LANGUAGE = Route("lang", (Arg.WORD,), "choose the language (a language code)")
SEX = Route("sex", (Arg.WORD,), "registration: the patient's sex (female, male)")
CODE_AGAIN = Route("otp", (), "registration: send the one-time SMS code again")
MODALITY = Route(
    "mod",
    (Arg.WORD, Arg.PAGE),
    "new request: a modality's exams (modality code, page)",
    optional=1,
)
EXAM = Route("exam", (Arg.ID,), "new request: the exam chosen")
CENTRE = Route("ctr", (Arg.ID,), "new request: the centre chosen (a site)")
SCREENING = Route(
    "scr", (Arg.ID, Arg.NUMBER), "new request: a safety question answered (id, 1 or 0)"
)
INSURER = Route("ins", (Arg.WORD,), "new request: the insurer (an Insurer value)")
APPOINTMENTS = Route(
    "appts",
    (Arg.ID,),
    "the list of my appointments, or of a family member's (their patient id)",
    optional=1,
)
APPOINTMENT = Route("appt", (Arg.ID,), "one of my appointments (a booking)")
CANCEL = Route("cx", (Arg.ID,), "ask before cancelling my appointment")
CANCEL_CONFIRMED = Route("cxok", (Arg.ID,), "cancel my appointment")
MOVE = Route("mv", (Arg.ID,), "reschedule my appointment: the days")
WAITLIST = Route("wl", (Arg.ID,), "an earlier date: the dates to wait for")
WAITLIST_JOIN = Route("wlj", (Arg.ID, Arg.DAY), "join the waiting list up to a day")
PREPARATION_AGAIN = Route("prep", (Arg.ID,), "send my appointment's preparation again")
QUEUE_PLACE = Route(
    "qpos", (Arg.ID,), "on the exam day, once admitted: where am I in the queue (my booking)"
)
REQUEST = Route("rq", (Arg.ID,), "one of my requests with no time yet (a referral)")
REQUEST_CANCEL = Route("rqx", (Arg.ID,), "ask before cancelling my request")
REQUEST_CANCEL_CONFIRMED = Route("rqxok", (Arg.ID,), "cancel my request")
PREPARATION_KIND = Route(
    "pm",
    (Arg.WORD, Arg.PAGE),
    "preparation: the kinds of imaging, or a page of one kind's exams (modality code, page)",
    optional=2,
)
PREPARATION_EXAM = Route("px", (Arg.ID,), "preparation: one exam's steps")
# The notifier writes these two under its notices (clinic.notice_buttons).
DAYS = Route(
    notice_buttons.DAYS,
    (Arg.TARGET, Arg.ID, Arg.PAGE),
    "the bookable days of a referral (ref) or for moving a booking (bk), a page",
)
DAY = Route(
    "day",
    (Arg.TARGET, Arg.ID, Arg.DAY, Arg.PAGE),
    "the free times of a day for a referral or a booking, a page",
    optional=1,
)
HOLD = Route(
    "hold",
    (Arg.TARGET, Arg.ID, Arg.ID, Arg.MOMENT),
    "hold a time (target, its id, the device, the start)",
)
CONFIRM = Route(notice_buttons.CONFIRM, (Arg.ID,), "confirm a held time (the booking)")
# For whom, when the account acts for family members too (bot.whose): a patient it acts for.
REQUEST_FOR = Route("rqfor", (Arg.ID,), "new request: for whom (myself or a family member)")
RESULTS_FOR = Route("resfor", (Arg.ID,), "my results: whose (myself or a family member)")
# Family members this account books for, and the accounts acting for me (bot.handlers.family).
FAMILY = Route("fam", (), "family: the members I book for, and the accounts acting for me")
FAMILY_ADD = Route("famadd", (), "family: add a member (their national code is typed next)")
FAMILY_SEX = Route("famsex", (Arg.WORD,), "adding a family member: their sex (female, male)")
FAMILY_RELATION = Route(
    "famrel", (Arg.WORD,), "adding a family member: what they are to me (a Relation value)"
)
FAMILY_NO_MOBILE = Route("famnomob", (), "adding a family member: no mobile of their own")
FAMILY_AGREE = Route("famok", (), "adding a family member: they agree (consent given here)")
FAMILY_CODE_AGAIN = Route("famotp", (), "adding a family member: send the SMS code again")
FAMILY_MEMBER = Route("famm", (Arg.ID,), "family: one member I book for (a patient)")
FAMILY_REMOVE = Route("famrm", (Arg.ID,), "family: ask before removing a member from my list")
FAMILY_REMOVE_CONFIRMED = Route("famrmok", (Arg.ID,), "family: remove a member from my list")
ACCESS = Route("acc", (), "my record: the other accounts that may act for me")
ACCESS_REVOKE = Route("accx", (Arg.ID,), "ask before removing an account's access to my record")
ACCESS_REVOKE_CONFIRMED = Route(
    "accxok", (Arg.ID,), "remove another account's access to my record (a chat account)"
)

PATIENT = (
    LANGUAGE,
    SEX,
    CODE_AGAIN,
    MODALITY,
    EXAM,
    CENTRE,
    SCREENING,
    INSURER,
    APPOINTMENTS,
    APPOINTMENT,
    CANCEL,
    CANCEL_CONFIRMED,
    MOVE,
    WAITLIST,
    WAITLIST_JOIN,
    PREPARATION_AGAIN,
    QUEUE_PLACE,
    REQUEST,
    REQUEST_CANCEL,
    REQUEST_CANCEL_CONFIRMED,
    PREPARATION_KIND,
    PREPARATION_EXAM,
    DAYS,
    DAY,
    HOLD,
    CONFIRM,
    REQUEST_FOR,
    RESULTS_FOR,
    FAMILY,
    FAMILY_ADD,
    FAMILY_SEX,
    FAMILY_RELATION,
    FAMILY_NO_MOBILE,
    FAMILY_AGREE,
    FAMILY_CODE_AGAIN,
    FAMILY_MEMBER,
    FAMILY_REMOVE,
    FAMILY_REMOVE_CONFIRMED,
    ACCESS,
    ACCESS_REVOKE,
    ACCESS_REVOKE_CONFIRMED,
)

# Staff: the menu, then each role's steps (bot.staff) ---------------------------------------

STAFF_MENU = Route("smenu", (), "the staff menu")
STAFF = (STAFF_MENU,)

REFERRALS = Route("sref", (), "reception: the referrals waiting for review")
REFERRAL = Route("srv", (Arg.ID,), "reception: one referral to review")
REFERRAL_APPROVE = Route("srok", (Arg.ID,), "reception approves a referral")
REFERRAL_REJECT = Route("srx", (Arg.ID,), "reception: the reasons to reject a referral")
REFERRAL_REJECT_LISTED = Route(
    "srxr", (Arg.ID, Arg.NUMBER), "reception rejects a referral with a listed reason (its index)"
)
REFERRAL_REJECT_TYPED = Route("srxt", (Arg.ID,), "reception types the reason to reject a referral")
DAY_DEVICES = Route("sday", (), "reception: the devices, for today's list")
DAY_LIST = Route("sdl", (Arg.ID,), "reception: today's list of a device")
STAFF_BOOKING = Route("sbk", (Arg.ID,), "reception: one appointment")
ADMIT = Route("sci", (Arg.ID,), "reception admits the patient of an appointment")
ADMIT_ACCESSION = Route("sacc", (Arg.ID,), "reception admits with a typed accession number")
NO_SHOW = Route("sns", (Arg.ID,), "reception: the patient did not come")
STAFF_CANCEL = Route("scx", (Arg.ID,), "reception: ask before cancelling an appointment")
STAFF_CANCEL_CONFIRMED = Route("scxok", (Arg.ID,), "reception cancels an appointment")
FIND = Route("sfind", (), "reception types a booking or national code to find")
EVENTS = Route("sev", (), "reception: the hospital events waiting")
EVENT = Route("sevd", (Arg.ID,), "reception: one unmatched hospital event")
EVENT_LINK = Route("sevl", (Arg.ID,), "reception links an event to a typed appointment code")
EVENT_DISMISS = Route("sevx", (Arg.ID,), "reception dismisses an event")
REFUSED = Route("srj", (), "reception: the refused hospital messages")
REFUSED_ONE = Route("srjd", (Arg.ID,), "reception: one refused message")
REFUSED_REVIEWED = Route("srjok", (Arg.ID,), "reception marks a refused message looked at")
OUT_FAILED = Route("sof", (), "reception: booking events the hospital's systems refused")
OUT_FAILED_ONE = Route("sofd", (Arg.ID,), "reception: one refused outbound booking event")
OUT_RETRY = Route("sofr", (Arg.ID,), "reception sends a refused outbound event again")
OUT_SKIP = Route("sofx", (Arg.ID,), "reception sets a refused outbound event aside")
# Reception books at the desk or on the phone, or gives a walk-in a ticket (bot.staff.desk).
DESK_BOOK = Route(
    "sdb", (), "reception books for a patient (desk or phone): type the national code"
)
WALK_IN = Route("swk", (), "reception gives a walk-in a ticket: type the national code")
DESK_LIFT = Route("sdlb", (Arg.ID,), "reception lifts a patient's no-show block (the patient)")
DESK_MODALITY = Route(
    "sdm",
    (Arg.WORD, Arg.PAGE),
    "desk booking: a modality's exams (modality code, page)",
    optional=1,
)
DESK_EXAM = Route("sde", (Arg.ID,), "desk booking or walk-in: the exam chosen")
DESK_INSURER = Route("sdi", (Arg.WORD,), "desk booking or walk-in: the insurer (an Insurer value)")
DESK_PAPER = Route("sdp", (), "desk booking or walk-in: the paper prescription is in hand")
DESK_ANSWER = Route(
    "sdq", (Arg.ID, Arg.NUMBER), "desk booking or walk-in: a safety answer (question id, 1 or 0)"
)
DESK_CHANNEL = Route(
    "sdc", (Arg.WORD,), "desk booking: at the desk, on the phone, urgent or inpatient (a word)"
)
DESK_FIRST = Route("sdf", (), "desk booking: book the first free time")
DESK_DAYS = Route("sdd", (Arg.PAGE,), "desk booking: the bookable days, a page", optional=1)
DESK_DAY = Route("sddy", (Arg.DAY, Arg.PAGE), "desk booking: a day's free times", optional=1)
DESK_AT = Route("sdt", (Arg.MOMENT,), "desk booking: book this start (on any device free then)")
QUEUE_DEVICES = Route("sqs", (), "reception: the devices with a walk-in queue")
QUEUE = Route("sq", (Arg.ID,), "reception: today's walk-in queue of a device")
PICKUP = Route("spu", (), "results desk: type a pickup code")
HANDOVER_PATIENT = Route("spup", (Arg.ID,), "results desk: the patient collects the report")
HANDOVER_PROXY = Route(
    "spux", (Arg.ID,), "results desk: someone the patient sent collects it (type who)"
)
RECEPTION = (
    REFERRALS,
    REFERRAL,
    REFERRAL_APPROVE,
    REFERRAL_REJECT,
    REFERRAL_REJECT_LISTED,
    REFERRAL_REJECT_TYPED,
    DAY_DEVICES,
    DAY_LIST,
    STAFF_BOOKING,
    ADMIT,
    ADMIT_ACCESSION,
    NO_SHOW,
    STAFF_CANCEL,
    STAFF_CANCEL_CONFIRMED,
    FIND,
    EVENTS,
    EVENT,
    EVENT_LINK,
    EVENT_DISMISS,
    REFUSED,
    REFUSED_ONE,
    REFUSED_REVIEWED,
    OUT_FAILED,
    OUT_FAILED_ONE,
    OUT_RETRY,
    OUT_SKIP,
    DESK_BOOK,
    WALK_IN,
    DESK_LIFT,
    DESK_MODALITY,
    DESK_EXAM,
    DESK_INSURER,
    DESK_PAPER,
    DESK_ANSWER,
    DESK_CHANNEL,
    DESK_FIRST,
    DESK_DAYS,
    DESK_DAY,
    DESK_AT,
    QUEUE_DEVICES,
    QUEUE,
    PICKUP,
    HANDOVER_PATIENT,
    HANDOVER_PROXY,
)

CLOSURE = Route("scl", (), "admin: what to close")
CLOSURE_DEVICE = Route("scld", (Arg.ID,), "admin: close a device (0: the whole department)")
CLOSURE_SITE = Route("scls", (Arg.ID,), "admin: close a whole site (where there are several)")
CLOSURE_CONFIRM = Route("sclok", (), "admin confirms the closure previewed")
CLOSURE_DROP = Route("sclno", (), "admin drops the closure previewed")
REOPEN = Route("sreo", (), "admin: the closures ahead, to lift one")
REOPEN_CLOSURE = Route("scc", (Arg.ID,), "admin lifts a closure")
OPEN_DAY = Route("sdo", (), "admin types a closed day to open")
ROLES = Route(
    "sadd", (Arg.WORD,), "admin: the new member's roles, toggled (role letters)", optional=1
)
ROLES_CHOSEN = Route("sadn", (Arg.WORD,), "admin: the roles chosen (letters), type the name")
HOUSES = Route("sahw", (), "admin: the health houses, to add a worker")
HOUSE = Route("sahh", (Arg.ID,), "admin: a health house chosen, type the worker")
SETUP = Route("sset", (), "admin: the department's devices as set up (read only)")
SETUP_DEVICE = Route("ssetd", (Arg.ID,), "admin: one device's setup, its weekly hours")
# A patient's data on their request (bot.staff.patient_data): the buttons carry the record's id.
PATIENT_DATA = Route("spd", (), "admin types a national code: what is held about the patient")
PATIENT_EXPORT = Route("spde", (Arg.ID,), "admin: the patient's data as a zip, to this chat")
PATIENT_ERASE = Route("spdx", (Arg.ID,), "admin: what erasing the patient's data removes, keeps")
PATIENT_ERASE_OK = Route(
    "spdxok", (Arg.ID, Arg.NUMBER), "admin erases the patient's data (1: cancelling what is open)"
)
ADMIN = (
    PATIENT_DATA,
    PATIENT_EXPORT,
    PATIENT_ERASE,
    PATIENT_ERASE_OK,
    CLOSURE,
    CLOSURE_DEVICE,
    CLOSURE_SITE,
    CLOSURE_CONFIRM,
    CLOSURE_DROP,
    REOPEN,
    REOPEN_CLOSURE,
    OPEN_DAY,
    ROLES,
    ROLES_CHOSEN,
    HOUSES,
    HOUSE,
    SETUP,
    SETUP_DEVICE,
)

REPORT_FINAL = Route("srpf", (), "reporting types the accession number of a final report")
REPORT_CORRECTED = Route("srpc", (), "reporting types the accession number of a corrected one")
REPORT_SITE = Route("srps", (Arg.WORD, Arg.ID), "reporting: whose report it is (f or c, the site)")
REPORTING = (REPORT_FINAL, REPORT_CORRECTED, REPORT_SITE)

BROADCAST = Route("sbc", (), "broadcaster: who should get the message")
BROADCAST_BY_DEVICE = Route("sbad", (), "broadcaster: patients booked on a device")
BROADCAST_FUTURE = Route("sbaf", (), "broadcaster: everyone with an upcoming appointment")
BROADCAST_WORKERS = Route("sbaw", (), "broadcaster: all health workers")
BROADCAST_DEVICE = Route("sbdv", (Arg.ID,), "broadcaster: the device chosen, type the days")
BROADCAST_SEND = Route("sbs", (Arg.ID,), "broadcaster sends a draft")
BROADCAST_PROGRESS = Route("sbp", (Arg.ID,), "broadcaster: a broadcast's progress again")
BROADCASTER = (
    BROADCAST,
    BROADCAST_BY_DEVICE,
    BROADCAST_FUTURE,
    BROADCAST_WORKERS,
    BROADCAST_DEVICE,
    BROADCAST_SEND,
    BROADCAST_PROGRESS,
)

# The health worker (bot.health_worker) ------------------------------------------------------

WORKER_MENU = Route("wmenu", (), "the health worker menu")
WORKER_REGISTER = Route("wreg", (), "worker: register a patient")
WORKER_SEX = Route("wsex", (Arg.WORD,), "worker registration: the patient's sex (female, male)")
WORKER_AGREE = Route("wagree", (), "worker registration: the patient agrees")
WORKER_CODE_AGAIN = Route("wotp", (), "worker registration: send the patient the SMS code again")
WORKER_FIND = Route("wfind", (), "worker types a patient's national code to find")
WORKER_PATIENTS = Route("wlist", (Arg.PAGE,), "worker: a page of my patients")
WORKER_PATIENT = Route("wpat", (Arg.ID,), "worker: a patient's card")
WORKER_BOOKING = Route("wbk", (Arg.ID,), "worker: a booking of my patient")
WORKER_CANCEL = Route("wcx", (Arg.ID,), "worker: ask before cancelling a booking")
WORKER_CANCEL_CONFIRMED = Route("wcxok", (Arg.ID,), "worker cancels a booking")
WORKER_REQUEST = Route("wreq", (Arg.ID,), "worker: a new request for a patient, the modalities")
WORKER_MODALITY = Route(
    "wmod",
    (Arg.ID, Arg.WORD, Arg.PAGE),
    "worker request: a modality's exams (patient, modality code, page)",
    optional=1,
)
WORKER_EXAM = Route("wexam", (Arg.ID, Arg.ID), "worker request: the exam chosen (patient, exam)")
WORKER_CENTRE = Route("wctr", (Arg.ID,), "worker request: the centre chosen (a site)")
WORKER_SCREENING = Route(
    "wscr", (Arg.ID, Arg.NUMBER), "worker request: a safety answer (id, 1 or 0)"
)
WORKER_INSURER = Route("wins", (Arg.WORD,), "worker request: the insurer (an Insurer value)")
WORKER_WITHDRAW = Route("wrqx", (Arg.ID,), "worker: ask before cancelling a request")
WORKER_WITHDRAW_CONFIRMED = Route("wrqxok", (Arg.ID,), "worker cancels a request")
WORKER_DAYS = Route(
    "wdays", (Arg.TARGET, Arg.ID, Arg.PAGE), "worker: the bookable days of a referral or a booking"
)
WORKER_DAY = Route(
    "wday",
    (Arg.TARGET, Arg.ID, Arg.DAY, Arg.PAGE),
    "worker: the free times of a day, a page",
    optional=1,
)
WORKER_HOLD = Route("whold", (Arg.TARGET, Arg.ID, Arg.ID, Arg.MOMENT), "worker holds a time")
WORKER_CONFIRM = Route("wok", (Arg.ID,), "worker confirms a held time")
HEALTH_WORKER = (
    WORKER_MENU,
    WORKER_REGISTER,
    WORKER_SEX,
    WORKER_AGREE,
    WORKER_CODE_AGAIN,
    WORKER_FIND,
    WORKER_PATIENTS,
    WORKER_PATIENT,
    WORKER_BOOKING,
    WORKER_CANCEL,
    WORKER_CANCEL_CONFIRMED,
    WORKER_REQUEST,
    WORKER_MODALITY,
    WORKER_EXAM,
    WORKER_CENTRE,
    WORKER_SCREENING,
    WORKER_INSURER,
    WORKER_WITHDRAW,
    WORKER_WITHDRAW_CONFIRMED,
    WORKER_DAYS,
    WORKER_DAY,
    WORKER_HOLD,
    WORKER_CONFIRM,
)


@dataclass(frozen=True)
class BookingRoutes:
    """The booking steps a patient and a health worker share (bot.booking_steps), each booker
    under its own codes."""

    days: Route
    day: Route
    hold: Route
    confirm: Route


PATIENT_STEPS = BookingRoutes(DAYS, DAY, HOLD, CONFIRM)
WORKER_STEPS = BookingRoutes(WORKER_DAYS, WORKER_DAY, WORKER_HOLD, WORKER_CONFIRM)


def _table(*groups: Iterable[Route]) -> dict[str, Route]:
    """Code → route; a code twice is a mistake found at import, not when a button misroutes."""
    table: dict[str, Route] = {}
    for route in (r for group in groups for r in group):
        if route.code in table:
            raise ValueError(f"callback code {route.code!r} is defined twice")
        table[route.code] = route
    return table


ROUTES = MappingProxyType(
    _table(PATIENT, STAFF, RECEPTION, ADMIN, REPORTING, BROADCASTER, HEALTH_WORKER)
)
