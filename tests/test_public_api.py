"""The public API is what ``wacht_mock.__all__`` names: pinned, so a change is a decision."""

from __future__ import annotations

import wacht_mock

PUBLIC = {
    *("AgentCall", "AgentScript", "ApiError", "CheckOptions", "CheckReport", "Clock"),
    *("ContractProxy", "ContractValidator", "DriftReport", "Engine", "FixtureRecorder"),
    "FrozenClock",
    *("HttpFault", "InvalidScript", "MockConfig", "MockHandle", "ProxyThread", "Reply"),
    *("ScriptError", "ServerThread", "StreamFault", "SystemClock", "ToolCall", "Usage"),
    *("Violation", "WachtMock", "__version__", "contract_path", "contract_schema"),
    *("create_app", "load_contract", "run_check"),
}


def test_all_is_pinned() -> None:
    assert set(wacht_mock.__all__) == PUBLIC
    assert sorted(wacht_mock.__all__) == wacht_mock.__all__


def test_every_public_name_exists() -> None:
    for name in wacht_mock.__all__:
        assert getattr(wacht_mock, name) is not None


def test_the_contract_ships_with_the_package() -> None:
    contract = wacht_mock.load_contract()
    assert contract["openapi"].startswith("3.1")
    assert "/ai/execution-contexts" in contract["paths"]
    assert wacht_mock.contract_path().is_file()
