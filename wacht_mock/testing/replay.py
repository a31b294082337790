"""Capture on miss: a mock on recorded fixtures answers in front of the recording proxy.

The proxy asks `MockReplay.misses` about each request; only an execute that no recording
answers goes to the upstream, is recorded, and its new recording is loaded into the mock, so the
same request is answered from the recording next time. Everything else (contexts, histories,
recorded executions) is the mock's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from wacht_mock.core.errors import ApiError
from wacht_mock.core.jsontext import decode
from wacht_mock.service.app import create_app
from wacht_mock.service.config import MockConfig
from wacht_mock.service.mock import WachtMock

EXECUTE = re.compile(r"^/ai/execution-contexts/([^/]+)/execute/?$")


class MockReplay:
    """A `Replay` backed by a mock."""

    def __init__(self, mock: WachtMock) -> None:
        self.mock = mock
        self.app = create_app(mock)

    @classmethod
    def of(cls, directory: Path, config: MockConfig | None = None) -> MockReplay:
        """A fresh mock on the recording in `directory`."""
        base = config or MockConfig()
        return cls(WachtMock(replace(base, fixtures=(*base.fixtures, directory))))

    def misses(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> bool:
        found = EXECUTE.match(path)
        if method != "POST" or found is None:
            return False
        try:
            tenant = self.mock.keys.authenticate(headers.get("authorization"))
            request = self.mock.requests.execute(decode(body)).value
        except (ApiError, ValueError):
            return False  # the mock answers what is wrong with it
        return self.mock.executions.would_miss(tenant.deployment_id, found.group(1), request)

    def recorded(self, paths: list[Path]) -> None:
        """Load new and changed agent recordings (the recorder's `on_write`)."""
        for path in paths:
            if path.name.startswith("agent."):
                self.mock.engine.load_file(path)
