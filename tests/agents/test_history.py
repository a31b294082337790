"""The history a call sees: a read-only, list-like view of the conversation, shared not copied."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from tests.agents.helpers import make_call
from wacht_mock.agents import Engine, History, HistoryTurn, Reply, Transcript, Usage
from wacht_mock.agents.blocks import ReasoningBlock, TextBlock


def transcript(*texts: str) -> Transcript[HistoryTurn]:
    roles = ("user", "assistant")
    return Transcript(HistoryTurn(roles[i % 2], text) for i, text in enumerate(texts))


def test_a_view_reads_like_the_tuple_it_replaces() -> None:
    history = transcript("hi there", "hello", "how are you").view()
    expected = (
        HistoryTurn("user", "hi there"),
        HistoryTurn("assistant", "hello"),
        HistoryTurn("user", "how are you"),
    )
    assert isinstance(history, Sequence)
    assert len(history) == 3
    assert history == expected
    assert history == list(expected)
    assert tuple(history) == expected
    assert history[0] == expected[0]
    assert history[-1].text == "how are you"
    assert history[1:] == expected[1:]
    assert history[::-1] == expected[::-1]
    assert HistoryTurn("assistant", "hello") in history
    assert history.index(HistoryTurn("user", "how are you")) == 2
    assert history != expected[:2]
    assert hash(history) == hash(expected)
    with pytest.raises(IndexError):
        history[3]
    with pytest.raises(IndexError):
        history[-4]


def test_a_view_cannot_be_changed() -> None:
    history = transcript("one").view()
    with pytest.raises(TypeError):
        history[0] = HistoryTurn("user", "two")  # type: ignore[index]
    assert not hasattr(history, "append")


def test_a_view_keeps_what_the_call_saw_while_the_conversation_grows() -> None:
    conversation = transcript("one", "two")
    seen = conversation.view()
    conversation.extend([HistoryTurn("user", "three four")])
    assert len(seen) == 2
    assert [turn.text for turn in seen] == ["one", "two"]
    assert len(conversation.view()) == 3


def test_words_are_kept_as_the_conversation_grows() -> None:
    conversation = transcript("one two", "three")
    assert conversation.view().words == 3
    conversation.extend([HistoryTurn("user", "four five six")])
    assert conversation.view().words == 6
    assert History([HistoryTurn("user", "a b"), HistoryTurn("user", "c")], length=1).words == 2


def test_usage_is_the_same_from_a_view_as_from_a_tuple() -> None:
    engine = Engine()
    engine.agent("bot").reply(Reply(text="ok"))
    turns = (HistoryTurn("user", "one two"), HistoryTurn("assistant", "three"))
    from_tuple = engine.respond(make_call("four", history=turns)).usage
    from_view = engine.respond(make_call("four", history=Transcript(turns).view())).usage
    assert from_tuple == from_view == Usage(input_tokens=4, output_tokens=1)


def test_a_short_view_shows_its_turns_and_a_long_one_its_length() -> None:
    assert repr(transcript("hi").view()) == (
        "History([HistoryTurn(role='user', text='hi', "
        "blocks=(TextBlock(text='hi', type='text'),))])"
    )
    assert repr(transcript(*"abcdef").view()) == "<History: 6 turns>"


def test_a_released_conversation_leaves_its_views_empty() -> None:
    conversation = transcript("one", "two")
    seen = conversation.view()
    conversation.release()
    assert len(seen) == 0
    assert list(seen) == []
    assert seen == ()
    with pytest.raises(IndexError):
        seen[0]


def _pack(turn: HistoryTurn) -> tuple[object, ...]:
    content = turn.text if turn.blocks == (TextBlock(turn.text),) else turn.blocks
    return (turn.role, content)


def _unpack(packed: tuple[object, ...]) -> HistoryTurn:
    role, content = packed
    assert isinstance(role, str)
    if isinstance(content, str):
        return HistoryTurn(role, content)
    assert isinstance(content, tuple)
    return HistoryTurn(role, blocks=content)


def test_a_packed_transcript_gives_back_the_turns_it_was_given() -> None:
    turns = [
        HistoryTurn("user", "hi there"),
        HistoryTurn("assistant", blocks=(ReasoningBlock("think"), TextBlock("hello"))),
    ]
    conversation = Transcript(turns, pack=_pack, unpack=_unpack)
    assert list(conversation.turns) == turns
    assert conversation.turns[1] == turns[1]
    assert conversation.turns[0:1] == turns[:1]
    view = conversation.view()
    assert view == turns
    assert view.words == 3  # text blocks only
    assert view[1].text == "hello"


def test_pack_without_unpack_is_refused() -> None:
    with pytest.raises(TypeError, match="pack and unpack"):
        Transcript([], pack=_pack)
