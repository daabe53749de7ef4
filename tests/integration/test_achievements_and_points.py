"""The achievement library and member points on both stores: after random histories each
equals a recomputation from the aggregates and the events, and a rebuild equals the
incremental projection; a reopened concern leaves the library and gives its on-time point
back; adopted suggestions come and go as their adoption stands; points are credited to the
member a principal is linked to, when read, with the weights given.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings

from application.minqing import Minqing, NewVisit
from domain.geo import Point, cell_of
from domain.vocabulary import Category, DutyRole, Library, Role, Satisfaction
from domain.voting import Choice
from projections.achievements import TABLE as ACHIEVEMENTS
from projections.achievements import AchievementQuery, list_achievements
from projections.member_points import TABLE as POINTS
from projections.member_points import Period, PointKind, points_of
from projections.registry import all_projections
from projections.runner import ProjectionRunner
from tests.integration import test_projections
from tests.integration.support import RESIDENT, draft
from tests.integration.test_projections import (
    BOSS,
    Office,
    concern_ids,
    log,
    play,
    rows,
    steps,
)

# The fixture the random histories run in: the application, its clock and two members.
office = test_projections.office

ZONE = ZoneInfo("Asia/Shanghai")
WEIGHTS = {
    PointKind.VISIT: 5,
    PointKind.CONCERN_COLLECTED: 7,
    PointKind.MEETING_ATTENDED: 11,
    PointKind.RESOLVED_ON_TIME: 13,
    PointKind.YELLOW_CARD: -5,
    PointKind.RED_CARD: -10,
}
# The events after which an adoption no longer stands: a later meeting decided otherwise.
_OUTCOMES = ("AdoptedAtMeeting", "RejectedAtMeeting", "DeferredAtMeeting")
_ENDED = ("declined", "withdrawn", "merged")


# -- what the read models must equal ------------------------------------------------------


def library(app: Minqing, query: AchievementQuery | None = None) -> list[dict[str, Any]]:
    """Every entry of the achievement library, read page by page as a client would."""
    found: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = list_achievements(
            app.db, query or AchievementQuery(), zone=ZONE, cursor=cursor, limit=7
        )
        found += page.items
        if page.next_cursor is None:
            return found
        cursor = page.next_cursor


def events_of(app: Minqing, concern_id: UUID) -> list[Any]:
    """The concern's events, decoded, in order."""
    return list(app.events.get(concern_id))


def expected_entry(app: Minqing, concern_id: UUID) -> tuple[str, dict[str, Any]] | None:
    """The entry recomputed from the concern as it is and its history, with the time it
    sorts by; None when the concern is not in the library."""
    c = app.get_concern(concern_id)
    history = events_of(app, concern_id)
    outcomes = [e for e in history if type(e).__name__ in _OUTCOMES]
    adopted = None
    if outcomes and type(outcomes[-1]).__name__ == "AdoptedAtMeeting" and c.status not in _ENDED:
        adopted = outcomes[-1]
    resolved = c.status == "resolved"
    if not resolved and not (adopted and c.library == "suggestion"):
        return None
    last_resolution = [e for e in history if type(e).__name__ == "Resolved"][-1:]
    feedback = [f for f in c.feedback if f["round"] == c.round] if resolved else []
    satisfaction = feedback[-1]["satisfaction"] if feedback else None
    stage = "resolved" if resolved else "adopted"
    labels = {"resolved": ("已办结", "Resolved"), "adopted": ("已采纳", "Adopted")}
    duty = DutyRole(c.duty_role) if c.duty_role else None
    entry = {
        "id": str(c.id),
        "reference": c.reference,
        "title": c.title,
        "stage": stage,
        "stage_label": dict(zip(("zh", "en"), labels[stage], strict=True)),
        "library": c.library,
        "library_label": {"zh": Library(c.library).zh, "en": Library(c.library).en},
        "category": c.category,
        "category_label": {"zh": Category(c.category).zh, "en": Category(c.category).en},
        "grid": c.grid,
        "round": c.round,
        "summary": c.summary if resolved else None,
        "duty_role": c.duty_role,
        "duty_role_label": {"zh": duty.zh, "en": duty.en} if duty else None,
        "raised_on": c.raised_at.date().isoformat(),
        "adopted_on": adopted.at.date().isoformat() if adopted else None,
        "due_on": c.due_on.isoformat() if c.due_on else None,
        "resolved_on": c.resolved_at.date().isoformat() if c.resolved_at else None,
        "resolved_at": c.resolved_at.astimezone(ZONE).isoformat() if c.resolved_at else None,
        "days_taken": (c.resolved_at.date() - c.raised_at.date()).days if c.resolved_at else None,
        "on_time": last_resolution[0].on_time if resolved else None,
        "solved": feedback[-1]["solved"] if feedback else None,
        "satisfaction": satisfaction,
        "satisfaction_label": (
            {"zh": Satisfaction(satisfaction).zh, "en": Satisfaction(satisfaction).en}
            if satisfaction
            else None
        ),
        # Where, only as the cell of its point (the default 500 m), if it has one.
        "cell": (
            cell_of(Point(c.location["lat"], c.location["lng"]), 500).public()
            if c.location
            else None
        ),
    }
    listed_at = c.resolved_at if resolved else adopted.at  # type: ignore[union-attr]
    assert listed_at is not None
    return listed_at.astimezone(ZONE).isoformat(), entry


def assert_library_is_the_recomputation(app: Minqing) -> None:
    expected = [e for cid in concern_ids(app) if (e := expected_entry(app, cid))]
    # Newest entry first; entries listed at the same moment by id, descending.
    expected.sort(key=lambda pair: (pair[0], pair[1]["id"]), reverse=True)
    assert library(app) == [entry for _, entry in expected]


def expected_points(app: Minqing) -> Counter[tuple[str, str, str, str]]:
    """The credited work recounted: visits, raises and attendance from the events, and an
    on-time point for each concern resolved on time now (a reopened round gave it back)."""
    counts: Counter[tuple[str, str, str, str]] = Counter()
    for n in log(app):
        kind = n.topic.rpartition(":")[2]
        if kind not in ("Visit.Recorded", "Concern.Raised", "Meeting.Opened"):
            continue
        e: Any = app.mapper.to_domain_event(n)
        if kind == "Visit.Recorded":
            counts["principal", e.actor_id, "visit", e.visited_on.isoformat()] += 1
        elif kind == "Concern.Raised":
            # A voided concern's collected point was taken back.
            if app.get_concern(e.originator_id).status != "voided":
                counts["principal", e.actor_id, "concern_collected", e.at.date().isoformat()] += 1
        else:
            for member in set(e.present):
                counts["member", str(member), "meeting_attended", e.at.date().isoformat()] += 1
    for concern_id in concern_ids(app):
        c = app.get_concern(concern_id)
        resolutions = [e for e in events_of(app, concern_id) if type(e).__name__ == "Resolved"]
        if c.status == "resolved" and resolutions[-1].on_time:
            assert c.owner is not None
            assert c.resolved_at is not None
            day = c.resolved_at.date().isoformat()
            counts["member", str(c.owner), "resolved_on_time", day] += 1
    return counts


def counted_points(app: Minqing) -> Counter[tuple[str, str, str, str]]:
    return Counter(
        {
            (r["subject_kind"], r["subject"], r["kind"], r["day"]): int(r["count"])
            for r in rows(app, POINTS, "subject_kind, subject, kind, day")
        }
    )


def both_tables(app: Minqing) -> list[list[dict[str, Any]]]:
    return [rows(app, ACHIEVEMENTS, "id"), rows(app, POINTS, "subject_kind, subject, kind, day")]


# -- random histories -----------------------------------------------------------------------


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=steps)
def test_the_library_and_the_points_equal_a_recomputation_after_random_histories(
    office: Office,
    history: list[tuple[str, int, bool]],
) -> None:
    # The examples share one database, as in test_projections: the projections must match
    # the whole log, fed in small batches in the middle of the history too.
    runner = ProjectionRunner(office.app, all_projections(), batch_size=7, rebuild_batch_size=7)
    play(office, history, runner, first_pick=1)  # a suggestion, so adoptions come up often

    assert_library_is_the_recomputation(office.app)
    assert counted_points(office.app) == expected_points(office.app)

    before = both_tables(office.app)
    runner.rebuild("achievements")
    runner.rebuild("member_points")
    assert both_tables(office.app) == before


# -- the library's rules, one by one -------------------------------------------------------


def resolved_on_time(office: Office, library: Library = Library.PROBLEM) -> UUID:
    """A concern handled at once by the first member and resolved the next day."""
    app = office.app
    cid = UUID(app.raise_concern(BOSS, draft(title="路灯不亮", library=library)).id)
    app.handle_now(cid, BOSS, office.members[0], DutyRole.ENVIRONMENT_MONITOR, office.due(5))
    office.clock.now += timedelta(days=1)
    app.resolve(cid, BOSS, "更换了6盏路灯")
    return cid


def caught_up(app: Minqing) -> ProjectionRunner:
    runner = ProjectionRunner(app, all_projections())
    runner.catch_up()
    return runner


def on_time_points(office: Office) -> int:
    found = points_of(office.app.db, office.members[0], WEIGHTS, Period())
    return int(next(i["count"] for i in found["items"] if i["kind"] == "resolved_on_time"))


def test_a_reopened_concern_leaves_the_library_and_gives_its_on_time_point_back(
    office: Office,
) -> None:
    cid = resolved_on_time(office)
    caught_up(office.app)
    [entry] = library(office.app)
    assert (entry["id"], entry["stage"], entry["round"]) == (str(cid), "resolved", 1)
    assert (entry["days_taken"], entry["on_time"], entry["satisfaction"]) == (1, True, None)
    assert on_time_points(office) == 1

    # The resident is dissatisfied: the concern reopens at once.
    office.app.record_feedback(cid, BOSS, True, Satisfaction.DISSATISFIED)
    caught_up(office.app)
    assert library(office.app) == []
    assert on_time_points(office) == 0

    # Resolved again, after the due date this time: back in the library, late, no point.
    office.clock.now += timedelta(days=10)
    office.app.resolve(cid, BOSS, "重新更换了灯具")
    office.app.record_feedback(cid, BOSS, True, Satisfaction.BASICALLY_SATISFIED)
    caught_up(office.app)
    [entry] = library(office.app)
    assert (entry["round"], entry["summary"], entry["on_time"]) == (2, "重新更换了灯具", False)
    assert (entry["days_taken"], entry["solved"], entry["satisfaction"]) == (
        11,
        True,
        "basically_satisfied",
    )
    assert on_time_points(office) == 0
    assert_library_is_the_recomputation(office.app)


def test_an_adopted_suggestion_is_listed_from_its_adoption_until_its_adoption_ends(
    office: Office,
) -> None:
    app = office.app
    adopted, problem = (
        UUID(app.raise_concern(BOSS, draft(title=t, library=lib)).id)
        for t, lib in (("增设电动车充电桩", Library.SUGGESTION), ("楼道堆物", Library.PROBLEM))
    )
    for cid in (adopted, problem):
        app.refer(cid, BOSS)
        office.meeting(cid, [Choice.FOR, Choice.FOR])
    caught_up(app)
    # Only the suggestion enters at adoption; nobody is named yet.
    [entry] = library(app)
    assert (entry["id"], entry["stage"], entry["duty_role"]) == (str(adopted), "adopted", None)
    assert entry["adopted_on"] == office.clock.now.date().isoformat()
    assert (entry["summary"], entry["resolved_on"], entry["days_taken"]) == (None, None, None)

    app.assign(adopted, office.chair, office.members[1], DutyRole.PROJECT_COORDINATOR, office.due())
    app.resolve(adopted, BOSS, "已在3号楼旁增设10个充电桩")
    caught_up(app)
    [entry] = library(app)
    assert (entry["stage"], entry["duty_role"]) == ("resolved", "project_coordinator")

    # Reopened, the suggestion stays in as adopted: only its carrying out is redone.
    app.reopen(adopted, BOSS, "充电桩无法使用")
    caught_up(app)
    [entry] = library(app)
    assert (entry["stage"], entry["round"], entry["summary"]) == ("adopted", 2, None)

    # Sent back and declined by the committee, the adoption no longer stands.
    owner = office.owner_principal(adopted)
    app.send_back(adopted, owner, "需要街道协调")
    caught_up(app)
    assert [e["stage"] for e in library(app)] == ["adopted"]
    app.decline(adopted, BOSS, "街道已统一规划")
    caught_up(app)
    assert library(app) == []
    assert_library_is_the_recomputation(app)


def test_a_later_meeting_that_defers_an_adopted_suggestion_takes_it_out(
    office: Office,
) -> None:
    app = office.app
    cid = UUID(app.raise_concern(BOSS, draft(library=Library.SUGGESTION)).id)
    app.refer(cid, BOSS)
    office.meeting(cid, [Choice.FOR, Choice.FOR])
    app.assign(cid, office.chair, office.members[0], DutyRole.MEDIATOR, office.due())
    app.send_back(cid, office.owner_principal(cid), "需要重新议定")
    caught_up(app)
    assert [e["stage"] for e in library(app)] == ["adopted"]

    office.meeting(cid, [Choice.FOR, Choice.ABSTAIN])  # no majority: deferred
    caught_up(app)
    assert library(app) == []

    office.meeting(cid, [Choice.FOR, Choice.FOR])
    caught_up(app)
    assert [e["stage"] for e in library(app)] == ["adopted"]
    assert_library_is_the_recomputation(app)


def test_filters_narrow_the_library_by_category_grid_and_resolved_date(
    office: Office,
) -> None:
    first = resolved_on_time(office)
    resolved_first = office.clock.now.date()
    office.clock.now += timedelta(days=3)
    second = resolved_on_time(office)
    caught_up(office.app)

    def ids(**filters: Any) -> list[str]:
        return [e["id"] for e in library(office.app, AchievementQuery(**filters))]

    assert ids() == [str(second), str(first)]
    assert ids(until=resolved_first) == [str(first)]
    assert ids(since=resolved_first + timedelta(days=1)) == [str(second)]
    assert ids(since=resolved_first, until=resolved_first) == [str(first)]
    assert ids(categories=["environment"], grids=["2"]) == [str(second), str(first)]
    assert ids(categories=["dispute"]) == []
    assert ids(grids=["3"]) == []
    assert ids(scope=frozenset({"3"})) == []


def test_the_library_table_holds_nothing_personal(office: Office) -> None:
    cid = resolved_on_time(office)
    office.app.record_feedback(cid, BOSS, True, Satisfaction.SATISFIED)
    caught_up(office.app)

    stored = " ".join(str(v) for row in rows(office.app, ACHIEVEMENTS, "id") for v in row.values())
    concern = office.app.get_concern(cid)
    for secret in (
        RESIDENT.name,
        RESIDENT.phone,
        RESIDENT.address,
        concern.tracking_code,
        concern.resident_ref,
        str(concern.owner),
    ):
        assert secret
        assert secret not in stored


# -- points -----------------------------------------------------------------------------------


def test_points_are_credited_to_the_member_a_principal_is_linked_to_when_read(
    office: Office,
) -> None:
    app = office.app
    member = office.members[0]
    collector = app.accounts.add("王芳", [Role.COLLECTOR, Role.STAFF], ["2"])
    start = office.clock.now.date()
    for household in ("5号楼201室", "5号楼301室"):
        app.record_visit(collector, NewVisit(grid="2", household=household, visited_on=start))
    app.raise_concern(collector, draft())
    office.clock.now += timedelta(days=2)
    resolved_on_time(office)  # raised by BOSS, owned and resolved by the member
    caught_up(app)

    def counts(period: Period = Period()) -> dict[str, int]:  # noqa: B008 - frozen
        found = points_of(app.db, member, WEIGHTS, period)
        assert found["total"] == sum(
            i["count"] * WEIGHTS[PointKind(i["kind"])] for i in found["items"]
        )
        # No supervision card in this history: only the four kinds of work earn anything.
        cards = {i["kind"]: i["count"] for i in found["items"][4:]}
        assert cards == {"yellow_card": 0, "red_card": 0}
        return {i["kind"]: i["count"] for i in found["items"][:4]}

    # The principal is linked to no member yet: their work credits nobody.
    assert counts() == {
        "visit": 0,
        "concern_collected": 0,
        "meeting_attended": 0,
        "resolved_on_time": 1,
    }
    # Linked later, their earlier work is theirs.
    app.db.execute(
        "UPDATE minqing_principals SET member_id = ? WHERE id = ?", (str(member), collector.id)
    )
    assert counts() == {
        "visit": 2,
        "concern_collected": 1,
        "meeting_attended": 0,
        "resolved_on_time": 1,
    }
    found = points_of(app.db, member, WEIGHTS, Period())
    assert found["total"] == 2 * 5 + 1 * 7 + 1 * 13
    assert [i["weight"] for i in found["items"]] == [5, 7, 11, 13, -5, -10]
    assert counts(Period(until=start))["resolved_on_time"] == 0
    assert counts(Period(since=start + timedelta(days=1)))["visit"] == 0
    assert counts(Period(since=date(2000, 1, 1), until=start)) == {
        "visit": 2,
        "concern_collected": 1,
        "meeting_attended": 0,
        "resolved_on_time": 0,
    }


def test_meeting_attendance_counts_once_per_member_present(office: Office) -> None:
    app = office.app
    cid = UUID(app.raise_concern(BOSS, draft()).id)
    app.refer(cid, BOSS)
    office.meeting(cid, [Choice.FOR, Choice.FOR])
    caught_up(app)
    for member in office.members:
        found = points_of(app.db, member, WEIGHTS, Period())
        assert found["total"] == 11
    assert counted_points(app) == expected_points(app)
