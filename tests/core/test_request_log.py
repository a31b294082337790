"""The request log's line: through `logging` by default, straight to a sink when one is set."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import pytest

from wacht_mock.core.journal import Entry
from wacht_mock.core.recording import log_request, send_request_lines_to


def _entry(status: int = 200, error: str | None = None) -> Entry:
    return Entry(
        1, time.time(), "GET", "/ai/execution-contexts/7", "limit=5", {}, b"", status, b"{}",
        0.44, agent_name="support-bot", error=error,
    )  # fmt: skip


@pytest.fixture
def sink() -> Iterator[list[tuple[int, str]]]:
    lines: list[tuple[int, str]] = []
    send_request_lines_to(lambda level, line: lines.append((level, line)))
    try:
        yield lines
    finally:
        send_request_lines_to(None)


def test_a_sink_gets_the_line_and_logging_gets_no_record(
    sink: list[tuple[int, str]], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, "wacht_mock.requests"):
        log_request(_entry())
        log_request(_entry(500, "Traceback\nValueError: broken"))
    assert sink == [
        (logging.INFO, "GET /ai/execution-contexts/7?limit=5 200 0.4 ms support-bot"),
        (logging.WARNING, "GET /ai/execution-contexts/7?limit=5 500 0.4 ms support-bot "
         "error: ValueError: broken"),
    ]  # fmt: skip
    assert caplog.records == []


def test_the_logger_level_still_decides_what_a_sink_gets(
    sink: list[tuple[int, str]], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, "wacht_mock.requests"):
        log_request(_entry())
        log_request(_entry(500, "ValueError: broken"))
    assert [level for level, _ in sink] == [logging.WARNING]


def test_without_a_sink_the_line_is_a_record_with_its_entry(
    caplog: pytest.LogCaptureFixture,
) -> None:
    entry = _entry()
    with caplog.at_level(logging.INFO, "wacht_mock.requests"):
        log_request(entry)
    (record,) = caplog.records
    assert record.getMessage() == "GET /ai/execution-contexts/7?limit=5 200 0.4 ms support-bot"
    assert record.name == "wacht_mock.requests"
    assert record.wacht_request is entry
