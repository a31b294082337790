"""How a mock is set up: one frozen value, given to `wacht_mock.create_app`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from wacht_mock.agents.calllog import CALL_LOG_SIZE
from wacht_mock.contract.documents import PROFILES, Profile
from wacht_mock.core.body import MAX_BODY_BYTES
from wacht_mock.core.clock import Clock, SystemClock
from wacht_mock.core.defaults import DEFAULT_JOURNAL_BYTES, DEFAULT_JOURNAL_SIZE


@dataclass(frozen=True)
class MockConfig:
    """Every knob of the mock, with the defaults of `wacht-mock serve`.

    `api_keys`: `None` lets in any well-formed key (each its own deployment); a sequence lets
    in those keys only. `ignore_unknown_fields` relaxes the contract's
    `additionalProperties: false` for clients that send extra fields the real service ignores.
    `strict_agents` turns an execute for an agent without a script into a 404.
    `control_token`: `None` keeps the control API (`/_mock/`) off. `journal_size` and
    `journal_bytes` bound the request journal (in entries and in the text they hold),
    `call_log_size` each agent's call log (newest kept). `profile`: the dialect spoken,
    `guide` (the documented API) or `platform` (the published SDKs and their server).
    `dashboard` serves the dashboard under `/_mock/ui/` (it needs a `control_token`), to
    loopback clients only unless `dashboard_remote`.
    """

    seed: int | None = None
    api_keys: Sequence[str] | None = None
    ignore_unknown_fields: bool = False
    strict_agents: bool = False
    clock: Clock = field(default_factory=SystemClock)
    max_body_bytes: int = MAX_BODY_BYTES
    journal_size: int = DEFAULT_JOURNAL_SIZE
    journal_bytes: int = DEFAULT_JOURNAL_BYTES
    call_log_size: int = CALL_LOG_SIZE
    control_token: str | None = None
    fixtures: Sequence[str | Path] = ()
    profile: Profile = "guide"
    dashboard: bool = False
    dashboard_remote: bool = False

    def __post_init__(self) -> None:
        if self.profile not in PROFILES:
            raise ValueError(f"profile must be one of {', '.join(PROFILES)}, got {self.profile!r}")
        if self.dashboard and not self.control_token:
            raise ValueError("dashboard: the dashboard needs a control_token (it signs in with it)")
