"""Command line: `python -m sandbox.sms --port 8090` serves until interrupted."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal

from .server import SmsSandbox


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox.sms", description="Kavenegar and SMS.ir sandbox on loopback"
    )
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind")
    parser.add_argument("--port", type=int, default=8090, help="TCP port (0: any free port)")
    parser.add_argument("--kavenegar-key", action="append", default=[], help="repeatable")
    parser.add_argument("--smsir-key", action="append", default=[], help="repeatable")
    parser.add_argument("--credit", type=int, default=1_000_000, help="credit per gateway")
    parser.add_argument(
        "--advance-every",
        type=float,
        default=1.0,
        help="seconds between delivery steps (0: only on POST /_sandbox/advance)",
    )
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    """Run the sandbox until SIGINT or SIGTERM."""
    sandbox = SmsSandbox(
        kavenegar_keys=args.kavenegar_key,
        smsir_keys=args.smsir_key,
        credit=args.credit,
        host=args.host,
        port=args.port,
        auto_advance=args.advance_every or None,
    )
    async with sandbox:
        logging.getLogger("sandbox.sms").info(
            "base_url=%s control=%s/_sandbox/", sandbox.url, sandbox.url
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await stop.wait()


def main(argv: list[str] | None = None) -> None:
    """Entry point."""
    args = _arguments(argv)
    if not args.kavenegar_key and not args.smsir_key:
        raise SystemExit("give at least one --kavenegar-key or --smsir-key")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args))


if __name__ == "__main__":
    main()
