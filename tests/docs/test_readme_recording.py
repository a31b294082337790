"""The README's recording walk-through: its pytest example, recorded, then replayed offline."""

from __future__ import annotations

import pytest

from tests.docs.readme import blocks
from wacht_mock.core.server import ServerThread
from wacht_mock.service.app import create_app
from wacht_mock.service.config import MockConfig
from wacht_mock.service.mock import WachtMock


def test_the_cassette_example_records_then_replays(pytester: pytest.Pytester) -> None:
    (example,) = blocks("python", marker="cassette=")
    pytester.makepyfile(test_readme="import pytest\n\n" + example.code)
    upstream = WachtMock(MockConfig(seed=1))
    upstream.engine.agent("support-bot").when(message="refund?").reply("Your order A1 has shipped.")
    with ServerThread(create_app(upstream)) as server:
        recorded = pytester.runpytest(
            "-p", "no:cacheprovider", "--wacht-record=new", f"--wacht-upstream={server.url}"
        )
    recorded.assert_outcomes(passed=1)
    assert (pytester.path / "cassettes" / "refund" / "agent.support-bot.yaml").exists()
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)
