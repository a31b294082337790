"""Fixture files: contexts to seed (per deployment, written out or generated) and agent scripts.

```yaml
deployments:
  wk_test_demo:                     # the API key whose deployment gets these contexts
    contexts:
      - {title: Customer Support Context, context_group: support}
      - {id: "7391…", title: Recorded, created_at: …, history: […]}   # as recorded (see below)
    generate: {count: 100, context_groups: [support, sales]}
    agents:                         # this deployment's own scripts (they answer its calls)
      billing-bot: {reply: "Only for wk_test_demo"}
agents:                             # every deployment's scripts; see fixtures/agents.yaml
  support-bot: {reply: "Hello {context.title}"}
```

YAML or JSON (by suffix); a folder stands for every `*.yaml`, `*.yml` and `*.json` in it.
The examples shipped with the package go by name: `examples` (all of them) or
`examples:agents` (one). A `faults:` list injects faults on any operation
(`wacht_mock.service.faults`).

A context with an `id` is a recorded one (`RecordedContext`):
it is there from the start with its id, timestamps and history; or, when the recording session
created it (`created_by`), it is created again, with its recorded id, by the first create
request with the same body.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    ValidationError,
)

from wacht_mock.agents import BuiltScripts, Engine, InvalidScript, Scripts, build_scripts
from wacht_mock.core.cassette import RecordedContext
from wacht_mock.core.documents import DocumentError, read_document
from wacht_mock.core.resources import data_dir
from wacht_mock.service.auth import deployment_id_for, is_well_formed
from wacht_mock.service.faults import FaultRule
from wacht_mock.service.models import Context, Status, Turn
from wacht_mock.service.profiles import DialectProfile, dialect
from wacht_mock.service.requests import RequestReader
from wacht_mock.service.snapshot import parse_context
from wacht_mock.service.store import NewContext, Store

if TYPE_CHECKING:  # faker loads when first used, not with the package
    from faker import Faker

SUFFIXES = (".yaml", ".yml", ".json")
EXAMPLES = "examples"


class FixtureError(ValueError):
    """A fixture file that cannot be loaded; the message names the file and the place."""


class Generate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    count: Annotated[int, Field(ge=0, le=1_000_000)]
    context_groups: list[str] = Field(default_factory=lambda: ["support", "sales"])
    statuses: list[Status] = Field(default_factory=list)


class SeededContext(BaseModel):
    """A context a fixture makes when it loads; without a `status`, the profile's first one."""

    model_config = ConfigDict(extra="forbid", strict=True)

    title: Annotated[str, Field(max_length=255)] = ""
    system_instructions: Annotated[str, Field(max_length=65_536)] | None = None
    context_group: Annotated[str, Field(max_length=255)] | None = None
    status: Status | None = None


def _recorded(value: Any) -> str:
    """A context written with its `id` was recorded; one without is made when loaded."""
    if isinstance(value, RecordedContext) or (isinstance(value, dict) and "id" in value):
        return "recorded"
    return "new"


FixtureContext = Annotated[
    Annotated[SeededContext, Tag("new")] | Annotated[RecordedContext, Tag("recorded")],
    Discriminator(_recorded),
]


class Deployment(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    contexts: list[FixtureContext] = Field(default_factory=list)
    generate: Generate | None = None
    agents: dict[str, Any] = Field(default_factory=dict)


class FixtureFile(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    deployments: dict[str, Deployment] = Field(default_factory=dict)
    agents: dict[str, Any] = Field(default_factory=dict)
    faults: list[FaultRule] = Field(default_factory=list)
    #: Its scripts as `apply` built them, by deployment (None: all) and source: frozen, so a
    #: reset defines them again rather than building every reply anew before every test.
    _built: dict[tuple[str | None, str], BuiltScripts] = PrivateAttr(default_factory=dict)


def locate(path: str | Path, bases: Sequence[Path] = ()) -> Path:
    """Where a fixture path is: a shipped example by name, or the first of `bases` that has it.

    Without `bases`, a relative path is relative to the current directory. A path found
    nowhere is a `FixtureError` naming where it looked.
    """
    text = str(path)
    if text == EXAMPLES or text.startswith(EXAMPLES + ":"):
        return _example(text.partition(":")[2])
    given = Path(path)
    if given.is_absolute() or not bases:
        if given.exists():
            return given
        looked = "" if given.is_absolute() else f" (looked in {Path.cwd()})"
        raise FixtureError(f"{path}: no such fixture file or folder{looked}")
    for base in bases:
        if (base / given).exists():
            return base / given
    looked = " and ".join(str(base) for base in dict.fromkeys(bases))
    raise FixtureError(f"{path}: no such fixture file or folder (looked in {looked})")


def _example(name: str) -> Path:
    folder = data_dir("fixtures")
    if not name:
        return folder
    for suffix in ("", *SUFFIXES):
        if (folder / f"{name}{suffix}").is_file():
            return folder / f"{name}{suffix}"
    names = ", ".join(f"{EXAMPLES}:{p.stem}" for p in sorted(folder.iterdir()))
    raise FixtureError(f"{EXAMPLES}:{name}: no such example (there are {names})")


def fixture_files(paths: Iterable[str | Path]) -> Iterator[Path]:
    """The files behind `paths`: files as given, folders as their fixture files, sorted."""
    for given in paths:
        path = locate(given)
        if path.is_dir():
            yield from sorted(p for p in path.iterdir() if p.suffix in SUFFIXES)
        else:
            yield path


def read_fixture(path: Path) -> FixtureFile:
    """A fixture file, read within the bounds of any document (aliases, depth, size)."""
    try:
        document = read_document(path)
    except DocumentError as exc:
        raise FixtureError(str(exc)) from None
    try:
        return FixtureFile.model_validate(document or {})
    except ValidationError as exc:
        raise FixtureError(f"{path}: {_reason(exc)}") from None


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(
            "; ".join(
                f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors(include_url=False)
            ).split()
        )
    return str(exc)


def apply(
    fixture: FixtureFile,
    store: Store,
    engine: Engine,
    seed: int | None,
    source: str,
    profile: DialectProfile | None = None,
    only: str | None = None,
) -> int:
    """Seed the contexts and load the scripts of one file; returns how many contexts it made.

    A context without a `status` takes the `profile`'s status of a new context (`guide`
    unless told).
    `only`: a deployment id; then only what the file gives that deployment is loaded (its
    contexts and its own scripts), as a reset of that deployment does.
    All or nothing: the keys and scripts are checked before anything is loaded or created.
    """
    for key in fixture.deployments:
        if not is_well_formed(key):
            raise FixtureError(f"{source}: deployments.{key}: not a well-formed API key")
    deployments = {
        deployment_id_for(key): (key, deployment) for key, deployment in fixture.deployments.items()
    }
    if only is not None:
        deployments = {only: deployments[only]} if only in deployments else {}
    shared: list[Scripts] = [(None, fixture.agents, "")] if only is None else []
    own: list[Scripts] = [
        (deployment_id, deployment.agents, f"deployments.{key}")
        for deployment_id, (key, deployment) in deployments.items()
        if deployment.agents
    ]
    built = fixture._built.get((only, source))
    if built is None:  # built once per file and deployment: a reset loads them again as they are
        try:
            built = fixture._built[only, source] = build_scripts(shared + own, source=source)
        except InvalidScript as exc:
            raise FixtureError(str(exc)) from None
    engine.define_all(built)
    profile = profile or dialect("guide")
    recorded = {
        (key, index): _recorded_context(context, deployment_id, f"{source}: {key}")
        for deployment_id, (key, deployment) in deployments.items()
        for index, context in enumerate(deployment.contexts)
        if isinstance(context, RecordedContext)
    }
    made = 0
    for deployment_id, (key, deployment) in deployments.items():
        for index, context in enumerate(deployment.contexts):
            if isinstance(context, RecordedContext):
                _seed_recorded(store, context, *recorded[key, index], profile)
            else:
                fields = context.model_dump(exclude={"status"})
                status = context.status or profile.new_status
                store.create(deployment_id, NewContext(**fields, status=status))
        made += len(deployment.contexts)
        if deployment.generate:
            from faker import Faker  # loaded only when a fixture generates contexts

            plan = deployment.generate
            made += _generate(store, deployment_id, plan, Faker(), seed, key, profile.new_status)
    return made


def _recorded_context(
    recorded: RecordedContext, deployment_id: str, where: str
) -> tuple[Context, tuple[Turn, ...]]:
    data = recorded.model_dump(exclude={"history", "created_by"})
    state = recorded.execution_state or {}
    turns = [turn.model_dump() for turn in recorded.history]
    try:
        return parse_context(
            {**data, "deployment_id": deployment_id}, turns, state.get("conversation_id")
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise FixtureError(f"{where}: context {recorded.id}: {exc!r}") from None


def _seed_recorded(
    store: Store,
    recorded: RecordedContext,
    context: Context,
    turns: tuple[Turn, ...],
    profile: DialectProfile,
) -> None:
    if recorded.created_by is None:
        store.restore(context, turns)
        for turn in turns:
            store.ids.advance_past(int(turn.id))
        store.ids.advance_past(int(context.id))
        return
    # The create request it was made by, read as the replaying mock will read it again.
    reader = RequestReader(profile, ignore_unknown=True)
    store.reserve(reader.create(recorded.created_by).value, context)


def _generate(
    store: Store,
    deployment_id: str,
    plan: Generate,
    fake: Faker,
    seed: int | None,
    key: str,
    new_status: Status,
) -> int:
    fake.seed_instance(f"{seed or 0}:{key}")
    for _ in range(plan.count):
        group = fake.random_element(plan.context_groups) if plan.context_groups else None
        title = f"{fake.company()} {(group or 'general').title()} Context"
        instructions = f"You are a helpful {group or 'general'} assistant for {fake.company()}."
        status = fake.random_element(plan.statuses or [new_status])
        store.create(deployment_id, NewContext(title[:255], instructions, group, status))
    return plan.count
