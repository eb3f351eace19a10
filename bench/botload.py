"""Users tapping through the Bot API sandbox as fast as they can, each tap timed to its answer.

A tap's answer is the bot's first message or edit in that chat after the tap; the next tap waits
until the bot has done everything that tap causes (the count of messages and edits a step gives,
learnt once by ``calibrate``), so a late second message is never taken for the next answer.

A national code not yet linked to the shared mobile is answered with "we have sent a 5-digit
code by text message": the patient then waits for that SMS at the SMS gateway sandbox (not a
tap: its arrival is kept apart) and types the code (the "otp" tap). A Radyar that asks no code
(an older checkout) is driven as before.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from bot.conversations import request as req
from bot.conversations.registration import CODE_SENT
from bot.keyboards import NEW_REQUEST
from bot.views import MODALITY_NAMES
from clinic.i18n import translator
from clinic.models import Insurer
from clinic.text import normalize_digits

if TYPE_CHECKING:
    import random
    from collections.abc import Callable, Sequence

    from sandbox.botapi import BotApiSandbox, StoredMessage
    from sandbox.botapi.world import Chat
    from sandbox.sms import Message, SmsSandbox

FA = translator("fa").gettext
# Exams that need no review and ask a man no safety question: booked straight away.
EXAMS = (("CT", "سی‌تی‌اسکن مغز بدون تزریق"), ("CR", "رادیوگرافی قفسه سینه"))
_CODE = re.compile(r"(?<![0-9])[0-9]{5}(?![0-9])")  # the one-time code in an SMS
SMS_POLL = 0.01  # seconds between looks at the SMS gateway sandbox while a patient waits


def national_code(n: int) -> str:
    """A valid national code for patient ``n`` (distinct for distinct ``n``)."""
    body = f"{223400000 + n:09d}"
    r = sum(int(body[i]) * (10 - i) for i in range(9)) % 11
    return body + str(r if r < 2 else 11 - r)


def activity(messages: Sequence[StoredMessage]) -> int:
    """Messages the bot sent in a chat plus the edits it made to them."""
    return sum(1 + len(m.history) for m in messages)


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) by nearest rank; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


class Stalled(Exception):
    """The bot did not answer a tap in time."""


@dataclass
class Rider:
    """One user of one bot; ``taps`` holds each tap's time to its answer, in seconds."""

    sandbox: BotApiSandbox
    token: str
    user_id: int
    expected: dict[str, int] = field(default_factory=dict)
    timeout: float = 120.0
    taps: list[float] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)  # the step of each tap, for a breakdown
    sms: SmsSandbox | None = None  # where the bot's one-time codes arrive
    mobile: str = ""  # the user's own number (09…), as the SMS sandbox files it
    # Each one-time code: seconds from the national code's tap to its SMS at the gateway, and
    # how long of that the patient waited after the bot had said it was sent (not taps).
    sms_arrivals: list[float] = field(default_factory=list)
    sms_waits: list[float] = field(default_factory=list)
    # When (``time.perf_counter()``) this user was waiting for an SMS: no tap outstanding.
    sms_spans: list[tuple[float, float]] = field(default_factory=list)

    def _activity(self) -> int:
        return activity(self.sandbox.messages_to(self.user_id, token=self.token))

    async def act(self, step: str, do: Callable[[], Any]) -> None:
        """Tap, then wait for as many answers as ``step`` gives (one when not calibrated)."""
        before, first = self._activity(), 0.0
        want = before + self.expected.get(step, 1)
        t0 = time.perf_counter()
        do()

        def done(chat: Chat) -> bool | None:
            nonlocal first
            now = activity(chat.bot_messages())
            if now > before and not first:
                first = time.perf_counter()
            return True if now >= want else None

        box = self.sandbox
        try:
            await box.wait_until(self.user_id, done, timeout=self.timeout, token=self.token)
        except TimeoutError as exc:
            raise Stalled(f"user {self.user_id}: no answer to {step}") from exc
        self.taps.append(first - t0)
        self.steps.append(step)

    def _data(self, prefix: str) -> list[str]:
        last = self.sandbox.messages_to(self.user_id, token=self.token, include_deleted=False)
        for message in reversed(last):
            if message.buttons:
                data = [str(b.get("callback_data", "")) for b in message.buttons]
                return [d for d in data if d.startswith(prefix)]
        return []

    def press(self, data: str) -> None:
        """Press the inline button carrying ``data`` on the newest keyboard."""
        self.sandbox.press_button(self.user_id, data=data, token=self.token)

    def say(self, text: str) -> None:
        """Send a text."""
        self.sandbox.send_text(self.user_id, text, token=self.token)

    def asked_for_code(self) -> bool:
        """The bot's newest message says a one-time code went by SMS."""
        last = self.sandbox.last_message(self.user_id, token=self.token)
        return last is not None and last.text == FA(CODE_SENT)

    def sms_count(self) -> int:
        """Text messages the SMS gateway sandbox has accepted so far, for anyone."""
        return len(self.sms.world.messages) if self.sms is not None else 0

    async def one_time_code(self, since: int, tapped: float, answered: float) -> str:
        """The code of the first SMS to this user's mobile after the first ``since`` messages
        the gateway accepted, as soon as it is there; ``tapped`` (the national code's tap) and
        ``answered`` (the bot's answer) are ``time.time()`` readings, the sandbox's clock."""
        if self.sms is None:
            raise Stalled(f"user {self.user_id}: asked for an SMS code, but no SMS sandbox")
        sent: list[Message] = self.sms.world.messages
        begun = time.perf_counter()
        deadline = begun + self.timeout
        while True:
            end = len(sent)
            for message in sent[since:end]:
                found = _CODE.findall(normalize_digits(message.text))
                if message.mobile == self.mobile and found:
                    self.sms_arrivals.append(max(0.0, message.time - tapped))
                    self.sms_waits.append(max(0.0, message.time - answered))
                    self.sms_spans.append((begun, time.perf_counter()))
                    return str(found[-1])
            since = end  # those were for other phones: look only at newer ones next time
            if time.perf_counter() > deadline:
                raise Stalled(f"user {self.user_id}: no SMS with the one-time code")
            await asyncio.sleep(SMS_POLL)


async def patient_books(rider: Rider, n: int, rng: random.Random) -> bool:
    """Register patient ``n``, request an exam and book it; False when no place was left."""
    box, uid, tok = rider.sandbox, rider.user_id, rider.token
    await rider.act("start", lambda: box.send_command(uid, "start", token=tok))
    await rider.act("contact", lambda: box.send_contact(uid, token=tok))
    since, tapped = rider.sms_count(), time.time()
    await rider.act("code", partial(rider.say, national_code(n)))
    if rider.asked_for_code():  # an older Radyar asks the first name straight away
        code = await rider.one_time_code(since, tapped, time.time())
        await rider.act("otp", partial(rider.say, code))
    for step, text in (("first", "علی"), ("last", "رضایی")):
        await rider.act(step, partial(rider.say, text))
    await rider.act("year", lambda: rider.say("۱۳۶۰"))
    await rider.act("sex", lambda: rider.press("sex:male"))
    modality, exam = EXAMS[n % len(EXAMS)]
    await rider.act("menu", lambda: rider.say(FA(NEW_REQUEST)))
    label = FA(MODALITY_NAMES[modality])
    await rider.act("modality", lambda: box.press_button(uid, text=label, token=tok))
    await rider.act("exam", lambda: box.press_button(uid, text=exam, token=tok))
    await rider.act("referral", lambda: rider.say(f"{70000000 + n}"))
    insurer = FA(req.INSURERS[Insurer.TAMIN])
    await rider.act("insurer", lambda: box.press_button(uid, text=insurer, token=tok))
    times: list[str] = []
    for _ in range(10):  # another patient may take the chosen time first
        if not times:  # choose a day (again)
            days = rider._data("day:")
            if not days:
                return False
            day = rng.choice(days[:3])
            await rider.act("day", partial(rider.press, day))
            times = rider._data("hold:")
            if not times:
                continue
        chosen = rng.choice(times[:8])
        await rider.act("time", partial(rider.press, chosen))
        confirm = next(iter(rider._data("ok:")), None)
        if confirm is not None:
            await rider.act("confirm", partial(rider.press, confirm))
            return True
        times = rider._data("hold:")  # taken: the day's other times are shown
    return False


async def echo_user(rider: Rider, taps: int) -> None:
    """Send ``taps`` texts, each after the echo of the one before."""
    for i in range(taps):
        await rider.act("echo", partial(rider.say, f"سلام {i}"))


async def flood(
    sandbox: BotApiSandbox, token: str, user_id: int, stop: asyncio.Event, per_second: float
) -> int:
    """Send texts from one account at ``per_second`` until ``stop``; how many were sent."""
    sent, t0 = 0, time.perf_counter()
    while not stop.is_set():
        due = int((time.perf_counter() - t0) * per_second) + 1
        for _ in range(due - sent):
            sandbox.send_text(user_id, f"spam {sent}", token=token)
            sent += 1
        await asyncio.sleep(0.01)
    return sent


async def calibrate(
    rider: Rider, run: Callable[[Rider], Any], settle: float = 0.4
) -> dict[str, int]:
    """How many messages and edits each step gives, learnt by one slow walk through it."""
    counts: dict[str, int] = {}
    original = rider.act

    async def slow(step: str, do: Callable[[], Any]) -> None:
        before = rider._activity()
        await original(step, do)
        await asyncio.sleep(settle)
        counts[step] = max(counts.get(step, 0), rider._activity() - before)

    rider.act = slow  # type: ignore[method-assign]
    try:
        await run(rider)
    finally:
        rider.act = original  # type: ignore[method-assign]
    # The confirmation notice from the outbox worker may follow the last tap; it is not its
    # answer.
    counts["confirm"] = 1
    return counts
