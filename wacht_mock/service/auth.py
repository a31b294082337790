"""API keys and the deployments (tenants) they stand for."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from wacht_mock.core.errors import Unauthorized

KEY_PATTERN = re.compile(r"wk_(?:live|test)_[A-Za-z0-9]+")
MISSING_KEY = "API key required"
INVALID_KEY = "Invalid API key"
LET_IN_KEPT = 4096
LET_IN_LONGEST = 256  # characters of an `Authorization` value worth remembering


@dataclass(frozen=True)
class Tenant:
    """One deployment: everything an API key can see."""

    api_key: str
    deployment_id: str


@lru_cache(maxsize=4096)  # every request asks; a hash per request is work a lookup saves
def deployment_id_for(api_key: str) -> str:
    """A stable decimal deployment id for a key (the same key, the same id, every run)."""
    digest = hashlib.sha256(api_key.encode()).digest()
    return str(int.from_bytes(digest[:8], "big") >> 1)


def is_well_formed(api_key: str) -> bool:
    return KEY_PATTERN.fullmatch(api_key) is not None


class KeyPolicy:
    """Which keys are let in.

    By default any well-formed key is accepted and is its own deployment; with `keys` given,
    every other key is answered with 401.
    """

    def __init__(self, keys: Iterable[str] | None = None) -> None:
        self.allowed: frozenset[str] | None = None if keys is None else frozenset(keys)
        #: The tenant of each `Authorization` value let in lately: a client sends the same one
        #: request after request. Emptied when full; a refused value is never kept.
        self._let_in: dict[str, Tenant] = {}
        for key in self.allowed or ():
            if not is_well_formed(key):
                raise ValueError(
                    f"not a well-formed API key: {key!r} (want wk_live_… or wk_test_…)"
                )

    def authenticate(self, authorization: str | None) -> Tenant:
        """The tenant of an `Authorization` header value, or `Unauthorized`."""
        if not authorization:
            raise Unauthorized(MISSING_KEY)
        tenant = self._let_in.get(authorization)
        if tenant is None:
            tenant = self._check(authorization)
            if len(authorization) <= LET_IN_LONGEST:  # a huge header is checked, not kept
                if len(self._let_in) >= LET_IN_KEPT:
                    self._let_in.clear()
                self._let_in[authorization] = tenant
        return tenant

    def _check(self, authorization: str) -> Tenant:
        scheme, _, key = authorization.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise Unauthorized(MISSING_KEY if not key.strip() else INVALID_KEY)
        key = key.strip()
        if not is_well_formed(key) or (self.allowed is not None and key not in self.allowed):
            raise Unauthorized(INVALID_KEY)
        return Tenant(api_key=key, deployment_id=deployment_id_for(key))
