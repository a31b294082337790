"""Fixture files: contexts to seed (per deployment, written out or generated) and agent scripts.

```yaml
deployments:
  wk_test_demo:                     # the API key whose deployment gets these contexts
    contexts:
      - {title: Customer Support Context, context_group: support}
    generate: {count: 100, context_groups: [support, sales]}
agents:                             # see fixtures/agents.yaml
  support-bot: {reply: "Hello {context.title}"}
```

YAML or JSON (by suffix); a folder stands for every ``*.yaml``, ``*.yml`` and ``*.json`` in it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from wacht_mock.agents import Engine, InvalidScript
from wacht_mock.service.auth import deployment_id_for, is_well_formed
from wacht_mock.service.models import STATUSES, Status
from wacht_mock.service.payloads import CreateContextRequest
from wacht_mock.service.store import NewContext, Store

if TYPE_CHECKING:  # faker loads when first used, not with the package
    from faker import Faker

SUFFIXES = (".yaml", ".yml", ".json")


class FixtureError(ValueError):
    """A fixture file that cannot be loaded; the message names the file and the place."""


class Generate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    count: Annotated[int, Field(ge=0, le=1_000_000)]
    context_groups: list[str] = Field(default_factory=lambda: ["support", "sales"])
    statuses: list[Status] = Field(default_factory=lambda: list[Status](["active"]))


class Deployment(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    contexts: list[CreateContextRequest] = Field(default_factory=list)
    generate: Generate | None = None


class FixtureFile(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    deployments: dict[str, Deployment] = Field(default_factory=dict)
    agents: dict[str, Any] = Field(default_factory=dict)


def fixture_files(paths: Iterable[Path]) -> Iterator[Path]:
    """The files behind ``paths``: files as given, folders as their fixture files, sorted."""
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.iterdir() if p.suffix in SUFFIXES)
        elif path.exists():
            yield path
        else:
            raise FixtureError(f"{path}: no such fixture file or folder")


def read_fixture(path: Path) -> FixtureFile:
    try:
        text = path.read_text("utf-8")
        document = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
        return FixtureFile.model_validate(document or {})
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise FixtureError(f"{path}: {_reason(exc)}") from None


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors(include_url=False)
        )
    return str(exc)


def apply(fixture: FixtureFile, store: Store, engine: Engine, seed: int | None, source: str) -> int:
    """Seed the contexts and load the scripts of one file; returns how many contexts it made.

    All or nothing: the keys and scripts are checked before anything is loaded or created.
    """
    for key in fixture.deployments:
        if not is_well_formed(key):
            raise FixtureError(f"{source}: deployments.{key}: not a well-formed API key")
    try:
        engine.load(fixture.agents, source=source)
    except InvalidScript as exc:
        raise FixtureError(str(exc)) from None
    made = 0
    for key, deployment in fixture.deployments.items():
        deployment_id = deployment_id_for(key)
        for context in deployment.contexts:
            store.create(deployment_id, NewContext(**context.model_dump()))
        made += len(deployment.contexts)
        if deployment.generate:
            from faker import Faker

            made += _generate(store, deployment_id, deployment.generate, Faker(), seed, key)
    return made


def _generate(
    store: Store, deployment_id: str, plan: Generate, fake: Faker, seed: int | None, key: str
) -> int:
    fake.seed_instance(f"{seed or 0}:{key}")
    for _ in range(plan.count):
        group = fake.random_element(plan.context_groups) if plan.context_groups else None
        title = f"{fake.company()} {(group or 'general').title()} Context"
        instructions = f"You are a helpful {group or 'general'} assistant for {fake.company()}."
        status = fake.random_element(plan.statuses or list(STATUSES))
        store.create(deployment_id, NewContext(title[:255], instructions, group, status))
    return plan.count
