"""The plugin set up from where a project keeps things: marker paths, examples, ini options."""

from __future__ import annotations

import pytest

BOTS = "agents:\n  support-bot:\n    reply: from {where}\n"
USES_BOTS = """
import pytest

@pytest.mark.wacht_mock(fixtures=["bots.yaml"])
def test_bots(wacht_mock):
    context = wacht_mock.create_context("x")
    with wacht_mock.client() as client:
        body = {"agent_name": "support-bot",
                "execution_type": {"new_message": {"message": "hi"}}}
        reply = client.post(f"/ai/execution-contexts/{context.id}/execute", json=body).json()
    assert reply["response"]["content"] == "from {where}"
"""


def test_marker_paths_resolve_beside_the_test_file_from_any_directory(
    pytester: pytest.Pytester,
) -> None:
    tests = pytester.mkdir("tests")
    (tests / "bots.yaml").write_text(BOTS.format(where="tests"))
    (tests / "test_bots.py").write_text(USES_BOTS.replace("{where}", "tests"))
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tests)
        result = pytester.runpytest("-p", "no:cacheprovider", str(tests / "test_bots.py"))
    result.assert_outcomes(passed=1)


def test_marker_paths_fall_back_to_the_rootdir(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\n")
    (pytester.path / "bots.yaml").write_text(BOTS.format(where="the root"))
    tests = pytester.mkdir("tests")
    (tests / "test_bots.py").write_text(USES_BOTS.replace("{where}", "the root"))
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_a_missing_marker_path_is_one_line_naming_where_it_looked(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeini("[pytest]\n")
    tests = pytester.mkdir("tests")
    (tests / "test_bots.py").write_text(USES_BOTS.replace("{where}", "nowhere"))
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [f"*bots.yaml: no such fixture file or folder (looked in {tests} and {pytester.path})"]
    )
    assert "Traceback" not in result.stdout.str()
    assert "FixtureError" not in result.stdout.str()


def test_the_shipped_examples_go_by_name(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
import pytest

@pytest.mark.wacht_mock(fixtures=["examples:agents"], strict=True)
def test_examples(wacht_mock):
    assert wacht_mock.agent("sales-bot").is_scripted

@pytest.mark.wacht_mock(fixtures=["examples:nothing"])
def test_unknown_example(wacht_mock):
    pass
"""
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*examples:nothing: no such example (there are examples:agents*"])


def test_ini_options_configure_every_test(pytester: pytest.Pytester) -> None:
    (pytester.path / "data").mkdir()
    (pytester.path / "data" / "bots.yaml").write_text(BOTS.format(where="the ini"))
    pytester.makeini(
        "[pytest]\nwacht_mock_fixtures = data/bots.yaml\nwacht_mock_seed = 42\n"
        "wacht_mock_strict_agents = true\n"
    )
    pytester.makepyfile(
        """
def test_configured(wacht_mock):
    assert wacht_mock.mock.engine.seed == 42
    assert wacht_mock.mock.engine.strict
    assert wacht_mock.agent("support-bot").is_scripted
"""
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_a_bad_ini_value_is_one_line(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nwacht_mock_seed = seven\n")
    pytester.makepyfile("def test_x(wacht_mock):\n    pass\n")
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*wacht_mock_seed: expected an integer, got 'seven'*"])


def test_allow_unscripted_lets_a_strict_test_call_an_unknown_agent(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
import pytest

def call(handle, agent):
    context = handle.create_context("x")
    body = {"agent_name": agent, "execution_type": {"new_message": {"message": "hi"}}}
    with handle.client() as client:
        url = f"/ai/execution-contexts/{context.id}/execute"
        return client.post(url, json=body).status_code

@pytest.mark.wacht_mock(strict=True, allow_unscripted=True)
def test_on_purpose(wacht_mock):
    assert call(wacht_mock, "ghost") == 404

@pytest.mark.wacht_mock(strict=True, allow_unscripted=True)
def test_other_problems_still_fail(wacht_mock):
    wacht_mock.agent("bot").replies(["one"])
    call(wacht_mock, "bot")
    call(wacht_mock, "bot")
"""
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*ran out of replies*"])


def test_the_in_process_handle_gives_a_synchronous_client_too(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
def test_sync(wacht_mock_inprocess):
    wacht_mock_inprocess.agent("support-bot").reply("in process, synchronously")
    with wacht_mock_inprocess.client() as client:
        context = client.post("/ai/execution-contexts", json={"title": "x"}).json()
        body = {"agent_name": "support-bot",
                "execution_type": {"new_message": {"message": "hi"}}}
        url = f"/ai/execution-contexts/{context['id']}/execute"
        reply = client.post(url, json=body).json()
    assert reply["response"]["content"] == "in process, synchronously"
    assert len(wacht_mock_inprocess.journal) == 2
"""
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_the_handle_injects_faults_on_any_operation(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
def test_retry(wacht_mock):
    wacht_mock.fault(operation="list", status=503, times=2)
    with wacht_mock.client() as client:
        codes = [client.get("/ai/execution-contexts").status_code for _ in range(3)]
    assert codes == [503, 503, 200]
    assert [e.fault is not None for e in wacht_mock.journal] == [True, True, False]

def test_faults_are_gone_in_the_next_test(wacht_mock):
    with wacht_mock.client() as client:
        assert client.get("/ai/execution-contexts").status_code == 200

def test_a_bad_fault_names_the_argument(wacht_mock):
    import pytest
    with pytest.raises(ValueError, match=r"^fault[(][)]: status: Input should be greater"):
        wacht_mock.fault(operation="list", status=200)
    with pytest.raises(ValueError, match="operation: Input should be 'list'"):
        wacht_mock.fault(operation="lists", status=503)
"""
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=3)
