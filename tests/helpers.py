"""What many tests need: the test keys and their Authorization header."""

from __future__ import annotations

KEY = "wk_test_alpha"
OTHER_KEY = "wk_test_beta"


def auth(key: str = KEY) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}
