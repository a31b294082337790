"""`wacht-mock serve`: the mock on a port, configured by flags, environment or pyproject."""

from __future__ import annotations

import argparse
import gc
import os
import signal
import threading
from pathlib import Path

from wacht_mock._version import __version__
from wacht_mock.cli.collector import CollectorPacing
from wacht_mock.cli.options import add_settings, configure_logging
from wacht_mock.core.server import ServerThread
from wacht_mock.service.app import create_app
from wacht_mock.service.mock import WachtMock
from wacht_mock.service.settings import SETTINGS, find_pyproject, mock_config, resolve
from wacht_mock.service.statefile import StateFile
from wacht_mock.service.watch import FixtureWatcher


def add_arguments(serve: argparse.ArgumentParser) -> None:
    add_settings(serve, SETTINGS)
    serve.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    values = resolve(vars(args), os.environ, find_pyproject(Path.cwd()))
    if values["state_interval"] is not None and not values["state"]:
        raise ValueError("--state-interval goes with --state FILE")
    config = mock_config(values)
    app = create_app(config)
    mock: WachtMock = app.state.mock
    state = StateFile(Path(values["state"]), mock) if values["state"] else None
    restored = state.load() if state is not None else 0
    limits = {
        "request_timeout": values["request_timeout"],
        "limit_concurrency": values["limit_concurrency"],
    }
    listening = ServerThread(app, values["host"], values["port"], **limits).listen()
    pacing = _spare_the_collector()
    configure_logging(values["log_level"], values["log_format"])  # once nothing can go wrong
    stopping = stop_on_signals()
    watcher = FixtureWatcher(mock, _say).start() if values["watch"] else None
    with listening as server:
        _say(
            f"wacht-mock {__version__} listening on {server.url} "
            f"(profile {config.profile}; {server.server.stack}; Ctrl-C to stop)"
        )
        _say(loaded(mock))
        if state is not None:
            _say(f"state in {state.path}: {_count(restored, 'context')} restored")
        if config.control_token:
            given = values["control_token"] is not None
            shown = "…" + config.control_token[-4:] if given else config.control_token
            _say(f"control API on {server.url}/_mock/ with token {shown}")
        if config.dashboard:
            _say(f"dashboard on {server.url}/_mock/ui/ (sign in with the control token)")
        saver = (
            state.every(values["state_interval"]) if state and values["state_interval"] else None
        )
        while not stopping.wait(1.0):
            pacing.tick(mock.journal.total)
        if saver is not None:
            saver.set()
    if watcher:
        watcher.stop()
    if state is not None:
        state.save()
        _say(f"state saved to {state.path}")
    _say("wacht-mock stopped")
    return 0


def stop_on_signals() -> threading.Event:
    """An event that Ctrl-C (SIGINT) and SIGTERM set, installed as their handlers.

    Not Python's `KeyboardInterrupt`: a signal handled while a garbage-collector callback
    runs (the collector pacing's, in the main thread) would raise it inside the callback,
    where it is reported and dropped, and the server would go on serving.
    """
    stopping = threading.Event()
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda sig, frame: stopping.set())
    return stopping


def _spare_the_collector() -> CollectorPacing:
    """What is loaded by now lives as long as the process: out of the garbage collector's way.

    A full collection looks at every object it tracks; the modules, classes and loaded
    fixtures of a served mock are most of them, and a collection that looks at them all
    stalls every connection for a tenth of a second under load (`gc.freeze`, as
    long-running Python services do after they start). From then on, full passes are paced
    by what the mock holds, not by what its rings take in and drop (`CollectorPacing`).
    """
    gc.collect()
    gc.freeze()
    return CollectorPacing().install()


def loaded(mock: WachtMock) -> str:
    """What the mock starts with: contexts per deployment, and the scripted agents."""
    contexts, agents = mock.loaded()
    where = ", ".join(f"{key}: {count}" for key, count in contexts.most_common())
    shown = _count(contexts.total(), "context") + (f" ({where})" if where else "")
    names = f" ({', '.join(sorted(agents))})" if agents else ""
    return f"loaded {shown} and {_count(len(agents), 'scripted agent')}{names}"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _say(line: str) -> None:
    print(line, flush=True)
