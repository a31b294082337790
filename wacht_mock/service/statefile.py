"""`serve --state FILE`: the state kept across restarts, in a snapshot file.

Loaded at start when the file exists; saved atomically (a temporary file, then a rename) on stop
and, with an interval, every so many seconds, so a crash loses at most one interval.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
import threading
from pathlib import Path

from wacht_mock.core.errors import ApiError
from wacht_mock.service.mock import WachtMock
from wacht_mock.service.snapshot import export_state, import_state

logger = logging.getLogger("wacht_mock.state")


class StateFile:
    """A mock's store, kept in `path`."""

    def __init__(self, path: Path, mock: WachtMock) -> None:
        self.path = path
        self.mock = mock

    def load(self) -> int:
        """Restore the snapshot in the file, if there is one; returns the contexts restored."""
        if not self.path.exists():
            return 0
        try:
            snapshot = json.loads(self.path.read_text("utf-8"))
            return import_state(self.mock.store, snapshot)
        except (OSError, KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(
                f"{self.path}: not a wacht-mock state file ({exc!r}); move it away to start afresh"
            ) from None

    def save(self) -> None:
        """Write the state atomically: a reader sees the old file or the new, never half."""
        snapshot = self._snapshot()
        folder = self.path.parent
        folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=folder)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                json.dump(snapshot, file, ensure_ascii=False)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise

    def _snapshot(self) -> dict[str, object]:
        for _ in range(3):  # a context deleted while it is read: read again
            with contextlib.suppress(ApiError):
                return export_state(self.mock.store)
        return export_state(self.mock.store)

    def every(self, seconds: float) -> threading.Event:
        """Save every `seconds` from a daemon thread until the returned event is set."""
        stop = threading.Event()

        def run() -> None:
            while not stop.wait(seconds):
                try:
                    self.save()
                except OSError as exc:
                    logger.warning("could not save the state to %s: %s", self.path, exc)

        threading.Thread(target=run, name="wacht-mock-state", daemon=True).start()
        return stop
