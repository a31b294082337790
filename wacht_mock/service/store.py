"""The in-memory store: each deployment's execution contexts and their conversations.

It knows nothing of HTTP. Every deployment has its own tables, so what one tenant holds never
costs another anything; lists are served from sorted indexes (one per filter combination), so a
page costs `O(log n + limit)` rather than a sort of the tenant's contexts.
"""

from __future__ import annotations

import builtins
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

from sortedcontainers import SortedList

from wacht_mock.agents import History, Transcript
from wacht_mock.core.clock import Clock
from wacht_mock.core.errors import NotFound
from wacht_mock.core.ids import SnowflakeIds
from wacht_mock.core.text import shorten
from wacht_mock.service.models import Context, ExecutionState, Status, Turn, replace_context

Item = TypeVar("Item")
SortKey = tuple[int, int]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
IndexKey = tuple[str | None, str | None]


@dataclass(frozen=True)
class Page(Generic[Item]):
    """One page of a list: the items, whether more follow, and where it stands."""

    data: list[Item]
    has_more: bool
    limit: int
    offset: int


@dataclass(frozen=True)
class NewContext:
    """What a create request brings."""

    title: str
    system_instructions: str | None = None
    context_group: str | None = None
    status: Status = "active"


@dataclass
class _Tenant:
    contexts: dict[str, Context] = field(default_factory=dict)
    history: dict[str, Transcript[Turn]] = field(default_factory=dict)
    indexes: dict[IndexKey, SortedList] = field(default_factory=dict)

    def index(self, key: IndexKey) -> SortedList:
        index = self.indexes.get(key)
        if index is None:  # made only when missing (a new list each call would cost each move)
            index = self.indexes[key] = SortedList()
        return index


def _transcript(turns: Iterable[Turn] = ()) -> Transcript[Turn]:
    """A context's conversation, its turns kept packed: a text turn is a tuple of strings and a
    time, which the garbage collector's passes stop visiting (a long conversation, or many,
    cost them nothing)."""
    return Transcript(turns, pack=Turn.packed, unpack=Turn.unpacked)


def _sort_key(context: Context) -> SortKey:
    """Activity, then id: an index holds the oldest first and a list reads it from its end.

    Ascending, so that what is new (a context made, or one an execution touched) goes at an
    index's end, an append, rather than at its front, which moves a thousand keys over.
    """
    return ((context.last_activity_at - _EPOCH) // _MICROSECOND, int(context.id))


def _index_keys(context: Context) -> tuple[IndexKey, ...]:
    status, group = context.status, context.context_group
    keys: tuple[IndexKey, ...] = ((None, None), (status, None))
    return keys if group is None else (*keys, (None, group), (status, group))


class Store:
    """All deployments' contexts. Thread-safe: one lock guards every change and read."""

    def __init__(self, clock: Clock, ids: SnowflakeIds) -> None:
        self.clock = clock
        self.ids = ids
        self._tenants: dict[str, _Tenant] = {}
        self._reserved: dict[str, builtins.list[tuple[NewContext, Context]]] = {}
        self._lock = threading.RLock()

    # -- contexts ---------------------------------------------------------------------------

    def create(self, deployment_id: str, new: NewContext) -> Context:
        """A new context; one a recording reserved for this request keeps its id and time."""
        with self._lock:
            reserved = self._claim(deployment_id, new)
        now = reserved.created_at if reserved else self.clock.now()
        context = Context(
            id=reserved.id if reserved else self.ids.next(),
            deployment_id=deployment_id,
            title=new.title,
            system_instructions=new.system_instructions,
            context_group=new.context_group,
            status=new.status,
            created_at=now,
            updated_at=now,
            last_activity_at=now,
        )
        with self._lock:
            self._put(self._tenant(deployment_id), context)
        return context

    def reserve(self, new: NewContext, context: Context) -> None:
        """The first create of `new` in the context's deployment gets its id and created_at
        (a recorded session that created it, replayed); reservations are claimed in order."""
        with self._lock:
            self._reserved.setdefault(context.deployment_id, []).append((new, context))
            self.ids.advance_past(int(context.id))

    def _claim(self, deployment_id: str, new: NewContext) -> Context | None:
        waiting = self._reserved.get(deployment_id, [])
        for index, (request, context) in enumerate(waiting):
            if request == new and context.id not in self._tenant(deployment_id).contexts:
                del waiting[index]
                return context
        return None

    def get(self, deployment_id: str, context_id: str) -> Context:
        with self._lock:
            tenant = self._tenants.get(deployment_id)
            context = tenant.contexts.get(context_id) if tenant is not None else None
        if context is None:
            raise NotFound(f"Execution context {shorten(context_id)} not found")
        return context

    def update(
        self,
        deployment_id: str,
        context_id: str,
        changes: Mapping[str, Any],
        *,
        touch: bool = True,
    ) -> Context:
        """Apply only the given fields; `updated_at` moves (unless `touch` is false)."""
        with self._lock:
            current = self.get(deployment_id, context_id)
            moved = {"updated_at": self.clock.now()} if touch else {}
            return self._replace(current, **changes, **moved)

    def delete(self, deployment_id: str, context_id: str) -> None:
        """Remove the context and its history; its turns are freed even where agents' call logs
        refer to them (those calls' histories are empty from then on)."""
        with self._lock:
            context = self.get(deployment_id, context_id)
            tenant = self._tenants[deployment_id]
            self._unindex(tenant, context)
            del tenant.contexts[context_id]
            transcript = tenant.history.pop(context_id, None)
            if transcript is not None:
                transcript.release()  # calls logged in this context no longer keep it

    def list(
        self,
        deployment_id: str,
        *,
        limit: int,
        offset: int,
        status: str | None = None,
        context_group: str | None = None,
    ) -> Page[Context]:
        """Filters first, then `offset`/`limit`; newest activity first."""
        with self._lock:
            tenant = self._tenants.get(deployment_id)
            index = tenant.indexes.get((status, context_group)) if tenant else None
            if tenant is None or index is None:
                return Page([], False, limit, offset)
            # Newest first: the page is the index's end, read backwards.
            stop = len(index) - offset
            keys = index[max(0, stop - limit - 1) : stop] if stop > 0 else []
            keys.reverse()
            data = [tenant.contexts[str(key[1])] for key in keys[:limit]]
            return Page(data, len(keys) > limit, limit, offset)

    # -- conversations ----------------------------------------------------------------------

    def history(
        self, deployment_id: str, context_id: str, *, limit: int, offset: int
    ) -> Page[Turn]:
        """The context's turns, oldest first."""
        with self._lock:
            self.get(deployment_id, context_id)
            transcript = self._tenants[deployment_id].history.get(context_id)
            turns = transcript.turns if transcript else ()
            window = list(turns[offset : offset + limit + 1])
        return Page(window[:limit], len(window) > limit, limit, offset)

    def turns(self, deployment_id: str, context_id: str) -> tuple[Turn, ...]:
        """A copy of the context's turns, oldest first (for export)."""
        with self._lock:
            self.get(deployment_id, context_id)
            transcript = self._tenants[deployment_id].history.get(context_id)
            return tuple(transcript.turns) if transcript else ()

    def shared_history(self, deployment_id: str, context_id: str) -> History:
        """The context's history as it stands, for an execution: a read-only view, not a copy
        (O(1) however long the conversation)."""
        with self._lock:
            self.get(deployment_id, context_id)
            transcript = self._tenants[deployment_id].history.get(context_id)
            return transcript.view() if transcript else History(())

    def record_execution(
        self,
        deployment_id: str,
        context_id: str,
        turns: tuple[Turn, ...],
        state: ExecutionState,
        changes: Mapping[str, Any] | None = None,
    ) -> Context:
        """Append an execution's turns and make it the context's last execution.

        `completed_at` is the time the last execution completed, and null while it has not.
        `changes` are other fields the execution sets (a run state as the status, a held run).
        """
        now = self.clock.now()
        with self._lock:
            current = self.get(deployment_id, context_id)
            history = self._tenants[deployment_id].history
            transcript = history.get(context_id)
            if transcript is None:
                transcript = history[context_id] = _transcript()
            transcript.extend(turns)
            return self._replace(
                current,
                last_activity_at=now,
                updated_at=now,
                execution_state=state,
                conversation_id=state.conversation_id,
                completed_at=now if state.status == "completed" else None,
                executions=current.executions + 1,
                **(changes or {}),
            )

    def replace_execution_state(
        self, deployment_id: str, context_id: str, state: ExecutionState
    ) -> None:
        """Correct the state of the context's last execution, if it still is `state`'s one
        (a later execution, or a deleted context, is left alone). Not activity: nothing moves."""
        with self._lock:
            tenant = self._tenants.get(deployment_id)
            context = tenant.contexts.get(context_id) if tenant is not None else None
            last = context.execution_state if context else None
            if context is None or last is None or last.execution_id != state.execution_id:
                return
            completed_at = context.completed_at if state.status == "completed" else None
            self._replace(context, execution_state=state, completed_at=completed_at)

    # -- whole state ------------------------------------------------------------------------

    def reset(self, deployment_id: str | None = None) -> None:
        """Forget every deployment's contexts, or only those of `deployment_id`."""
        with self._lock:
            gone = list(self._tenants) if deployment_id is None else [deployment_id]
            for name in gone:
                tenant = self._tenants.pop(name, None)
                for transcript in tenant.history.values() if tenant else ():
                    transcript.release()
                self._reserved.pop(name, None)

    def deployments(self) -> builtins.list[str]:
        with self._lock:
            return list(self._tenants)

    def contexts(self, deployment_id: str) -> Iterator[Context]:
        """Every context of a deployment, oldest first (for export)."""
        with self._lock:
            tenant = self._tenants.get(deployment_id)
            held = tenant.contexts.values() if tenant is not None else ()
            items = sorted(held, key=lambda c: int(c.id))
        return iter(items)

    def restore(self, context: Context, turns: tuple[Turn, ...] = ()) -> None:
        """Put a context (and its history) back exactly as it was exported."""
        with self._lock:
            tenant = self._tenant(context.deployment_id)
            if context.id in tenant.contexts:
                self._unindex(tenant, tenant.contexts[context.id])
            self._put(tenant, context)
            replaced = tenant.history.get(context.id)
            if replaced is not None:
                replaced.release()
            tenant.history[context.id] = _transcript(turns)

    def replace_all(self, contexts: Iterable[tuple[Context, tuple[Turn, ...]]]) -> None:
        """Hold exactly these contexts and histories: built aside, then swapped in one step."""
        tenants: dict[str, _Tenant] = {}
        for context, turns in contexts:
            tenant = _tenant_in(tenants, context.deployment_id)
            self._put(tenant, context)
            tenant.history[context.id] = _transcript(turns)
        with self._lock:
            old, self._tenants = self._tenants, tenants
            self._reserved.clear()
        for tenant in old.values():  # the calls that logged these histories see them emptied
            for transcript in tenant.history.values():
                transcript.release()

    # -- internals --------------------------------------------------------------------------

    def _tenant(self, deployment_id: str) -> _Tenant:
        return _tenant_in(self._tenants, deployment_id)

    def _put(self, tenant: _Tenant, context: Context) -> None:
        tenant.contexts[context.id] = context
        key = _sort_key(context)
        for index_key in _index_keys(context):
            tenant.index(index_key).add(key)

    def _unindex(self, tenant: _Tenant, context: Context) -> None:
        key = _sort_key(context)
        for index_key in _index_keys(context):
            index = tenant.indexes[index_key]
            index.remove(key)
            if not index:
                del tenant.indexes[index_key]

    def _replace(self, current: Context, **changes: Any) -> Context:
        updated = replace_context(current, changes)
        tenant = self._tenants[current.deployment_id]
        if _same_place(current, updated):  # a title or instructions change: no index moves
            tenant.contexts[updated.id] = updated
            return updated
        self._unindex(tenant, current)
        self._put(tenant, updated)
        return updated


def _tenant_in(tenants: dict[str, _Tenant], deployment_id: str) -> _Tenant:
    """The deployment's tables, made when missing (not made and dropped on every call, as
    `setdefault(key, _Tenant())` would)."""
    tenant = tenants.get(deployment_id)
    if tenant is None:
        tenant = tenants[deployment_id] = _Tenant()
    return tenant


def _same_place(before: Context, after: Context) -> bool:
    """Whether a change leaves a context where it was in every index (same key, same lists)."""
    return (
        before.last_activity_at == after.last_activity_at
        and before.status == after.status
        and before.context_group == after.context_group
    )
