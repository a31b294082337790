"""Data shipped with the package: the contracts and the example fixtures."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).parent.parent


def data_dir(name: str) -> Path:
    """A top-level data folder (`contracts`, `fixtures`): in the wheel, or in the checkout."""
    packaged = _PACKAGE / "_data" / name
    return packaged if packaged.is_dir() else _PACKAGE.parent / name
