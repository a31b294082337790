"""The encoded views: the same bytes as a JSON response of the view, new bytes after a change."""

from __future__ import annotations

import gc
import json

from starlette.responses import JSONResponse

from wacht_mock.service import views
from wacht_mock.service.mock import WachtMock
from wacht_mock.service.store import NewContext

TENANT = "1"


def test_a_page_is_byte_for_byte_what_a_json_response_of_its_view_would_be() -> None:
    mock = WachtMock()
    for n in range(3):
        mock.store.create(TENANT, NewContext(f"Ünïcode {n}", "be brief", "support", "active"))
    page = mock.store.list(TENANT, limit=2, offset=0, status=None, context_group=None)
    expected = JSONResponse(views.page_json(page, views.context_json)).body
    assert views.context_page_response(page).body == expected
    assert views.context_page_response(page).body == expected  # from the cache, the same
    assert json.loads(expected)["has_more"] is True


def test_a_changed_context_is_encoded_again() -> None:
    mock = WachtMock()
    created = mock.store.create(TENANT, NewContext("Before", None, None, "active"))
    assert json.loads(views.context_bytes(created))["title"] == "Before"
    updated = mock.store.update(TENANT, created.id, {"title": "After"})
    assert json.loads(views.context_response(updated).body)["title"] == "After"
    assert json.loads(views.context_bytes(created))["title"] == "Before"


def test_the_cache_lets_go_of_contexts_that_are_gone() -> None:
    mock = WachtMock()
    created = mock.store.create(TENANT, NewContext("Gone soon", None, None, "active"))
    views.context_bytes(created)
    key = id(created)
    assert key in views._ENCODED
    mock.store.delete(TENANT, created.id)
    del created
    gc.collect()
    assert key not in views._ENCODED
