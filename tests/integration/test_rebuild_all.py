"""Rebuilding every read model in one pass over the log, on both stores: the rebuilt tables
equal the incremental ones, each event is decoded once, and the swap takes all the read
models or none (a swap that fails for one read model leaves every live table and position
as it was; a fold that fails on one event parks that event and swaps in the rest). While
writers and the live runner work, nothing is lost or repeated; `minqing projections rebuild`
does it from the command line, and a runner set up where several read models are stale
rebuilds them in one pass. The live runner, too, reads the log once per round for the read
models at one position.
"""

from __future__ import annotations

import base64
import contextlib
import threading
import time
from collections import Counter
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import PersistenceError

from adapters.database import Cursor
from api.cli import main as cli_main
from application.minqing import Minqing, NewVisit
from domain.errors import DomainError
from domain.voting import Choice
from projections.registry import all_projections, names
from projections.runner import POSITIONS_TABLE, Projection, ProjectionRunner, Recorded, Table
from tests.integration import test_projections
from tests.integration.support import STAFF, draft, is_postgres, open_app, raw_connection
from tests.integration.test_projections import (
    BOSS,
    Office,
    assert_list_is_the_fold,
    busy_history,
    counted,
    log,
    log_counts,
    step,
)

# The fixture the histories run in: the application, its clock and two members.
office = test_projections.office

BREAKS = "这一条让重建失败"


class BreaksInRebuild(Projection):
    """One row per event; its rebuild fails at the concern titled BREAKS (the live one
    does not)."""

    name = "test_breaks"
    tables = (Table("test_breaks", "position BIGINT NOT NULL"),)

    def apply(self, cur: Cursor, recorded: Recorded) -> None:
        if self.suffix and getattr(recorded.event, "title", None) == BREAKS:
            raise RuntimeError("a fold that fails in the rebuild")
        cur.execute(
            f"INSERT INTO {self.table('test_breaks')} (position) VALUES (?)",  # noqa: S608
            (recorded.position,),
        )


class Blocked(Projection):
    """One row per event in its first table; the test puts a view where its second table
    was, so its swap fails (DROP TABLE refuses a view) after the others' in that
    transaction."""

    name = "test_blocked"
    tables = (
        Table("test_blocked_rows", "position BIGINT NOT NULL"),
        Table("test_blocked_other", "position BIGINT"),
    )

    def apply(self, cur: Cursor, recorded: Recorded) -> None:
        cur.execute(
            f"INSERT INTO {self.table('test_blocked_rows')} (position) VALUES (?)",  # noqa: S608
            (recorded.position,),
        )


def full_history(office: Office) -> None:
    """Every read model gets rows: concerns resolved, reopened and adopted, a visit, a
    meeting."""
    busy_history(office, 8)
    step(office, "visit", 3, True)
    concern = UUID(office.app.raise_concern(BOSS, draft(title="增设充电桩")).id)
    office.app.refer(concern, BOSS)
    office.meeting(concern, [Choice.FOR, Choice.FOR])
    with contextlib.suppress(DomainError):
        step(office, "days_pass", 12, True)


def snapshot(runner: ProjectionRunner) -> dict[str, Any]:
    """Every table of the runner's read models, and the positions table, as sorted rows."""
    found: dict[str, Any] = {}
    for p in runner.projections:
        for table in p.tables:
            rows = runner.db.fetchall(f"SELECT * FROM {p.table(table.name)}")  # noqa: S608
            found[table.name] = sorted((dict(r) for r in rows), key=repr)
    rows = runner.db.fetchall(f"SELECT * FROM {POSITIONS_TABLE}")  # noqa: S608
    found[POSITIONS_TABLE] = sorted((dict(r) for r in rows), key=repr)
    return found


def leftovers(url: str) -> set[str]:
    """Tables and indexes a rebuild made and did not swap in or drop."""
    sql = (
        "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace"
        if is_postgres(url)
        else "SELECT name FROM sqlite_master"
    )
    with raw_connection(url) as query:
        return {str(r[0]) for r in query(sql) if "__rb" in str(r[0])}


def indexes(url: str, table: str) -> set[str]:
    """The secondary indexes of `table`, by name."""
    sql = (
        f"SELECT indexname FROM pg_indexes WHERE tablename = '{table}'"  # noqa: S608
        f" AND indexname <> '{table}_pkey'"
        if is_postgres(url)
        else f"SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = '{table}'"  # noqa: S608
        " AND name NOT LIKE 'sqlite_autoindex%'"
    )
    with raw_connection(url) as query:
        return {str(r[0]) for r in query(sql)}


def read_by(p: Projection, logged: list[Any]) -> int:
    """How many of the logged events projection `p` reads."""
    return sum(1 for n in logged if p.topics is None or n.topic in p.topics)


def test_a_one_pass_rebuild_of_every_read_model_equals_the_incremental_tables(
    office: Office, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    full_history(office)
    runner = ProjectionRunner(office.app, all_projections(), batch_size=7, rebuild_batch_size=5)
    runner.catch_up()
    before = snapshot(runner)
    decoded: list[tuple[UUID, int]] = []
    decode = office.app.mapper.to_domain_event

    def counting(stored: Any) -> Any:
        decoded.append((stored.originator_id, stored.originator_version))
        return decode(stored)

    monkeypatch.setattr(office.app.mapper, "to_domain_event", counting)

    reports = runner.rebuild_all()
    monkeypatch.undo()

    assert snapshot(runner) == before
    head = runner.head()
    assert [(r.name, r.position, r.swapped) for r in reports] == [(n, head, True) for n in names()]
    logged = log(office.app)
    assert [r.events for r in reports] == [read_by(p, logged) for p in runner.projections]
    # One pass: every event decoded at most once, however many read models read it.
    assert decoded
    assert max(Counter(decoded).values()) == 1
    assert leftovers(database_url) == set()
    for p in runner.projections:
        for table in p.tables:
            expected = {f"{table.name}__{ix}" for ix in table.indexes}
            assert indexes(database_url, table.name) == expected
    assert_list_is_the_fold(office.app)


def emptied(runner: ProjectionRunner) -> None:
    """Delete every row of the live tables: a rebuild swapped in would fill them again."""
    with runner.db.transaction() as cur:
        for p in runner.projections:
            for table in p.tables:
                cur.execute(f"DELETE FROM {p.table(table.name)}")  # noqa: S608


def test_a_fold_that_fails_on_one_event_mid_rebuild_parks_it_and_swaps_in_the_rest(
    office: Office, database_url: str
) -> None:
    busy_history(office, 6)
    breaks = office.app.raise_concern(BOSS, draft(title=BREAKS)).position
    busy_history(office, 4)
    runner = ProjectionRunner(
        office.app, [*all_projections(), BreaksInRebuild()], rebuild_batch_size=5
    )
    runner.catch_up()
    incremental = snapshot(runner)

    reports = runner.rebuild_all()

    assert {r.name: r.parked for r in reports if r.parked} == {"test_breaks": (breaks,)}
    assert all(r.swapped for r in reports)
    rebuilt = snapshot(runner)
    positions = [r["position"] for r in incremental.pop("test_breaks")]
    assert [r["position"] for r in rebuilt.pop("test_breaks")] == [
        p for p in positions if p != breaks
    ]
    assert rebuilt == incremental  # every other read model, and every position, as before
    [parked] = runner.parked()
    assert (parked.projection, parked.position, parked.event_type) == (
        "test_breaks",
        breaks,
        "Concern.Raised",
    )
    assert "a fold that fails in the rebuild" in parked.error
    assert leftovers(database_url) == set()


def test_a_swap_that_fails_for_one_read_model_swaps_none(office: Office, database_url: str) -> None:
    busy_history(office, 6)
    runner = ProjectionRunner(office.app, [*all_projections(), Blocked()], rebuild_batch_size=5)
    runner.catch_up()
    emptied(runner)
    with office.app.db.transaction() as cur:
        cur.execute("DROP TABLE test_blocked_other")
        cur.execute("CREATE VIEW test_blocked_other AS SELECT 1 AS position")
    before = snapshot(runner)

    # The registry's read models come first: their tables are renamed in the swap's
    # transaction before the blocked one fails it.
    with pytest.raises(PersistenceError):
        runner.rebuild_all()

    assert snapshot(runner) == before
    assert leftovers(database_url) == set()


def test_a_one_pass_rebuild_while_writers_and_the_runner_work_loses_and_repeats_nothing(
    office: Office, database_url: str, master_key: bytes
) -> None:
    busy_history(office, 6)
    runner = ProjectionRunner(office.app, all_projections(), batch_size=10, rebuild_batch_size=10)
    runner.start()
    stop = threading.Event()
    writer_app = open_app(database_url, master_key)

    def write() -> None:
        while not stop.is_set():
            writer_app.raise_concern(BOSS, draft(title="写入中"))

    writer = threading.Thread(target=write)
    writer.start()
    try:
        time.sleep(0.3)
        reports = runner.rebuild_all()
        time.sleep(0.3)
    finally:
        stop.set()
        writer.join()
        writer_app.close()
    # The writer may have left thousands of events behind on a loaded machine: wait for the
    # runner's own thread to fold them (a generous deadline; the claim is "nothing lost").
    deadline = time.monotonic() + 120
    while any(s.lag for s in runner.status()):
        assert time.monotonic() < deadline, "the runner did not catch up with the writer"
        time.sleep(0.05)
    runner.stop()

    assert all(r.swapped for r in reports)
    assert counted(office.app) == log_counts(office.app)
    assert_list_is_the_fold(office.app)
    incremental = snapshot(runner)
    runner.rebuild_all()
    assert snapshot(runner) == incremental


def test_the_cli_rebuilds_every_read_model_in_one_pass(
    office: Office,
    database_url: str,
    master_key: bytes,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    full_history(office)
    runner = ProjectionRunner(office.app, all_projections())
    runner.catch_up()
    before = snapshot(runner)
    monkeypatch.setenv("MINQING_DATABASE_URL", database_url)
    monkeypatch.setenv("MINQING_MASTER_KEY", base64.b64encode(master_key).decode())
    monkeypatch.setenv("MINQING_EMBEDDED_WORKERS", "false")

    assert cli_main(["projections", "rebuild"]) == 0
    everyone = capsys.readouterr().out.splitlines()
    assert cli_main(["projections", "rebuild", "achievements"]) == 0
    one = capsys.readouterr().out.splitlines()

    head = runner.head()
    logged = log(office.app)
    assert everyone[:-1] == [
        f"rebuilt {p.name}: {read_by(p, logged)} events to position {head}"
        for p in runner.projections
    ]
    assert everyone[-1].startswith(
        f"rebuilt {len(names())} read models in one pass: {head} log positions in "
    )
    [line] = one
    achievements = runner.projection("achievements")
    assert line.startswith(f"rebuilt achievements: {read_by(achievements, logged)} events ")
    assert snapshot(runner) == before


def test_a_runner_set_up_where_several_read_models_are_stale_rebuilds_them_in_one_pass(
    office: Office, database_url: str
) -> None:
    full_history(office)
    ProjectionRunner(office.app, all_projections()).catch_up()
    before = snapshot(ProjectionRunner(office.app, all_projections()))
    office.app.db.execute(
        f"UPDATE {POSITIONS_TABLE} SET version = 0"  # noqa: S608
        " WHERE name IN ('achievements', 'member_points')"
    )

    runner = ProjectionRunner(office.app, all_projections())

    head = runner.head()
    assert [(r.name, r.position) for r in runner.rebuilt] == [
        ("achievements", head),
        ("member_points", head),
    ]
    assert snapshot(runner) == before  # the versions included
    assert leftovers(database_url) == set()


def test_the_live_runner_reads_the_log_once_per_round_for_projections_at_one_position(
    minqing: Minqing, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = ProjectionRunner(minqing, all_projections())
    runner.catch_up()
    minqing.raise_concern(BOSS, draft())
    today = minqing.clock().date()
    minqing.record_visit(BOSS, NewVisit(grid="2", household="5号楼201室", visited_on=today))
    reads: list[Any] = []
    read = runner._read

    def counting(*args: Any) -> Any:
        reads.append(args)
        return read(*args)

    monkeypatch.setattr(runner, "_read", counting)

    runner.run_once()

    assert len(reads) == 1
    assert all(s.lag == 0 for s in runner.status())
    assert_list_is_the_fold(minqing)
    assert counted(minqing) == log_counts(minqing)


def test_a_rebuilds_batches_do_not_wait_for_the_disk_but_its_swap_does(
    database_url: str, master_key: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A rebuild cut short by a crash starts again, so its batches commit asynchronously;
    # the swap commits as every other transaction does, flushing them with it.
    if not is_postgres(database_url):
        pytest.skip("synchronous_commit is PostgreSQL's")
    app = open_app(database_url, master_key)
    try:
        app.raise_concern(STAFF, draft())
        runner = ProjectionRunner(app, all_projections())
        seen: list[str] = []
        original = runner.db.transaction

        @contextlib.contextmanager
        def watched() -> Any:
            with original() as cur:
                yield cur
                cur.execute("SHOW synchronous_commit")
                seen.append(str(cur.fetchone()["synchronous_commit"]))

        monkeypatch.setattr(runner.db, "transaction", watched)
        runner.rebuild_all()
        assert "off" in seen  # the batches
        assert seen[-1] == "on"  # the swap
    finally:
        app.close()
