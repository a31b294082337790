"""The application's edges: one envelope for every error, and a last-resort 500."""

from __future__ import annotations

import httpx
import pytest

from tests.helpers import auth
from wacht_mock import WachtMock, create_app

pytestmark = pytest.mark.anyio


async def test_a_bug_becomes_a_500_in_the_envelope_and_the_server_keeps_serving(
    mock: WachtMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("simulated bug")

    app = create_app(mock)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://m", headers=auth()) as c:
        with monkeypatch.context() as patch:
            patch.setattr(mock.store, "list", broken)
            response = await c.get("/ai/execution-contexts")
        assert response.status_code == 500
        assert response.json() == {
            "errors": [{"message": "Internal server error in the mock (see its log)", "code": 500}]
        }
        assert (await c.get("/ai/execution-contexts")).status_code == 200
    failed, _ = mock.journal.entries()
    assert failed.error is not None
    assert "RuntimeError: simulated bug" in failed.error


def test_each_app_has_its_own_state() -> None:
    first, second = create_app(), create_app()
    assert first.state.mock is not second.state.mock
