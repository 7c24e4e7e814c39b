"""``python -m sandbox [--host H] [--port N]``: the standalone sandbox server."""

from __future__ import annotations

import argparse

from sandbox.server import run_standalone


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--bot-username", default="berakhlak_test_bot")
    parser.add_argument("--no-rate-limits", action="store_true")
    args = parser.parse_args(argv)
    run_standalone(
        args.host,
        args.port,
        bot_username=args.bot_username,
        rate_limits=not args.no_rate_limits,
    )


if __name__ == "__main__":
    main()
