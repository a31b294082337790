"""The default agent: a plausible, seeded reply for agents without a script."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from .call import AgentCall
from .declaration import FREE, ResponseFormat
from .rendered import RenderedReply
from .structured import compact_json, structured_value
from .usage import estimate_usage

if TYPE_CHECKING:  # faker loads when first used, not with the package
    from faker import Faker


def default_reply(
    call: AgentCall, faker: Faker, source: str, response_format: ResponseFormat = FREE
) -> RenderedReply:
    """A paragraph of faker's words, usage from word counts, `end_turn`; under a `json_object`
    or `json_schema` response format, a value generated from its schema (as compact JSON).

    Built directly, not through the templates: generated text is new on every call and
    would only fill the template cache, which is there for the scripts' own texts.
    """
    schema = response_format.output_schema
    structured = None if schema is None else structured_value(None, schema, faker)
    text = paragraph(faker) if schema is None else compact_json(structured)
    return RenderedReply(
        text=text,
        tool_calls=(),
        reasoning=None,
        structured_output=structured,
        usage=estimate_usage(call, text, None, ()),
        stop_reason="end_turn",
        status="completed",
        ask=None,
        latency=0.0,
        chunk_delay=0.0,
        chunking="word",
        fault=None,
        source=source,
        call=call,
    )


#: Faker's English words, read once (the list does not change).
_WORDS: list[tuple[str, ...]] = []


def paragraph(faker: Faker) -> str:
    """Two to four sentences of three to eight of faker's words, drawn with the call's seeded
    random: what `faker.paragraph(nb_sentences=3)` makes, at a sixth of its cost (it draws
    each sentence through four layers of providers)."""
    if not _WORDS:
        _WORDS.append(tuple(faker.get_words_list()))
    words, draw = _WORDS[0], faker.random.random
    count = len(words)
    sentences = []
    for _ in range(max(1, 3 * _percent(draw) // 100)):
        drawn = [words[int(draw() * count)] for _ in range(max(1, 6 * _percent(draw) // 100))]
        sentences.append(" ".join(drawn).capitalize() + ".")
    return " ".join(sentences)


def _percent(draw: Callable[[], float]) -> int:
    """60 to 140, evenly: how far a count strays from its mean (as faker varies its counts)."""
    return 60 + int(draw() * 81)
