"""The contract's worded rules (`wacht_mock.contract.rules`) as a schemathesis check.

Imports schemathesis: only `wacht_mock.check.runner.contract_schema` imports this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import schemathesis
from schemathesis.core.failures import Failure

from wacht_mock.contract.drift import folded
from wacht_mock.contract.validation import ContractValidator
from wacht_mock.contract.violations import Violation

_VALIDATORS: dict[int, tuple[dict[str, Any], ContractValidator]] = {}
"""The schemas `register` was given (by their document's id), with their validators."""


class ContractRuleBroken(Failure):
    """A rule the contract states in words (a filter, a page, an error code, a stream's framing)."""

    code = "ST901"
    kind_title = "Contract rule broken"

    def __init__(self, *, operation: str, violations: Sequence[Violation]) -> None:
        rule = violations[0].rule
        super().__init__(
            operation=operation,
            title=f"Contract rule broken: {rule}",
            message="\n".join(map(str, violations)),
        )
        self.rule_key = f"{rule}: {folded(violations[0])}"

    @property
    def _unique_key(self) -> str:
        return self.rule_key


def register(raw_schema: dict[str, Any], validator: ContractValidator) -> None:
    """Check the worded rules on every response to a schema loaded from `raw_schema`."""
    _VALIDATORS[id(raw_schema)] = (raw_schema, validator)
    if "wacht_contract_rules" not in schemathesis.checks.CHECKS.get_all_names():
        schemathesis.check(wacht_contract_rules)


def wacht_contract_rules(ctx: Any, response: Any, case: Any) -> bool | None:
    """The worded rules of the contract, for schemas `contract_schema` loaded."""
    raw = case.operation.schema.raw_schema
    known, validator = _VALIDATORS.get(id(raw), (None, None))
    if known is not raw or validator is None:
        return None
    request = response.request
    url = urlsplit(str(request.url))
    body = request.body.encode() if isinstance(request.body, str) else request.body
    path = str(getattr(case, "formatted_path", "") or url.path)  # without the base URL's path
    checker = validator.response_check(
        str(request.method), path, query=url.query, request_body=body, rules_only=True
    )
    if checker is None:
        return None
    headers = {name: values[0] for name, values in response.headers.items() if values}
    found = checker.start(response.status_code, headers)
    found += checker.whole(response.content, cut=response.stream_cut_short)
    if found:
        raise ContractRuleBroken(operation=case.operation.label, violations=found)
    return None
