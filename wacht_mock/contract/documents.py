"""The contract: the OpenAPI document of the documented API, shipped with the package."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from wacht_mock.core.documents import read_document
from wacht_mock.core.resources import data_dir

CONTRACT_NAME = "wacht-api.yaml"


def contract_path() -> Path:
    """The path of ``contracts/wacht-api.yaml``."""
    return data_dir("contracts") / CONTRACT_NAME


@cache
def load_contract(path: Path | None = None) -> dict[str, Any]:
    """The parsed contract (cached: treat it as read-only)."""
    document: dict[str, Any] = read_document(path or contract_path())
    return document
