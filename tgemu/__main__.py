"""Command line: ``python -m tgemu --port 8081 --token 123:ABC``.

Runs the emulator until interrupted, for local mode and for bots started as
separate processes (end-to-end tests, benchmarks).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys

from tgemu.server import Emulator


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tgemu", description="Telegram Bot API emulator with a control API."
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8081, help="port (0 picks a free one)")
    parser.add_argument(
        "--token",
        action="append",
        default=[],
        metavar="TOKEN",
        help="register a bot by token <digits>:<secret> (repeatable)",
    )
    parser.add_argument("--no-limits", action="store_true", help="do not enforce flood limits")
    parser.add_argument(
        "--limit-scale",
        type=float,
        default=1.0,
        metavar="X",
        help="multiply every rate and burst by X (e.g. 100 for benchmarks)",
    )
    parser.add_argument(
        "--webhook-backoff",
        type=float,
        default=0.1,
        metavar="S",
        help="first webhook retry delay in seconds (doubles up to --webhook-backoff-max)",
    )
    parser.add_argument("--webhook-backoff-max", type=float, default=2.0, metavar="S")
    return parser


async def serve(args: argparse.Namespace) -> None:
    emulator = Emulator(
        host=args.host,
        port=args.port,
        tokens=args.token,
        limits=not args.no_limits,
        limit_scale=args.limit_scale,
        webhook_initial_backoff=args.webhook_backoff,
        webhook_max_backoff=args.webhook_backoff_max,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    async with emulator:
        print(f"tgemu listening on {emulator.url}", flush=True)
        await stop.wait()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.limit_scale <= 0:
        print("--limit-scale must be > 0", file=sys.stderr)
        return 2
    try:
        asyncio.run(serve(args))
    except ValueError as exc:  # a malformed --token
        print(f"tgemu: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
