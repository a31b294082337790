"""The platform profile, checked against contracts/wacht-platform.yaml by schemathesis."""

from __future__ import annotations

from tests.check.conformance import conformance

globals().update(conformance("platform"))
