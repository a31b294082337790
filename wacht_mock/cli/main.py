"""``wacht-mock``: the command line."""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from wacht_mock._version import __version__
from wacht_mock.agents import ScriptError
from wacht_mock.check.extra import CheckExtraMissing
from wacht_mock.core.clock import FrozenClock, SystemClock
from wacht_mock.core.journal import DEFAULT_JOURNAL_SIZE
from wacht_mock.core.server import DEFAULT_HOST, DEFAULT_PORT, ServerThread
from wacht_mock.service.app import create_app
from wacht_mock.service.config import MockConfig
from wacht_mock.service.watch import FixtureWatcher


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wacht-mock",
        description="A stateful mock of the Wacht AI execution-context API.",
    )
    parser.add_argument("--version", action="version", version=f"wacht-mock {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_serve(commands.add_parser("serve", help="run the mock server"))
    _add_check(commands.add_parser("check", help="check a server against the contract"))
    _add_proxy(commands.add_parser("proxy", help="forward to a server, validating both ways"))
    return parser


def _add_check(check: argparse.ArgumentParser) -> None:
    from wacht_mock.cli import check as contract_check

    contract_check.add_arguments(check)


def _add_proxy(proxy: argparse.ArgumentParser) -> None:
    from wacht_mock.proxy import server as contract_proxy

    contract_proxy.add_arguments(proxy)


def _add_serve(serve: argparse.ArgumentParser) -> None:
    serve.add_argument(
        "--host", default=DEFAULT_HOST, help="address to bind (default: %(default)s)"
    )
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help="0 picks a free port")
    serve.add_argument("--seed", type=int, help="seed for generated replies and data")
    serve.add_argument(
        "--keys", nargs="+", metavar="KEY", help="accept only these API keys (default: any wk_ key)"
    )
    serve.add_argument(
        "--frozen-time", metavar="RFC3339", help="start a frozen clock at this time (1 ms a read)"
    )
    serve.add_argument(
        "--ignore-unknown-fields",
        action="store_true",
        help="accept request fields the contract does not know (default: 400)",
    )
    serve.add_argument(
        "--strict-agents", action="store_true", help="404 for agents that have no script"
    )
    serve.add_argument(
        "--watch",
        action="store_true",
        help="reload the agent scripts of a fixture file when it changes",
    )
    serve.add_argument(
        "--control",
        action="store_true",
        help="turn on the control API under /_mock/ (a token is made up and printed)",
    )
    serve.add_argument(
        "--control-token",
        metavar="TOKEN",
        default=os.environ.get("WACHT_MOCK_CONTROL_TOKEN"),
        help="turn on the control API with this token (or $WACHT_MOCK_CONTROL_TOKEN)",
    )
    serve.add_argument(
        "--journal-size",
        type=int,
        default=DEFAULT_JOURNAL_SIZE,
        metavar="N",
        help="requests the journal keeps (default: %(default)s)",
    )
    serve.add_argument(
        "--fixtures",
        nargs="+",
        type=Path,
        default=[],
        metavar="PATH",
        help="YAML/JSON fixture files or folders: contexts to seed and agent scripts",
    )
    serve.set_defaults(handler=_serve)


def config_from(args: argparse.Namespace) -> MockConfig:
    clock = FrozenClock.parse(args.frozen_time) if args.frozen_time else SystemClock()
    return MockConfig(
        seed=args.seed,
        api_keys=args.keys,
        clock=clock,
        ignore_unknown_fields=args.ignore_unknown_fields,
        strict_agents=args.strict_agents,
        fixtures=tuple(args.fixtures),
        journal_size=args.journal_size,
        control_token=args.control_token or (secrets.token_urlsafe(16) if args.control else None),
    )


def _serve(args: argparse.Namespace) -> int:
    config = config_from(args)
    app = create_app(config)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda sig, frame: stopping.set())
    watcher = FixtureWatcher(app.state.mock, _say).start() if args.watch else None
    with ServerThread(app, args.host, args.port) as server:
        print(
            f"wacht-mock {__version__} listening on {server.url} "
            f"({server.server.stack}; Ctrl-C to stop)",
            flush=True,
        )
        if config.control_token:
            shown = (
                config.control_token
                if args.control_token is None
                else "…" + config.control_token[-4:]
            )
            print(f"control API on {server.url}/_mock/ with token {shown}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            stopping.wait()
    if watcher:
        watcher.stop()
    print("wacht-mock stopped", flush=True)
    return 0


def _say(line: str) -> None:
    print(line, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler = args.handler
    try:
        code: int = handler(args)
    except (ValueError, ScriptError, CheckExtraMissing) as exc:
        print(f"wacht-mock: error: {exc}", file=sys.stderr)
        return 2
    return code
