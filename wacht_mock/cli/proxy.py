"""`wacht-mock proxy`: its options; serve until stopped, then the drift report."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
import threading
from pathlib import Path

from wacht_mock._version import __version__
from wacht_mock.contract.documents import PROFILES
from wacht_mock.core.cassette import DEFAULT_KEY_ALIAS
from wacht_mock.core.server import DEFAULT_HOST, DEFAULT_PORT, add_limit_arguments
from wacht_mock.proxy.recorder import FixtureRecorder
from wacht_mock.proxy.server import DEFAULT_TIMEOUT, KEY_VARIABLE, ContractProxy, ProxyThread
from wacht_mock.service.settings import port
from wacht_mock.testing.replay import MockReplay


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--upstream", required=True, metavar="URL", help="the server to forward to")
    parser.add_argument(
        "--host", default=DEFAULT_HOST, help="address to bind (default: %(default)s)"
    )
    parser.add_argument(
        "--port", default=str(DEFAULT_PORT), help="(default: %(default)s) 0 picks a free port"
    )
    parser.add_argument(
        "--fail-on-violation",
        action="store_true",
        help="answer 502 (in the error envelope) for an upstream response that breaks the contract",
    )
    parser.add_argument(
        "--profile",
        choices=PROFILES,
        default="guide",
        help="the dialect the upstream speaks: guide or platform (default: %(default)s)",
    )
    parser.add_argument(
        "--contract", type=Path, metavar="PATH", help="OpenAPI document (default: the profile's)"
    )
    parser.add_argument(
        "--ignore-unknown-fields",
        action="store_true",
        help="do not report fields and query parameters the contract does not know",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help="upstream read timeout (default: %(default)s)",
    )
    add_limit_arguments(parser)
    parser.add_argument(
        "--record",
        type=Path,
        metavar="DIR",
        help="write what the upstream answers as fixture files in DIR (merged with what it holds)",
    )
    parser.add_argument(
        "--record-key-alias",
        default=DEFAULT_KEY_ALIAS,
        metavar="KEY",
        help="the key written instead of the client's (default: %(default)s)",
    )
    parser.add_argument(
        "--record-timing",
        default="none",
        metavar="exact|scaled:F|none",
        help="keep stream pacing as recorded, scaled by F, or not at all (default: %(default)s)",
    )
    parser.add_argument(
        "--record-missing",
        action="store_true",
        help="with --record: answer from the recording in DIR; forward (and record) only the "
        f"executions it lacks, with ${KEY_VARIABLE} as the upstream's key",
    )
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    """Serve until Ctrl-C or SIGTERM, then print the drift report."""
    try:
        listen_port = port(args.port)
    except ValueError as exc:
        raise ValueError(f"--port: {exc}") from None
    recorder = (
        FixtureRecorder(
            args.record,
            upstream=args.upstream,
            key_alias=args.record_key_alias,
            timing=args.record_timing,
        )
        if args.record
        else None
    )
    replay = None
    if args.record_missing:
        if recorder is None:
            raise ValueError("--record-missing goes with --record DIR")
        replay = MockReplay.of(args.record)  # answers from the recording, until it misses
        recorder.on_write = replay.recorded
    proxy = ContractProxy(
        args.upstream,
        contract=args.contract,
        profile=args.profile,
        fail_on_violation=args.fail_on_violation,
        ignore_unknown_fields=args.ignore_unknown_fields,
        timeout=args.timeout,
        recorder=recorder,
        upstream_key=os.environ.get(KEY_VARIABLE) if replay else None,
        replay=replay,
    )
    limits = {"request_timeout": args.request_timeout, "limit_concurrency": args.limit_concurrency}
    listening = ProxyThread(proxy, args.host, listen_port, **limits).listen()
    logging.basicConfig(format="wacht-mock proxy: %(message)s", stream=sys.stderr)
    logging.getLogger("wacht_mock").setLevel(logging.INFO)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda sig, frame: stopping.set())
    with listening as server:
        print(
            f"wacht-mock proxy {__version__} listening on {server.url}, "
            f"forwarding to {proxy.upstream} (Ctrl-C to stop)",
            flush=True,
        )
        if recorder is not None:
            print(f"recording into {recorder.directory} as {recorder.alias}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            stopping.wait()
    print(proxy.drift.text(), flush=True)
    print("wacht-mock proxy stopped", flush=True)
    return 1 if proxy.fail_on_violation and proxy.drift.total else 0
