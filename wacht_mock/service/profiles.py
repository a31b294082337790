"""The two dialects one mock speaks: `guide` (the documented API) and `platform`.

A profile is data, not code: which contract document the requests are held to, which context
statuses exist and what a new context starts as, whether a context's status follows its runs,
and what the real server let through that its contract forbids (the `platform` server ignored
unknown fields and an update's unknown `status`: the mock does too, and notes each in the
journal so the test that sent it still fails). Everything else is shared code.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from wacht_mock.contract.documents import PROFILES, Profile, contract_path, load_contract
from wacht_mock.contract.validation import ContractValidator
from wacht_mock.service.models import Status

__all__ = ["PROFILES", "DialectProfile", "Profile", "dialect"]


@dataclass(frozen=True)
class DialectProfile:
    """What differs between the dialects; see the module docstring."""

    name: Profile
    statuses: tuple[str, ...]
    new_status: Status
    status_is_run_state: bool
    lenient: bool
    max_limit: int

    @property
    def validator(self) -> ContractValidator:
        return _validator(self.name)

    @property
    def strict_validator(self) -> ContractValidator:
        """The contract with every `additionalProperties: true` made false: what no SDK sends."""
        return _strict_validator(self.name)

    @property
    def other(self) -> Profile:
        return "platform" if self.name == "guide" else "guide"


@cache
def _validator(name: Profile) -> ContractValidator:
    return ContractValidator(contract_path(name))


@cache
def _strict_validator(name: Profile) -> ContractValidator:
    return ContractValidator(_closed(load_contract(contract_path(name))))


def _closed(node: Any) -> Any:
    if isinstance(node, list):
        return [_closed(item) for item in node]
    if not isinstance(node, dict):
        return node
    return {
        key: False if key == "additionalProperties" and value is True else _closed(value)
        for key, value in node.items()
    }


def _schema(name: Profile, component: str) -> dict[str, Any]:
    schema: dict[str, Any] = load_contract(contract_path(name))["components"]["schemas"][component]
    return schema


def _max_limit(name: Profile) -> int:
    operation = _validator(name).by_id("listExecutionContexts")
    limit = operation.parameters_in("query")["limit"]
    maximum: int = _validator(name).document.resolve(limit.schema.value)["maximum"]
    return maximum


@cache
def dialect(name: str) -> DialectProfile:
    """The profile called `name` (a `ValueError` names the choices for anything else)."""
    if name not in PROFILES:
        raise ValueError(f"profile must be one of {', '.join(PROFILES)}, got {name!r}")
    profile: Profile = "guide" if name == "guide" else "platform"
    statuses = tuple(_schema(profile, "ContextStatus")["enum"])
    return DialectProfile(
        name=profile,
        statuses=statuses,
        new_status="active" if profile == "guide" else "idle",
        status_is_run_state=profile == "platform",
        lenient=profile == "platform",
        max_limit=_max_limit(profile),
    )
