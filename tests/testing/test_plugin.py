"""The pytest plugin, as a user's test suite meets it (run with pytest's own pytester)."""

from __future__ import annotations

import pytest

HEADER = """
import httpx
import pytest

def create(handle, title="Support"):
    with handle.client() as client:
        return client.post("/ai/execution-contexts", json={"title": title}).json()

def execute(handle, context_id, message, agent="support-bot"):
    body = {"agent_name": agent, "execution_type": {"new_message": {"message": message}}}
    with handle.client() as client:
        return client.post(f"/ai/execution-contexts/{context_id}/execute", json=body)
"""


def run(pytester: pytest.Pytester, body: str, *args: str) -> pytest.RunResult:
    pytester.makepyfile(test_user=HEADER + body)
    return pytester.runpytest("-p", "no:cacheprovider", *args)


def test_the_fixture_serves_scripts_and_asserts_on_the_journal(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
def test_reply(wacht_mock):
    wacht_mock.agent("support-bot").reply("Hello {context.title}")
    context = create(wacht_mock)
    reply = execute(wacht_mock, context["id"], "hi").json()["response"]
    assert reply["content"] == "Hello Support"
    wacht_mock.assert_executed("support-bot", message="hi", times=1)
    assert wacht_mock.agent("support-bot").called
    assert len(wacht_mock.journal) == 2
""",
    )
    result.assert_outcomes(passed=1)


def test_each_test_starts_clean(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
@pytest.mark.parametrize("n", range(3))
def test_isolated(wacht_mock, n):
    assert wacht_mock.contexts() == []
    assert not wacht_mock.agent("support-bot").is_scripted
    assert len(wacht_mock.journal) == 0
    wacht_mock.agent("support-bot").reply("scripted in test %d" % n)
    create(wacht_mock)
    assert len(wacht_mock.contexts()) == 1

def test_fresh_tenant_per_test(wacht_mock):
    other = wacht_mock.new_api_key()
    wacht_mock.create_context("theirs", api_key=other)
    with wacht_mock.client() as client:
        assert client.get("/ai/execution-contexts").json()["data"] == []
""",
    )
    result.assert_outcomes(passed=4)


def test_the_marker_loads_fixtures_and_sets_strictness(pytester: pytest.Pytester) -> None:
    pytester.makefile(
        ".yaml", bots="agents:\n  support-bot:\n    reply: from the marker's fixture\n"
    )
    result = run(
        pytester,
        """
@pytest.mark.wacht_mock(fixtures=["bots.yaml"], seed=5)
def test_marker(wacht_mock):
    context = create(wacht_mock)
    assert execute(wacht_mock, context["id"], "hi").json()["response"]["content"] == (
        "from the marker's fixture"
    )

def test_without_marker_the_fixture_is_gone(wacht_mock):
    assert not wacht_mock.agent("support-bot").is_scripted
""",
    )
    result.assert_outcomes(passed=2)


def test_an_exhausted_sequence_fails_the_test_with_a_readable_message(
    pytester: pytest.Pytester,
) -> None:
    result = run(
        pytester,
        """
def test_exhausted(wacht_mock):
    wacht_mock.agent("support-bot").replies(["only one"])
    context = create(wacht_mock)
    execute(wacht_mock, context["id"], "first")
    execute(wacht_mock, context["id"], "second")  # the client ignores the 500
""",
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*wacht-mock saw what this test did not expect:*",
            "*POST /ai/execution-contexts/*/execute -> 500*ran out of replies*1 reply*call 2*",
            "*agent: support-bot*",
            '*request body: *"second"*',
            "*wacht-mock journal*",
        ]
    )


def test_a_reply_breaking_its_agents_declaration_fails_the_test(
    pytester: pytest.Pytester,
) -> None:
    result = run(
        pytester,
        """
def test_undeclared(wacht_mock):
    from wacht_mock import Tool, ToolCall

    order = {"properties": {"order_id": {"pattern": "^[A-Z][0-9]+$"}}}
    bot = wacht_mock.agent("support-bot").declare(tools=[Tool("lookup_order", input=order)])
    bot.reply(tool_calls=[ToolCall("lookup_order", {"order_id": "{message}"})])  # rendered later
    context = create(wacht_mock)
    execute(wacht_mock, context["id"], "refund")  # the client ignores the 500
""",
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*-> 500*breaks the agent's declaration*argument /order_id: 'refund' does not match*"]
    )


def test_strict_mode_names_the_unscripted_agent(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
@pytest.mark.wacht_mock(strict=True)
def test_strict(wacht_mock):
    context = create(wacht_mock)
    assert execute(wacht_mock, context["id"], "hi", agent="ghost").status_code == 404
""",
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*-> 404: Agent ghost not found*"])


def test_a_contract_violation_fails_the_test_unless_allowed(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
def test_swallowed(wacht_mock):
    with wacht_mock.client() as client:
        client.post("/ai/execution-contexts", json={"title": "t", "system_instruction": "x"})

@pytest.mark.wacht_mock(allow_violations=True)
def test_on_purpose(wacht_mock):
    with wacht_mock.client() as client:
        assert client.post("/ai/execution-contexts", json={"title": 5}).status_code == 400
""",
    )
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*contract violation: Invalid request body: /system_instruction: unknown field*",
            "*allow_violations=True*",
        ]
    )


def test_assert_executed_explains_what_happened(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
def test_times(wacht_mock):
    context = create(wacht_mock)
    execute(wacht_mock, context["id"], "hello")
    wacht_mock.assert_executed("support-bot", message="bye", times=1)
""",
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*agent 'support-bot' was executed 0 times with message 'bye', expected 1*['hello']*"]
    )


def test_a_bad_marker_option_is_a_usage_error(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
@pytest.mark.wacht_mock(sede=1)
def test_typo(wacht_mock):
    pass
""",
    )
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*takes keyword options*sede*"])


def test_config_fixtures_can_be_overridden(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
import pytest

@pytest.fixture(scope="session")
def wacht_mock_seed():
    return 99
"""
    )
    result = run(
        pytester,
        """
def test_seed(wacht_mock):
    assert wacht_mock.mock.engine.seed == 99
""",
    )
    result.assert_outcomes(passed=1)


def test_the_in_process_variant_needs_no_socket(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
import asyncio

def test_asgi(wacht_mock_inprocess):
    assert wacht_mock_inprocess.url is None
    wacht_mock_inprocess.agent("support-bot").reply("in process")

    async def go():
        async with wacht_mock_inprocess.async_client() as client:
            ctx = (await client.post("/ai/execution-contexts", json={"title": "x"})).json()
            body = {"agent_name": "support-bot",
                    "execution_type": {"new_message": {"message": "hi"}}}
            r = await client.post(f"/ai/execution-contexts/{ctx['id']}/execute", json=body)
            return r.json()["response"]["content"]

    assert asyncio.run(go()) == "in process"
    assert wacht_mock_inprocess.app is not None
""",
    )
    result.assert_outcomes(passed=1)


def test_safe_under_xdist(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_many=HEADER
        + """
@pytest.mark.parametrize("n", range(12))
def test_parallel(wacht_mock, n):
    wacht_mock.agent("support-bot").reply("reply %d" % n)
    context = create(wacht_mock, "ctx %d" % n)
    assert execute(wacht_mock, context["id"], "hi").json()["response"]["content"] == "reply %d" % n
    assert [c.title for c in wacht_mock.contexts()] == ["ctx %d" % n]
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2")
    result.assert_outcomes(passed=12)


def test_in_process_tests_start_clean_on_the_sessions_app(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
import asyncio

APPS = []

@pytest.mark.parametrize("n", range(3))
def test_clean(wacht_mock_inprocess, n):
    APPS.append(wacht_mock_inprocess.app)
    assert wacht_mock_inprocess.contexts() == []
    assert not wacht_mock_inprocess.agent("support-bot").is_scripted
    assert len(wacht_mock_inprocess.journal) == 0
    wacht_mock_inprocess.agent("support-bot").reply("test %d" % n)
    wacht_mock_inprocess.create_context("left behind")

    async def go():
        async with wacht_mock_inprocess.async_client() as client:
            return (await client.get("/ai/execution-contexts")).json()["data"]

    assert [c["title"] for c in asyncio.run(go())] == ["left behind"]
    assert all(app is APPS[0] for app in APPS)
""",
    )
    result.assert_outcomes(passed=3)


def test_clients_share_the_sessions_connections_and_are_cheap(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
import time

POOLS = []

@pytest.mark.parametrize("n", range(2))
def test_cheap(wacht_mock, n):
    POOLS.append(wacht_mock.pool)
    create(wacht_mock)  # a client closed here...
    with wacht_mock.client() as client:  # ...leaves the next one working
        assert client.get("/ai/execution-contexts").json()["data"][0]["title"] == "Support"
    started = time.perf_counter()
    for _ in range(50):
        wacht_mock.client().close()
    assert (time.perf_counter() - started) / 50 < 0.005
    assert POOLS[0] is POOLS[-1]

def test_own_transport_options_get_a_client_of_their_own(wacht_mock):
    with wacht_mock.client(http2=False, verify=False) as client:
        assert client.get("/ai/execution-contexts").status_code == 200
""",
    )
    result.assert_outcomes(passed=3)


def test_the_pool_closes_at_the_end_of_the_session(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
import pytest

POOL = []

@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session):
    print("pool open after the session:", POOL[0]._transport is not None)
"""
    )
    result = run(
        pytester,
        """
from conftest import POOL

def test_uses_it(wacht_mock):
    POOL.append(wacht_mock.pool)
    create(wacht_mock)
    assert wacht_mock.pool._transport is not None
""",
        "-s",
    )
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*pool open after the session: False*"])
