"""Per-reply timing, chunking and faults (plain data for the HTTP layer)."""

from __future__ import annotations

import pytest

from wacht_mock.agents import (
    Engine,
    HttpFault,
    InvalidScript,
    Reply,
    StreamFault,
    StreamFaultMode,
)

from .helpers import load_yaml, make_call

TEXT = "  Hello,  world!\nHow are\tyou?  "


@pytest.mark.parametrize(
    ("chunking", "chunks"),
    [
        ("word", ("  Hello,  ", "world!\n", "How ", "are\t", "you?  ")),
        ("char", tuple(TEXT)),
        (7, ("  Hello", ",  worl", "d!\nHow ", "are\tyou", "?  ")),
    ],
)
def test_chunks_concatenate_back_to_the_text(chunking: str | int, chunks: tuple[str, ...]) -> None:
    engine = Engine()
    engine.agent("bot").reply(Reply(text=TEXT, chunking=chunking))  # type: ignore[arg-type]

    reply = engine.respond(make_call())

    assert reply.chunks() == chunks
    assert "".join(reply.chunks()) == reply.text == TEXT


@pytest.mark.parametrize("chunking", ["word", "char", 3])
@pytest.mark.parametrize("text", ["", "   ", "one", "a b", "\n\nx\n"])
def test_every_chunking_round_trips(chunking: str | int, text: str) -> None:
    engine = Engine()
    engine.agent("bot").reply(Reply(text=text, chunking=chunking))  # type: ignore[arg-type]

    chunks = engine.respond(make_call()).chunks()

    assert "".join(chunks) == text
    assert all(chunks)


def test_word_chunking_is_the_default_and_timing_defaults_to_zero() -> None:
    engine = Engine()
    engine.agent("bot").reply("a b")

    reply = engine.respond(make_call())

    assert (reply.chunking, reply.latency, reply.chunk_delay) == ("word", 0.0, 0.0)


def test_timing_and_chunking_from_yaml() -> None:
    engine = Engine()
    load_yaml(
        engine, "agents: {bot: {reply: {text: abcdef, latency: 1, chunk_delay: 0.25, chunking: 4}}}"
    )

    reply = engine.respond(make_call())

    assert (reply.latency, reply.chunk_delay, reply.chunks()) == (1.0, 0.25, ("abcd", "ef"))


@pytest.mark.parametrize("chunking", ["words", 0, -2, True, 1.5])
def test_bad_chunking_is_refused(chunking: object) -> None:
    with pytest.raises(
        InvalidScript,
        match=r"agents.bot.reply.chunking: must be \"word\", \"char\", a positive int or a list",
    ):
        Engine().agent("bot").reply({"text": "x", "chunking": chunking})


def test_http_faults_in_python_and_yaml() -> None:
    engine = Engine()
    engine.agent("python").fail(429, retry_after=2, message="Slow down")
    load_yaml(
        engine,
        "agents: {yaml: {reply: {fault: {status: 429, retry_after: 2, message: Slow down}}}}",
    )

    faults = {name: engine.respond(make_call(agent=name)).fault for name in ("python", "yaml")}

    assert faults["python"] == faults["yaml"] == HttpFault(429, "Slow down", 2)


def test_http_fault_defaults() -> None:
    assert HttpFault(429) == HttpFault(429, "Too Many Requests", 1)
    assert HttpFault(500) == HttpFault(500, "Internal Server Error", None)
    assert HttpFault(503, retry_after=30).message == "Service Unavailable"


@pytest.mark.parametrize("mode", ["cut", "error", "drop"])
def test_stream_faults_in_python_and_yaml(mode: StreamFaultMode) -> None:
    engine = Engine()
    engine.agent("python").reply("hi", fault=StreamFault(mode, 3, "Overloaded", 503))
    fault = f"{{mode: {mode}, after_events: 3, message: Overloaded, code: 503}}"
    load_yaml(engine, f"agents: {{yaml: {{reply: {{text: hi, fault: {fault}}}}}}}")

    faults = [engine.respond(make_call(agent=name)).fault for name in ("python", "yaml")]

    assert faults[0] == faults[1] == StreamFault(mode, 3, "Overloaded", 503)


def test_stream_fault_defaults() -> None:
    engine = Engine()
    load_yaml(engine, "agents: {bot: {reply: {text: hi, fault: {mode: error, after_events: 2}}}}")

    assert engine.respond(make_call()).fault == StreamFault("error", 2, "Stream interrupted", 500)


@pytest.mark.parametrize(
    ("fault", "problem"),
    [
        ({"status": 200}, "fault.status: must be an HTTP error status (4xx or 5xx), not 200"),
        ({"status": 499}, "fault.status: must be an HTTP error status (4xx or 5xx), not 499"),
        ({"status": 429, "retry_after": -1}, "fault.retry_after: must be 0 or more seconds"),
        ({"mode": "error", "after_events": -1}, "fault.after_events: must be 0 or more"),
        (
            {"mode": "error", "after_events": 1, "code": 200},
            "fault.code: must be an HTTP error status",
        ),
        (
            {"mode": "explode", "after_events": 1},
            "fault.mode: Input should be 'cut', 'error' or 'drop'",
        ),
        (
            {"status": 500, "mode": "cut"},
            "fault: a fault has either status (HTTP) or mode and after_events",
        ),
        ({"message": "x"}, "fault: a fault has either status (HTTP) or mode and after_events"),
        ({"mode": "cut"}, "fault: a stream fault needs both mode and after_events"),
        (
            {"status": 500, "retry": 1},
            "fault: unknown fault key 'retry' (did you mean 'retry_after'?)",
        ),
    ],
)
def test_bad_faults_are_refused_with_the_path(fault: dict[str, object], problem: str) -> None:
    with pytest.raises(InvalidScript) as raised:
        Engine().agent("bot").reply({"text": "x", "fault": fault})

    assert str(raised.value).startswith(f"agents.bot.reply.{problem}")


def test_bad_faults_are_refused_in_python() -> None:
    with pytest.raises(
        InvalidScript, match=r"^agents.bot.reply.fault.status: must be an HTTP error"
    ):
        Engine().agent("bot").fail(302)
    with pytest.raises(InvalidScript, match=r"^mode: must be one of cut, error, drop, not 'stop'"):
        StreamFault("stop", 1)  # type: ignore[arg-type]
