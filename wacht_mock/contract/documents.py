"""The contracts: one OpenAPI document per dialect of the API, shipped with the package.

`wacht-api.yaml` is the documented API (the `guide` profile); `wacht-platform.yaml` the
dialect of the published SDKs and the server they were written for (the `platform` profile).
The platform document borrows the shapes both dialects share from the guide's with references
such as `wacht-api.yaml#/components/schemas/ExecuteResponse`; `load_contract` bundles
them, so every reader of the result sees one self-contained document.
"""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any, Literal

from wacht_mock.core.resources import data_dir

Profile = Literal["guide", "platform"]
PROFILES: tuple[Profile, ...] = ("guide", "platform")
CONTRACT_NAMES: dict[Profile, str] = {"guide": "wacht-api.yaml", "platform": "wacht-platform.yaml"}
CONTRACT_NAME = CONTRACT_NAMES["guide"]


def contract_path(profile: Profile = "guide") -> Path:
    """The path of a profile's contract (`contracts/wacht-api.yaml` for `guide`)."""
    if profile not in CONTRACT_NAMES:
        raise ValueError(f"profile must be one of {', '.join(PROFILES)}, got {profile!r}")
    return data_dir("contracts") / CONTRACT_NAMES[profile]


@cache
def load_contract(path: Path | None = None) -> dict[str, Any]:
    """The parsed contract, its references to other files bundled in (cached: read-only)."""
    return _Bundler((path or contract_path()).resolve()).document


@cache
def _read(path: Path) -> dict[str, Any]:
    from wacht_mock.core.documents import read_document  # PyYAML: when a contract is read

    document: dict[str, Any] = read_document(path)
    return document


class _Bundler:
    """Copies each component another file's `$ref` names into the document, under its name.

    A borrowed component keeps its place (`/components/schemas/Usage` stays there), so its own
    references still read the same; a name the document already uses for something else is an
    error, never a silent swap.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.document = copy.deepcopy(_read(path))
        self.origins: dict[str, tuple[Path, str]] = {}
        self._rewrite(self.document, path)

    def _rewrite(self, node: Any, base: Path) -> None:
        if isinstance(node, list):
            for item in node:
                self._rewrite(item, base)
            return
        if not isinstance(node, dict):
            return
        ref = node.get("$ref")
        if isinstance(ref, str):
            node["$ref"] = self._local(ref, base)
        for key, value in list(node.items()):
            if key != "$ref":
                self._rewrite(value, base)

    def _local(self, ref: str, base: Path) -> str:
        file, _, pointer = ref.partition("#")
        target = (base.parent / file).resolve() if file else base
        if target == self.path:
            return "#" + pointer
        parts = pointer.strip("/").split("/")
        if len(parts) != 3 or parts[0] != "components":
            raise ValueError(f"{base.name}: $ref {ref!r} must name a component of {file}")
        _, kind, name = parts
        origin = (target, pointer)
        components = self.document.setdefault("components", {}).setdefault(kind, {})
        if name in components:
            if self.origins.get(pointer) != origin:
                raise ValueError(
                    f"{self.path.name}: {pointer} is defined here and borrowed from {file}; "
                    "rename one of them"
                )
            return "#" + pointer
        borrowed = copy.deepcopy(_read(target)["components"][kind][name])
        components[name] = borrowed
        self.origins[pointer] = origin
        self._rewrite(borrowed, target)
        return "#" + pointer
