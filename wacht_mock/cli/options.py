"""Command-line options from the settings table, and the logging every command shares."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Sequence
from typing import Any

from wacht_mock.core.journal import Entry
from wacht_mock.core.recording import request_fields
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


def configure_logging(level: str, log_format: str) -> None:
    """Every log line (the mock's request log, uvicorn's own) on stderr, in one format."""
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)-7s %(message)s", "%H:%M:%S")
        )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    # Neither format shows them: not looked up for every record (a request line each request).
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    logging.getLogger("wacht_mock").setLevel(level.upper())
