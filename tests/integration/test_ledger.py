"""The ledger (台账) on both stores: the worked story's March ledger is exactly domain.md's,
the ledger's rows equal a fold of the events after random histories (visits included), its
tallies equal a recount from the aggregates, and a rebuild equals the incremental rows."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings

from api.demo import load_demo
from application.minqing import Minqing
from domain.concern import Concern
from domain.lifecycle import Status
from domain.visit import Visit
from projections.concerns import utc_text
from projections.ledger import (
    CONCERNS,
    VISITS,
    Cell,
    Selection,
    open_figure,
    read_ledger,
)
from projections.ledger_figures import Clock
from projections.registry import all_projections
from projections.runner import ProjectionRunner
from tests.integration.test_projections import (
    Office,
    concern_ids,
    log,
    open_office,
    play,
    rows,
    steps,
)

ZONE = ZoneInfo("Asia/Shanghai")
# The ledger is read at the end of April 2026, once the story has run its course.
END_OF_APRIL = Clock(datetime(2026, 4, 30, 18, 0, tzinfo=ZONE), ZONE)
MARCH = Selection(date(2026, 3, 1), date(2026, 3, 31))


@pytest.fixture
def office(database_url: str, master_key: bytes) -> Iterator[Office]:
    yield from open_office(database_url, master_key)


@pytest.fixture
def story(minqing: Minqing) -> Minqing:
    """The worked story of domain.md, as `minqing demo` plays it, projected."""
    list(load_demo(minqing))
    ProjectionRunner(minqing, all_projections()).catch_up()
    return minqing


def row_of(ledger: dict[str, Any], **keys: str | None) -> dict[str, Any]:
    found = [r for r in ledger["rows"] if all(r[k] == v for k, v in keys.items())]
    assert len(found) == 1, (keys, [{k: r[k] for k in keys} for r in ledger["rows"]])
    figures: dict[str, Any] = found[0]["figures"]
    return figures


def rate(numerator: int, denominator: int) -> dict[str, Any]:
    value = numerator / denominator
    return {
        "value": round(value, 4),
        "percent": round(value * 100, 1),
        "numerator": numerator,
        "denominator": denominator,
    }


# -- the worked story ------------------------------------------------------------------------


def test_the_march_ledger_of_the_worked_story_is_the_one_domain_md_gives(story: Minqing) -> None:
    ledger = read_ledger(story.db, MARCH, ("month", "grid", "category"), END_OF_APRIL)

    streetlights = row_of(ledger, month="2026-03", grid="2", category="environment")
    # "the March ledger counts one concern collected, one discussed, one resolved on time"
    assert {k: streetlights[k] for k in COUNTS} == {
        "concerns_collected": 1,
        "referred": 1,
        "discussed": 1,
        "adopted": 1,
        "assigned": 1,
        "resolved": 1,
        "resolved_on_time": 1,
        "due": 1,
        "declined": 0,
        "feedback_given": 1,
        "satisfied": 1,
        "reopened": 0,
        "extended": 0,
        "people_helped": 0,
    }
    # 3 March → 8 April: 36 days; "satisfied" on 12 April.
    assert streetlights["median_days_to_resolve"] == 36
    assert streetlights["satisfaction_rate"] == {
        **rate(1, 1),
        "split": {"satisfied": 1, "basically_satisfied": 0, "dissatisfied": 0},
    }
    assert streetlights["on_time_closure_rate"] == rate(1, 1)
    assert streetlights["resolution_rate"] == rate(1, 1)
    # Assigned at the meeting of 25 March, first progress on 2 April: not within 2 days.
    assert streetlights["response_rate"] == rate(0, 1)
    assert streetlights["rework_rate"] == rate(0, 1)
    assert streetlights["visits"] is None  # visits have no category: a row of their own

    visits = row_of(ledger, month="2026-03", grid="2", category=None)
    assert (visits["visits"], visits["households_visited"], visits["priority_visits"]) == (1, 1, 0)
    assert visits["concerns_collected"] is None

    corridor = row_of(ledger, month="2026-03", grid="2", category="dispute")
    assert (corridor["discussed"], corridor["adopted"], corridor["resolved"]) == (1, 1, 0)
    assert corridor["response_rate"] == rate(0, 1)  # nothing recorded since 25 March
    assert corridor["due"] == 1  # due 15 April, passed by the end of April
    assert corridor["on_time_closure_rate"] == rate(0, 1)
    assert corridor["satisfaction_rate"]["value"] is None  # no feedback: null, not 0


def test_the_march_ledger_by_month_counts_the_whole_story_in_march(story: Minqing) -> None:
    ledger = read_ledger(story.db, MARCH, ("month",), END_OF_APRIL)

    (march,) = ledger["rows"]
    assert march["month"] == "2026-03"
    figures = march["figures"]
    assert figures["concerns_collected"] == 3  # streetlights, corridor, pension inquiry
    assert figures["discussed"] == 2
    assert figures["resolved"] == 2
    assert figures["resolved_on_time"] == 2
    assert figures["median_days_to_resolve"] == statistics.median([36, 1])
    assert figures["visits"] == 1
    # The pension inquiry was resolved the day after it was handled on receipt.
    assert figures["response_rate"] == rate(1, 3)
    assert ledger["totals"]["figures"] == figures


def test_the_april_ledger_counts_nothing_resolved_in_april(story: Minqing) -> None:
    april = Selection(date(2026, 4, 1), date(2026, 4, 30))

    ledger = read_ledger(story.db, april, ("month", "grid", "category"), END_OF_APRIL)

    assert ledger["rows"] == []
    totals = ledger["totals"]["figures"]
    assert (totals["concerns_collected"], totals["resolved"], totals["visits"]) == (0, 0, 0)
    assert totals["satisfaction_rate"]["value"] is None


def test_the_resolved_on_time_cell_opens_into_the_streetlight_concern(story: Minqing) -> None:
    cell = Cell("2026-03", "2", "environment")

    opened = open_figure(story.db, "resolved_on_time", "concerns", MARCH, cell, END_OF_APRIL)

    assert [i["reference"] for i in opened["items"]] == ["MQ-2026-000001"]
    (item,) = opened["items"]
    assert item["days_to_resolve"] == 36
    assert item["satisfaction"] == "satisfied"
    assert opened["count"] == 1
    visits = open_figure(story.db, "households_visited", "visits", MARCH, Cell(), END_OF_APRIL)
    assert [v["grid"] for v in visits["items"]] == ["2"]
    assert visits["items"][0]["concern_count"] == 1


def test_the_response_window_is_read_from_the_clock_given(story: Minqing) -> None:
    # With a 10-day window, progress 8 days after the meeting counts as a response.
    wide = Clock(END_OF_APRIL.now, ZONE, END_OF_APRIL.response_window * 5)

    ledger = read_ledger(story.db, MARCH, ("category",), wide)

    assert row_of(ledger, category="environment")["response_rate"] == rate(1, 1)


# -- the fold --------------------------------------------------------------------------------


def _times(events: list[dict[str, Any]], *types: str) -> list[str]:
    return [utc_text(datetime.fromisoformat(e["at"])) for e in events if e["type"] in types]


def _first(events: list[dict[str, Any]], *types: str) -> str | None:
    return next(iter(_times(events, *types)), None)


def folded_concern(app: Minqing, concern_id: UUID) -> dict[str, Any]:
    """The ledger row recomputed from the aggregate and its events."""
    c: Concern = app.get_concern(concern_id)
    events = app.history(concern_id)
    assigned_at = _first(events, "HandledNow", "Assigned")
    actions = _times(events, "ProgressRecorded", "Resolved", "SentBack")
    latest = c.feedback[-1] if c.feedback else None
    return {
        "id": str(c.id),
        "reference": c.reference,
        "title": c.title,
        "status": c.status,
        "category": c.category,
        "library": c.library,
        "grid": c.grid,
        "raised_at": utc_text(c.raised_at),
        "referred_at": _first(events, "Referred"),
        "shortlisted_at": _first(events, "Shortlisted"),
        "adopted_at": _first(events, "AdoptedAtMeeting"),
        "assigned_at": assigned_at,
        "first_action_at": min(actions) if actions else None,
        "due_on": c.due_on.isoformat() if c.due_on else None,
        "resolved_at": utc_text(c.resolved_at) if c.resolved_at else None,
        "resolved_on_time": (
            int(c.due_on is None or c.resolved_at.date() <= c.due_on) if c.resolved_at else None
        ),
        "resolutions": len(_times(events, "Resolved")),
        "decline_reason": c.reason if c.status == Status.DECLINED.value else None,
        "feedback_count": len(c.feedback),
        "solved": int(latest["solved"]) if latest else None,
        "satisfaction": latest["satisfaction"] if latest else None,
        "reopened_count": c.round - 1,
        "extended_count": sum(1 for d in c.due_history if d["reason"] is not None),
        "version": c.version,
        "position": app.db.position_of(str(c.id), c.version),
        # A merged concern's residents count with the concern it was merged into.
        "residents": 0 if c.status == Status.MERGED.value else c.residents_count,
        "suspended_count": len(_times(events, "SuspensionApproved")),
        "overdue_stages": ",".join(sorted(c.overdue_stages())) or None,
        "exempt_stages": ",".join(sorted(c.exempt_stages())) or None,
    }


def visit_ids(app: Minqing) -> list[UUID]:
    return [UUID(str(n.originator_id)) for n in log(app) if n.topic.endswith(":Visit.Recorded")]


def folded_visit(app: Minqing, visit_id: UUID) -> dict[str, Any]:
    v: Visit = app.get_visit(visit_id)
    return {
        "id": str(v.id),
        "grid": v.grid,
        # Keyed with the service's secret; the household itself is read from its seal.
        "household_key": app.keyring.household_key(v.grid, app.household_of(v) or ""),
        "visited_on": v.visited_on.isoformat(),
        "priority_visit": v.priority_visit,
        "recorded_by": v.recorded_by,
        "recorded_at": utc_text(v.recorded_at),
        "concern_count": len(v.concern_ids),
        "position": app.db.position_of(str(v.id), v.version),
    }


def assert_ledger_is_the_fold(app: Minqing) -> None:
    concerns = {r["id"]: r for r in rows(app, CONCERNS, "id")}
    assert concerns == {str(i): folded_concern(app, i) for i in concern_ids(app)}
    visits = {r["id"]: r for r in rows(app, VISITS, "id")}
    assert visits == {str(i): folded_visit(app, i) for i in visit_ids(app)}


def assert_totals_recount_the_aggregates(app: Minqing, clock: Clock) -> None:
    """Totals and per-grid figures against a count made straight from the aggregates."""
    ledger = read_ledger(app.db, Selection(), ("grid",), clock)
    concerns = [app.get_concern(i) for i in concern_ids(app)]
    visits = [app.get_visit(i) for i in visit_ids(app)]
    for grid in {c.grid for c in concerns} | {v.grid for v in visits}:
        filed = [c for c in concerns if c.grid == grid]
        # A voided concern counts in `filed` and `voided` only.
        mine = [c for c in filed if c.status != Status.VOIDED.value]
        walked = [v for v in visits if v.grid == grid]
        statuses = Counter(c.status for c in mine)
        answered = [c.feedback[-1] for c in mine if c.feedback]
        expected = {
            "filed": len(filed),
            "voided": len(filed) - len(mine),
            "concerns_collected": len(mine),
            "resolved": statuses[Status.RESOLVED.value],
            "declined": statuses[Status.DECLINED.value],
            "feedback_given": len(answered),
            "solved": sum(1 for f in answered if f["solved"]),
            "satisfied": sum(1 for f in answered if f["satisfaction"] == "satisfied"),
            "reopened": sum(1 for c in mine if c.round > 1),
            "visits": len(walked),
            "households_visited": len(
                {(app.household_of(v) or "").replace(" ", "") for v in walked}
            ),
            "priority_visits": sum(1 for v in walked if v.priority_visit),
        }
        figures = row_of(ledger, grid=grid)
        assert {k: figures[k] for k in expected} == expected, grid
    totals = ledger["totals"]["figures"]
    assert totals["filed"] == len(concerns)
    live = [c for c in concerns if c.status != Status.VOIDED.value]
    assert totals["concerns_collected"] == len(live)
    assert totals["visits"] == len(visits)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=steps)
def test_the_ledger_equals_a_fold_of_the_events_after_random_histories(
    office: Office, history: list[tuple[str, int, bool]]
) -> None:
    # As in test_projections: the examples share one database and grow its log.
    runner = ProjectionRunner(office.app, all_projections(), batch_size=7, rebuild_batch_size=7)
    play(office, history, runner)

    assert_ledger_is_the_fold(office.app)
    assert_totals_recount_the_aggregates(office.app, Clock(office.clock.now, ZONE))

    incremental = [rows(office.app, t, "id") for t in (CONCERNS, VISITS)]
    runner.rebuild("ledger")
    assert [rows(office.app, t, "id") for t in (CONCERNS, VISITS)] == incremental


COUNTS = (
    "concerns_collected",
    "referred",
    "discussed",
    "adopted",
    "assigned",
    "resolved",
    "resolved_on_time",
    "due",
    "declined",
    "feedback_given",
    "satisfied",
    "reopened",
    "extended",
    "people_helped",
)
