"""The check's dependencies are an extra: `pip install 'wacht-mock[check]'`.

schemathesis (and with it hypothesis and their pytest plugins) is imported only when a check
runs: `wacht-mock check`, `contract_schema` or
`run_check`. Without the extra they say how to install it.
"""

from __future__ import annotations

INSTALL = "pip install 'wacht-mock[check]'"


class CheckExtraMissing(ImportError):
    """schemathesis is not installed; the message says how to install it."""


def require_schemathesis(what: str) -> None:
    """Raise `CheckExtraMissing`, naming `what` needed it, unless schemathesis imports."""
    try:
        import schemathesis  # noqa: F401
    except ModuleNotFoundError as exc:
        raise CheckExtraMissing(
            f"{what} needs schemathesis, which is not installed: {INSTALL}"
        ) from exc
