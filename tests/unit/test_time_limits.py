"""Time limits per stage (domain/time_limits.py) and the stage every open concern shows, on
the in-memory store: the colours at 79 %, 80 %, 100 % and past; the most specific row; a
due date a person gave standing; the table changed by an admin only, as an event."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest

from domain.errors import Forbidden, Invalid
from domain.time_limits import (
    DEFAULT_LIMITS,
    Colour,
    Limit,
    Mode,
    Stage,
    Thresholds,
    limit_for,
    parse_limits,
)
from domain.vocabulary import DutyRole, Satisfaction
from domain.work_calendar import Unit
from tests.unit.verbs_support import ADMIN, STAFF, Office, open_office

ZONE = ZoneInfo("Asia/Shanghai")


def at(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=ZONE)


@pytest.mark.parametrize(
    ("percent", "past", "colour"),
    [
        (79.9, False, Colour.GREEN),
        (80, False, Colour.YELLOW),
        (100, False, Colour.YELLOW),
        (100, True, Colour.RED),  # a night after a working-hours deadline: none used
        (100.1, True, Colour.RED),
    ],
)
def test_colours(percent: float, past: bool, colour: Colour) -> None:
    assert Thresholds().colour(percent, past_deadline=past) == colour


def test_the_most_specific_row_wins() -> None:
    rows = [
        Limit(Stage.HANDLING, 10, Unit.WORKING_DAYS),
        Limit(Stage.HANDLING, 15, Unit.WORKING_DAYS, library="hardship"),
        Limit(Stage.HANDLING, 3, Unit.URGENT_HOURS, category="dispute", library="hardship"),
    ]
    assert limit_for(rows, Stage.HANDLING, "environment", "problem", None) == rows[0]
    assert limit_for(rows, Stage.HANDLING, "environment", "hardship", None) == rows[1]
    assert limit_for(rows, Stage.HANDLING, "dispute", "hardship", None) == rows[2]
    assert limit_for(rows, Stage.TRIAGE, "dispute", "hardship", None) is None
    handled_now = limit_for(DEFAULT_LIMITS, Stage.HANDLING, "dispute", "problem", "handle_now")
    assert handled_now is not None
    assert handled_now.mode == Mode.HANDLE_NOW.value


def test_a_table_needs_every_stage_and_known_words() -> None:
    with pytest.raises(Invalid) as refused:
        parse_limits([{"stage": "triage", "amount": 1, "unit": "working_days"}])
    assert ("limits", "needs a row for the stage committee for any concern") in refused.value.fields
    with pytest.raises(Invalid) as refused:
        parse_limits([{"stage": "triage", "amount": 0, "unit": "working_days"}])
    assert refused.value.fields[0][0] == "limits[0].amount"


def _stage(office: Office, concern: UUID) -> dict[str, object]:
    stage = office.app.stage_of(office.app.get_concern(concern))
    assert stage is not None
    return stage


def test_the_triage_stage_counts_working_time_and_changes_colour() -> None:
    office = open_office()
    app = office.app
    office.clock.now = at(3, 6, 10)  # a Friday
    concern = office.raise_concern()
    # One working day: Monday 9 March, 10:00.
    stage = _stage(office, concern)
    assert stage["name"] == "triage"
    assert stage["deadline"] == at(3, 9, 10).isoformat()
    assert stage["colour"] == "green"
    assert stage["suspended"] is False
    office.clock.now = at(3, 9, 8, 24)  # 2 + 4 hours on Friday, 0.4 on Monday: 6.4 of 8
    assert _stage(office, concern)["used_percent"] == 80
    assert _stage(office, concern)["colour"] == "yellow"
    office.clock.now = at(3, 9, 8, 23)
    assert _stage(office, concern)["used_percent"] == 79
    assert _stage(office, concern)["colour"] == "green"
    office.clock.now = at(3, 9, 10)
    assert _stage(office, concern)["used_percent"] == 100
    assert _stage(office, concern)["colour"] == "yellow"
    office.clock.now = at(3, 9, 10, 1)
    assert _stage(office, concern)["colour"] == "red"
    # Referred: the committee's clock starts, five working days.
    app.refer(concern, STAFF)
    stage = _stage(office, concern)
    assert stage["name"] == "committee"
    assert stage["started_at"] == at(3, 9, 10, 1).isoformat()
    assert stage["deadline"] == at(3, 16, 10, 1).isoformat()
    assert stage["colour"] == "green"


def test_a_due_date_given_stands_and_feedback_has_its_own_clock() -> None:
    office = open_office()
    app = office.app
    office.clock.now = at(3, 2, 10)
    concern = office.raise_concern()
    app.handle_now(concern, STAFF, office.owner, DutyRole.MEDIATOR, date(2026, 3, 4))
    stage = _stage(office, concern)
    assert stage["name"] == "handling"
    assert stage["deadline"] == at(3, 5).isoformat()  # the end of the due date
    office.clock.now = at(3, 4, 20)
    assert _stage(office, concern)["colour"] == "yellow"
    office.clock.now = at(3, 5, 0, 1)
    assert _stage(office, concern)["colour"] == "red"
    app.resolve(concern, STAFF, "已修好")
    stage = _stage(office, concern)
    assert stage["name"] == "feedback"
    assert stage["colour"] == "green"
    office.clock.now += timedelta(days=1)
    app.record_feedback(concern, STAFF, True, Satisfaction.SATISFIED)
    assert app.stage_of(app.get_concern(concern)) is None  # closed: no clock


def test_the_table_is_changed_by_an_admin_as_an_event() -> None:
    office = open_office()
    app = office.app
    assert app.time_limit_table().version == 1  # the defaults, not stored
    rows = [
        {"stage": s, "amount": 2, "unit": "natural_days"}
        for s in ("triage", "committee", "handling", "feedback")
    ]
    with pytest.raises(Forbidden):
        app.set_time_limits(STAFF, rows, 80, 100)
    with pytest.raises(Invalid):
        app.set_time_limits(ADMIN, rows, 100, 80)
    app.set_time_limits(ADMIN, rows, 70, 100)
    table = app.time_limit_table()
    assert table.version == 2
    assert table.yellow == 70
    office.clock.now = at(3, 2, 10)
    concern = office.raise_concern()
    assert _stage(office, concern)["deadline"] == at(3, 4, 10).isoformat()
