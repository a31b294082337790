"""Where and how the servers listen unless told otherwise: plain values, importable at no cost
(the settings and the pytest plugin read them before anything is served)."""

from __future__ import annotations

#: Seconds a client has to send its request head, and then its body.
DEFAULT_REQUEST_TIMEOUT = 5.0
#: Connections `wacht-mock serve` and `proxy` serve at once (under a 1,024-descriptor limit).
DEFAULT_LIMIT_CONCURRENCY = 1000
#: Loopback only unless told otherwise: a mock is nobody's public server.
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
#: The key a recording writes in place of the upstream's real one.
DEFAULT_KEY_ALIAS = "wk_test_recorded"
#: Requests the journal keeps, and what their entries may hold in all (their text, roughly:
#: an entry's `size`).
DEFAULT_JOURNAL_SIZE = 2000
DEFAULT_JOURNAL_BYTES = 32 * 1024 * 1024
