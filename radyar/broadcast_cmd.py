"""``radyar broadcast``: a staff member's message to an audience, confirmed, queued, followed."""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from clinic.broadcasts import (
    Audience,
    draft_broadcast,
    get_broadcast,
    progress,
    recent_broadcasts,
    send_broadcast,
)
from clinic.department_setup import department_setup
from clinic.errors import NotAllowed, NotFound
from clinic.i18n import N_
from clinic.jalali import jalali_iso, parse_jalali_date, to_tehran
from clinic.models import BroadcastStatus
from clinic.staff import member_actor, staff_member
from clinic.text import normalize_digits, normalize_text
from radyar.app import App, build_app

if TYPE_CHECKING:
    import argparse
    from collections.abc import Iterator
    from datetime import datetime

    from clinic.actors import Actor
    from radyar.settings import Settings

EXIT_BAD_INPUT = 2
# The command's spelling of each audience kind, and the core's.
AUDIENCES = {"device": "device", "future": "future", "health-workers": "health_workers"}
KINDS = {core: ours for ours, core in AUDIENCES.items()}
BAR_WIDTH = 20
POLL_SECONDS = 0.5
PLAIN_EVERY_SECONDS = 1.0  # a log or CI reader gets at most about one line a second
STALL_HINT_SECONDS = 30.0
HEADER = "TOTAL   SENT FAILED  TEXT"
YES = {"y", "yes", "بله", "بلی", "آره"}


class CommandError(Exception):
    """Input this command itself refuses (the use cases raise ClinicError): exit status 2."""


def out(line: str = "") -> None:
    """Write one line to standard output (the command's result, not a log)."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _many(count: int, thing: str) -> str:
    return f"{count} {thing}" + ("" if count == 1 else "s")


def _fail(message: str) -> int:
    sys.stderr.write(f"radyar: {message}\n")
    return EXIT_BAD_INPUT


def whole_number(raw: str, what: str) -> int:
    """An id typed with ASCII, Persian or Arabic digits; CommandError otherwise."""
    text = normalize_digits(raw).strip()
    if not re.fullmatch(r"[0-9]{1,9}", text):
        raise CommandError(f"{what} must be a whole number, got {raw!r}")
    return int(text)


@dataclass(frozen=True)
class Tally:
    """A broadcast's outbox rows by outcome; ``queued`` is pending plus being sent."""

    queued: int = 0
    sent: int = 0
    failed: int = 0
    cancelled: int = 0

    @classmethod
    def of(cls, counts: dict[str, int]) -> Tally:
        """From ``clinic.broadcasts.progress``."""
        return cls(
            counts.get("pending", 0) + counts.get("sending", 0),
            counts.get("sent", 0),
            counts.get("failed", 0),
            counts.get("cancelled", 0),
        )

    @property
    def done(self) -> int:
        """Notices that reached an end: sent, failed or cancelled."""
        return self.sent + self.failed + self.cancelled

    @property
    def total(self) -> int:
        """Every notice of the broadcast."""
        return self.done + self.queued

    @property
    def finished(self) -> bool:
        """Nothing is left to send."""
        return self.queued == 0


def progress_line(tally: Tally) -> str:
    """``[##########----------] 250/500  sent 247  failed 3  queued 250``."""
    filled = BAR_WIDTH * tally.done // tally.total if tally.total else BAR_WIDTH
    bar = "#" * filled + "-" * (BAR_WIDTH - filled)
    line = (
        f"[{bar}] {tally.done}/{tally.total}  sent {tally.sent}  failed {tally.failed}"
        f"  queued {tally.queued}"
    )
    return line + (f"  cancelled {tally.cancelled}" if tally.cancelled else "")


def _read_text(args: argparse.Namespace) -> str:
    if args.text_file is None:
        return str(args.text)
    try:
        with open(args.text_file, encoding="utf-8") as f:
            return f.read()
    except OSError as exc:
        raise CommandError(f"cannot read {args.text_file}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise CommandError(f"{args.text_file} is not UTF-8 text") from None


async def _staff_actor(app: App, staff_id: int) -> Actor:
    async with app.uow() as uow:
        member = await staff_member(uow, staff_id)
    if member is None:
        raise CommandError(f"there is no staff member {staff_id}")
    if not member.active:
        raise CommandError(f"staff member {staff_id} is not active")
    return member_actor(member)


async def _audience(app: App, args: argparse.Namespace) -> Audience:
    kind = AUDIENCES[args.audience]
    if kind != "device":
        if args.device or args.first or args.last:
            raise CommandError("--device, --from and --to go with --audience device only")
        return Audience(kind)
    if not args.device or not args.first:
        raise CommandError("--audience device needs --device CODE and --from DATE")
    first = parse_jalali_date(args.first)
    last = parse_jalali_date(args.last) if args.last else first
    if last < first:
        raise CommandError(f"--to {args.last} is before --from {args.first}")
    code = normalize_text(args.device).upper()
    async with app.uow() as uow:
        device = (await department_setup(uow)).device_by_code(code)
    if device is None:
        raise NotFound(N_("There is no device with the code {code}."), code=args.device)
    return Audience(kind, device.id, first, last)


async def _describe(app: App, audience: Audience) -> str:
    if audience.kind == "future":
        return "patients with an upcoming appointment"
    if audience.kind == "health_workers":
        return "active health workers"
    async with app.uow() as uow:
        device = (await department_setup(uow)).devices.get(audience.device_id or 0)
    code = device.code if device else None
    first = jalali_iso(audience.first) if audience.first else "?"
    last = jalali_iso(audience.last) if audience.last else "?"
    return f"patients booked on {code} from {first} to {last}"


def _interactive() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except ValueError:  # standard input was closed
        return False


def _confirmed(question: str) -> bool:
    """Ask on the terminal; Ctrl-C or end of input means no."""
    previous = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # let Ctrl-C end input()
    try:
        answer = input(question)
    except (EOFError, KeyboardInterrupt):
        out()
        return False
    finally:
        _restore_sigint(previous)
    return normalize_text(answer).lower() in YES


def _restore_sigint(previous: signal.Handlers | object) -> None:
    if callable(previous) or isinstance(previous, int):  # None: not set from Python
        signal.signal(signal.SIGINT, previous)


async def send(args: argparse.Namespace, settings: Settings) -> int:
    """``radyar broadcast send``: draft as the staff member, confirm, queue, follow."""
    try:
        staff_id = whole_number(args.staff, "--staff")
        text = _read_text(args)
        async with build_app(settings) as app:
            actor = await _staff_actor(app, staff_id)
            audience = await _audience(app, args)
            return await _draft_and_send(app, actor, text, audience, args)
    except CommandError as exc:
        return _fail(str(exc))


async def _draft_and_send(
    app: App, actor: Actor, text: str, audience: Audience, args: argparse.Namespace
) -> int:
    try:
        async with app.uow() as uow:
            draft, count = await draft_broadcast(uow, actor, text, audience)
            await uow.commit()
    except NotAllowed:
        raise CommandError(
            f"staff member {actor.id} may not send broadcasts "
            "(that needs the broadcaster or admin role)"
        ) from None
    out(f"broadcast {draft.id}: {_many(count, 'recipient')} ({await _describe(app, audience)})")
    if count == 0:
        return _fail(f"nobody is in that audience; broadcast {draft.id} was not queued")
    if not args.yes:
        if not _interactive():
            return _fail(
                f"broadcast {draft.id} was not queued: standard input is not a terminal, "
                "so there is no one to confirm; add --yes to send without asking"
            )
        out("---\n" + draft.text + "\n---")
        if not _confirmed(f"Send this message to {_many(count, 'recipient')}? [y/N] "):
            out(f"broadcast {draft.id} was not sent (it stays a draft)")
            return 0
    async with app.uow() as uow:
        queued = await send_broadcast(uow, actor, draft.id)
        await uow.commit()
    out(f"broadcast {draft.id} queued: {_many(queued.total, 'message')}")
    if args.no_wait:
        out(f"follow it with: radyar broadcast status {draft.id} --follow")
        return 0
    return await follow(app, draft.id)


@contextlib.contextmanager
def _sigint_sets(stop: asyncio.Event) -> Iterator[None]:
    """While following, Ctrl-C sets ``stop`` instead of interrupting."""
    loop = asyncio.get_running_loop()
    previous = signal.getsignal(signal.SIGINT)
    try:
        loop.add_signal_handler(signal.SIGINT, stop.set)
    except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or Windows
        yield
        return
    try:
        yield
    finally:
        loop.remove_signal_handler(signal.SIGINT)
        _restore_sigint(previous)


async def _tally(app: App, broadcast_id: int) -> Tally:
    async with app.uow() as uow:
        return Tally.of(await progress(uow, broadcast_id))


async def follow(app: App, broadcast_id: int) -> int:
    """Show progress until every message is sent, failed or cancelled, or until Ctrl-C.

    A terminal gets one redrawn line; a pipe or file gets a line when the numbers change.
    """
    tty = sys.stdout.isatty()
    stop = asyncio.Event()
    shown: Tally | None = None
    shown_at = changed_at = time.monotonic() - PLAIN_EVERY_SECONDS
    hinted = False
    with _sigint_sets(stop):
        while True:
            tally, now = await _tally(app, broadcast_id), time.monotonic()
            if tally != shown and (tty or tally.finished or now - shown_at >= PLAIN_EVERY_SECONDS):
                if tty:
                    sys.stdout.write("\r" + progress_line(tally) + "\x1b[K")
                    sys.stdout.flush()
                else:
                    out(progress_line(tally))
                shown, shown_at, changed_at = tally, now, now
            if tally.finished:
                break
            if not hinted and now - changed_at > STALL_HINT_SECONDS:
                hinted = True
                sys.stderr.write(
                    f"radyar: no progress for {STALL_HINT_SECONDS:.0f} seconds; is an outbox "
                    "worker running (radyar run, or radyar worker)?\n"
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), POLL_SECONDS)
            if stop.is_set():
                if tty:
                    out()
                out(
                    f"stopped following; broadcast {broadcast_id} goes on being delivered "
                    f"(radyar broadcast status {broadcast_id} --follow)"
                )
                return 0
    if tty:
        out()
    out(
        f"broadcast {broadcast_id} done: {tally.sent} sent, {tally.failed} failed, "
        f"{tally.cancelled} cancelled"
    )
    return 0


def _when(moment: datetime | None) -> str:
    if moment is None:
        return "-"
    local = to_tehran(moment)
    return f"{jalali_iso(local.date())} {local:%H:%M}"


async def status(args: argparse.Namespace, settings: Settings) -> int:
    """``radyar broadcast status ID [--follow]``."""
    try:
        broadcast_id = whole_number(args.id, "the broadcast id")
        async with build_app(settings) as app:
            async with app.uow() as uow:
                row = await get_broadcast(uow, broadcast_id)
                tally = Tally.of(await progress(uow, broadcast_id))
            if row is None:
                raise CommandError(f"there is no broadcast {broadcast_id}")
            audience = await _describe(app, Audience.from_json(row.audience))
            sender = f"staff member {row.staff_id}" if row.staff_id else "the system"
            if row.status == BroadcastStatus.DRAFT:
                out(f"broadcast {row.id}: a draft by {sender} to {audience}, never queued")
                return 0
            out(f"broadcast {row.id}: queued {_when(row.queued_at)} by {sender} to {audience}")
            out(
                f"total {tally.total}  sent {tally.sent}  failed {tally.failed}"
                f"  cancelled {tally.cancelled}  queued {tally.queued}"
            )
            if args.follow:
                return await follow(app, broadcast_id)
    except CommandError as exc:
        return _fail(str(exc))
    return 0


def _first_words(text: str, limit: int = 40) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


async def list_broadcasts(args: argparse.Namespace, settings: Settings) -> int:
    """``radyar broadcast list``: the newest first."""
    if args.limit < 1:
        return _fail("--limit must be at least 1")
    async with build_app(settings) as app, app.uow() as uow:
        rows = await recent_broadcasts(uow, args.limit)
        if not rows:
            out("no broadcasts yet")
            return 0
        out(f"{'ID':>5}  {'CREATED':<16}  {'STATUS':<6}  {'AUDIENCE':<14}  " + HEADER)
        for row in rows:
            tally = Tally.of(await progress(uow, row.id))
            kind = KINDS.get(row.audience.get("kind", ""), "?")
            out(
                f"{row.id:>5}  {_when(row.created_at):<16}  {row.status:<6}  {kind:<14}  "
                f"{row.total:>5} {tally.sent:>6} {tally.failed:>6}  {_first_words(row.text)}"
            )
    return 0
