"""A flood of idle TCP connections from many loopback addresses, held by a child process.

The child opens ``count`` connections, ``per_address`` from each of 127.0.0.2, 127.0.0.3 …
(never 127.0.0.1, the RIS in the tests), says ``connected N failed M`` once every connect has
finished, and holds them all, sending nothing, until its stdin closes. A separate process, so
that the test process's descriptors are the server's alone.

It connects a few at a time, as fast as the server accepts them: a burst of 1000 SYNs would
overflow the server's accept queue, and Linux would then let the rest in only as its handshake
retries come round (over a minute), so the server would not meet the flood while a test runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

CHILD = r"""
import errno, resource, selectors, socket, sys, time

host, port, count, per_address = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if soft < count + 64:
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, count + 64), hard))
selector = selectors.DefaultSelector()
sockets, failed, pending = [], 0, 0


def settle(until):
    global failed, pending
    deadline = time.monotonic() + 120
    while pending > until and time.monotonic() < deadline:
        for key, _ in selector.select(timeout=1):
            selector.unregister(key.fileobj)
            pending -= 1
            failed += bool(key.fileobj.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR))


for n in range(count):
    where = n // per_address
    sock = socket.socket()
    sock.setblocking(False)
    sock.bind((f"127.0.{where // 250}.{where % 250 + 2}", 0))
    if sock.connect_ex((host, port)) not in (0, errno.EINPROGRESS):
        failed += 1
        continue
    sockets.append(sock)
    selector.register(sock, selectors.EVENT_WRITE)
    pending += 1
    if n % 8 == 7:
        settle(0)
        time.sleep(0.002)  # let the server accept: its queue is small on purpose
settle(0)
print(f"connected {len(sockets) - failed - pending} failed {failed + pending}", flush=True)
sys.stdin.read()
"""


@dataclass
class Flood:
    """The child process and what it said."""

    process: asyncio.subprocess.Process
    connected: int = 0
    failed: int = 0

    async def release(self) -> None:
        """Let the connections go."""
        assert self.process.stdin is not None
        self.process.stdin.close()
        async with asyncio.timeout(60):
            await self.process.wait()


@contextlib.asynccontextmanager
async def flood(port: int, count: int = 1000, per_address: int = 10) -> AsyncIterator[Flood]:
    """Hold ``count`` idle connections to ``127.0.0.1:port`` while the block runs."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        CHILD,
        "127.0.0.1",
        str(port),
        str(count),
        str(per_address),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        async with asyncio.timeout(180):
            words = (await process.stdout.readline()).split()
        held = Flood(process, int(words[1]), int(words[3]))
        yield held
    finally:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()


def open_fds() -> int:
    """File descriptors this process holds now."""
    return len(os.listdir("/proc/self/fd"))
