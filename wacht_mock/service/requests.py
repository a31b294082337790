"""Request bodies, held to the profile's contract and read into what the service acts on.

The contract document is the one definition of a body's shape: a body is validated against the
operation's request schema (`ContractValidator.request_body`), and only then read. Null is
"absent" everywhere, as the platform's serde `Option`s made it: a create takes the default, an
update leaves the field alone. What the real server let through although its contract forbids
it (the `platform` profile's unknown fields, an update's unknown `status`) is dropped and
returned as a note for the journal; under `--ignore-unknown-fields` unknown fields are dropped
silently. Anything else wrong is a `BadRequest` that points at the
field, and a body in the other profile's dialect says which switch speaks it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

from wacht_mock.contract.violations import Violation
from wacht_mock.core.errors import BadRequest
from wacht_mock.core.text import did_you_mean
from wacht_mock.core.wire import unescape
from wacht_mock.service.profiles import DialectProfile, dialect
from wacht_mock.service.store import NewContext

__all__ = ["KINDS", "Approval", "ExecuteRequest", "Kind", "NewContext", "Read", "RequestReader"]

Kind = Literal[
    "new_message",
    "continue",
    "stream",
    "user_input_response",
    "approval_response",
    "platform_function_result",
    "cancel",
]
KINDS: tuple[Kind, ...] = get_args(Kind)
WITH_MESSAGE = ("new_message", "stream", "user_input_response")
#: The agent that runs when a platform client names none.
DEFAULT_AGENT = "default"
Mode = Literal["allow_once", "allow_always"]


@dataclass(frozen=True)
class Approval:
    """One tool approved by an `approval_response`."""

    tool_name: str
    mode: Mode


@dataclass(frozen=True)
class ExecuteRequest:
    """An execute call, whichever dialect and encoding it came in."""

    agent_name: str
    kind: Kind
    message: str | None = None
    files: tuple[str, ...] = ()
    request_message_id: str | None = None
    approvals: tuple[Approval, ...] = ()
    execution_id: str | None = None
    result: Any = None


@dataclass(frozen=True)
class Read:
    """A body read: what it asks for, and what the journal should note about it."""

    value: Any
    notes: tuple[str, ...] = ()


class RequestReader:
    """Reads the bodies of one profile's requests."""

    def __init__(self, profile: DialectProfile, *, ignore_unknown: bool = False) -> None:
        self.profile = profile
        self.ignore_unknown = ignore_unknown

    # -- the three bodies -----------------------------------------------------------------

    def create(self, body: Any) -> Read:
        data, notes = self._held("createExecutionContext", body)
        fields = _present(data)
        new = NewContext(
            title=fields.get("title", ""),
            system_instructions=fields.get("system_instructions"),
            context_group=fields.get("context_group"),
            status=fields.get("status", self.profile.new_status),
        )
        return Read(new, notes)

    def update(self, body: Any) -> Read:
        """Only the fields sent, and not null (null is no change)."""
        data, notes = self._held("updateExecutionContext", body)
        return Read(_present(data), notes)

    def execute(self, body: Any) -> Read:
        if isinstance(body, dict) and isinstance(body.get("execution_type"), dict):
            problem = _variant_problem(body["execution_type"], self.profile)
            if problem:
                raise BadRequest(f"Invalid request body: /execution_type: {problem}")
        data, notes = self._held("executeAgent", body)
        return Read(_execute_request(data), notes)

    # -- the contract, and what the profile lets through ------------------------------------

    def _held(self, operation_id: str, body: Any) -> tuple[Any, tuple[str, ...]]:
        """The body once the contract passed it, less what the server would have ignored."""
        profile = self.profile
        if profile.name == "guide":
            _refuse_platform_dialect(operation_id, body)
        found = profile.validator.request_body(operation_id, body)
        unknown = [v for v in found if v.rule == "unknown field"]
        if self.ignore_unknown and unknown:  # --ignore-unknown-fields: gone without a word
            body = _without(body, [v.pointer for v in unknown])
            found = profile.validator.request_body(operation_id, body)
        if found:
            raise BadRequest(_message(found))
        if not profile.lenient:
            return body, ()
        # What the server let through that no published SDK sends: answered, and noted.
        ignored = (
            [] if self.ignore_unknown else profile.strict_validator.request_body(operation_id, body)
        )
        notes = [
            f"contract violation: {v.message.removeprefix('body ')} "
            "(the platform server ignored it; so does the mock)"
            for v in ignored
        ]
        body = _without(body, [v.pointer for v in ignored])
        status = body.get("status") if operation_id == "updateExecutionContext" else None
        if status is not None and status not in profile.statuses:
            notes.append(
                f"contract violation: /status: {status!r} is no run state "
                f"({', '.join(profile.statuses)}); the platform server ignored it, so does the mock"
            )
            body = {key: value for key, value in body.items() if key != "status"}
        return body, tuple(notes)


def _present(data: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if value is not None}


def _message(violations: list[Violation]) -> str:
    problems = [v.message.removeprefix("body ") for v in violations]
    return "Invalid request body: " + "; ".join(problems[:5])


def _without(body: Any, pointers: list[str]) -> Any:
    """A copy of `body` without the members at `pointers` (the input is never changed)."""
    paths = [[unescape(part) for part in pointer.split("/")[1:]] for pointer in pointers]
    return _pruned(body, [path for path in paths if path])


def _pruned(node: Any, paths: list[list[str]]) -> Any:
    if not paths or not isinstance(node, (dict, list)):
        return node
    gone = {path[0] for path in paths if len(path) == 1}
    deeper: dict[str, list[list[str]]] = {}
    for path in paths:
        if len(path) > 1:
            deeper.setdefault(path[0], []).append(path[1:])
    if isinstance(node, list):
        return [
            _pruned(item, deeper.get(str(index), []))
            for index, item in enumerate(node)
            if str(index) not in gone
        ]
    return {
        key: _pruned(value, deeper.get(key, [])) for key, value in node.items() if key not in gone
    }


# -- execute -----------------------------------------------------------------------------------


def _variant_problem(variants: dict[str, Any], profile: DialectProfile) -> str | None:
    """The platform's own words when `execution_type` holds other than exactly one variant."""
    used = [key for key, value in variants.items() if key in KINDS and value is not None]
    nulls = [key for key, value in variants.items() if key in KINDS and value is None]
    if profile.name == "guide" and nulls:
        return (
            f"the variant keys {_and(nulls)} were sent as null beside {_and(used) or 'none'}: "
            f"that is the platform dialect of the published SDKs ({PLATFORM_HINT}); "
            "here send one key"
        )
    if len(used) == 1:
        return None
    start = f"Exactly one execution_type variant must be provided: {_or(KINDS)}"
    if len(used) > 1:
        return f"{start}, got {len(used)}: {_and(used)}; send one variant per request"
    others = [key for key in variants if key not in KINDS]
    if others:
        hint = did_you_mean(others[0], KINDS)
        hint = f"; {hint}" if hint else ""
        return f"{start}, got {_and(others)}{hint}"
    return f"{start}, got none"


def _execute_request(data: dict[str, Any]) -> ExecuteRequest:
    agent = data.get("agent_name") or DEFAULT_AGENT
    if "type" in data:  # the internally tagged form: the variant's fields sit beside the tag
        kind: Kind = data["type"]
        fields = data
    else:
        variants = data["execution_type"]
        kind = next(key for key in KINDS if variants.get(key) is not None)
        fields = variants[kind]
    approvals = tuple(Approval(a["tool_name"], a["mode"]) for a in fields.get("approvals") or ())
    return ExecuteRequest(
        agent_name=agent,
        kind=kind,
        message=fields.get("message")
        if kind in ("new_message", "stream", "user_input_response")
        else None,
        files=tuple(_file_name(file) for file in fields.get("files") or ()),
        request_message_id=fields.get("request_message_id"),
        approvals=approvals,
        execution_id=fields.get("execution_id"),
        result=fields.get("result"),
    )


def _file_name(file: Any) -> str:
    """A file reference: the string itself, or the name of a file object."""
    if isinstance(file, str):
        return file
    name: str = file["name"] if "name" in file else file["filename"]
    return name


# -- the other dialect -------------------------------------------------------------------------

PLATFORM_HINT = "start the mock with --profile platform"


def platform_status_hint(value: object, profile: DialectProfile) -> str:
    """Why a platform run state is no guide status, and the switch that speaks it."""
    return (
        f"{value!r} is a run state of the platform dialect of the published SDKs; the documented "
        f"statuses are {', '.join(profile.statuses)} ({PLATFORM_HINT})"
    )


def is_platform_status(value: object) -> bool:
    """Whether `value` is a run state of the platform contract's `ContextStatus`."""
    return isinstance(value, str) and value in dialect("platform").statuses


def _refuse_platform_dialect(operation_id: str, body: Any) -> None:
    """A guide-profile body that is plainly the platform dialect: a 400 that names the switch."""
    if not isinstance(body, dict):
        return
    guide = dialect("guide")
    if operation_id != "executeAgent":
        if is_platform_status(body.get("status")):
            raise BadRequest(
                f"Invalid request body: /status: {platform_status_hint(body['status'], guide)}"
            )
        return
    if "type" in body and "execution_type" not in body:
        raise BadRequest(
            "Invalid request body: /type: the internally tagged execute body of the early "
            f"published crates is the platform dialect ({PLATFORM_HINT}); the documented body "
            'is {"agent_name": …, "execution_type": {"new_message": {…}}}'
        )
    variants = body.get("execution_type")
    if not isinstance(variants, dict):
        return
    for kind, fields in variants.items():
        files = fields.get("files") if isinstance(fields, dict) else None
        if isinstance(files, list) and any(isinstance(file, dict) for file in files):
            raise BadRequest(
                f"Invalid request body: /execution_type/{kind}/files: file objects are the "
                f"platform dialect ({PLATFORM_HINT}); the documented files are strings"
            )


def _or(names: Sequence[str]) -> str:
    return ", ".join(names[:-1]) + " or " + names[-1]


def _and(names: Sequence[str]) -> str:
    quoted = [repr(name) for name in names]
    if len(quoted) <= 1:
        return "".join(quoted)
    return ", ".join(quoted[:-1]) + " and " + quoted[-1]
