"""The mock itself: its store, its agents, and everything else one server holds."""

from __future__ import annotations

from .agents import Engine
from .auth import KeyPolicy
from .config import MockConfig
from .execution import ExecutionService
from .ids import SnowflakeIds
from .store import Store


class WachtMock:
    """The state behind one mock server, usable without any server at all."""

    def __init__(self, config: MockConfig | None = None) -> None:
        self.config = config or MockConfig()
        self.keys = KeyPolicy(self.config.api_keys)
        self.store = Store(self.config.clock, SnowflakeIds(self.config.clock))
        self.engine = Engine(seed=self.config.seed, strict=self.config.strict_agents)
        self.executions = ExecutionService(self.store, self.engine)

    def reset(self) -> None:
        """Forget every context, conversation, script and call."""
        self.store.reset()
        self.engine.reset()
