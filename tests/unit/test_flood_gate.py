"""Flood control per account: a burst, then one notice, then silence until the account is quiet."""

from __future__ import annotations

from bot.flood import FloodGate, FloodLimits, Verdict


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


LIMITS = FloodLimits(updates=5, staff_updates=15, window=10.0, quiet=10.0)


def test_a_burst_is_served_then_one_notice_then_nothing() -> None:
    gate = FloodGate(LIMITS, Clock())
    verdicts = [gate.check(1) for _ in range(12)]
    assert verdicts[:5] == [Verdict.SERVE] * 5
    assert verdicts[5] is Verdict.NOTICE
    assert verdicts[6:] == [Verdict.DROP] * 6
    assert gate.dropped == 7


def test_other_accounts_are_not_touched_by_a_flood() -> None:
    gate = FloodGate(LIMITS, Clock())
    for _ in range(50):
        gate.check(1)
    assert [gate.check(2) for _ in range(5)] == [Verdict.SERVE] * 5


def test_a_steady_pace_within_the_rate_is_always_served() -> None:
    clock = Clock()
    gate = FloodGate(LIMITS, clock)
    for _ in range(100):  # one every two seconds: exactly the refill rate (5 per 10 s)
        assert gate.check(1) is Verdict.SERVE
        clock.now += 2.0


def test_the_mute_lasts_until_the_account_has_been_quiet() -> None:
    clock = Clock()
    gate = FloodGate(LIMITS, clock)
    for _ in range(6):
        gate.check(1)
    for _ in range(5):  # still sending every 5 s: each one restarts the quiet wait
        clock.now += 5.0
        assert gate.check(1) is Verdict.DROP
    clock.now += 10.0
    assert gate.check(1) is Verdict.SERVE
    # A second flood gets a second notice: one per episode, not one ever.
    again = [gate.check(1) for _ in range(8)]
    assert again.count(Verdict.NOTICE) == 1
    assert again[-1] is Verdict.DROP


def test_staff_have_a_higher_limit_not_none() -> None:
    gate = FloodGate(LIMITS, Clock())
    gate.check(7)  # the bot learns the role while serving the first update
    gate.mark(7, staff=True)
    verdicts = [gate.check(7) for _ in range(20)]
    assert verdicts.count(Verdict.SERVE) == 14  # 15 in all with the first
    assert verdicts[14] is Verdict.NOTICE


def test_a_role_taken_away_brings_the_patient_limit_back() -> None:
    gate = FloodGate(LIMITS, Clock())
    gate.check(7)
    gate.mark(7, staff=True)
    gate.mark(7, staff=False)
    verdicts = [gate.check(7) for _ in range(6)]
    assert verdicts == [Verdict.SERVE] * 5 + [Verdict.NOTICE]


def test_idle_accounts_are_forgotten_when_many_have_been_seen() -> None:
    clock = Clock()
    gate = FloodGate(LIMITS, clock)
    gate.PRUNE_AT = 100
    for account in range(100):
        gate.check(account)
    gate.check(0)  # account 0 is busy; the others are idle once their bucket refills
    clock.now += 60
    for _ in range(6):
        gate.check(1)  # account 1 floods and stays muted
    gate.check(10_000)  # a new account makes the gate prune
    assert len(gate._accounts) <= 3
