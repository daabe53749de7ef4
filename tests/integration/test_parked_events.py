"""A read model that fails on one event, on both stores: the event is retried, then parked;
the read model goes on past it and the others never stop; a retry after the fix rebuilds it
and unparks what now applies. A database that is briefly unavailable, or a connection that
is killed, parks nothing."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar
from urllib.parse import unquote, urlsplit

import psycopg
import pytest
from eventsourcing.persistence import PersistenceError

from adapters.database import Cursor
from adapters.store import event_store_env
from application.minqing import Minqing
from projections.concerns import ConcernList
from projections.event_counts import EventCounts
from projections.runner import Projection, ProjectionRunner, Recorded, Table
from tests.integration.support import STAFF, draft, is_postgres
from tests.integration.test_projections import assert_list_is_the_fold, counted, log, log_counts

MARKER = "这一条让读模型出错"
OTHER_MARKER = "这一条也让读模型出错"


class Picky(Projection):
    """One row per event; `apply` raises on the concerns whose title is in `broken` (the
    bug), with the message given there."""

    name = "test_picky"
    tables = (Table("test_picky", "position BIGINT NOT NULL"),)
    broken: ClassVar[dict[str, str]] = {}

    def apply(self, cur: Cursor, recorded: Recorded) -> None:
        title = getattr(recorded.event, "title", None)
        if title in Picky.broken:
            raise RuntimeError(Picky.broken[title])
        cur.execute(
            f"INSERT INTO {self.table('test_picky')} (position) VALUES (?)",  # noqa: S608
            (recorded.position,),
        )


@pytest.fixture(autouse=True)
def _bug() -> Iterator[None]:
    Picky.broken = {MARKER: "a bug in the read model"}
    yield
    Picky.broken = {}


def applied(app: Minqing, table: str = "test_picky") -> list[int]:
    rows = app.db.fetchall(f"SELECT position FROM {table} ORDER BY position")  # noqa: S608
    return [int(r["position"]) for r in rows]


def positions(app: Minqing) -> list[int]:
    return [int(n.id) for n in log(app)]


def runner_of(app: Minqing, *projections: Projection) -> ProjectionRunner:
    # Retries a hundredth of a second apart: the test waits for them, it does not time them.
    return ProjectionRunner(app, list(projections), park_after=3, retry_seconds=0.01)


def test_a_read_model_that_fails_on_one_event_parks_it_and_goes_on_and_the_others_apply_it(
    minqing: Minqing,
) -> None:
    for _ in range(2):
        minqing.raise_concern(STAFF, draft())
    bad = minqing.raise_concern(STAFF, draft(title=MARKER)).position
    for _ in range(2):
        minqing.raise_concern(STAFF, draft())
    runner = runner_of(minqing, Picky(), EventCounts(), ConcernList())

    runner.run_once()  # one round: the five concerns are one batch for each read model

    # The events before the bad one are kept; the other read models applied everything.
    assert applied(minqing) == [p for p in positions(minqing) if p < bad]
    assert runner.position("test_picky") == bad - 1
    assert runner.parked() == []
    assert runner.position("event_counts") == runner.position("concern_list") == runner.head()

    runner.catch_up()  # retried with backoff, then parked

    [parked] = runner.parked()
    assert (parked.projection, parked.position, parked.event_type) == (
        "test_picky",
        bad,
        "Concern.Raised",
    )
    assert parked.attempts == 3
    assert parked.error == "RuntimeError: a bug in the read model"
    assert parked.parked_at
    # Its neighbours in the batch, and the events after it, are applied.
    assert applied(minqing) == [p for p in positions(minqing) if p != bad]
    assert runner.position("test_picky") == runner.head()
    assert counted(minqing) == log_counts(minqing)
    assert_list_is_the_fold(minqing)
    assert {s.name: s.parked for s in runner.status()} == {
        "test_picky": 1,
        "event_counts": 0,
        "concern_list": 0,
    }

    # It goes on following the log.
    later = minqing.raise_concern(STAFF, draft()).position
    runner.catch_up()
    assert applied(minqing)[-1] == later


def test_a_retry_after_the_fix_unparks_what_applies_and_keeps_what_still_fails(
    minqing: Minqing,
) -> None:
    Picky.broken = {MARKER: "a bug in the read model", OTHER_MARKER: "another bug"}
    minqing.raise_concern(STAFF, draft())
    fixed = minqing.raise_concern(STAFF, draft(title=MARKER)).position
    still = minqing.raise_concern(STAFF, draft(title=OTHER_MARKER)).position
    minqing.raise_concern(STAFF, draft())
    runner = runner_of(minqing, Picky(), EventCounts())
    runner.catch_up()
    assert [e.position for e in runner.parked("test_picky")] == [fixed, still]

    Picky.broken = {OTHER_MARKER: "the other bug, not fixed yet"}  # the fix of the first
    report = runner.retry("test_picky")

    assert report.unparked == [fixed]
    assert [(e.position, e.error) for e in report.still_parked] == [
        (still, "RuntimeError: the other bug, not fixed yet")
    ]
    assert [(e.position, e.error) for e in runner.parked()] == [
        (still, "RuntimeError: the other bug, not fixed yet")
    ]
    assert applied(minqing) == [p for p in positions(minqing) if p != still]
    assert runner.position("test_picky") == runner.head()

    Picky.broken = {}
    assert runner.retry("test_picky").unparked == [still]
    assert runner.parked() == []
    assert applied(minqing) == positions(minqing)


# -- what is not the read model's fault parks nothing -----------------------------------------


class Flaky(Projection):
    """One row per event; on PostgreSQL its writes give up on a lock after 100 ms."""

    name = "test_flaky"
    tables = (Table("test_flaky", "position BIGINT NOT NULL"),)
    postgres = False

    def apply(self, cur: Cursor, recorded: Recorded) -> None:
        if Flaky.postgres:
            cur.execute("SET LOCAL lock_timeout = '100ms'")
        cur.execute(
            f"INSERT INTO {self.table('test_flaky')} (position) VALUES (?)",  # noqa: S608
            (recorded.position,),
        )


@contextmanager
def unavailable(url: str) -> Iterator[None]:
    """The database refuses the runner's writes: SQLite locked by another connection's
    exclusive transaction; on PostgreSQL, the read model's table locked by another session."""
    if is_postgres(url):
        with psycopg.connect(url) as conn:
            conn.execute("LOCK TABLE test_flaky IN ACCESS EXCLUSIVE MODE")
            yield
            conn.rollback()
        return
    lite = sqlite3.connect(unquote(urlsplit(url).path)[1:], isolation_level=None)
    try:
        lite.execute("BEGIN EXCLUSIVE")
        yield
        lite.execute("ROLLBACK")
    finally:
        lite.close()


def test_a_database_that_is_briefly_unavailable_parks_nothing(
    minqing: Minqing, database_url: str, master_key: bytes
) -> None:
    # On PostgreSQL the lock is met inside the read model's apply, so only telling the
    # database's errors from the read model's keeps the events from being parked. SQLite's
    # runner takes the write lock before any apply: the round fails before a read model runs.
    for _ in range(3):
        minqing.raise_concern(STAFF, draft())
    # SQLite waits one second for a lock, then says "database is locked".
    env = {**event_store_env(database_url), "SQLITE_LOCK_TIMEOUT": "1"}
    app = Minqing(env, master_key=master_key)
    Flaky.postgres = is_postgres(database_url)
    try:
        runner = runner_of(app, Flaky())
        with unavailable(database_url):
            for _ in range(runner.park_after + 1):
                with pytest.raises(PersistenceError):
                    runner.run_once()
            assert runner.parked() == []
            assert runner.failures.next_retry_in() is None  # not counted against any event
        runner.catch_up()

        assert runner.parked() == []
        assert applied(app, "test_flaky") == positions(app)
    finally:
        app.close()


class KillsItsConnection(Projection):
    """One row per event; on the marker event it terminates its own PostgreSQL backend, the
    first `kills` times (as an administrator or a failover would)."""

    name = "test_killed"
    tables = (Table("test_killed", "position BIGINT NOT NULL"),)
    kills = 0

    def apply(self, cur: Cursor, recorded: Recorded) -> None:
        if getattr(recorded.event, "title", None) == MARKER and KillsItsConnection.kills > 0:
            KillsItsConnection.kills -= 1
            cur.execute("SELECT pg_terminate_backend(pg_backend_pid())")
        cur.execute(
            f"INSERT INTO {self.table('test_killed')} (position) VALUES (?)",  # noqa: S608
            (recorded.position,),
        )


def test_a_connection_killed_on_an_event_again_and_again_parks_nothing(
    minqing: Minqing, database_url: str
) -> None:
    if not is_postgres(database_url):
        pytest.skip("pg_terminate_backend is PostgreSQL's")
    minqing.raise_concern(STAFF, draft())
    minqing.raise_concern(STAFF, draft(title=MARKER))
    minqing.raise_concern(STAFF, draft())
    runner = runner_of(minqing, KillsItsConnection())
    KillsItsConnection.kills = runner.park_after + 2

    failures: list[Any] = []
    while KillsItsConnection.kills:
        try:
            runner.run_once()
        except PersistenceError as exc:  # what the worker's loop waits out and retries
            failures.append(exc)
    runner.catch_up()

    assert len(failures) == runner.park_after + 2
    assert runner.parked() == []
    assert applied(minqing, "test_killed") == positions(minqing)
