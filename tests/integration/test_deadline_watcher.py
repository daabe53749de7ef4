"""The deadline watcher on both stores: each missed due date and each round's overdue
feedback is recorded once, however often and however many watchers sweep, across restarts;
it finds its candidates in the concern list along an index and goes on past a bad one.

The worker process (`minqing worker deadlines`) is tested in test_deadline_worker.py.
"""

from __future__ import annotations

import base64
import socket
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import psycopg
import pytest
import uvicorn

from api.main import create_app
from application.minqing import Minqing
from application.settings import Settings
from domain.errors import Conflict
from domain.principal import Principal
from domain.vocabulary import DutyRole, Role, Satisfaction
from projections.concern_watch import FEEDBACK_OVERDUE, MISSED_DEADLINES, deadline_candidates
from projections.concerns import TABLE, utc_text
from projections.registry import all_projections
from projections.runner import ProjectionRunner
from tests.integration.support import (
    STAFF,
    add_member,
    draft,
    is_postgres,
    open_app,
    raw_connection,
    run_together,
)
from tests.integration.test_projections import assert_list_is_the_fold
from workers.deadlines import DeadlineWatcher, WatcherConfig

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)
WINDOW = 7


class Clock:
    """The test's clock: it stands still until the test moves it."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Desk:
    """One application on the database, its projections and a watcher, on the test's clock."""

    app: Minqing
    clock: Clock
    runner: ProjectionRunner
    watcher: DeadlineWatcher
    owner: UUID

    def assigned(self, due_in_days: int) -> UUID:
        """A concern handled at once, due `due_in_days` from now."""
        concern_id = UUID(self.app.raise_concern(STAFF, draft()).id)
        due = self.clock.now.date() + timedelta(days=due_in_days)
        self.app.handle_now(concern_id, STAFF, self.owner, DutyRole.ENVIRONMENT_MONITOR, due)
        return concern_id

    def resolved(self) -> UUID:
        """A concern resolved now, waiting for the resident's answer."""
        concern_id = self.assigned(10)
        self.app.resolve(concern_id, STAFF, "更换了6盏路灯")
        return concern_id

    def sweep(self) -> dict[str, int]:
        """Bring the concern list up to date, then sweep once; the facts recorded (the
        supervision cards the same sweep issues are tests/e2e/test_supervision.py's)."""
        self.runner.catch_up()
        done = self.watcher.sweep()
        assert done.failed == 0
        return {k: n for k, n in done.recorded.items() if not k.endswith("_card")}

    def candidates(self) -> list[str]:
        self.runner.catch_up()
        return list(deadline_candidates(self.app.db, self.clock.now, WINDOW))


def open_desk(url: str, key: bytes, clock: Clock, window: int = WINDOW, **config: Any) -> Desk:
    app = open_app(url, key, clock=clock)
    watcher = DeadlineWatcher(app, WatcherConfig(feedback_window_days=window, **config))
    return Desk(app, clock, ProjectionRunner(app, all_projections()), watcher, add_member(app))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def desk(database_url: str, master_key: bytes, clock: Clock) -> Iterator[Desk]:
    d = open_desk(database_url, master_key, clock)
    try:
        yield d
    finally:
        d.app.close()


def facts(app: Minqing) -> list[tuple[str, str, Any]]:
    """Every DeadlineMissed and FeedbackOverdue in the log: (concern, kind, date or round)."""
    found: list[tuple[str, str, Any]] = []
    position = 0
    while batch := app.recorder.select_notifications(position, 500, inclusive_of_start=False):
        position = batch[-1].id
        for n in batch:
            kind = n.topic.rpartition(".")[2]
            if kind in ("DeadlineMissed", "FeedbackOverdue"):
                event: Any = app.mapper.to_domain_event(n)
                detail = event.due_on if kind == "DeadlineMissed" else event.round
                found.append((str(n.originator_id), kind, detail))
    return found


# -- each fact once --------------------------------------------------------------------------


def test_a_missed_due_date_is_recorded_once_however_often_the_watcher_sweeps(
    desk: Desk, clock: Clock
) -> None:
    late = desk.assigned(2)
    on_time = desk.assigned(30)
    due = clock.now.date() + timedelta(days=2)

    clock.advance(days=2)  # due today: not missed yet
    assert desk.sweep() == {}
    clock.advance(days=1)
    assert desk.sweep() == {"DeadlineMissed": 1}
    for _ in range(5):
        clock.advance(hours=7)
        assert desk.sweep() == {}

    assert facts(desk.app) == [(str(late), "DeadlineMissed", due)]
    concern = desk.app.get_concern(late)
    assert concern.status == "assigned"  # a fact, not a move
    assert desk.app.get_concern(on_time).missed_due_dates == []
    desk.runner.catch_up()  # with the cards the last sweep issued
    assert_list_is_the_fold(desk.app)


def test_an_extended_due_date_that_passes_too_gets_its_own_event(desk: Desk, clock: Clock) -> None:
    concern_id = desk.assigned(2)
    clock.advance(days=2)  # the due date itself: extended before it has passed
    later = clock.now.date() + timedelta(days=5)
    desk.app.extend_deadline(concern_id, STAFF, later, "灯具到货推迟")

    assert desk.sweep() == {}  # the new due date has not passed
    clock.advance(days=6)
    assert desk.sweep() == {"DeadlineMissed": 1}
    clock.advance(days=6)
    assert desk.sweep() == {}
    # Once the due date has passed, the stage is overdue: no more extensions (延期).
    with pytest.raises(Conflict) as refused:
        desk.app.extend_deadline(concern_id, STAFF, later + timedelta(days=20), "再延期")
    assert refused.value.rule == "already_overdue"

    assert facts(desk.app) == [(str(concern_id), "DeadlineMissed", later)]
    desk.runner.catch_up()  # with the cards the last sweep issued
    assert_list_is_the_fold(desk.app)


def test_overdue_feedback_is_recorded_once_per_round(desk: Desk, clock: Clock) -> None:
    concern_id = desk.resolved()
    answered = desk.resolved()
    clock.advance(days=1)
    desk.app.record_feedback(answered, STAFF, True, Satisfaction.SATISFIED)

    clock.advance(days=WINDOW - 1, hours=-1)  # an hour short of the window
    assert desk.sweep() == {}
    clock.advance(hours=1)
    assert desk.sweep() == {"FeedbackOverdue": 1}
    clock.advance(days=3)
    assert desk.sweep() == {}

    # The resident, asked at last, is not satisfied: a second round, resolved and forgotten.
    desk.app.record_feedback(concern_id, STAFF, False, Satisfaction.DISSATISFIED)
    desk.app.resolve(concern_id, STAFF, "又换了一次")
    clock.advance(days=WINDOW)
    assert desk.sweep() == {"FeedbackOverdue": 1}
    clock.advance(days=WINDOW)
    assert desk.sweep() == {}

    assert facts(desk.app) == [
        (str(concern_id), "FeedbackOverdue", 1),
        (str(concern_id), "FeedbackOverdue", 2),
    ]
    assert desk.app.get_concern(concern_id).status == "resolved"
    desk.runner.catch_up()  # with the cards the last sweep issued
    assert_list_is_the_fold(desk.app)


def test_the_feedback_window_is_the_configured_one(
    database_url: str, master_key: bytes, clock: Clock
) -> None:
    d = open_desk(database_url, master_key, clock, window=3)
    try:
        concern_id = d.resolved()
        clock.advance(days=2)
        assert d.sweep() == {}
        clock.advance(days=1)
        assert d.sweep() == {"FeedbackOverdue": 1}
        assert facts(d.app) == [(str(concern_id), "FeedbackOverdue", 1)]
    finally:
        d.app.close()


# -- many watchers, restarts -------------------------------------------------------------------


def test_two_watchers_sweeping_at_once_never_record_a_fact_twice(
    database_url: str, master_key: bytes, clock: Clock
) -> None:
    first = open_desk(database_url, master_key, clock, leader_election=False)
    second = open_desk(database_url, master_key, clock, leader_election=False)
    try:
        late = [first.assigned(1) for _ in range(4)]
        waiting = [first.resolved() for _ in range(3)]
        clock.advance(days=WINDOW + 1)
        first.runner.catch_up()
        for _ in range(4):  # the list is left behind the facts: each sweep sees all again
            outcomes = run_together([first.watcher.sweep, second.watcher.sweep] * 2)
            assert all(o.error is None and o.value and o.value.failed == 0 for o in outcomes)

        recorded = Counter((concern, kind) for concern, kind, _ in facts(first.app))
        assert recorded == Counter(
            [(str(c), "DeadlineMissed") for c in late]
            + [(str(c), "FeedbackOverdue") for c in waiting]
        )
        first.runner.catch_up()
        assert_list_is_the_fold(first.app)
    finally:
        first.app.close()
        second.app.close()


def test_two_watcher_threads_running_on_one_database_record_each_fact_once(
    database_url: str, master_key: bytes, clock: Clock
) -> None:
    # Without the leader's lock (correctness must not depend on it) and with the projections
    # running beside them, the way two API processes run them.
    desks = [
        open_desk(database_url, master_key, clock, leader_election=False, interval_seconds=0.05)
        for _ in range(2)
    ]
    try:
        for d in desks:
            d.runner.start()
            d.watcher.start()
        late: list[UUID] = []
        for i in range(4):
            late += [desks[i % 2].assigned(1), desks[(i + 1) % 2].assigned(1)]
            clock.advance(days=2)
            expected = {str(c) for c in late}
            wait_until(lambda e=expected: {c for c, _, _ in facts(desks[0].app)} == e)
            for d in desks:  # and both go over the same ground a few more times
                assert d.watcher.wait_for_sweeps(d.watcher.sweeps + 3, 20)
        for d in desks:
            d.watcher.stop()
            d.runner.stop()

        recorded = Counter(facts(desks[0].app))
        assert len(recorded) == len(late)
        assert all(n == 1 for n in recorded.values()), recorded
        assert all(d.watcher.last_error is None for d in desks)
    finally:
        for d in desks:
            d.watcher.stop()
            d.runner.stop()
            d.app.close()


def test_a_restarted_watcher_records_nothing_new(
    database_url: str, master_key: bytes, clock: Clock
) -> None:
    before = open_desk(database_url, master_key, clock)
    try:
        before.assigned(1)
        before.resolved()
        clock.advance(days=WINDOW + 1)
        assert before.sweep() == {"DeadlineMissed": 1, "FeedbackOverdue": 1}
        recorded = facts(before.app)
    finally:
        before.app.close()

    after = open_desk(database_url, master_key, clock)  # a new process on the same database
    try:
        # Even with its list not caught up (it lists both again) nothing is recorded twice.
        done = after.watcher.sweep()
        assert (done.checked, dict(done.recorded)) == (2, {})
        assert after.candidates() == []  # once caught up, nothing is even looked at
        clock.advance(days=30)
        assert after.sweep() == {}
        assert facts(after.app) == recorded
    finally:
        after.app.close()


def test_a_standby_watcher_takes_over_when_the_leader_stops(
    database_url: str, master_key: bytes, clock: Clock
) -> None:
    if not is_postgres(database_url):
        pytest.skip("leadership is an advisory lock: several watchers is the PostgreSQL set-up")
    desks = [
        open_desk(
            database_url,
            master_key,
            clock,
            interval_seconds=0.05,
            standby_retry_seconds=0.1,
        )
        for _ in range(2)
    ]
    leader, standby = desks
    try:
        leader.watcher.start()
        wait_until(lambda: leader.watcher.leading)
        standby.watcher.start()
        time.sleep(0.5)
        assert not standby.watcher.leading
        assert standby.watcher.sweeps == 0

        leader.watcher.stop()
        wait_until(lambda: standby.watcher.leading)
        concern_id = standby.assigned(1)
        clock.advance(days=2)
        standby.runner.catch_up()
        wait_until(lambda: len(facts(standby.app)) == 1)
        assert facts(standby.app)[0][:2] == (str(concern_id), "DeadlineMissed")
    finally:
        for d in desks:
            d.watcher.stop()
            d.app.close()


def wait_until(condition: Any, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


# -- candidates ----------------------------------------------------------------------------------


def test_only_concerns_that_still_need_a_fact_are_candidates(desk: Desk, clock: Clock) -> None:
    desk.assigned(1)  # missed, and recorded by the first sweep
    desk.assigned(40)  # not due
    waiting = desk.resolved()  # its window passes
    answered = desk.resolved()
    desk.app.record_feedback(answered, STAFF, True, Satisfaction.SATISFIED)
    clock.advance(days=2)
    assert desk.sweep() == {"DeadlineMissed": 1}
    missed = desk.assigned(1)
    sent_back = desk.assigned(1)
    owner = Principal(
        id="owner",
        name="owner",
        roles=frozenset({Role.MEMBER}),
        grids=frozenset(),
        member_id=desk.owner,
    )
    desk.app.send_back(sent_back, owner, "需要街道协调")  # no owner, no due date any more
    clock.advance(days=WINDOW)

    assert desk.candidates() == [str(missed), str(waiting)]


def test_the_watcher_walks_the_candidates_page_by_page(
    database_url: str, master_key: bytes, clock: Clock
) -> None:
    d = open_desk(database_url, master_key, clock, page_size=2)
    try:
        late = [d.assigned(1 + i % 3) for i in range(5)]
        waiting = [d.resolved() for _ in range(3)]
        clock.advance(days=WINDOW + 1)
        d.runner.catch_up()

        done = d.watcher.sweep()
    finally:
        d.app.close()
    assert done.checked == 8
    # Every stage is past its limit too: a yellow and a red card each (督办), page by page.
    assert dict(done.recorded) == {
        "DeadlineMissed": 5,
        "FeedbackOverdue": 3,
        "yellow_card": 8,
        "red_card": 8,
    }
    assert len(late) + len(waiting) == 8


def test_a_concern_that_fails_does_not_stop_the_sweep(
    desk: Desk, clock: Clock, database_url: str
) -> None:
    concern_id = desk.assigned(1)
    clock.advance(days=2)
    desk.runner.catch_up()
    # A row naming no concern the store knows (a damaged or foreign read model), listed first.
    with raw_connection(database_url) as query:
        query(
            f"INSERT INTO {TABLE} (id, reference, title, description, status, category,"  # noqa: S608
            " library, channel, grid, due_on, raised_at, updated_at, round, version, position)"
            " VALUES ('00000000-0000-4000-8000-000000000000', 'MQ-0', 't', 'd', 'assigned',"
            " 'environment', 'problem', 'visit', '2', '2026-03-01', '2026-03-01T00:00:00Z',"
            " '2026-03-01T00:00:00Z', 1, 1, 1) RETURNING id"
        )
        if not is_postgres(database_url):
            query("COMMIT")

    done = desk.watcher.sweep()

    # The damaged row fails again in the walk for supervision cards; the real one is carded.
    cards = {"yellow_card": 1, "red_card": 1}
    assert (done.checked, done.failed, dict(done.recorded)) == (
        2,
        2,
        {"DeadlineMissed": 1, **cards},
    )
    assert facts(desk.app)[0][:2] == (str(concern_id), "DeadlineMissed")


@pytest.mark.parametrize("query", ["missed", "feedback"])
def test_the_candidate_queries_read_an_index_not_the_whole_list(
    desk: Desk, database_url: str, query: str
) -> None:
    for _ in range(3):
        desk.resolved()
    desk.runner.catch_up()
    sql, index, head = {
        "missed": (MISSED_DEADLINES, "minqing_concern_list__due", ("assigned", "2026-04-01")),
        "feedback": (FEEDBACK_OVERDUE, "minqing_concern_list__feedback", (True, utc_text(T0))),
    }[query]
    params = (*head, "", "", 200)
    if is_postgres(database_url):
        with psycopg.connect(database_url, autocommit=True) as conn:
            # On a table this small the planner would scan or sort anyway: ask whether the
            # index can serve the filter and the order.
            conn.execute("SET enable_seqscan = off")
            conn.execute("SET enable_bitmapscan = off")
            plan = [str(r[0]) for r in conn.execute("EXPLAIN " + sql.replace("?", "%s"), params)]
    else:
        path = database_url.removeprefix("sqlite:///")
        with sqlite3.connect(path) as lite:
            plan = [str(r[-1]) for r in lite.execute("EXPLAIN QUERY PLAN " + sql, params)]
    assert any(index in line for line in plan), plan
    assert not any("Sort" in line or "TEMP B-TREE" in line for line in plan), plan


# -- the embedded thread ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_api_process_records_a_missed_due_date_in_its_background_thread(
    database_url: str, master_key: bytes, clock: Clock, tmp_path: Any
) -> None:
    settings = Settings(
        database_url=database_url,
        master_key=base64.b64encode(master_key).decode(),
        admin_token_file=tmp_path / "admin-token",
        deadline_check_seconds=0.05,
    )
    side = open_app(database_url, master_key, clock=clock)
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, clock=clock),
            host="127.0.0.1",
            port=free_port(),
            log_level="warning",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started)
        owner = add_member(side)
        concern_id = UUID(side.raise_concern(STAFF, draft()).id)
        due = date(2026, 3, 5)
        side.handle_now(concern_id, STAFF, owner, DutyRole.ENVIRONMENT_MONITOR, due)
        time.sleep(0.3)
        assert facts(side) == []  # not due yet, however often it looks

        clock.advance(days=4)  # the server's clock too: it is the same one

        wait_until(lambda: facts(side) == [(str(concern_id), "DeadlineMissed", due)])
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        side.close()
