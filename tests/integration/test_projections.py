"""The projection runner on both stores: the concern list equals a fold of the events after
random histories, a rebuild equals the incremental projection, two runners never apply an
event twice, a standby takes over, gaps are skipped, and read-your-writes waits.

The kill test (a worker process killed in the middle of a batch) is in
test_projection_worker.py.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.database import Cursor
from application.minqing import Minqing, NewVisit
from application.time_limits import stage_facts
from domain.concern import Concern
from domain.errors import DomainError
from domain.meeting import MeetingKind
from domain.principal import Principal
from domain.vocabulary import Category, DutyRole, Library, PriorityVisit, Role, Satisfaction
from domain.voting import Choice
from projections.concerns import TABLE as CONCERN_LIST
from projections.concerns import ConcernList, utc_text
from projections.event_counts import TABLE as EVENT_COUNTS
from projections.event_counts import EventCounts
from projections.registry import all_projections, names
from projections.runner import Projection, ProjectionRunner, Recorded, Table
from tests.integration.support import STAFF, draft, is_postgres, open_app, raw_connection

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))

# One principal who may do everything but an owner's send-back; the chair's adoption and
# assignment included.
BOSS = Principal(
    id="boss",
    name="boss",
    roles=frozenset({Role.STAFF, Role.GRID_LEADER, Role.COMMITTEE, Role.CHAIR, Role.ADMIN}),
    grids=frozenset(),
)
# Approves voids and decides appeals.
CHIEF = Principal(id="chief", name="chief", roles=frozenset({Role.SUPERVISOR}), grids=frozenset())


class Clock:
    """A clock the test moves; every read is a minute after the last."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


class AppliedPositions(Projection):
    """Writes one row per event it is given: a double-applied event shows as a duplicate."""

    name = "test_applied"
    tables = (Table("test_applied_positions", "position BIGINT NOT NULL"),)

    def apply(self, cur: Cursor, recorded: Recorded) -> None:
        cur.execute(
            f"INSERT INTO {self.table('test_applied_positions')} (position) VALUES (?)",  # noqa: S608
            (recorded.position,),
        )


# -- what the read models must equal ------------------------------------------------------


def log(app: Minqing) -> list[Any]:
    """Every notification in the log, in order."""
    found: list[Any] = []
    while batch := app.recorder.select_notifications(
        found[-1].id if found else 0, 1000, inclusive_of_start=False
    ):
        found.extend(batch)
    return found


def concern_ids(app: Minqing) -> list[UUID]:
    return [UUID(str(n.originator_id)) for n in log(app) if n.topic.endswith(":Concern.Raised")]


def folded_row(app: Minqing, concern_id: UUID, version: int | None = None) -> dict[str, Any]:
    """The list row recomputed from the aggregate (the fold of the concern's events, up to
    `version` if given)."""
    c: Concern = app.get_concern(concern_id, version=version)
    facts = stage_facts(c, app.repository.event_store.get(c.id, lte=c.version))
    auto = [k for k in c.cards if k["automatic"]]
    held = c.suspension
    return {
        "id": str(c.id),
        "reference": c.reference,
        "title": c.title,
        "description": c.description,
        "status": c.status,
        "category": c.category,
        "library": c.library,
        "channel": c.channel,
        "grid": c.grid,
        "owner": str(c.owner) if c.owner else None,
        "duty_role": c.duty_role,
        "due_on": c.due_on.isoformat() if c.due_on else None,
        "raised_at": utc_text(c.raised_at),
        "updated_at": utc_text(c.updated_at),
        "resolved_at": utc_text(c.resolved_at) if c.resolved_at else None,
        "round": c.round,
        "version": c.version,
        "position": app.db.position_of(str(c.id), c.version),
        # What the deadline watcher selects on (SQLite reads a BOOLEAN back as 0 or 1).
        "feedback_pending": c.feedback_pending,
        "missed_due_on": c.missed_due_dates[-1].isoformat() if c.missed_due_dates else None,
        "feedback_overdue_round": (
            c.feedback_overdue_rounds[-1] if c.feedback_overdue_rounds else None
        ),
        # The stage's clock: when the concern entered its status, how it is handled.
        "stage_since": utc_text(facts.since),
        "mode": facts.mode,
        "missed_stage_since": (
            utc_text(c.missed_stages[-1]["started_at"]) if c.missed_stages else None
        ),
        # Supervision cards: how many, and the last automatic one's stage start and grade.
        "cards": len(c.cards),
        "card_mark": (
            f"{utc_text(auto[-1]['stage_started_at'])}|{auto[-1]['grade']}" if auto else None
        ),
        # Suspension (挂账): when the clock stopped and ran again, and the until date while
        # it is stopped.
        "suspended_at": utc_text(held["since"]) if held else None,
        "resumed_at": utc_text(held["ended"]) if held and held["ended"] else None,
        "suspended_until": held["until"].isoformat() if c.suspended and held else None,
    }


def rows(app: Minqing, table: str, key: str) -> list[dict[str, Any]]:
    return [dict(r) for r in app.db.fetchall(f"SELECT * FROM {table} ORDER BY {key}")]  # noqa: S608


def listed(app: Minqing) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in rows(app, CONCERN_LIST, "id")}


def counted(app: Minqing) -> dict[str, int]:
    return {r["type"]: int(r["count"]) for r in rows(app, EVENT_COUNTS, "type")}


def log_counts(app: Minqing) -> dict[str, int]:
    return dict(Counter(n.topic.rpartition(":")[2] for n in log(app)))


def assert_list_is_the_fold(app: Minqing) -> None:
    ids = concern_ids(app)
    found = listed(app)
    assert sorted(found) == sorted(str(i) for i in ids)
    for concern_id in ids:
        assert found[str(concern_id)] == folded_row(app, concern_id)


# -- random histories -----------------------------------------------------------------------


@dataclass
class Office:
    """The application with two members, their principals, and the concerns made so far."""

    app: Minqing
    clock: Clock
    members: list[UUID]
    concerns: list[UUID] = field(default_factory=list)

    def owner_principal(self, concern_id: UUID) -> Principal:
        owner = self.app.get_concern(concern_id).owner
        return Principal(
            id=f"member-{owner}",
            name="owner",
            roles=frozenset({Role.MEMBER}),
            grids=frozenset(),
            member_id=owner,
        )

    @property
    def chair(self) -> Principal:
        """BOSS linked to the member every meeting here names as its chair."""
        return dataclasses.replace(BOSS, member_id=self.members[0])

    def due(self, days: int = 10) -> Any:
        return self.clock.now.date() + timedelta(days=days)

    def meeting(self, concern_id: UUID, votes: list[Choice]) -> None:
        """Shortlist a committee concern for a meeting of both members and vote on it."""
        meeting = UUID(
            self.app.schedule_meeting(
                BOSS,
                "主题党日·民情会诊",
                MeetingKind.THEMATIC_PARTY_DAY,
                self.clock.now + timedelta(days=1),
                "社区党群服务中心",
                self.members[0],
                self.members,
            ).id
        )
        self.app.shortlist(meeting, BOSS, concern_id)
        chair = self.chair  # only the member the meeting names as its chair runs it
        self.app.open_meeting(meeting, chair, self.members)
        self.app.open_vote(meeting, chair, concern_id)
        for member, choice in zip(self.members, votes, strict=True):
            self.app.cast_vote(meeting, chair, concern_id, choice, voter=member)
        self.app.close_vote(meeting, chair, concern_id)


# The library a raised concern is filed in, by `pick` (0: the problem library).
LIBRARIES = [Library.PROBLEM, Library.SUGGESTION, Library.HARDSHIP]
GRIDS = ("2", "3")
# Two spellings of one household (the ledger counts it once) and another household.
HOUSEHOLDS = ("5号楼2单元301", " 5号楼 2单元301 ", "3号楼1单元102")


def step(office: Office, action: str, pick: int, flag: bool) -> None:
    """One command (which may well be refused: the fold is compared either way)."""
    app = office.app
    if action == "raise":
        title = f"东侧小路路灯坏了 {len(office.concerns)}"
        # Libraries, grids and categories vary, so read models that group by them see several.
        concern = dataclasses.replace(
            draft(title=title, library=LIBRARIES[pick % len(LIBRARIES)]),
            grid=GRIDS[pick % len(GRIDS)],
            category=list(Category)[pick % len(Category)],
        )
        office.concerns.append(UUID(app.raise_concern(BOSS, concern).id))
        return
    cid = office.concerns[pick % len(office.concerns)]
    member = office.members[pick % 2]
    duty = DutyRole.ENVIRONMENT_MONITOR if flag else DutyRole.MEDIATOR
    if action == "refer":
        app.refer(cid, BOSS)
    elif action == "handle_now":
        app.handle_now(cid, BOSS, member, duty, office.due())
    elif action == "assign":
        app.assign(cid, BOSS, member, duty, office.due(pick % 5))
    elif action == "decline":
        app.decline(cid, BOSS, "不属于社区职责范围")
    elif action == "merge":
        app.merge(cid, BOSS, office.concerns[0])
    elif action == "withdraw":
        app.withdraw(cid, BOSS, "居民已自行解决")
    elif action == "return_for_info":
        app.return_for_info(cid, BOSS, "缺少具体楼栋")
    elif action == "progress":
        app.record_progress(cid, BOSS, "已联系物业")
    elif action == "extend":
        current = app.get_concern(cid).due_on or office.due()
        app.extend_deadline(cid, BOSS, current + timedelta(days=7), "等待配件")
    elif action == "reassign":
        app.reassign(cid, BOSS, member, duty, "工作调整")
    elif action == "send_back":
        app.send_back(cid, office.owner_principal(cid), "需要街道协调")
    elif action == "resolve":
        app.resolve(cid, BOSS, "更换了路灯")
    elif action == "feedback":
        satisfaction = list(Satisfaction)[pick % 3]
        app.record_feedback(cid, BOSS, flag, satisfaction)
    elif action == "reopen":
        app.reopen(cid, BOSS, "居民反映又坏了")
    elif action == "meeting":
        votes = [Choice.FOR, Choice.FOR] if flag else [list(Choice)[pick % 3], Choice.AGAINST]
        office.meeting(cid, votes)
    elif action == "visit":
        # A household visit in the concern's grid, naming it or not, some days ago.
        visit = NewVisit(
            grid=app.get_concern(cid).grid,
            household=HOUSEHOLDS[pick % len(HOUSEHOLDS)],
            visited_on=office.clock.now.date() - timedelta(days=pick % 3),
            priority_visit=[None, *PriorityVisit][pick % (len(PriorityVisit) + 1)],
            concern_ids=[cid] if flag else [],
        )
        app.record_visit(BOSS, visit)
    elif action == "suspend":
        # The owner asks (挂账); the committee approves or refuses.
        until = office.clock.now.date() + timedelta(days=pick % 20 + 1)
        app.request_suspension(cid, office.owner_principal(cid), "等待供电公司", until)
        if flag:
            app.approve_suspension(cid, BOSS)
        else:
            app.refuse_suspension(cid, BOSS, "请先联系供电公司")
    elif action == "resume":
        app.resume(cid, BOSS)
    elif action == "void":
        app.propose_void(cid, BOSS, "不符合立案条件")
        if flag:
            app.approve_void(cid, CHIEF)
        else:
            app.refuse_void(cid, CHIEF, "符合立案条件")
    elif action == "appeal":
        stages = app.get_concern(cid).overdue_stages() or ["handling"]
        app.appeal(cid, office.owner_principal(cid), stages[pick % len(stages)], "配件缺货")
        app.decide_appeal(cid, CHIEF, flag, "情况属实")
    elif action == "days_pass":
        office.clock.now += timedelta(days=pick % 20)
        for concern_id in office.concerns:
            app.resume_if_due(concern_id)
            app.record_missed_deadlines(concern_id, feedback_window_days=7)


ACTIONS = [
    "refer",
    "handle_now",
    "assign",
    "decline",
    "merge",
    "withdraw",
    "return_for_info",
    "progress",
    "extend",
    "reassign",
    "send_back",
    "resolve",
    "feedback",
    "reopen",
    "meeting",
    "days_pass",
    "visit",
    "suspend",
    "resume",
    "void",
    "appeal",
]
# The moves that keep a concern going from each status, so histories get deep (adopted,
# resolved, reopened, resolved again …); the end states have none.
ADVANCE = {
    "intake": ["refer", "handle_now", "refer", "void"],
    "committee": ["meeting", "meeting", "assign", "return_for_info", "decline"],
    "branch_meeting": ["assign"],
    "assigned": [
        *("progress", "extend", "reassign", "send_back", "resolve", "resolve", "days_pass"),
        *("suspend", "resume"),
    ],
    "resolved": ["feedback", "feedback", "reopen", "days_pass", "appeal"],
}
# "advance" a concern along ADVANCE, try "any" command (mostly refused), "raise" another
# concern, record a "visit", or "project": run one batch of the runner in the middle of the
# history.
steps = st.lists(
    st.tuples(
        st.sampled_from(["advance"] * 8 + ["any", "raise", "visit", "project"]),
        st.integers(min_value=0, max_value=1000),
        st.booleans(),
    ),
    min_size=15,
    max_size=50,
)


def pick_action(office: Office, mode: str, pick: int) -> str:
    if mode in ("any", "visit"):
        return ACTIONS[pick % len(ACTIONS)] if mode == "any" else "visit"
    status = office.app.get_concern(office.concerns[pick % len(office.concerns)]).status
    moves = ADVANCE.get(status) or ["days_pass"]
    return moves[pick // len(office.concerns) % len(moves)]


def play(
    office: Office,
    history: list[tuple[str, int, bool]],
    runner: ProjectionRunner | None = None,
    first_pick: int = 0,
) -> None:
    """Play a generated history: a fresh concern first (`first_pick` picks its library), then
    each step; "project" runs one batch of `runner` mid-history (none: skipped). A refused
    command records nothing, and the read models must not change either."""
    office.concerns = office.concerns[:1]  # merges go into the first; steps work on new ones
    step(office, "raise", first_pick, True)
    for mode, pick, flag in history:
        if mode == "project":
            if runner is not None:
                runner.run_once()
            continue
        action = "raise" if mode == "raise" else pick_action(office, mode, pick)
        with contextlib.suppress(DomainError):
            step(office, action, pick, flag)
    if runner is not None:
        runner.catch_up()


@pytest.fixture
def office(database_url: str, master_key: bytes) -> Iterator[Office]:
    yield from open_office(database_url, master_key)


def open_office(database_url: str, master_key: bytes) -> Iterator[Office]:
    """The office on a fresh application, closed when the generator is."""
    clock = Clock()
    app = open_app(database_url, master_key, clock=clock)
    try:
        members = [
            UUID(app.register_member(STAFF, name, ["2"], [DutyRole.MEDIATOR], True).id)
            for name in ("李强", "赵敏")
        ]
        yield Office(app, clock, members)
    finally:
        app.close()


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=steps)
def test_the_concern_list_equals_a_fold_of_the_events_after_random_histories(
    office: Office, history: list[tuple[str, int, bool]]
) -> None:
    # The examples share one database: each adds concerns, and the runner (small batches,
    # so one history spans many) must keep every row equal to the fold of the whole log.
    runner = ProjectionRunner(office.app, all_projections(), batch_size=7)
    play(office, history, runner)

    assert_list_is_the_fold(office.app)
    assert counted(office.app) == log_counts(office.app)
    assert all(s.lag == 0 for s in runner.status())


def test_meeting_outcomes_and_deadline_facts_show_as_the_fold_says(office: Office) -> None:
    adopted, rejected, deferred, late = (
        UUID(office.app.raise_concern(BOSS, draft(title=t)).id) for t in "甲乙丙丁"
    )
    office.concerns += [adopted, rejected, deferred, late]
    for concern_id in (adopted, rejected, deferred):
        office.app.refer(concern_id, BOSS)
    office.meeting(adopted, [Choice.FOR, Choice.FOR])
    office.app.assign(
        adopted,
        office.chair,
        office.members[0],
        DutyRole.MEDIATOR,
        office.due(),
    )
    office.meeting(rejected, [Choice.AGAINST, Choice.AGAINST])
    office.meeting(deferred, [Choice.FOR, Choice.ABSTAIN])
    office.app.handle_now(late, BOSS, office.members[1], DutyRole.MEDIATOR, office.due(1))
    office.clock.now += timedelta(days=5)
    assert office.app.record_missed_deadlines(late, 7) == ["DeadlineMissed"]

    runner = ProjectionRunner(office.app, all_projections())
    runner.catch_up()

    assert_list_is_the_fold(office.app)
    statuses = {r["id"]: r["status"] for r in listed(office.app).values()}
    assert statuses[str(adopted)] == "assigned"
    assert statuses[str(rejected)] == "declined"
    assert statuses[str(deferred)] == "committee"
    # The missed deadline is a fact: the version moves, the rest of the row does not.
    row = listed(office.app)[str(late)]
    assert row["version"] == 3
    assert row["updated_at"] < utc_text(office.clock.now - timedelta(days=4))


# -- rebuild ---------------------------------------------------------------------------------


def busy_history(office: Office, concerns: int = 12) -> None:
    """A fixed history touching most event kinds on several concerns."""
    plan = ["raise", "handle_now", "progress", "resolve", "feedback", "reopen", "resolve"]
    for i in range(concerns):
        step(office, "raise", 0, True)
        office.concerns.insert(0, office.concerns.pop())  # the new one is picked by 0
        for action in plan[1 : 1 + i % len(plan)]:
            with contextlib.suppress(DomainError):
                step(office, action, 0, i % 2 == 0)


def test_a_rebuild_equals_the_incremental_projection(office: Office) -> None:
    busy_history(office)
    runner = ProjectionRunner(office.app, all_projections(), batch_size=5, rebuild_batch_size=5)
    runner.catch_up()
    before = {name: rows(office.app, t, k) for name, t, k in TABLES}

    reports = [runner.rebuild(name) for name in ("concern_list", "event_counts")]

    after = {name: rows(office.app, t, k) for name, t, k in TABLES}
    assert after == before
    head = runner.head()
    assert [r.position for r in reports] == [head, head]
    assert reports[1].events == head  # event_counts reads every event
    assert all(s.position == head for s in runner.status())
    assert_list_is_the_fold(office.app)


TABLES = [("concern_list", CONCERN_LIST, "id"), ("event_counts", EVENT_COUNTS, "type")]


def test_a_rebuild_leaves_no_extra_tables_and_the_live_names_on_its_indexes(
    office: Office, database_url: str
) -> None:
    busy_history(office, 3)
    runner = ProjectionRunner(office.app, all_projections())
    runner.rebuild("concern_list")
    runner.rebuild("concern_list")  # twice: index names must not collide

    sql = (
        "SELECT indexname FROM pg_indexes WHERE tablename = 'minqing_concern_list'"
        if is_postgres(database_url)
        else "SELECT name FROM sqlite_master WHERE type = 'index'"
        " AND tbl_name = 'minqing_concern_list' AND name NOT LIKE 'sqlite_autoindex%'"
    )
    with raw_connection(database_url) as query:
        indexes = {str(r[0]) for r in query(sql)}
        tables = {
            str(r[0])
            for r in query(
                "SELECT table_name FROM information_schema.tables"
                " WHERE table_name LIKE 'minqing_concern_list%'"
                if is_postgres(database_url)
                else "SELECT name FROM sqlite_master WHERE type = 'table'"
                " AND name LIKE 'minqing_concern_list%'"
            )
        }
    assert tables == {"minqing_concern_list"}
    assert all("__rb" not in name for name in indexes), indexes
    assert {f"minqing_concern_list__{ix}" for ix in ("raised", "status", "owner")} <= indexes


def test_a_rebuild_while_writers_and_the_runner_work_loses_and_repeats_nothing(
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
        runner.rebuild("event_counts")
        runner.rebuild("concern_list")
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

    assert counted(office.app) == log_counts(office.app)
    assert_list_is_the_fold(office.app)


# -- two runners, leadership ---------------------------------------------------------------


def test_two_runners_on_one_database_never_apply_an_event_twice(
    database_url: str, master_key: bytes
) -> None:
    apps = [open_app(database_url, master_key) for _ in range(3)]
    writer, *runner_apps = apps
    try:
        # No leader election: both runners race for every batch, the guard decides.
        runners = [
            ProjectionRunner(
                a,
                [*all_projections(), AppliedPositions()],
                batch_size=3,
                poll_seconds=0.01,
                leader_election=False,
            )
            for a in runner_apps
        ]
        for r in runners:
            r.start()
        for i in range(40):
            writer.raise_concern(STAFF, draft(title=f"并发 {i}"))
        head = runners[0].head()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and any(s.position < head for s in runners[0].status()):
            time.sleep(0.05)
        for r in runners:
            r.stop()

        applied = [int(r["position"]) for r in rows(writer, "test_applied_positions", "position")]
        assert applied == [n.id for n in log(writer)]  # each once, in log order
        assert counted(writer) == log_counts(writer)
        assert_list_is_the_fold(writer)
    finally:
        for a in apps:
            a.close()


def test_a_runner_that_read_a_batch_another_runner_applied_first_applies_nothing(
    database_url: str, master_key: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    apps = [open_app(database_url, master_key) for _ in range(2)]
    try:
        apps[0].raise_concern(STAFF, draft())
        first, second = (
            ProjectionRunner(a, [EventCounts(), AppliedPositions()], leader_election=False)
            for a in apps
        )
        read = first._read

        def read_then_lose_the_race(*args: Any) -> Any:
            batch = read(*args)
            second.catch_up()  # the other runner commits this very batch meanwhile
            return batch

        monkeypatch.setattr(first, "_read", read_then_lose_the_race)

        assert first.run_once() == 0
        # The batch, read once for both projections, was stale for both: dropped twice.
        assert first.superseded == 2
        applied = [int(r["position"]) for r in rows(apps[0], "test_applied_positions", "position")]
        assert applied == [n.id for n in log(apps[0])]
        assert counted(apps[0]) == log_counts(apps[0])
    finally:
        for a in apps:
            a.close()


def test_a_standby_runner_takes_over_when_the_leader_stops(
    database_url: str, master_key: bytes
) -> None:
    if not is_postgres(database_url):
        pytest.skip("leadership is an advisory lock: several workers is the PostgreSQL set-up")
    apps = [open_app(database_url, master_key) for _ in range(3)]
    writer, first_app, second_app = apps
    try:
        first = ProjectionRunner(first_app, all_projections(), standby_retry_seconds=0.1)
        second = ProjectionRunner(second_app, all_projections(), standby_retry_seconds=0.1)
        first.start()
        wait_until(lambda: first.leading == set(names()))
        second.start()
        time.sleep(0.5)
        assert second.leading == set()

        position = writer.raise_concern(STAFF, draft()).position
        assert first.wait_for("concern_list", position, 5) >= position
        first.stop()
        wait_until(lambda: second.leading == set(names()))
        position = writer.raise_concern(STAFF, draft()).position
        assert second.wait_for("concern_list", position, 5) >= position
        second.stop()

        assert_list_is_the_fold(writer)
        assert counted(writer) == log_counts(writer)
    finally:
        for a in apps:
            a.close()


def wait_until(condition: Any, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


# -- positions ---------------------------------------------------------------------------------


def test_positions_move_past_gaps_in_the_log(minqing: Minqing, database_url: str) -> None:
    if not is_postgres(database_url):
        pytest.skip("SQLite row ids have no gaps to skip")
    minqing.raise_concern(STAFF, draft())
    with raw_connection(database_url) as query:  # what failed inserts leave behind
        for _ in range(5):
            query("SELECT nextval('minqing_events_notification_id_seq')")
    last = minqing.raise_concern(STAFF, draft()).position
    runner = ProjectionRunner(minqing, [ConcernList(), EventCounts()], batch_size=2)

    runner.catch_up()

    assert [s.position for s in runner.status()] == [last] * len(runner.projections)
    assert len(listed(minqing)) == 2


def test_status_reports_each_projections_position_and_lag(minqing: Minqing) -> None:
    runner = ProjectionRunner(minqing, [ConcernList(), EventCounts()], batch_size=2)
    head = minqing.raise_concern(STAFF, draft()).position  # three events: two indexes

    before = {s.name: (s.position, s.lag) for s in runner.status()}
    runner.run_once()
    middle = {s.name: (s.position, s.lag) for s in runner.status()}
    runner.catch_up()
    after = {s.name: (s.position, s.lag) for s in runner.status()}

    assert before == {"concern_list": (0, head), "event_counts": (0, head)}
    # The concern list reads only Concern events: one batch reaches the head.
    assert middle == {"concern_list": (head, 0), "event_counts": (2, head - 2)}
    assert after == {"concern_list": (head, 0), "event_counts": (head, 0)}


def test_other_events_move_the_concern_list_position_to_the_head(minqing: Minqing) -> None:
    runner = ProjectionRunner(minqing, all_projections())
    runner.catch_up()

    position = minqing.register_member(STAFF, "王芳", ["2"], [DutyRole.MEDIATOR], True).position
    runner.catch_up()

    # A client waiting for a member's registration must not wait on the concern list.
    assert runner.position("concern_list") == position


def test_wait_for_returns_as_soon_as_the_runner_reaches_the_position(minqing: Minqing) -> None:
    runner = ProjectionRunner(minqing, [ConcernList(), EventCounts()])
    runner.start()
    try:
        position = minqing.raise_concern(STAFF, draft()).position
        started = time.monotonic()
        reached = runner.wait_for("concern_list", position, 2.0)
        took = time.monotonic() - started
    finally:
        runner.stop()
    assert reached >= position
    assert took < 1.0


def test_wait_for_gives_up_after_the_timeout_with_the_current_position(
    minqing: Minqing,
) -> None:
    runner = ProjectionRunner(minqing, all_projections())  # not running
    position = minqing.raise_concern(STAFF, draft()).position
    started = time.monotonic()

    reached = runner.wait_for("concern_list", position, 0.3)

    assert reached == 0
    assert 0.3 <= time.monotonic() - started < 1.0


def test_a_batch_that_fails_once_is_rolled_back_and_applied_again_event_by_event(
    minqing: Minqing,
) -> None:
    class Failing(EventCounts):
        name = "event_counts"
        calls = 0

        def apply_batch(self, cur: Cursor, batch: Sequence[Recorded]) -> None:
            super().apply_batch(cur, batch)  # the batch's counts are written, then it fails
            Failing.calls += 1
            if Failing.calls == 1:
                raise RuntimeError("boom")

    minqing.raise_concern(STAFF, draft())
    runner = ProjectionRunner(minqing, [Failing()])

    runner.run_once()

    # The failed batch's writes were rolled back: each event is counted once, none parked.
    assert Failing.calls > 1
    assert runner.position("event_counts") == runner.head()
    assert counted(minqing) == log_counts(minqing)
    assert runner.parked() == []
