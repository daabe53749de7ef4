"""A follower tailing the log on PostgreSQL sees every position once, while writers commit
at full speed.

Read models, the feed and webhooks all follow the log the same way: read the events with
`position > last`, remember the highest, repeat. That is only safe if a position is never
committed after a higher one is visible: a follower that read 41 and 43 while 42 was still
in flight moves `last` to 43 and never sees 42. PostgreSQL hands out BIGSERIAL values at
INSERT, not at COMMIT, so the writers keep commit order by taking the events table's
EXCLUSIVE lock in each transaction (adapters/postgres.py; the writer's batches take it too).

Negative control. Issue 12's prototype: without the lock a follower skipped 132 positions
in 10 s. Run again by hand on this writer (2026-12-05, SECONDS = 10, load average ≈ 10):
with the recorder's LOCK TABLE statement dropped (`lock_table_statements[:1]`, keeping only
SET LOCAL lock_timeout), this test failed, "the follower skipped 140 positions: [42, 43, 44,
51, …]"; with the lock, it passes. So dropping the lock (or moving it after the INSERT)
shows up here as missed positions.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from uuid import UUID

import pytest

from application.minqing import Minqing
from tests.integration.support import STAFF, draft, is_postgres, open_app

WRITERS = 4  # applications, as API processes would be
THREADS = 4  # concurrent commands in each
SECONDS = 4.0


@pytest.fixture
def apps(database_url: str, master_key: bytes) -> Iterator[list[Minqing]]:
    if not is_postgres(database_url):
        pytest.skip("one writer process by design on SQLite: positions follow commits")
    opened = [open_app(database_url, master_key) for _ in range(WRITERS + 1)]
    try:
        yield opened
    finally:
        for app in opened:
            app.close()


def test_a_follower_sees_every_position_once_while_writers_run_flat_out(
    apps: list[Minqing],
) -> None:
    follower, writers = apps[0], apps[1:]
    stop = threading.Event()
    failures: list[BaseException] = []
    written = [0]

    def write(app: Minqing) -> None:
        try:
            while not stop.is_set():
                raised = app.raise_concern(STAFF, draft())
                app.refer(UUID(raised.id), STAFF)
                written[0] += 1
        except BaseException as exc:  # reported below, in the test's thread
            failures.append(exc)
            raise

    threads = [
        threading.Thread(target=write, args=(app,), daemon=True)
        for app in writers
        for _ in range(THREADS)
    ]
    for t in threads:
        t.start()
    seen: list[int] = []
    last = 0
    deadline = time.monotonic() + SECONDS
    try:
        while time.monotonic() < deadline:
            for n in follower.recorder.select_notifications(last, 500, inclusive_of_start=False):
                seen.append(n.id)
                last = n.id
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)
    assert failures == []
    while batch := follower.recorder.select_notifications(last, 500, inclusive_of_start=False):
        seen.extend(n.id for n in batch)
        last = batch[-1].id
    stored = [n.id for n in follower.recorder.select_notifications(1, 10_000_000)]
    assert written[0] > 0
    assert len(seen) == len(set(seen)), "a position was seen twice"
    missed = sorted(set(stored) - set(seen))
    assert missed == [], f"the follower skipped {len(missed)} positions: {missed[:10]}"
    assert seen == stored
