"""Fixtures of the reliability tests: mocks served on real sockets, each test module its own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .support import Served, served


@pytest.fixture(scope="module")
def live() -> Iterator[Served]:
    """A mock with default settings on a real socket, shared by the tests of one module."""
    with served() as live_mock:
        yield live_mock
