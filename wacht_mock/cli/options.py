"""Command-line options from the settings table, and the logging every command shares."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import threading
import time
from collections import deque
from collections.abc import Sequence
from typing import Any

from wacht_mock.core.journal import Entry
from wacht_mock.core.recording import request_fields, send_request_lines_to
from wacht_mock.service.settings import Setting


def add_settings(parser: argparse.ArgumentParser, settings: Sequence[Setting]) -> None:
    """One option per setting; None when not given, so the environment and pyproject count."""
    for setting in settings:
        if setting.kind == "flag":
            parser.add_argument(
                setting.flag, action=argparse.BooleanOptionalAction, default=None, help=setting.help
            )
        else:
            parser.add_argument(
                setting.flag,
                nargs="+" if setting.kind == "list" else None,
                default=None,
                metavar=setting.metavar or setting.name.upper(),
                help=f"{setting.help} (or ${setting.env})",
            )


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, and a request's fields."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request = getattr(record, "wacht_request", None)
        if isinstance(request, Entry):
            data.update(request_fields(request))
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """`HH:MM:SS LEVEL   message`: the time worked out once a second, not once a line, and a
    plain line (no arguments, traceback or stack: every request line) written directly."""

    FORMAT = "%(asctime)s %(levelname)-7s %(message)s"
    _second = -1
    _shown = ""

    def __init__(self) -> None:
        super().__init__(self.FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        if record.args or record.exc_info or record.exc_text or record.stack_info:
            return super().format(record)
        return f"{self.formatTime(record)} {record.levelname:<7} {record.msg}"

    def plain(self, level: int, message: str, created: float) -> str:
        """The line of a plain record of `level` and `message` made at `created`, as
        `format` writes it."""
        return f"{self._clock(created)} {logging.getLevelName(level):<7} {message}"

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return self._clock(record.created)

    def _clock(self, created: float) -> str:
        second = int(created)
        if second != self._second:
            self._second, self._shown = second, time.strftime("%H:%M:%S", time.localtime(second))
        return self._shown


class BatchedLines(logging.StreamHandler):  # type: ignore[type-arg]
    """Lines are written together, at most `delay` seconds after the first of them.

    A request line each request would otherwise cost the server a system call each, and the
    thread that logs never waits for the stream: a writer thread, asleep while nothing waits,
    writes what came. `flush` (called at exit too) writes what waits at once. A stream that
    fails is reported as logging reports it, and the writer goes on; past `MAX_WAITING` lines
    waiting (a stream that stopped taking them), the newest are counted, not kept.
    """

    MAX_WAITING = 10_000

    def __init__(self, stream: Any, delay: float = 0.05) -> None:
        super().__init__(stream)
        self.delay = delay
        # A deque: lines go in and out without a lock (`append`, `popleft` are atomic), so the
        # writer never needs the handler's lock, and a request line (`request_line`) neither.
        self._waiting: deque[str] = deque()
        self._dropped = 0
        self._writing = threading.Lock()  # one write at a time, in order
        self._wake = threading.Event()
        self._closing = threading.Event()  # set once: the writer ends, lines go out at once
        self._writer = threading.Thread(target=self._write, name="wacht-mock-log", daemon=True)
        self._writer.start()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:  # logging's own rule: a bad record never breaks the caller
            self.handleError(record)
            return
        self._queue(line)

    def request_line(self, level: int, message: str) -> None:
        """A request line, written as `emit` writes its record, without the record (a
        `RequestLineSink`: `configure_logging` gives it the recorder for the text format)."""
        formatter = self.formatter
        assert isinstance(formatter, TextFormatter)
        self._queue(formatter.plain(level, message, time.time()))

    def _queue(self, line: str) -> None:
        if len(self._waiting) >= self.MAX_WAITING and not self._closing.is_set():
            self._dropped += 1
            return
        if not self._waiting:
            self._wake.set()
        self._waiting.append(line)
        if self._closing.is_set():
            # The writer is gone, or going (closed while this line came): it is written now,
            # after what waits, even when the last flush of `close` has already run.
            self.flush()

    def flush(self) -> None:
        with self._writing:
            lines = [self._waiting.popleft() for _ in range(len(self._waiting))]
            dropped, self._dropped = self._dropped, 0
            if dropped:
                lines.append(f"({dropped} log lines dropped: the log stream did not take them)")
            try:
                if lines:
                    self.stream.write("\n".join(lines) + "\n")
                self.stream.flush()
            except Exception:
                self.handleError(logging.makeLogRecord({"msg": lines[0] if lines else ""}))

    def close(self) -> None:
        self._closing.set()
        self._wake.set()
        if self._writer is not threading.current_thread():
            self._writer.join()  # its last write done: nothing is written out of order
        self.flush()
        super().close()

    def _write(self) -> None:
        while not self._closing.is_set():
            self._wake.wait()
            self._closing.wait(self.delay)  # what else comes meanwhile goes in the same write
            self._wake.clear()
            self.flush()


def configure_logging(level: str, log_format: str) -> None:
    """Every log line (the mock's request log, uvicorn's own) on stderr, in one format."""
    handler = BatchedLines(sys.stderr)
    if log_format == "json":  # a request's fields go on its record: the records are needed
        handler.setFormatter(JsonFormatter())
        send_request_lines_to(None)
    else:
        handler.setFormatter(TextFormatter())
        send_request_lines_to(handler.request_line)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
        if isinstance(old, BatchedLines):  # its writer thread ends with it
            old.close()
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    # Neither format shows them: not looked up for every record (a request line each request).
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    logging.getLogger("wacht_mock").setLevel(level.upper())
