"""Scorecards (考核记分卡) on both stores after random histories (supervision cards, appeals
and a second collector among them): every owner's, grid's and collector's scorecard equals
one recomputed by hand from the concerns' events, and a rebuild equals the incremental rows."""

from __future__ import annotations

import contextlib
import statistics
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from application.minqing import Minqing
from domain.errors import DomainError
from domain.principal import Principal
from domain.scorecard_rules import ScoreRules
from domain.supervision import Grade
from domain.vocabulary import Role
from projections.registry import all_projections
from projections.runner import ProjectionRunner
from projections.scorecard_figures import Subject, read_scorecards
from projections.scorecards import TABLE
from tests.integration.support import STAFF, draft
from tests.integration.test_projections import (
    BOSS,
    Office,
    concern_ids,
    open_office,
    pick_action,
    rows,
    step,
)

SUPERVISOR = Principal(
    id="supervisor-1", name="supervisor", roles=frozenset({Role.SUPERVISOR}), grids=frozenset()
)
EXTRA = ["card", "appeal", "decide", "raise_by_staff"]


@pytest.fixture
def office(database_url: str, master_key: bytes) -> Iterator[Office]:
    yield from open_office(database_url, master_key)


def extra_step(office: Office, action: str, pick: int, flag: bool) -> None:
    """The steps the ledger's histories lack: cards, appeals and their decisions, and a
    concern recorded by another collector."""
    app = office.app
    if action == "raise_by_staff":
        office.concerns.append(UUID(app.raise_concern(STAFF, draft(title="楼道堆物")).id))
        return
    cid = office.concerns[pick % len(office.concerns)]
    if action == "card":
        grade = Grade.RED if flag else Grade.YELLOW
        app.supervise(cid, SUPERVISOR, grade, "三日内回复", office.clock.now.date())
    elif action == "appeal":
        if app.get_concern(cid).status == "assigned":
            # Let the handling stage pass its due date first, then resolve, late.
            office.clock.now += timedelta(days=15)
            app.record_missed_deadlines(cid, feedback_window_days=7)
            app.resolve(cid, BOSS, "已处理")
        stages = app.get_concern(cid).overdue_stages() or ["handling"]
        app.appeal(cid, office.owner_principal(cid), stages[pick % len(stages)], "客观原因")
        if pick % 3:  # decided at once, mostly; else by a later "decide", or never
            app.decide_appeal(cid, SUPERVISOR, flag, "经核实")
    elif action == "decide":
        app.decide_appeal(cid, SUPERVISOR, flag, "经核实")


def play_scored(office: Office, history: list[tuple[str, int, bool]]) -> None:
    office.concerns = office.concerns[:1]
    step(office, "raise", 0, True)
    for mode, pick, flag in history:
        if mode in EXTRA:
            action, run = mode, extra_step
        else:
            action = "raise" if mode == "raise" else pick_action(office, mode, pick)
            run = step
        with contextlib.suppress(DomainError):
            run(office, action, pick, flag)


# -- by hand ---------------------------------------------------------------------------------


def hand_facts(app: Minqing, concern_id: UUID) -> dict[str, Any]:
    """What a scorecard needs of one concern, read off its stored events."""
    events: list[Any] = list(app.events.get(concern_id))
    kinds = [type(e).__name__ for e in events]
    raised = events[0]
    owner = None
    assigned_at = first_action = None
    resolutions = [e for e in events if type(e).__name__ == "Resolved"]
    for e in events:
        kind = type(e).__name__
        if kind in ("HandledNow", "Assigned", "Reassigned"):
            owner = str(e.owner)
            if kind != "Reassigned" and assigned_at is None:
                assigned_at = e.at
        elif kind in ("ProgressRecorded", "Resolved", "SentBack") and assigned_at:
            first_action = first_action or e.at
    answers = [e for e in events if type(e).__name__ == "FeedbackRecorded"]
    missed = {e.stage for e in events if type(e).__name__ == "StageMissed"}
    exempt = {e.stage for e in events if type(e).__name__ == "AppealDecided" and e.approved}
    late = missed & {"triage", "committee"}
    if resolutions and not resolutions[-1].on_time:
        late.add("handling")
    grades = [e.grade for e in events if type(e).__name__ == "SupervisionCardIssued"]
    return {
        "reference": raised.reference,
        "grid": raised.grid,
        "collector": raised.actor_id,
        "owner": owner,
        "resolved": bool(resolutions),
        "on_time": bool(resolutions) and late <= exempt,
        "reopened": "Reopened" in kinds,
        # Voided (作废): left out of every figure.
        "voided": "VoidApproved" in kinds,
        "extended": "DeadlineExtended" in kinds,
        "assigned": assigned_at is not None,
        "feedback": bool(answers),
        "satisfied": bool(answers)
        and answers[-1].satisfaction in ("satisfied", "basically_satisfied"),
        "span": (assigned_at, first_action) if first_action else None,
        "yellow": grades.count("yellow"),
        "red": grades.count("red"),
    }


def hand_rate(mine: list[dict[str, Any]], top: str, bottom: str) -> tuple[int, int]:
    under = [c for c in mine if c[bottom]]
    return sum(1 for c in under if c[top]), len(under)


def hand_card(app: Minqing, mine: list[dict[str, Any]]) -> dict[str, Any]:
    rates = {
        "on_time_closure": hand_rate(mine, "on_time", "resolved"),
        "rework": hand_rate(mine, "reopened", "resolved"),
        "extension": hand_rate(mine, "extended", "assigned"),
        "satisfaction": hand_rate(mine, "satisfied", "feedback"),
    }
    # The default weights, written out: on time 50, rework 20 and extension 10 inverted,
    # satisfaction 20; components without a denominator are left out.
    parts = {
        "on_time_closure": (50, False),
        "rework": (20, True),
        "extension": (10, True),
        "satisfaction": (20, False),
    }
    got = [
        (w, 1 - rates[n][0] / rates[n][1] if inverted else rates[n][0] / rates[n][1])
        for n, (w, inverted) in parts.items()
        if rates[n][1]
    ]
    score = round(100 * sum(w * v for w, v in got) / sum(w for w, _ in got), 1) if got else None
    grade = None
    if score is not None:
        grade = next(
            g for g, b in (("A", 90), ("B", 75), ("C", 60), ("D", 40), ("E", 0)) if score >= b
        )
    calendar = app.work_calendar(2026, 2027)
    spans = [calendar.working_time(*c["span"]) / timedelta(hours=1) for c in mine if c["span"]]
    return {
        "rates": rates,
        "median": round(statistics.median(spans), 2) if spans else None,
        "cards": (sum(c["yellow"] for c in mine), sum(c["red"] for c in mine)),
        "concerns": sorted(c["reference"] for c in mine),
        "score": score,
        "grade": grade,
    }


def shown(card: dict[str, Any]) -> dict[str, Any]:
    f = card["figures"]
    return {
        "rates": {
            n: (f[n]["numerator"], f[n]["denominator"])
            for n in ("on_time_closure", "rework", "extension", "satisfaction")
        },
        "median": f["response"]["median_hours"],
        "cards": (f["yellow_cards"]["count"], f["red_cards"]["count"]),
        "concerns": sorted(f["concerns"]["concerns"]),
        "score": card["score"],
        "grade": card["grade"],
    }


def assert_scorecards_are_the_hand_count(app: Minqing) -> None:
    facts = [hand_facts(app, i) for i in concern_ids(app)]
    calendar = app.work_calendar(2026, 2027)
    for subject in Subject:
        found = read_scorecards(
            app.db, (None, None), frozenset(), subject, ScoreRules.parse(), calendar
        )
        groups: dict[str, list[dict[str, Any]]] = {}
        for c in facts:
            if c[subject.value] is not None and not c["voided"]:
                groups.setdefault(c[subject.value], []).append(c)
        assert sorted(found["voided"]) == sorted(c["reference"] for c in facts if c["voided"])
        expected = {key: hand_card(app, mine) for key, mine in groups.items()}
        assert {c["subject"]: shown(c) for c in found["scorecards"]} == expected, subject


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    history=st.lists(
        st.tuples(
            st.sampled_from(["advance"] * 8 + ["any", "raise", *EXTRA, "card", "appeal"]),
            st.integers(min_value=0, max_value=1000),
            st.booleans(),
        ),
        min_size=15,
        max_size=50,
    )
)
def test_scorecards_equal_a_hand_count_of_the_events_after_random_histories(
    office: Office, history: list[tuple[str, int, bool]]
) -> None:
    runner = ProjectionRunner(office.app, all_projections(), batch_size=7, rebuild_batch_size=7)
    play_scored(office, history)
    runner.catch_up()

    assert_scorecards_are_the_hand_count(office.app)
    # What the histories reached, for --hypothesis-show-statistics.
    made = rows(office.app, TABLE, "id")
    event(f"cards: {any(r['yellow'] or r['red'] for r in made)}")
    event(f"exempt: {any(r['exempt'] for r in made)}")
    event(f"reopened: {any(r['reopened'] for r in made)}")

    incremental = rows(office.app, TABLE, "id")
    runner.rebuild("scorecards")
    assert rows(office.app, TABLE, "id") == incremental


def test_the_period_takes_the_concerns_raised_in_it(office: Office) -> None:
    app = office.app
    step(office, "raise", 0, True)
    office.clock.now += timedelta(days=40)
    step(office, "raise", 1, True)
    ProjectionRunner(app, all_projections()).catch_up()
    calendar = app.work_calendar(2026, 2027)
    first = office.clock.now.date()

    found = read_scorecards(
        app.db, (first, None), frozenset(), Subject.GRID, ScoreRules.parse(), calendar
    )

    assert sum(c["figures"]["concerns"]["count"] for c in found["scorecards"]) == 1
