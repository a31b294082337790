"""Where a server's time goes under load: the mock in this process under cProfile, wrk on it.

``python benchmarks/profile_server.py execute --seconds 5 --top 40`` serves the mock on a free
port from the main thread with the profiler on, drives it with the same wrk script the
throughput suite uses, then prints the functions by own time and by cumulative time (the
profiler slows Python code down unevenly: read it for where the time goes, not for how much).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import tempfile
import threading
from pathlib import Path

from baseline import SUPPORT
from bench_throughput import OPERATIONS, POOL, lua_script, run_wrk
from harness import KEY

from wacht_mock.core.server import FastServer, uvicorn_config
from wacht_mock.service.app import create_app
from wacht_mock.service.auth import deployment_id_for
from wacht_mock.service.mock import WachtMock
from wacht_mock.service.store import NewContext


def profile(op: str, seconds: int) -> pstats.Stats:
    mock = WachtMock()
    tenant = deployment_id_for(KEY)
    new = NewContext(SUPPORT["title"], SUPPORT["system_instructions"], SUPPORT["context_group"])
    ids = [mock.store.create(tenant, new).id for _ in range(POOL)]
    server = FastServer(uvicorn_config(create_app(mock), "127.0.0.1", 0))
    driver = threading.Thread(target=_drive, args=(server, op, ids, seconds), daemon=True)
    driver.start()
    profiler = cProfile.Profile()
    profiler.enable()  # it follows this thread only: the server's
    server.run()
    profiler.disable()
    driver.join(10)
    return pstats.Stats(profiler)


def _drive(server: FastServer, op: str, ids: list[str], seconds: int) -> None:
    try:
        server.ready.wait(30)
        url = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
        with tempfile.TemporaryDirectory() as folder:
            script = Path(folder) / f"{op}.lua"
            script.write_text(lua_script(op, ids))
            run_wrk(url, script, seconds)
    finally:
        server.request_stop()


def main() -> None:
    parser = argparse.ArgumentParser(description="profile the mock under wrk load")
    parser.add_argument("operation", choices=OPERATIONS)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--top", type=int, default=35)
    args = parser.parse_args()
    stats = profile(args.operation, args.seconds)
    stats.sort_stats("tottime").print_stats(args.top)
    stats.sort_stats("cumulative").print_stats(r"wacht_mock|starlette|uvicorn", args.top)


if __name__ == "__main__":
    main()
