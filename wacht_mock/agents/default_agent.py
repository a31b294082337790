"""The default agent: a plausible, seeded reply for agents without a script."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .call import AgentCall
from .rendered import RenderedReply
from .usage import estimate_usage

if TYPE_CHECKING:  # faker loads when first used, not with the package
    from faker import Faker


def default_reply(call: AgentCall, faker: Faker, source: str) -> RenderedReply:
    """A paragraph of faker text, usage from word counts, `end_turn`.

    Built directly, not through the templates: generated text is new on every call and
    would only fill the template cache, which is there for the scripts' own texts.
    """
    text = faker.paragraph(nb_sentences=3)
    return RenderedReply(
        text=text,
        tool_calls=(),
        reasoning=None,
        structured_output=None,
        usage=estimate_usage(call, text, None, ()),
        stop_reason="end_turn",
        status="completed",
        ask=None,
        latency=0.0,
        chunk_delay=0.0,
        chunking="word",
        fault=None,
        source=source,
    )
