"""Allow-lists, token buckets and refusal logging of the hospital listeners, on a frozen clock."""

from __future__ import annotations

import logging
import re

import pytest

from notifier.peers import (
    MAX_PEERS,
    AllowList,
    GuardStats,
    PeerBuckets,
    TokenBucket,
    peer_address,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_allow_list_takes_addresses_and_networks_of_both_families() -> None:
    allow = AllowList.parse(" 10.0.5.12, 10.0.6.0/24,fd00:1::/64 ")
    assert [allow.allows(a) for a in ("10.0.5.12", "10.0.6.200", "fd00:1::7")] == [True] * 3
    assert [allow.allows(a) for a in ("10.0.5.13", "10.0.7.1", "fd00:2::7", "")] == [False] * 4
    assert str(allow) == "10.0.5.12/32,10.0.6.0/24,fd00:1::/64"


def test_an_empty_allow_list_lets_anyone_in() -> None:
    allow = AllowList.parse("  ")
    assert allow.anyone and allow.allows("203.0.113.9") and str(allow) == "anyone"


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("10.0.0.300", "'10.0.0.300' is not an IP address"),
        ("10.0.5.12/24", "has host bits set"),  # a typo for 10.0.5.0/24, or for one host?
        ("ris.hospital.local", "'ris.hospital.local'"),
        (",,", "names no address"),
        ("10.0.0.1;10.0.0.2", "'10.0.0.1;10.0.0.2'"),
    ],
)
def test_a_bad_allow_list_says_which_item(raw: str, says: str) -> None:
    with pytest.raises(ValueError, match=re.escape(says)):
        AllowList.parse(raw)


def test_peer_addresses_are_plain_and_ipv4_mapped_ones_are_ipv4() -> None:
    assert peer_address(("127.0.0.2", 5000)) == "127.0.0.2"
    assert peer_address(("::ffff:10.0.5.12", 5000, 0, 0)) == "10.0.5.12"
    assert peer_address(("FD00::1", 5000, 0, 0)) == "fd00::1"
    assert peer_address(None) == ""
    assert AllowList.parse("10.0.5.12").allows(peer_address(("::ffff:10.0.5.12", 1, 0, 0)))


def test_a_token_bucket_gives_a_burst_then_says_how_long_to_wait() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=4, burst=4, clock=clock)
    assert [bucket.take() for _ in range(4)] == [0.0] * 4
    assert [bucket.take() for _ in range(3)] == [0.25, 0.5, 0.75]  # each waits its turn
    clock.now += 0.75  # the three waited out their turns
    assert bucket.take() == 0.25
    clock.now += 10
    assert [bucket.take() for _ in range(5)] == [0.0, 0.0, 0.0, 0.0, 0.25]  # never over burst


def test_peer_buckets_refuse_without_using_up_the_next_turn_and_keep_peers_apart() -> None:
    clock = Clock()
    buckets = PeerBuckets(rate=2, burst=2, clock=clock)
    assert [buckets.take("10.0.0.1") for _ in range(2)] == [0.0, 0.0]
    assert buckets.take("10.0.0.1") == 0.5
    assert buckets.take("10.0.0.1") == 0.5  # a refused request did not push the turn back
    assert buckets.take("10.0.0.2") == 0.0
    clock.now += 0.5
    assert buckets.take("10.0.0.1") == 0.0


def test_peer_buckets_forget_the_oldest_peers_past_the_bound() -> None:
    buckets = PeerBuckets(rate=1, burst=1, clock=Clock())
    for n in range(MAX_PEERS + 10):
        buckets.take(f"10.{n // 65536}.{n // 256 % 256}.{n % 256}")
    assert len(buckets._buckets) == MAX_PEERS


def test_refusals_are_counted_each_time_and_logged_once_a_minute_per_peer(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="notifier.peers")
    clock = Clock()
    stats = GuardStats("mllp", clock=clock)
    for _ in range(5):
        stats.note("127.0.0.2", "peer_cap")
    stats.note("127.0.0.3", "not_allowed")
    stats.note("127.0.0.2", "full")
    clock.now += 60
    stats.note("127.0.0.2", "peer_cap")
    assert stats.counts == {"peer_cap": 6, "not_allowed": 1, "full": 1}
    assert caplog.messages == [
        "mllp listener, 127.0.0.2: refused: too many connections from this address [peer_cap]",
        "mllp listener, 127.0.0.3: refused: the address is not on the allow-list [not_allowed]",
        "mllp listener, 127.0.0.2: refused: too many connections from this address"
        " [peer_cap; 5 more not logged in the last minute]",
    ]
