"""The contract: the OpenAPI document of the documented API, shipped with the package."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

CONTRACT_NAME = "wacht-api.yaml"
_PACKAGE = Path(__file__).parent


def data_dir(name: str) -> Path:
    """A top-level data folder (``contracts``, ``fixtures``): in the wheel, or in the checkout."""
    packaged = _PACKAGE / "_data" / name
    return packaged if packaged.is_dir() else _PACKAGE.parent / name


def contract_path() -> Path:
    """The path of ``contracts/wacht-api.yaml``."""
    return data_dir("contracts") / CONTRACT_NAME


@cache
def load_contract(path: Path | None = None) -> dict[str, Any]:
    """The parsed contract (cached: treat it as read-only)."""
    document: dict[str, Any] = yaml.safe_load((path or contract_path()).read_text("utf-8"))
    return document
