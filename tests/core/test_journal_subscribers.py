"""The journal's subscribers: each has a bounded queue; one that falls behind loses the oldest
entries and is told how many, and never slows the recording down."""

from __future__ import annotations

import threading
import time

import pytest

from wacht_mock.core.journal import (
    MAX_SUBSCRIBERS,
    Entry,
    Journal,
    TooManySubscribers,
)


def entry(journal: Journal, path: str = "/ai/execution-contexts") -> Entry:
    number = journal.next_number()
    return Entry(number, time.time(), "GET", path, "", {}, "", 200, "{}", 1.0)


def test_a_subscriber_gets_the_entries_recorded_after_it_subscribed() -> None:
    journal = Journal()
    journal.record(entry(journal))
    woken = threading.Event()
    with journal.subscribe(woken.set) as subscription:
        journal.record(entry(journal, "/after"))
        assert woken.is_set()
        taken, missed = subscription.take()
    assert [e.path for e in taken] == ["/after"]
    assert missed == 0
    assert subscription.take() == ([], 0)


def test_a_slow_subscriber_keeps_only_its_backlog_and_is_told_what_it_missed() -> None:
    journal = Journal()
    subscription = journal.subscribe(backlog=3)
    for _ in range(10):
        journal.record(entry(journal))
    taken, missed = subscription.take()
    assert [e.number for e in taken] == [8, 9, 10]
    assert missed == 7
    assert subscription.take() == ([], 0)  # told once
    assert len(journal) == 10  # the journal itself keeps what it keeps


def test_a_closed_subscription_gets_nothing_more_and_frees_its_place() -> None:
    journal = Journal()
    subscriptions = [journal.subscribe() for _ in range(MAX_SUBSCRIBERS)]
    with pytest.raises(TooManySubscribers, match=str(MAX_SUBSCRIBERS)):
        journal.subscribe()
    subscriptions[0].close()
    assert journal.subscribers == MAX_SUBSCRIBERS - 1
    journal.record(entry(journal))
    assert subscriptions[0].take() == ([], 0)
    assert len(subscriptions[1].take()[0]) == 1
    journal.subscribe().close()  # the freed place can be taken again


def test_a_subscriber_nobody_reads_does_not_grow_nor_slow_the_journal() -> None:
    journal = Journal(size=10)
    subscription = journal.subscribe(backlog=5)
    started = time.perf_counter()
    for _ in range(20_000):
        journal.record(entry(journal))
    assert time.perf_counter() - started < 5
    taken, missed = subscription.take()
    assert len(taken) == 5
    assert missed == 20_000 - 5


def test_a_backlog_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="backlog"):
        Journal().subscribe(backlog=0)
