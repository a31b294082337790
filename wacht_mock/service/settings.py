"""Every setting of `wacht-mock serve`, in one table, and where each is read from.

A `Setting` is read, weakest first, from its default, `[tool.wacht-mock]` in
`pyproject.toml`, the environment (`WACHT_MOCK_<NAME>`) and the command line (`--name`);
those marked `pytest` are also the pytest plugin's ini options (`wacht_mock_<name>`). One
more setting is one more row of `SETTINGS` (and, if it is a `MockConfig` field, its
name in `config`).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from wacht_mock.contract.documents import PROFILES
from wacht_mock.core.clock import FrozenClock, SystemClock
from wacht_mock.core.defaults import (
    DEFAULT_HOST,
    DEFAULT_JOURNAL_BYTES,
    DEFAULT_JOURNAL_SIZE,
    DEFAULT_LIMIT_CONCURRENCY,
    DEFAULT_PORT,
    DEFAULT_REQUEST_TIMEOUT,
)

if TYPE_CHECKING:  # the settings are read by the pytest plugin of every session: no agents yet
    from wacht_mock.service.config import MockConfig

logger = logging.getLogger("wacht_mock.settings")
ENV_PREFIX = "WACHT_MOCK_"
PYPROJECT_TABLE = "wacht-mock"
TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")
LOG_LEVELS = ("debug", "info", "warning", "error")
LOG_FORMATS = ("text", "json")


class SettingError(ValueError):
    """A setting that cannot be used; the message names where it came from and what is wrong."""


def integer(low: int | None = None, high: int | None = None) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise ValueError(f"expected an integer, got {text!r}") from None
        if (low is not None and value < low) or (high is not None and value > high):
            raise ValueError(f"expected {_range(low, high)}, got {value}")
        return value

    return parse


def _range(low: int | None, high: int | None) -> str:
    if high is None:
        return f"an integer of at least {low}"
    return f"an integer from {low} to {high}"


def port(text: str) -> int:
    try:
        return integer(0, 65535)(text)
    except ValueError as exc:
        raise ValueError(f"{exc} (0 picks a free port)") from None


def seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"expected a number of seconds, got {text!r}") from None
    if not value > 0:
        raise ValueError(f"expected more than 0 seconds, got {text}")
    return value


def choice(*names: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text.lower() not in names:
            raise ValueError(f"expected one of {', '.join(names)}, got {text!r}")
        return text.lower()

    return parse


@dataclass(frozen=True)
class Setting:
    """One option: `--name`, `WACHT_MOCK_NAME`, `name` in pyproject, `wacht_mock_name`."""

    name: str
    help: str
    parse: Callable[[str], Any] = str
    default: Any = None
    kind: Literal["value", "flag", "list"] = "value"
    metavar: str | None = None
    #: The `MockConfig` field it sets, if any.
    config: str | None = None
    #: Also an ini option of the pytest plugin.
    pytest: bool = False
    #: Paths: relative ones in pyproject.toml are relative to its folder.
    path: bool = False

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.name.upper()

    @property
    def ini(self) -> str:
        return "wacht_mock_" + self.name

    def value(self, raw: object) -> Any:
        """`raw` (text, or a TOML value) as this setting's value; a `ValueError` says why."""
        if self.kind == "flag":
            return _boolean(raw)
        if self.kind == "list":
            items = raw.replace(",", " ").split() if isinstance(raw, str) else raw
            if not isinstance(items, list | tuple):
                raise ValueError(f"expected a list, got {raw!r}")
            return [self.parse(str(item)) for item in items]
        if isinstance(raw, bool) or not isinstance(raw, str | int | float):
            raise ValueError(f"expected a single value, got {raw!r}")
        return self.parse(str(raw))


def _boolean(raw: object) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in TRUE + FALSE:
        return raw.strip().lower() in TRUE
    raise ValueError(f"expected true or false, got {raw!r}")


SETTINGS: tuple[Setting, ...] = (
    Setting("host", "address to bind (default: 127.0.0.1)", default=DEFAULT_HOST, pytest=True),
    Setting("port", "port to listen on; 0 picks a free one (default: 8080)", port, DEFAULT_PORT),
    Setting(
        "seed",
        "seed for generated replies and data",
        integer(),
        metavar="N",
        config="seed",
        pytest=True,
    ),
    Setting(
        "keys",
        "accept only these API keys (default: any wk_ key)",
        kind="list",
        metavar="KEY",
        config="api_keys",
    ),
    Setting(
        "fixtures",
        "YAML/JSON fixture files or folders (or examples, examples:agents): contexts, scripts "
        "and faults",
        default=(),
        kind="list",
        metavar="PATH",
        config="fixtures",
        pytest=True,
        path=True,
    ),
    Setting(
        "profile",
        "the dialect spoken: guide (the documented API; the default) or platform (the "
        "published SDKs and their server)",
        choice(*PROFILES),
        "guide",
        metavar="PROFILE",
        config="profile",
        pytest=True,
    ),
    Setting("frozen_time", "start a frozen clock at this time (1 ms a read)", metavar="RFC3339"),
    Setting(
        "ignore_unknown_fields",
        "accept request fields the contract does not know (default: 400)",
        kind="flag",
        config="ignore_unknown_fields",
        pytest=True,
    ),
    Setting(
        "strict_agents",
        "404 for agents that have no script",
        kind="flag",
        config="strict_agents",
        pytest=True,
    ),
    Setting("watch", "reload the agent scripts of a fixture file when it changes", kind="flag"),
    Setting(
        "control",
        "turn on the control API under /_mock/ (a token is made up and printed)",
        kind="flag",
    ),
    Setting("control_token", "turn on the control API with this token", metavar="TOKEN"),
    Setting(
        "dashboard",
        "serve the dashboard under /_mock/ui/ (turns the control API on; sign in with its token)",
        kind="flag",
        config="dashboard",
    ),
    Setting(
        "dashboard_remote",
        "let the dashboard answer clients on other machines (default: loopback only)",
        kind="flag",
        config="dashboard_remote",
    ),
    Setting(
        "journal_size",
        f"requests the journal keeps (default: {DEFAULT_JOURNAL_SIZE})",
        integer(1),
        DEFAULT_JOURNAL_SIZE,
        metavar="N",
        config="journal_size",
    ),
    Setting(
        "journal_bytes",
        f"text the journal keeps, in bytes; the oldest entries go first (default: "
        f"{DEFAULT_JOURNAL_BYTES})",
        integer(1),
        DEFAULT_JOURNAL_BYTES,
        metavar="BYTES",
        config="journal_bytes",
    ),
    Setting(
        "state",
        "load the state from FILE at start (if it exists) and save it there on stop",
        metavar="FILE",
        path=True,
    ),
    Setting(
        "state_interval",
        "with --state, also save every SECONDS",
        seconds,
        metavar="SECONDS",
    ),
    Setting(
        "request_timeout",
        "time a client has to send its request head, then its body; past it: 408 and the "
        f"connection closed (default: {DEFAULT_REQUEST_TIMEOUT:g})",
        seconds,
        DEFAULT_REQUEST_TIMEOUT,
        metavar="SECONDS",
    ),
    Setting(
        "limit_concurrency",
        f"connections served at once; past it: 503 (default: {DEFAULT_LIMIT_CONCURRENCY})",
        integer(1),
        DEFAULT_LIMIT_CONCURRENCY,
        metavar="N",
    ),
    Setting(
        "log_level",
        "debug, info (one line per request; the default), warning or error",
        choice(*LOG_LEVELS),
        "info",
        metavar="LEVEL",
    ),
    Setting(
        "log_format", "text (the default) or json", choice(*LOG_FORMATS), "text", metavar="FORMAT"
    ),
)
PYTEST_SETTINGS = tuple(setting for setting in SETTINGS if setting.pytest)


def resolve(
    flags: Mapping[str, object],
    env: Mapping[str, str],
    project: Path | None = None,
    settings: Sequence[Setting] = SETTINGS,
) -> dict[str, Any]:
    """Every setting's value: the command line over the environment over pyproject.toml.

    `flags` holds what was given on the command line (None: not given). A bad value, or an
    unknown key or variable, is a `SettingError` naming where it was.
    """
    values = {setting.name: setting.default for setting in settings}
    known = {setting.name: setting for setting in settings}
    if project is not None:
        for key, raw in _table(project).items():
            name = key.replace("-", "_")
            where = f"{project} [tool.{PYPROJECT_TABLE}] {key}"
            if name not in known:
                raise SettingError(f"{where}: not a setting{_hint(name, known)}")
            values[name] = _read(known[name], raw, where)
            if known[name].path:
                values[name] = _under(project.parent, values[name])
    by_env = {setting.env: setting for setting in settings}
    for variable, raw in env.items():
        if not variable.startswith(ENV_PREFIX):
            continue
        if variable not in by_env:  # perhaps another tool's: said, not refused
            hint = _hint(variable, by_env)
            logger.warning("%s is not a wacht-mock setting%s; ignored", variable, hint)
            continue
        values[by_env[variable].name] = _read(by_env[variable], raw, variable)
    for name, raw in flags.items():
        if name in known and raw is not None:
            values[name] = _read(known[name], raw, known[name].flag)
    return values


def _under(folder: Path, value: Any) -> Any:
    """Relative paths (not names such as `examples:agents`) made relative to `folder`."""
    if isinstance(value, list):
        return [_under(folder, item) for item in value]
    if isinstance(value, str) and not value.startswith("examples"):
        return str(folder / value)
    return value


def _read(setting: Setting, raw: object, where: str) -> Any:
    try:
        return setting.value(raw)
    except ValueError as exc:
        raise SettingError(f"{where}: {exc}") from None


def _hint(name: str, known: Mapping[str, object]) -> str:
    import difflib  # only for a name that is wrong: not loaded with the pytest plugin

    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean {close[0]}?)" if close else ""


def find_pyproject(start: Path) -> Path | None:
    """The nearest `pyproject.toml` with a `[tool.wacht-mock]` table, from `start` up."""
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate if _table(candidate) else None
    return None


def _table(path: Path) -> dict[str, Any]:
    import tomllib  # only once a pyproject is read: not loaded with the pytest plugin

    try:
        document = tomllib.loads(path.read_text("utf-8"))
    except (OSError, UnicodeError, tomllib.TOMLDecodeError) as exc:
        raise SettingError(f"{path}: {exc}") from None
    table = document.get("tool", {}).get(PYPROJECT_TABLE, {})
    if not isinstance(table, dict):
        raise SettingError(f"{path}: [tool.{PYPROJECT_TABLE}] must be a table")
    return table


def mock_config(values: Mapping[str, Any]) -> MockConfig:
    """The `MockConfig` that resolved settings describe."""
    from wacht_mock.service.config import MockConfig

    fields = {s.config: values[s.name] for s in SETTINGS if s.config and s.name in values}
    if fields.get("fixtures") is not None:
        fields["fixtures"] = tuple(fields["fixtures"])
    frozen = values.get("frozen_time")
    token = values.get("control_token") or (
        secrets.token_urlsafe(16) if values.get("control") or values.get("dashboard") else None
    )
    clock = FrozenClock.parse(frozen) if frozen else SystemClock()
    return MockConfig(**fields, clock=clock, control_token=token)
