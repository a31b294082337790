"""`wacht-mock`: the command line, one module per command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from wacht_mock._version import __version__
from wacht_mock.agents import ScriptError
from wacht_mock.check.extra import CheckExtraMissing
from wacht_mock.cli import check, proxy, serve
from wacht_mock.core.server import ServerStartError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wacht-mock",
        description="A stateful mock of the Wacht AI execution-context API.",
    )
    parser.add_argument("--version", action="version", version=f"wacht-mock {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve.add_arguments(commands.add_parser("serve", help="run the mock server"))
    check.add_arguments(commands.add_parser("check", help="check a server against the contract"))
    proxy.add_arguments(
        commands.add_parser("proxy", help="forward to a server, validating both ways")
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler = args.handler
    try:
        code: int = handler(args)
    except (ValueError, ScriptError, ServerStartError, CheckExtraMissing) as exc:
        print(f"wacht-mock: error: {exc}", file=sys.stderr)
        return 2
    return code
