"""Fixtures for the SMS sandbox's own tests: the sandbox on 127.0.0.1:0 and a raw HTTP client."""

from __future__ import annotations

from typing import TYPE_CHECKING

import aiohttp
import pytest

from sandbox.sms import SmsSandbox

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

KEY = "sandbox-test-key-1234"
MOBILE = "09121234567"


class Clock:
    """A wall clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1_790_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def sandbox(clock: Clock) -> AsyncIterator[SmsSandbox]:
    async with SmsSandbox(kavenegar_keys=[KEY], smsir_keys=[KEY], wallclock=clock) as server:
        server.add_template("kavenegar", "otp", "کد شما %token است")
        server.add_template("kavenegar", "visit", "%token عزیز، نوبت %token2 در %token10")
        server.add_template("smsir", 1001, "کد شما #CODE# است")
        yield server


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client
