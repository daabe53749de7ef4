"""Projection versions on both stores: a runner set up on a database whose stored version
of a projection is not the code's rebuilds it (from zero, into fresh tables, swapped in), so
a database made before the concern list gained its columns keeps working and equals the fold.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from adapters.database import Cursor
from application.minqing import Minqing
from projections.concerns import TABLE as CONCERN_LIST
from projections.concerns import ConcernList
from projections.event_counts import EventCounts
from projections.registry import all_projections
from projections.runner import POSITIONS_TABLE, Projection, ProjectionRunner, Recorded, Table
from tests.integration.support import (
    STAFF,
    add_member,
    draft,
    is_postgres,
    open_app,
    raw_connection,
)
from tests.integration.test_projections import (
    Clock,
    Office,
    assert_list_is_the_fold,
    busy_history,
    counted,
    log,
    log_counts,
)

# The concern list and the positions table as the code before projection versions made them.
OLD_CONCERN_LIST = (
    f"CREATE TABLE {CONCERN_LIST} (id TEXT PRIMARY KEY, reference TEXT NOT NULL,"
    " title TEXT NOT NULL, description TEXT NOT NULL, status TEXT NOT NULL,"
    " category TEXT NOT NULL, library TEXT NOT NULL, channel TEXT NOT NULL,"
    " grid TEXT NOT NULL, owner TEXT, duty_role TEXT, due_on TEXT, raised_at TEXT NOT NULL,"
    " updated_at TEXT NOT NULL, resolved_at TEXT, round INTEGER NOT NULL,"
    " version BIGINT NOT NULL, position BIGINT NOT NULL)"
)
OLD_COLUMNS = (
    "id, reference, title, description, status, category, library, channel, grid, owner,"
    " duty_role, due_on, raised_at, updated_at, resolved_at, round, version, position"
)
OLD_INDEXES = {
    "raised": "(raised_at, id)",
    "status": "(status, raised_at, id)",
    "owner": "(owner, status, due_on)",
    "grid": "(grid, raised_at)",
    "due": "(status, due_on)",
}


def make_it_old(app: Minqing) -> None:
    """Turn the live tables into what the earlier code left: no version column, the concern
    list without the deadline watcher's columns (its rows kept, caught up to the head)."""
    with app.db.transaction() as cur:
        for table in (CONCERN_LIST, POSITIONS_TABLE):
            cur.execute(f"CREATE TABLE {table}_was AS SELECT * FROM {table}")  # noqa: S608
            cur.execute(f"DROP TABLE {table}")  # and its indexes
        cur.execute(OLD_CONCERN_LIST)
        for ix, cols in OLD_INDEXES.items():
            cur.execute(f"CREATE INDEX {CONCERN_LIST}__{ix} ON {CONCERN_LIST} {cols}")
        cur.execute(
            f"INSERT INTO {CONCERN_LIST} SELECT {OLD_COLUMNS} FROM {CONCERN_LIST}_was"  # noqa: S608
        )
        cur.execute(
            f"CREATE TABLE {POSITIONS_TABLE} (name TEXT PRIMARY KEY, position BIGINT NOT NULL)"
        )
        cur.execute(
            f"INSERT INTO {POSITIONS_TABLE} SELECT name, position FROM {POSITIONS_TABLE}_was"  # noqa: S608
        )
        for table in (CONCERN_LIST, POSITIONS_TABLE):
            cur.execute(f"DROP TABLE {table}_was")


def columns(app: Minqing, table: str) -> set[str]:
    row = app.db.fetchone(f"SELECT * FROM {table} LIMIT 1")  # noqa: S608
    return set(dict(row)) if row else set()


def index_definition(url: str, name: str) -> str:
    sql = (
        f"SELECT indexdef FROM pg_indexes WHERE indexname = '{name}'"  # noqa: S608
        if is_postgres(url)
        else f"SELECT sql FROM sqlite_master WHERE type = 'index' AND name = '{name}'"  # noqa: S608
    )
    with raw_connection(url) as query:
        return " ".join(str(r[0]) for r in query(sql))


def leftovers(url: str) -> set[str]:
    sql = (
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        if is_postgres(url)
        else "SELECT name FROM sqlite_master WHERE type = 'table'"
    )
    with raw_connection(url) as query:
        return {str(r[0]) for r in query(sql) if "__rb" in str(r[0]) or "_was" in str(r[0])}


@pytest.fixture
def office(database_url: str, master_key: bytes) -> Iterator[Office]:
    clock = Clock()
    app = open_app(database_url, master_key, clock=clock)
    try:
        yield Office(app, clock, [add_member(app), add_member(app)])
    finally:
        app.close()


def test_a_database_from_before_projection_versions_gets_the_new_concern_list_at_setup(
    office: Office, database_url: str
) -> None:
    busy_history(office)
    office.clock.now += timedelta(days=60)
    for concern_id in office.concerns:
        office.app.record_missed_deadlines(concern_id, 7)
    ProjectionRunner(office.app, all_projections()).catch_up()
    counts = counted(office.app)
    make_it_old(office.app)
    assert "feedback_pending" not in columns(office.app, CONCERN_LIST)

    runner = ProjectionRunner(office.app, all_projections())

    # Every read model whose version moved past 1 since that database was made (the concern
    # list's watcher columns, the ledger's keyed household hashes) is rebuilt to the head.
    newer = [p.name for p in runner.projections if p.version > 1]
    assert "concern_list" in newer
    assert [(r.name, r.position) for r in runner.rebuilt] == [(n, runner.head()) for n in newer]
    stored = {p.name: runner.version(p.name) for p in runner.projections}
    assert stored == {p.name: p.version for p in runner.projections}
    assert stored["concern_list"] == ConcernList.version
    assert_list_is_the_fold(office.app)  # the new columns included
    assert counted(office.app) == counts == log_counts(office.app)
    assert "id" in index_definition(database_url, f"{CONCERN_LIST}__due")
    assert index_definition(database_url, f"{CONCERN_LIST}__feedback")
    assert leftovers(database_url) == set()
    # Set up again (the next start): nothing left to rebuild, and it keeps following.
    office.app.raise_concern(STAFF, draft(title="升级之后"))
    again = ProjectionRunner(office.app, all_projections())
    again.catch_up()
    assert again.rebuilt == []
    assert_list_is_the_fold(office.app)


def test_two_processes_starting_on_an_old_database_swap_in_one_rebuild(
    database_url: str, master_key: bytes
) -> None:
    apps = [open_app(database_url, master_key) for _ in range(3)]
    writer, *starting = apps
    try:
        for i in range(30):
            writer.raise_concern(STAFF, draft(title=f"升级之前 {i}"))
        ProjectionRunner(writer, all_projections()).catch_up()
        make_it_old(writer)
        runners: list[ProjectionRunner] = []
        barrier = threading.Barrier(len(starting))

        def start(app: Minqing) -> None:
            barrier.wait(timeout=30)
            runners.append(ProjectionRunner(app, all_projections()))

        threads = [threading.Thread(target=start, args=(a,)) for a in starting]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)

        assert len(runners) == 2
        # Both may have built the fresh tables; each read model whose version moved (the old
        # positions table knew only version 1) was swapped in by one of them, once, and
        # neither left its copy behind.
        moved = {p.name for p in all_projections() if p.version != 1}
        swapped = [report.name for r in runners for report in r.rebuilt]
        assert sorted(swapped) == sorted(moved)
        assert runners[0].version("concern_list") == ConcernList.version
        assert leftovers(database_url) == set()
        assert_list_is_the_fold(writer)
    finally:
        for a in apps:
            a.close()


# -- any projection ----------------------------------------------------------------------------


class TallyV1(Projection):
    """Events by type: how many."""

    name = "test_tally"
    version = 1
    tables = (Table("test_tally", "type TEXT PRIMARY KEY, count BIGINT NOT NULL"),)

    def apply(self, cur: Cursor, recorded: Recorded) -> None:
        cur.execute(
            f"INSERT INTO {self.table('test_tally')} (type, count) VALUES (?, 1)"  # noqa: S608
            f" ON CONFLICT (type) DO UPDATE SET count = {self.table('test_tally')}.count + 1",
            (recorded.type_name,),
        )


class TallyV2(Projection):
    """Events by type: how many, and the position of the last."""

    name = "test_tally"
    version = 2
    tables = (
        Table(
            "test_tally",
            "type TEXT PRIMARY KEY, count BIGINT NOT NULL, last BIGINT NOT NULL",
        ),
    )

    def apply(self, cur: Cursor, recorded: Recorded) -> None:
        table = self.table("test_tally")
        cur.execute(
            f"INSERT INTO {table} (type, count, last) VALUES (?, 1, ?)"  # noqa: S608
            f" ON CONFLICT (type) DO UPDATE SET count = {table}.count + 1, last = excluded.last",
            (recorded.type_name, recorded.position),
        )


def tally(app: Minqing) -> list[dict[str, Any]]:
    return [dict(r) for r in app.db.fetchall("SELECT * FROM test_tally ORDER BY type")]


def test_a_projection_whose_version_changed_is_rebuilt_once_and_the_others_are_left_alone(
    minqing: Minqing,
) -> None:
    for _ in range(3):
        minqing.raise_concern(STAFF, draft())
    ProjectionRunner(minqing, [TallyV1(), EventCounts()]).catch_up()
    assert {r["type"]: r["count"] for r in tally(minqing)} == log_counts(minqing)

    new = ProjectionRunner(minqing, [TallyV2(), EventCounts()])

    assert [r.name for r in new.rebuilt] == ["test_tally"]
    last = {n.topic.rpartition(":")[2]: int(n.id) for n in log(minqing)}
    expected = log_counts(minqing)
    assert tally(minqing) == [
        {"type": t, "count": expected[t], "last": last[t]} for t in sorted(expected)
    ]
    assert new.version("test_tally") == 2
    assert ProjectionRunner(minqing, [TallyV2(), EventCounts()]).rebuilt == []
    # Going back to the earlier code (a rollback) rebuilds the earlier shape.
    back = ProjectionRunner(minqing, [TallyV1(), EventCounts()])
    assert [r.name for r in back.rebuilt] == ["test_tally"]
    assert {r["type"]: r["count"] for r in tally(minqing)} == expected
    assert all(set(r) == {"type", "count"} for r in tally(minqing))
