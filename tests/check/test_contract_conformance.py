"""The mock, checked against contracts/ by schemathesis: every phase, positive and negative data.

The contract is written from the documented behaviour, not from the mock: a failure here means
the mock drifted from the docs (or the contract is wrong, which a review must then decide).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import schemathesis
from schemathesis.generation.case import Case

from wacht_mock.contract.documents import contract_path
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
schema = schemathesis.openapi.from_path(contract_path(), config=CONFIG)


APP = create_app()


def fresh_mock() -> WachtMock:
    """A new, empty mock with a frozen clock: every run sees the same ids and times."""
    return WachtMock(MockConfig(seed=7, clock=FrozenClock(datetime(2026, 1, 1, tzinfo=UTC))))


@pytest.fixture(scope="session")
def contract_server() -> Iterator[ServerThread]:
    with ServerThread(APP) as server:
        yield server


@schema.parametrize()
def test_every_operation_follows_the_contract(case: Case, contract_server: ServerThread) -> None:
    case.call_and_validate(base_url=contract_server.url)


class Workflow(schema.as_state_machine()):  # type: ignore[misc]
    """Chains of calls along the contract's links, each chain on an empty mock.

    Hypothesis replays chains while it searches; a mock that kept the previous chain's contexts
    would answer the same chain differently, which it reports as flaky data generation.
    """

    base_url = ""

    def setup(self) -> None:
        APP.state.mock = fresh_mock()

    def get_call_kwargs(self, case: Case) -> dict[str, Any]:
        return {"base_url": self.base_url}


@pytest.fixture(autouse=True, scope="module")
def _point_the_workflow_at_the_server(contract_server: ServerThread) -> None:
    Workflow.base_url = contract_server.url


TestStatefulWorkflow = Workflow.TestCase
