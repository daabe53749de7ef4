"""The feed under concurrent writers: no event skipped or repeated; the log hub wakes waiters."""

from __future__ import annotations

import asyncio
import threading
import time
from uuid import UUID

import pytest

from adapters.feed import EventFeed
from adapters.loghub import LogHub
from application.minqing import Minqing
from domain.cloudevents import topics_for
from tests.integration.support import STAFF, draft, open_app

WRITERS = 8
CONCERNS_PER_WRITER = 25
SOURCE = "urn:minqing:test"


def _write(app: Minqing, failures: list[BaseException]) -> None:
    try:
        for n in range(CONCERNS_PER_WRITER):
            concern = UUID(app.raise_concern(STAFF, draft(title=f"民情 {n}")).id)
            if n % 3 == 0:
                app.refer(concern, STAFF, "需支委会研究")
    except BaseException as exc:  # the test reports it
        failures.append(exc)


def test_a_reader_paging_during_eight_concurrent_writers_sees_every_event_once_in_order(
    minqing: Minqing,
) -> None:
    feed = EventFeed(minqing, SOURCE)
    failures: list[BaseException] = []
    writers = [threading.Thread(target=_write, args=(minqing, failures)) for _ in range(WRITERS)]
    for w in writers:
        w.start()
    seen: list[int] = []
    after = 0
    pages_while_writing = 0
    # Page while they write, then once more after they are done to reach the end.
    while True:
        writing = any(w.is_alive() for w in writers)
        page = feed.page(after, 13)
        seen += [int(e["sequence"]) for e in page.events]
        after = page.next_after
        pages_while_writing += bool(writing and page.events)
        if not writing and not page.events:
            break
    for w in writers:
        w.join()
    assert failures == []
    assert pages_while_writing > 1  # the reader really raced the writers
    log = minqing.recorder.select_notifications(
        0, 1_000_000, topics=topics_for(), inclusive_of_start=False
    )
    assert seen == [n.id for n in log]
    assert len(seen) == len(set(seen))
    assert len(seen) == WRITERS * (CONCERNS_PER_WRITER + (CONCERNS_PER_WRITER + 2) // 3)


def test_a_waiting_thread_wakes_when_another_process_commits(
    minqing: Minqing, database_url: str, master_key: bytes
) -> None:
    hub = LogHub(minqing)
    hub.start()
    other = open_app(database_url, master_key)
    try:
        seen = hub.head
        woke = threading.Event()

        def waiter() -> None:
            if hub.wait(seen, timeout=10) > seen:
                woke.set()

        thread = threading.Thread(target=waiter)
        thread.start()
        time.sleep(0.1)
        started = time.monotonic()
        other.raise_concern(STAFF, draft())
        thread.join(timeout=10)
        assert woke.is_set()
        # LISTEN/NOTIFY on PostgreSQL, a 200 ms poll on SQLite: well under a second either way.
        assert time.monotonic() - started < 1.5
    finally:
        other.close()
        hub.close()


def test_a_waiting_coroutine_wakes_without_holding_a_thread(minqing: Minqing) -> None:
    hub = LogHub(minqing)
    hub.start()
    try:
        seen = hub.head

        async def scenario() -> int:
            waiting = asyncio.create_task(hub.wait_async(seen, timeout=10))
            await asyncio.sleep(0.1)
            await asyncio.to_thread(minqing.raise_concern, STAFF, draft())
            return await waiting

        assert asyncio.run(scenario()) > seen
    finally:
        hub.close()


def test_a_wait_with_nothing_new_returns_after_its_timeout(minqing: Minqing) -> None:
    hub = LogHub(minqing)
    hub.start()
    try:
        started = time.monotonic()
        assert hub.wait(hub.head, timeout=0.3) == hub.head
        assert 0.25 < time.monotonic() - started < 2
    finally:
        hub.close()


@pytest.mark.parametrize("limit", [1, 1000])
def test_next_after_of_an_empty_log_stays_at_zero(minqing: Minqing, limit: int) -> None:
    page = EventFeed(minqing, SOURCE).page(0, limit)
    assert page.events == []
    assert page.next_after == 0
