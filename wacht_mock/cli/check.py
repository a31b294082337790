"""`wacht-mock check`: its arguments and what it prints (the check itself: `check.runner`)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TextIO

from wacht_mock.check.report import PHASES
from wacht_mock.check.runner import (
    API_KEY_VARIABLE,
    DEFAULT_MAX_EXAMPLES,
    DEFAULT_TIMEOUT,
    CheckOptions,
    run_check,
)
from wacht_mock.contract.documents import PROFILES


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--base-url", "--url", metavar="URL", help="the server to check")
    parser.add_argument(
        "--api-key",
        default=os.environ.get(API_KEY_VARIABLE),
        metavar="KEY",
        help=f"API key for every request (default: ${API_KEY_VARIABLE})",
    )
    parser.add_argument(
        "--profile",
        choices=PROFILES,
        default="guide",
        help="the dialect to check: guide (the documented API, contracts/wacht-api.yaml) or "
        "platform (the published SDKs, contracts/wacht-platform.yaml); default %(default)s",
    )
    parser.add_argument(
        "--contract", type=Path, metavar="PATH", help="OpenAPI document (default: the profile's)"
    )
    parser.add_argument(
        "--max-examples",
        type=int,
        default=DEFAULT_MAX_EXAMPLES,
        metavar="N",
        help="generated cases per operation and phase (default: %(default)s)",
    )
    parser.add_argument("--seed", type=int, metavar="N", help="reproduce a run")
    parser.add_argument(
        "--phases",
        type=_phases,
        default=PHASES,
        metavar="LIST",
        help=f"comma-separated, of {','.join(PHASES)} (default: all)",
    )
    parser.add_argument("--junit", type=Path, metavar="PATH", help="write a JUnit XML report")
    parser.add_argument(
        "--read-only",
        action="store_true",
        help="only safe GET operations: for servers holding real data",
    )
    parser.add_argument(
        "--against-mock", action="store_true", help="check an in-process mock (no URL needed)"
    )
    parser.add_argument(
        "--request-timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help="per request (default: %(default)s)",
    )
    parser.set_defaults(handler=handle)


def _phases(text: str) -> tuple[str, ...]:
    phases = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [phase for phase in phases if phase not in PHASES]
    if unknown or not phases:
        raise argparse.ArgumentTypeError(f"phases are {', '.join(PHASES)}; got {text!r}")
    return phases


def options_from(args: argparse.Namespace) -> CheckOptions:
    return CheckOptions(
        base_url=args.base_url,
        api_key=args.api_key,
        contract=args.contract,
        profile=args.profile,
        max_examples=args.max_examples,
        seed=args.seed,
        phases=args.phases,
        read_only=args.read_only,
        junit=args.junit,
        against_mock=args.against_mock,
        request_timeout=args.request_timeout,
    )


def handle(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """`wacht-mock check`: 0 when the server follows the contract, 1 when it does not."""
    stream = out or sys.stdout
    options = options_from(args)
    if not options.against_mock and options.base_url is None:
        raise ValueError("give --base-url URL (with --api-key KEY), or --against-mock")
    if not options.against_mock and not options.api_key:
        raise ValueError(f"give --api-key KEY (or set {API_KEY_VARIABLE})")

    def progress(line: str) -> None:
        print(line, file=stream, flush=True)

    report = run_check(options, progress)
    print(report.summary(), file=stream, flush=True)
    return 0 if report.ok else 1
