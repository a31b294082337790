"""Read the `agents:` mapping of a YAML or JSON fixture file."""

from __future__ import annotations

from collections.abc import Mapping
from os import PathLike
from pathlib import Path
from typing import Any

from wacht_mock.core.documents import DocumentError, read_document

from .errors import InvalidScript

SUFFIXES = (".yaml", ".yml", ".json")


def load_agents_file(path: str | PathLike[str]) -> Mapping[str, Any]:
    """The `agents` mapping of a fixture file (empty if it has none, or is empty).

    The format follows the suffix (.yaml, .yml, .json). Other top-level keys are
    left to their readers. A file that cannot be read as a fixture raises
    `InvalidScript` naming the file.
    """
    file = Path(path)
    document = _read(file)
    if document is None:
        return {}
    if not isinstance(document, Mapping):
        raise InvalidScript.at("", "expected a mapping at the top level").from_source(str(file))
    agents = document.get("agents")
    if agents is None:
        return {}
    if not isinstance(agents, Mapping):
        raise InvalidScript.at("agents", "expected a mapping").from_source(str(file))
    return agents


def _read(file: Path) -> object:
    if file.suffix.lower() not in SUFFIXES:
        message = f"unsupported file type {file.suffix!r} (use .yaml, .yml or .json)"
        raise InvalidScript.at("", message).from_source(str(file))
    try:
        return read_document(file)
    except DocumentError as error:
        reason = str(error).removeprefix(f"{file}: ")
        raise InvalidScript.at("", f"cannot be parsed: {reason}").from_source(str(file)) from None
