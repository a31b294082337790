"""The mock, checked against contracts/ by schemathesis: every phase, positive and negative data.

The contract is written from the documented behaviour, not from the mock: a failure here means
the mock drifted from the docs (or the contract is wrong, which a review must then decide). The
guide profile is held to ``wacht-api.yaml`` here; the platform profile to ``wacht-platform.yaml``
in ``test_platform_conformance.py``, by the same machinery (``conformance.py``).
"""

from __future__ import annotations

from tests.check.conformance import conformance

globals().update(conformance("guide"))
