"""The conformance runs: the mock, checked against one profile's contract by schemathesis.

The contract is written from the documented behaviour, not from the mock: a failure here means
the mock drifted from the docs (or the contract is wrong, which a review must then decide).
:func:`conformance` gives a test module its tests for one profile.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import schemathesis
from schemathesis.generation.case import Case

from wacht_mock.contract.documents import Profile, contract_path
from wacht_mock.core.clock import FrozenClock
from wacht_mock.core.server import ServerThread
from wacht_mock.service.app import create_app
from wacht_mock.service.config import MockConfig
from wacht_mock.service.mock import WachtMock

KEY = "wk_test_contract"
CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 20261120,
        "generation": {"mode": "all", "max-examples": 25},
        "auth": {"openapi": {"bearerAuth": {"bearer": KEY}}},
        "phases": {"stateful": {"max-steps": 12}},
    }
)


def conformance(profile: Profile) -> dict[str, Any]:
    """The stateless and stateful runs of one profile's contract, as a test module's names."""
    schema = schemathesis.openapi.from_path(contract_path(profile), config=CONFIG)
    app = create_app(MockConfig(profile=profile))

    def fresh_mock() -> WachtMock:
        """A new, empty mock with a frozen clock: every run sees the same ids and times."""
        clock = FrozenClock(datetime(2026, 1, 1, tzinfo=UTC))
        return WachtMock(MockConfig(seed=7, clock=clock, profile=profile))

    @pytest.fixture(scope="module")
    def contract_server() -> Iterator[ServerThread]:
        with ServerThread(app) as server:
            Workflow.base_url = server.url
            yield server

    @schema.parametrize()
    def test_every_operation_follows_the_contract(
        case: Case, contract_server: ServerThread
    ) -> None:
        case.call_and_validate(base_url=contract_server.url)

    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        """Chains of calls along the contract's links, each chain on an empty mock.

        Hypothesis replays chains while it searches; a mock that kept the previous chain's
        contexts would answer the same chain differently, which it reports as flaky data.
        """

        base_url = ""

        def setup(self) -> None:
            app.mock = fresh_mock()

        def get_call_kwargs(self, case: Case) -> dict[str, Any]:
            return {"base_url": self.base_url}

    @pytest.fixture(autouse=True, scope="module")
    def _point_the_workflow_at_the_server(contract_server: ServerThread) -> None:
        Workflow.base_url = contract_server.url

    return {
        "contract_server": contract_server,
        "test_every_operation_follows_the_contract": test_every_operation_follows_the_contract,
        "_point_the_workflow_at_the_server": _point_the_workflow_at_the_server,
        "TestStatefulWorkflow": Workflow.TestCase,
    }
