"""What many tests need: the test keys and their Authorization header, stream pacing, the
mock's JSON."""

from __future__ import annotations

import json

KEY = "wk_test_alpha"
OTHER_KEY = "wk_test_beta"


def auth(key: str = KEY) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def pacing_error(arrivals: list[float], planned: list[float]) -> float:
    """How far the events came from their planned offsets, the start allowed 30 ms more."""
    start = max(0.0, abs(arrivals[0] - planned[0]) - 0.03)
    moved = [(a - arrivals[0]) - (p - planned[0]) for a, p in zip(arrivals, planned, strict=True)]
    return max(start, *map(abs, moved))


def compact_json(data: object) -> bytes:
    """JSON as the mock writes every body and event: compact, Unicode as is."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
