"""The public API is what ``wacht_mock.__all__`` names, and the package imports light."""

from __future__ import annotations

import subprocess
import sys
import types

import pytest

import wacht_mock
from wacht_mock.service.models import Context


def _public_names() -> set[str]:
    """What the package offers: its non-underscore names and ``__version__``, no subpackages."""
    for name in wacht_mock.__all__:
        getattr(wacht_mock, name)  # loaded names become module attributes too
    return {
        name
        for name in dir(wacht_mock)
        if (not name.startswith("_") or name == "__version__")
        and not isinstance(getattr(wacht_mock, name), types.ModuleType)
    }


def test_exported_members() -> None:
    assert len(wacht_mock.__all__) == len(set(wacht_mock.__all__))
    assert set(wacht_mock.__all__) == _public_names()


def test_every_export_is_defined_where_the_package_says() -> None:
    for name in wacht_mock.__all__:
        value = getattr(wacht_mock, name)
        home = wacht_mock._HOME.get(name)
        if home is not None:
            assert getattr(sys.modules[home], name) is value, name


def test_the_types_users_receive_are_exported() -> None:
    assert wacht_mock.Context is Context
    assert {"CallRecord", "Entry", "Context"} <= set(wacht_mock.__all__)
    assert not {"RenderedReply", "Choice", "CallLog", "Store"} & set(wacht_mock.__all__)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = wacht_mock.Nope  # type: ignore[attr-defined]


IMPORTED = (
    "import sys, wacht_mock{extra}; "
    "heavy = ('schemathesis', 'hypothesis', 'faker'); "
    "print(sorted({{m.split('.')[0] for m in sys.modules}} & set(heavy)))"
)


@pytest.mark.parametrize(
    "extra",
    [
        "",
        ".testing.plugin",
        "; from wacht_mock import WachtMock, create_app, MockHandle; create_app()",
        "; from wacht_mock.cli.main import build_parser; build_parser()",
    ],
)
def test_the_package_loads_no_schemathesis_hypothesis_or_faker(extra: str) -> None:
    code = IMPORTED.format(extra=extra)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


PLUGIN_LOADS = (
    "import sys, pytest; import wacht_mock.testing.plugin; "
    "stack = ('starlette', 'uvicorn', 'httpx', 'pydantic', 'yaml', 'faker', 'schemathesis'); "
    "mock = ('wacht_mock.agents', 'wacht_mock.service.app', 'wacht_mock.proxy', "
    "'wacht_mock.core.journal'); "
    "print(sorted({m.split('.')[0] for m in sys.modules} & set(stack)"
    " | {m for m in sys.modules if m.startswith(mock)}))"
)


def test_the_pytest_plugin_loads_no_server_stack_until_a_fixture_is_used() -> None:
    """Installed means loaded into every pytest session: one that never asks for a fixture
    pays for pytest's own imports only."""
    done = subprocess.run(
        [sys.executable, "-c", PLUGIN_LOADS], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


def test_the_contract_ships_with_the_package() -> None:
    contract = wacht_mock.load_contract()
    assert contract["openapi"].startswith("3.1")
    assert "/ai/execution-contexts" in contract["paths"]
    assert wacht_mock.contract_path().is_file()
