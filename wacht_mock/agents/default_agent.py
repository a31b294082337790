"""The default agent: a plausible, seeded reply for agents without a script."""

from __future__ import annotations

from faker import Faker

from .call import AgentCall
from .rendered import RenderedReply
from .rendering import render
from .reply import Reply


def default_reply(call: AgentCall, faker: Faker, source: str) -> RenderedReply:
    """A paragraph of faker text, usage from word counts, `end_turn`."""
    text = faker.paragraph(nb_sentences=3)
    return render(Reply(text=_escape(text)), call, faker, source)


def _escape(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")
