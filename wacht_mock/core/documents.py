"""Documents the project is given (fixture files, fixture and snapshot bodies), read with bounds.

YAML aliases are shared references once loaded, but anything that walks the value (validation,
templating) expands them: a few hundred bytes can stand for billions of nodes. So a document is
refused, with one line that names the place, when it is larger than `MAX_DOCUMENT_BYTES`,
nested deeper than `MAX_DEPTH`, or would expand to more than `MAX_NODES` values;
a recursive alias is refused too. JSON goes through `wacht_mock.core.jsontext` with the
same depth bound.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode

from wacht_mock.core.jsontext import JsonTextError, decode

MAX_DOCUMENT_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 64
MAX_NODES = 250_000
JSON_SUFFIXES = (".json",)


class DocumentError(ValueError):
    """A document that cannot be read; `str(error)` is one line that names the place."""


def read_document(path: Path) -> Any:
    """A YAML or JSON file (by suffix) as Python data, within the bounds; `None` if empty."""
    try:
        size = path.stat().st_size
        if size > MAX_DOCUMENT_BYTES:
            raise DocumentError(
                f"{size} bytes, more than the {MAX_DOCUMENT_BYTES} a document may hold"
            )
        raw = path.read_bytes()
    except OSError as exc:
        raise DocumentError(f"{path}: {exc.strerror or exc}") from None
    except DocumentError as exc:
        raise DocumentError(f"{path}: {exc}") from None
    try:
        if path.suffix.lower() in JSON_SUFFIXES:
            return decode(raw, "the document", max_depth=MAX_DEPTH) if raw.strip() else None
        return load_yaml(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise DocumentError(f"{path}: not valid UTF-8 (byte {exc.start})") from None
    except (DocumentError, JsonTextError) as exc:
        raise DocumentError(f"{path}: {exc}") from None


def load_yaml(text: str, *, max_depth: int = MAX_DEPTH, max_nodes: int = MAX_NODES) -> Any:
    """YAML text as Python data (safe types only), within the bounds; see the module."""
    if len(text) > MAX_DOCUMENT_BYTES:
        raise DocumentError(f"more than the {MAX_DOCUMENT_BYTES} bytes a document may hold")
    loader = _BoundedLoader(text, max_depth)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_expansion(node, max_nodes)
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        raise DocumentError(_yaml_reason(exc)) from None
    except yaml.YAMLError as exc:
        raise DocumentError(" ".join(str(exc).split())) from None
    finally:
        loader.dispose()


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing nesting deeper than `max_depth` as it composes."""

    def __init__(self, text: str, max_depth: int) -> None:
        super().__init__(text)
        self._depth = 0
        self._max_depth = max_depth

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        self._depth += 1
        try:
            if self._depth > self._max_depth:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise DocumentError(f"{_place(mark)}: nested deeper than {self._max_depth} levels")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _check_expansion(root: Node, max_nodes: int) -> None:
    """How many values the document stands for once its aliases are expanded, and no cycle."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    pending: list[tuple[Node, bool]] = [(root, False)]
    while pending:
        node, finished = pending.pop()
        key = id(node)
        if finished:
            open_nodes.discard(key)
            sizes[key] = 1 + sum(sizes[id(child)] for child in _children(node))
            if sizes[key] > max_nodes:
                raise DocumentError(
                    f"{_place(node.start_mark)}: expands to more than {max_nodes} values "
                    "(aliases refer to aliases)"
                )
            continue
        if key in sizes:
            continue
        if key in open_nodes:
            raise DocumentError(f"{_place(node.start_mark)}: an alias refers to itself")
        open_nodes.add(key)
        pending.append((node, True))
        pending.extend((child, False) for child in _children(node) if id(child) not in sizes)


def _place(mark: Any) -> str:
    return f"line {mark.line + 1} column {mark.column + 1}"


def _yaml_reason(exc: yaml.MarkedYAMLError) -> str:
    mark = exc.problem_mark or exc.context_mark
    what = " ".join(part for part in (exc.problem, exc.context and f"({exc.context})") if part)
    return f"{_place(mark)}: {what}" if mark else what
