"""Recorded fixtures: the shape of a recorded context, scrubbing secrets, and stable YAML.

The recording proxy writes these files and the mock loads them (`serve --fixtures DIR`); both
sides use the shape defined here. A recorded context is the API's context object as last seen,
with its conversation `history` and, when the recording session created it, the create
request's body (`created_by`):

    deployments:
      wk_test_recorded:          # the key alias; the real key is never written
        contexts:
          - id: "7391..."
            title: Support
            created_at: "2026-12-01T10:00:00.000Z"
            ...
            history: [{id, execution_id, role, created_at, blocks}]
            created_by: {title: Support}
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from wacht_mock.core.defaults import DEFAULT_KEY_ALIAS as DEFAULT_KEY_ALIAS

#: What a key-shaped value in a recorded body becomes.
MASK = "[masked]"
KEY_SHAPED = re.compile(
    r"\bwk_(?:live|test)_[A-Za-z0-9]{6,}"  # Wacht API keys
    r"|\bsk-[A-Za-z0-9_-]{16,}"  # OpenAI-style secret keys
    r"|\b(?:ghp|gho|ghs|ghu|github_pat)_[A-Za-z0-9_]{20,}"  # GitHub tokens
    r"|\bxox[abposr]-[A-Za-z0-9-]{10,}"  # Slack tokens
    r"|\bAKIA[0-9A-Z]{16}\b"  # AWS access key ids
    r"|\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"  # JWTs
    r"|(?i:\bbearer\s+)[A-Za-z0-9._~+/-]{8,}=*"  # bearer credentials
)


class RecordedTurn(BaseModel):
    """One turn of a recorded conversation, as the API's history shows it."""

    model_config = ConfigDict(extra="forbid", strict=True)

    id: str
    execution_id: str
    role: str
    created_at: str
    blocks: list[dict[str, Any]] = Field(default_factory=list)


class RecordedContext(BaseModel):
    """A context as the upstream last showed it, with its history."""

    model_config = ConfigDict(extra="forbid", strict=True)

    id: str
    title: str
    system_instructions: str | None = None
    context_group: str | None = None
    status: str = "active"
    created_at: str
    updated_at: str
    last_activity_at: str
    completed_at: str | None = None
    execution_state: dict[str, Any] | None = None
    history: list[RecordedTurn] = Field(default_factory=list)
    created_by: dict[str, Any] | None = None


class Scrubber:
    """Takes secrets out of what is written: the keys seen become the alias, and any other
    key-shaped value becomes `MASK`."""

    def __init__(self, alias: str = DEFAULT_KEY_ALIAS) -> None:
        if not re.fullmatch(r"wk_(?:live|test)_[A-Za-z0-9]+", alias):
            raise ValueError(f"a key alias is a well-formed test key (wk_test_…), not {alias!r}")
        self.alias = alias
        self._secrets: set[str] = set()

    def learn(self, secret: str) -> None:
        """A key seen in a request: written as the alias wherever it shows up."""
        if secret and secret != self.alias:
            self._secrets.add(secret)

    def text(self, value: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):
            value = value.replace(secret, self.alias)
        return KEY_SHAPED.sub(lambda m: m.group(0) if m.group(0) == self.alias else MASK, value)

    def value(self, value: Any) -> Any:
        """`value` (parsed JSON) with every string scrubbed, keys included."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {self.text(str(k)): self.value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(item) for item in value]
        return value


class _Dumper(yaml.SafeDumper):
    """Block style, with multi-line strings written as literal blocks."""


def _string(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value and value == value.strip(" ") and "\r" not in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _string)


def dump_yaml(document: Mapping[str, Any], comments: Iterable[str] = ()) -> str:
    """`document` as YAML, the same bytes for the same data, after `# comment` lines."""
    head = "".join(f"# {line}\n" for line in comments)
    body = yaml.dump(
        dict(document),
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=100,
        default_flow_style=False,
    )
    return head + body
