"""The JSON Schema of a run's state, cut out of the guide contract (its one definition).

`contracts/run-state.schema.json` is this schema as a file, for users who validate the states
they capture; `python -m wacht_mock.contract.runstate` writes it again (a test keeps the file
and the contract equal).
"""

from __future__ import annotations

import json
import sys
from typing import Any

from wacht_mock.contract.documents import contract_path, load_contract

ROOT = "RunState"
DIALECT = "https://json-schema.org/draft/2020-12/schema"
#: OpenAPI's own keywords, which mean nothing to a JSON Schema validator.
OPENAPI_ONLY = frozenset({"discriminator", "examples", "example", "xml", "externalDocs"})
PREFIX = "#/components/schemas/"
FILE_NAME = "run-state.schema.json"


def run_state_schema() -> dict[str, Any]:
    """The run state's schema with every schema it uses under `$defs`."""
    schemas = load_contract(contract_path("guide"))["components"]["schemas"]
    needed: dict[str, Any] = {}
    pending = [ROOT]
    while pending:
        name = pending.pop()
        if name in needed:
            continue
        needed[name] = _rewritten(schemas[name], pending)
    root = needed.pop(ROOT)
    return {
        "$schema": DIALECT,
        "$id": f"https://wacht-mock.invalid/{FILE_NAME}",
        "title": "Wacht agent run state",
        **root,
        "$defs": dict(sorted(needed.items())),
    }


def _rewritten(node: Any, pending: list[str]) -> Any:
    if isinstance(node, list):
        return [_rewritten(item, pending) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in OPENAPI_ONLY:
            continue
        if key == "$ref" and isinstance(value, str) and value.startswith(PREFIX):
            name = value.removeprefix(PREFIX)
            pending.append(name)
            out[key] = f"#/$defs/{name}"
        elif key == "properties" and isinstance(value, dict):
            out[key] = {name: _rewritten(item, pending) for name, item in value.items()}
        else:
            out[key] = _rewritten(value, pending)
    return out


def render() -> str:
    """The schema as the file holds it."""
    return json.dumps(run_state_schema(), indent=2, sort_keys=False) + "\n"


def main() -> None:
    path = contract_path("guide").parent / FILE_NAME
    path.write_text(render(), encoding="utf-8")
    sys.stdout.write(f"wrote {path}\n")


if __name__ == "__main__":
    main()
