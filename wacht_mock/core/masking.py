"""Secrets out of sight: the one place that decides how a key or a token is shown.

Whatever the project prints or stores (the journal, log lines, violations, the drift report, the
check report) goes through here: a credential-bearing header is masked whole, and any key-shaped
value (`wk_live_…`, `wk_test_…`) in other text is masked where it stands. A key keeps its
prefix, and its last four characters only when at least twelve follow the prefix, so a short key
is never shown whole; any other secret is shown as `…` alone.
"""

from __future__ import annotations

import re

#: Headers whose value is a credential, whatever it looks like.
CREDENTIAL_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "x-wacht-mock-token",
        "x-api-key",
        "api-key",
        "cookie",
        "set-cookie",
    }
)
#: A key: its prefix and at least one character (a bare prefix, as a masked key shows, hides
#: nothing, so masking twice changes nothing).
KEY_SHAPED = re.compile(r"wk_(?:live|test)_[A-Za-z0-9]+")
_PREFIX = re.compile(r"wk_(?:live|test)_")
TAIL = 4
#: Characters a secret needs (after its prefix) before its last `TAIL` may be shown.
LONG_ENOUGH = 12
HIDDEN = "…"


def mask_secret(secret: str) -> str:
    """`wk_live_abcdefghij1234` → `wk_live_…1234`; `wk_test_rel1` → `wk_test_…`."""
    found = _PREFIX.match(secret)
    if found is None:
        return HIDDEN  # not a key: nothing of it is shown (a tail of base64 is part of a password)
    rest = secret[found.end() :]
    tail = rest[-TAIL:] if len(rest) >= LONG_ENOUGH else ""
    return f"{found.group()}{HIDDEN}{tail}"


def mask_key(value: str) -> str:
    """A credential header's value: `Bearer wk_test_…`, `Basic …`, or a bare key masked."""
    scheme, _, secret = value.strip().partition(" ")
    if not scheme or (not secret and scheme.lower() in ("bearer", "basic")):
        return HIDDEN
    if not secret:
        return mask_secret(scheme)  # no scheme: the whole value is the secret
    return f"{scheme} {mask_secret(secret.strip())}"


def mask_header(name: str, value: str) -> str:
    """A header as it may be shown: credentials masked whole, keys masked in any other value."""
    lowered = name.lower()
    if lowered in ("authorization", "proxy-authorization"):
        return mask_key(value)
    if lowered in CREDENTIAL_HEADERS:
        return mask_secret(value.strip())
    return mask_text(value)


def mask_text(text: str) -> str:
    """`text` with every key-shaped value in it masked."""
    if "wk_" not in text:
        return text
    return KEY_SHAPED.sub(lambda found: mask_secret(found.group()), text)
