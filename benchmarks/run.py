"""Run every benchmark and print one markdown table.

    python benchmarks/run.py --readme   # the README's figures, rewritten in place (~8 minutes)
    python benchmarks/run.py            # the same, printed only
    python benchmarks/run.py --quick    # fewer samples and smaller sizes (about three minutes)
    python benchmarks/run.py --only latency scale

Each figure comes with a baseline measured in the same run, the ratio of the two and the
target it is held to. Loopback only; every loop is bounded in count and in time. Not part of
the test suite: timing belongs here, behaviour in ``tests/``.
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from importlib.metadata import version
from importlib.util import find_spec
from pathlib import Path

import bench_contract
import bench_fixture
import bench_latency
import bench_scale
import bench_startup
import bench_throughput
from harness import NOTES, Row, render_table

README = Path(__file__).resolve().parent.parent / "README.md"
#: The README's generated part lies between these two lines.
START, END = "<!-- benchmarks: start -->", "<!-- benchmarks: end -->"

Suite = Callable[[bool], list[Row]]
SUITES: dict[str, Suite] = {
    "startup": bench_startup.run,
    "fixture": bench_fixture.run,
    "latency": bench_latency.run,
    "throughput": bench_throughput.run,
    "scale": bench_scale.run,
    "contract": bench_contract.run,
    "pytest-fixture": bench_fixture.fixture_overhead,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="run the wacht-mock benchmarks")
    parser.add_argument("--quick", action="store_true", help="fewer samples, smaller sizes")
    parser.add_argument("--only", nargs="+", choices=list(SUITES), help="run only these suites")
    parser.add_argument(
        "--readme", action="store_true", help="also write the figures into README.md"
    )
    args = parser.parse_args(argv)
    rows: list[Row] = []
    for name in args.only or list(SUITES):
        started = time.perf_counter()
        print(f"running {name} ...", file=sys.stderr, flush=True)
        rows += SUITES[name](args.quick)
        print(f"  {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    text = "\n".join([_header(argv), render_table(rows), *(f"\n* {note}" for note in NOTES)])
    print(text)
    if args.readme:
        _write_readme(text)
    return 0


def _write_readme(text: str) -> None:
    readme = README.read_text("utf-8")
    before, start, rest = readme.partition(START)
    _, end, after = rest.partition(END)
    if not start or not end:
        raise SystemExit(f"README.md has no {START} ... {END} section")
    README.write_text(f"{before}{START}\n{text}\n{END}{after}", "utf-8")


def _header(argv: list[str] | None) -> str:
    command = "python benchmarks/run.py " + shlex.join(sys.argv[1:] if argv is None else argv)
    return (
        f"Measured {datetime.now(UTC):%Y-%m-%d} on {_cores()} cores "
        f"({platform.machine()}, Python {platform.python_version()}, {platform.system()}; "
        f"uvicorn {version('uvicorn')} on {_http_stack()}) with `{command.strip()}`.\n"
    )


def _http_stack() -> str:
    """What uvicorn picks on its own: httptools and uvloop when installed, else h11 and asyncio."""
    parser = "httptools" if find_spec("httptools") else "h11"
    loop = "uvloop" if find_spec("uvloop") else "asyncio"
    names = ("starlette", "pydantic", "httptools", "uvloop")
    versions = ", ".join(f"{name} {version(name)}" for name in names if find_spec(name))
    return f"{parser} + {loop}; {versions}"


def _cores() -> int:
    """What ``nproc`` says: the cores this process may run on."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity else os.cpu_count() or 1


if __name__ == "__main__":
    sys.exit(main())
