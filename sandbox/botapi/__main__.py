"""Command line: `python -m sandbox.botapi --port 8081 --token TOKEN` serves until interrupted."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal

from .ratelimit import RateLimits
from .server import BotApiSandbox


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox.botapi", description="Bot API sandbox on loopback"
    )
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind")
    parser.add_argument("--port", type=int, default=8081, help="TCP port (0: any free port)")
    parser.add_argument("--token", action="append", default=[], help="bot token (repeatable)")
    parser.add_argument("--platform", choices=["telegram", "bale"], default="telegram")
    parser.add_argument("--no-rate-limit", action="store_true", help="disable flood control")
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    """Run the sandbox until cancelled."""
    limits = RateLimits.disabled() if args.no_rate_limit else RateLimits()
    sandbox = BotApiSandbox(
        args.token, host=args.host, port=args.port, platform=args.platform, limits=limits
    )
    async with sandbox:
        logging.getLogger("sandbox.botapi").info(
            "base_url=%s base_file_url=%s control=%s/_sandbox/",
            sandbox.base_url,
            sandbox.base_file_url,
            sandbox.url,
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await stop.wait()


def main(argv: list[str] | None = None) -> None:
    """Entry point."""
    args = _arguments(argv)
    if not args.token:
        raise SystemExit("give at least one --token")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args))


if __name__ == "__main__":
    main()
