"""The closed sets of words the scripts use, each written once (the API and files share them)."""

from __future__ import annotations

from typing import Literal, get_args

StopReason = Literal["end_turn", "tool_use", "max_tokens", "stop_sequence", "user_input"]
#: An agent reply's own status (a context's status is another thing: see the service's models).
ReplyStatus = Literal["completed", "waiting_for_input", "failed"]
StreamFaultMode = Literal["cut", "error", "drop"]
Exhaustion = Literal["error", "repeat_last", "default"]

STOP_REASONS: tuple[StopReason, ...] = get_args(StopReason)
REPLY_STATUSES: tuple[ReplyStatus, ...] = get_args(ReplyStatus)
