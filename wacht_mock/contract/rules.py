"""The rules the contract states in words, where no JSON Schema can say them.

Each comes from a description in `contracts/wacht-api.yaml`: an error's `code` is the HTTP
status; a page echoes its `limit` and `offset` and holds at most `limit` items; the list
filters by `status` and `context_group` and is ordered by `last_activity_at`, then `id`,
newest first; create and update answer what was sent (null is absent); a stream's ids count up
from "1", it starts with `message_start`, ends with `message_end` or `error`, and its
`content_delta` texts add up to the reply's content. A rule never fires on a body the schema
already refused to read.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from wacht_mock.contract.violations import Place, Violation, preview
from wacht_mock.core.sse import SseEvent

if TYPE_CHECKING:
    from wacht_mock.core.wire import Request

#: A page's size when the query names none (the contract's `limit` default).
DEFAULT_LIMIT = 50
#: What a create leaves null when the client sends nothing for it.
CREATE_NULLS = {"title": None, "system_instructions": None, "context_group": None}
Rule = Callable[["Request", dict[str, Any], Place], list[Violation]]


def response_rules(
    operation_id: str, request: Request, status: int, data: Any, place: Place
) -> list[Violation]:
    """Violations of the worded rules by a whole JSON response."""
    if not isinstance(data, dict):
        return []
    if status >= 400:
        return _error_codes(status, data, place)
    rule = RULES.get(operation_id) if 200 <= status < 300 else None
    return rule(request, data, place) if rule else []


def _error_codes(status: int, data: dict[str, Any], place: Place) -> list[Violation]:
    errors = data.get("errors")
    found = []
    for index, item in enumerate(errors if isinstance(errors, list) else []):
        if isinstance(item, dict) and "code" in item and item["code"] != status:
            found.append(
                place.violation(
                    f"/errors/{index}/code",
                    str(status),
                    preview(item["code"]),
                    rule="error code",
                    hint="an error's code is the HTTP status of the answer",
                )
            )
    return found


def _single(request: Request, name: str) -> str | None:
    values = request.query.get(name, [])
    return values[0] if len(values) == 1 else None


def _number(request: Request, name: str, default: int) -> int | None:
    raw = _single(request, name)
    if raw is None:
        return None if name in request.query else default
    return int(raw) if raw.isdigit() else None


def _page(request: Request, data: dict[str, Any], place: Place) -> list[Violation]:
    found = []
    limit = _number(request, "limit", DEFAULT_LIMIT)
    for name, sent in (("limit", limit), ("offset", _number(request, "offset", 0))):
        if sent is not None and name in data and data[name] != sent:
            found.append(
                place.violation(
                    f"/{name}",
                    f"{sent} (the {name} asked for)",
                    preview(data[name]),
                    rule="page",
                    hint=f"a page echoes the {name} it applied",
                )
            )
    items = data.get("data")
    if limit is not None and isinstance(items, list) and len(items) > limit:
        found.append(
            place.violation(
                "/data",
                f"at most {limit} items",
                f"{len(items)} items",
                rule="page",
            )
        )
    return found


def _context_list(request: Request, data: dict[str, Any], place: Place) -> list[Violation]:
    found = _page(request, data, place)
    items = [item for item in data.get("data") or [] if isinstance(item, dict)]
    for name in ("status", "context_group"):
        wanted = _single(request, name)
        if wanted is None:
            continue
        found += [
            place.violation(
                f"/data/{index}/{name}",
                f"{preview(wanted)} (the {name} filter sent)",
                preview(item.get(name)),
                rule="filter",
                hint=f"the list ignored its {name} filter",
            )
            for index, item in enumerate(items)
            if item.get(name) != wanted
        ]
    return found + _order(items, place)


def _order(items: list[dict[str, Any]], place: Place) -> list[Violation]:
    keys = [_order_key(item) for item in items]
    for index in range(1, len(keys)):
        before, after = keys[index - 1], keys[index]
        if before is not None and after is not None and after > before:
            return [
                place.violation(
                    f"/data/{index}",
                    "last_activity_at, then id, descending",
                    f"a context after {preview(items[index - 1].get('id'))} that is newer",
                    rule="order",
                )
            ]
    return []


def _order_key(item: dict[str, Any]) -> tuple[datetime, int] | None:
    try:
        when = datetime.fromisoformat(str(item["last_activity_at"]).replace("Z", "+00:00"))
        return when, int(str(item["id"]))
    except (KeyError, ValueError):
        return None


def _echo(place: Place, data: dict[str, Any], sent: dict[str, Any], what: str) -> list[Violation]:
    return [
        place.violation(
            f"/{name}",
            f"{preview(value)} ({what})",
            preview(data[name]),
            rule="echo",
        )
        for name, value in sent.items()
        if name in data and data[name] != value
    ]


def _same_id(request: Request, data: dict[str, Any], place: Place) -> list[Violation]:
    wanted = request.path_params.get("context_id")
    if wanted is None or "id" not in data or data["id"] == wanted:
        return []
    return [
        place.violation(
            "/id", f"{preview(wanted)} (the id in the path)", preview(data["id"]), rule="echo"
        )
    ]


def _created(request: Request, data: dict[str, Any], place: Place) -> list[Violation]:
    if not isinstance(request.json, dict):
        return []
    sent = {**CREATE_NULLS, **request.json}
    return _echo(place, data, sent, "as created")


def _updated(request: Request, data: dict[str, Any], place: Place) -> list[Violation]:
    found = _same_id(request, data, place)
    if isinstance(request.json, dict):
        found += _echo(place, data, request.json, "as updated")
    return found


def _executed(request: Request, data: dict[str, Any], place: Place) -> list[Violation]:
    response = data.get("response")
    asked = isinstance(response, dict) and response.get("stop_reason") == "user_input"
    if asked and data.get("status") != "waiting_for_input":
        return [
            place.violation(
                "/status",
                '"waiting_for_input" (the agent asked the user)',
                preview(data.get("status")),
                rule="ask",
            )
        ]
    return []


RULES: dict[str, Rule] = {
    "listExecutionContexts": _context_list,
    "listExecutionContextMessages": _page,
    "createExecutionContext": _created,
    "updateExecutionContext": _updated,
    "getExecutionContext": _same_id,
    "executeAgent": _executed,
}


class StreamRules:
    """The rules of one event stream, fed an event at a time."""

    def __init__(self) -> None:
        self.count = 0
        self.ended: str | None = None
        self.text: list[str] = []
        self.start: dict[str, Any] = {}

    def event(self, number: int, event: SseEvent, place: Place) -> list[Violation]:
        self.count = number
        found = []
        if event.id is not None and event.id != str(number):
            found.append(
                place.violation(
                    "/id", f'"{number}" (ids count up from "1")', preview(event.id), rule="stream"
                )
            )
        if number == 1 and event.event != "message_start":
            found.append(place.violation("", "message_start first", event.event, rule="stream"))
        if self.ended is not None:
            found.append(
                place.violation("", f"nothing after {self.ended}", event.event, rule="stream")
            )
        data_place = Place(place.direction, place.operation, f"{place.location} data")
        return found + self._data(event, _json(event.data), data_place)

    def _data(self, event: SseEvent, data: Any, place: Place) -> list[Violation]:
        if not isinstance(data, dict):
            return []
        if event.event == "message_start":
            self.start = data
        elif event.event == "content_delta" and isinstance(data.get("text"), str):
            self.text.append(data["text"])
        elif event.event in ("message_end", "error"):
            self.ended = event.event
        return self._end(data, place) if event.event == "message_end" else []

    def _end(self, data: dict[str, Any], place: Place) -> list[Violation]:
        response = data.get("response")
        if not isinstance(response, dict):
            return []
        found = []
        content = response.get("content")
        if isinstance(content, str) and content != "".join(self.text):
            found.append(
                place.violation(
                    "/response/content",
                    "the content_delta texts joined",
                    preview(content),
                    rule="stream",
                )
            )
        wanted = self.start.get("message_id")
        if wanted is not None and response.get("message_id") != wanted:
            found.append(
                place.violation(
                    "/response/message_id",
                    f"{preview(wanted)} (as in message_start)",
                    preview(response.get("message_id")),
                    rule="stream",
                )
            )
        return found

    def finish(self, complete: bool, place: Place) -> list[Violation]:
        if self.ended is not None:
            return []
        events = f"{self.count} event{'' if self.count == 1 else 's'}"
        arrived = f"{events} and no end" + ("" if complete else ", cut mid-event")
        return [
            place.violation("", "message_end or error as the last event", arrived, rule="stream")
        ]


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None
