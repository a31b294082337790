"""The store on its own: no HTTP, no agents."""

from __future__ import annotations

import random
import threading
from datetime import UTC, datetime, timedelta

import pytest

from wacht_mock.core.clock import FrozenClock
from wacht_mock.core.errors import NotFound
from wacht_mock.core.ids import SnowflakeIds
from wacht_mock.service.models import ExecutionState, TextBlock, Turn
from wacht_mock.service.store import NewContext, Store

A, B = "1001", "2002"


@pytest.fixture
def store() -> Store:
    clock = FrozenClock(datetime(2026, 1, 1, tzinfo=UTC))
    return Store(clock, SnowflakeIds(clock))


def titles(page: object) -> list[str]:
    return [c.title for c in page.data]  # type: ignore[attr-defined]


def test_create_fills_every_field(store: Store) -> None:
    context = store.create(A, NewContext("Customer Support Context", "Be kind.", "support"))
    assert context.id.isdigit()
    assert context.deployment_id == A
    assert context.status == "active"
    assert context.created_at == context.updated_at == context.last_activity_at
    assert context.completed_at is None
    assert context.execution_state is None


def test_ids_are_unique_and_increasing_across_deployments(store: Store) -> None:
    ids = [int(store.create(tenant, NewContext("t")).id) for tenant in (A, B) * 50]
    assert ids == sorted(ids)
    assert len(set(ids)) == 100


def test_list_is_newest_activity_first_and_pages(store: Store) -> None:
    for n in range(5):
        store.create(A, NewContext(f"c{n}"))
    first = store.list(A, limit=2, offset=0)
    assert titles(first) == ["c4", "c3"]
    assert first.has_more
    last = store.list(A, limit=2, offset=4)
    assert titles(last) == ["c0"]
    assert not last.has_more
    assert store.list(A, limit=2, offset=50).data == []


def test_filters_apply_before_paging(store: Store) -> None:
    for n in range(10):
        store.create(A, NewContext(f"c{n}", context_group="sales" if n % 3 == 0 else "support"))
    page = store.list(A, limit=2, offset=1, context_group="sales")
    assert titles(page) == ["c6", "c3"]
    assert page.has_more
    assert titles(store.list(A, limit=10, offset=0, status="inactive")) == []


def test_status_and_group_filters_combine(store: Store) -> None:
    store.create(A, NewContext("a", context_group="g", status="archived"))
    store.create(A, NewContext("b", context_group="g"))
    store.create(A, NewContext("c", status="archived"))
    assert titles(store.list(A, limit=10, offset=0, status="archived", context_group="g")) == ["a"]


def test_update_changes_only_given_fields_and_reindexes(store: Store) -> None:
    context = store.create(A, NewContext("a", "keep me", "support"))
    updated = store.update(A, context.id, {"status": "archived"})
    assert updated.system_instructions == "keep me"
    assert updated.updated_at > context.updated_at
    assert titles(store.list(A, limit=10, offset=0, status="active")) == []
    assert titles(store.list(A, limit=10, offset=0, status="archived")) == ["a"]
    cleared = store.update(A, context.id, {"context_group": None})
    assert titles(store.list(A, limit=10, offset=0, context_group="support")) == []
    assert cleared.context_group is None


def test_tenants_never_see_each_other(store: Store) -> None:
    context = store.create(A, NewContext("secret"))
    with pytest.raises(NotFound):
        store.get(B, context.id)
    with pytest.raises(NotFound):
        store.update(B, context.id, {"title": "x"})
    with pytest.raises(NotFound):
        store.delete(B, context.id)
    assert store.list(B, limit=10, offset=0).data == []
    assert store.get(A, context.id).title == "secret"


def test_delete_removes_context_and_history(store: Store) -> None:
    context = store.create(A, NewContext("a"))
    turn = Turn("1", "9", "user", store.clock.now(), (TextBlock("hi"),))
    store.record_execution(A, context.id, (turn,), ExecutionState("9", "8", "bot", "completed"))
    store.delete(A, context.id)
    with pytest.raises(NotFound):
        store.history(A, context.id, limit=10, offset=0)
    assert store.list(A, limit=10, offset=0).data == []


def test_unknown_ids_are_not_found_with_a_short_message(store: Store) -> None:
    with pytest.raises(NotFound, match=r"Execution context x+\.\.\. not found"):
        store.get(A, "x" * 300)


def test_execution_moves_activity_and_reorders(store: Store) -> None:
    old = store.create(A, NewContext("old"))
    store.create(A, NewContext("new"))
    state = ExecutionState("9", "8", "bot", "completed")
    updated = store.record_execution(A, old.id, (), state)
    assert updated.completed_at is not None
    assert updated.execution_state == state
    assert titles(store.list(A, limit=10, offset=0)) == ["old", "new"]


def test_history_pages_oldest_first(store: Store) -> None:
    context = store.create(A, NewContext("a"))
    turns = tuple(Turn(str(n), "9", "user", store.clock.now()) for n in range(5))
    store.record_execution(A, context.id, turns, ExecutionState("9", "8", "bot", "completed"))
    page = store.history(A, context.id, limit=3, offset=1)
    assert [t.id for t in page.data] == ["1", "2", "3"]
    assert page.has_more


def test_concurrent_creates_lose_nothing(store: Store) -> None:
    def work() -> None:
        for _ in range(100):
            store.create(A, NewContext("t"))

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seen = [
        c.id for offset in range(0, 800, 100) for c in store.list(A, limit=100, offset=offset).data
    ]
    assert len(set(seen)) == 800


def test_restore_round_trips_exported_contexts(store: Store) -> None:
    context = store.create(A, NewContext("a", context_group="g"))
    store.reset()
    assert store.deployments() == []
    store.restore(context)
    assert list(store.contexts(A)) == [context]
    assert titles(store.list(A, limit=1, offset=0, context_group="g")) == ["a"]


def test_an_update_naming_no_field_is_refused_and_changes_nothing(store: Store) -> None:
    context = store.create(A, NewContext("Before"))
    with pytest.raises(TypeError, match="no field"):
        store.update(A, context.id, {"title": "After", "colour": "red"})
    assert store.get(A, context.id) == context
    assert [c.title for c in store.list(A, limit=10, offset=0).data] == ["Before"]


def test_a_turn_gives_back_the_blocks_it_was_given() -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    text = Turn("1", "9", "assistant", at, (TextBlock("Hello"),))
    assert text.content == "Hello"  # one text block: kept as its text
    assert text.blocks == (TextBlock("Hello"),)
    assert text.text == "Hello"
    assert text == Turn("1", "9", "assistant", at, [TextBlock("Hello")])  # type: ignore[arg-type]
    two = (TextBlock("a"), TextBlock("b"))
    assert Turn("2", "9", "assistant", at, two).blocks == two
    assert Turn("2", "9", "assistant", at, two).text == "ab"
    assert Turn("3", "9", "user", at).blocks == ()
    assert Turn("3", "9", "user", at).text == ""


class StillOrMoving:
    """A clock that stays where it is until moved: times that tie, then times that do not."""

    def __init__(self) -> None:
        self.moment = datetime(2026, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        return self.moment


def test_every_page_is_what_sorting_the_contexts_gives() -> None:
    """Creates, executions, updates and deletes in a seeded order, the clock now still and now
    moving (equal times order by id): every page of every filter, against a plain sort."""
    rng = random.Random(7)
    clock = StillOrMoving()
    store = Store(clock, SnowflakeIds(FrozenClock(clock.moment)))
    state = ExecutionState("9", "8", "bot", "completed")
    for step in range(400):
        ids = [c.id for c in store.contexts(A)]
        action = rng.random()
        if action < 0.35 or not ids:
            group = rng.choice([None, "sales", "support"])
            store.create(A, NewContext(f"c{step}", context_group=group))
        elif action < 0.7:
            store.record_execution(A, rng.choice(ids), (), state)
        elif action < 0.85:
            status = rng.choice(["active", "inactive", "archived"])
            store.update(A, rng.choice(ids), {"status": status})
        else:
            store.delete(A, rng.choice(ids))
        if rng.random() < 0.5:
            clock.moment += timedelta(milliseconds=rng.choice([1, 5]))
    everything = sorted(
        store.contexts(A), key=lambda c: (c.last_activity_at, int(c.id)), reverse=True
    )
    for status in (None, "active", "archived"):
        for group in (None, "sales", "support"):
            wanted = [
                c.id
                for c in everything
                if status in (None, c.status) and group in (None, c.context_group)
            ]
            for limit, offset in [(1, 0), (3, 2), (7, 5), (100, 0), (5, len(wanted) - 2)]:
                offset = max(offset, 0)
                page = store.list(A, limit=limit, offset=offset, status=status, context_group=group)
                assert [c.id for c in page.data] == wanted[offset : offset + limit]
                assert page.has_more == (len(wanted) > offset + limit)
