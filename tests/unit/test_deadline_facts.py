"""DeadlineMissed and FeedbackOverdue: facts recorded once, changing no status."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from domain.concern import Assignment, Concern
from domain.errors import Invalid
from domain.principal import Actor
from domain.vocabulary import DutyRole, Role, Satisfaction
from tests.unit.builders import AT, COMMITTEE, DUE, LI_QIANG, OWNER, SHANGHAI, STAFF, new_concern

WATCHER = Actor("system:deadline-watcher", Role.SYSTEM)


def _on(day: date) -> datetime:
    return datetime.combine(day, time(9), tzinfo=SHANGHAI)


def _assigned() -> Concern:
    concern = new_concern()
    concern.refer(STAFF, None, AT)
    concern.assign(COMMITTEE, Assignment(LI_QIANG, DutyRole.PROJECT_COORDINATOR, DUE), None, AT)
    return concern


def test_a_passed_due_date_is_recorded_once_and_the_status_stays_assigned() -> None:
    concern = _assigned()
    day_after = _on(DUE + timedelta(days=1))

    assert concern.deadline_missed_on(DUE) is None  # due today is not yet missed
    assert concern.deadline_missed_on(day_after.date()) == DUE
    concern.note_deadline_missed(WATCHER, day_after)

    assert concern.status == "assigned"
    assert concern.missed_due_dates == [DUE]
    assert concern.deadline_missed_on(day_after.date() + timedelta(days=5)) is None
    with pytest.raises(Invalid):
        concern.note_deadline_missed(WATCHER, day_after)


def test_an_extended_due_date_can_be_missed_again() -> None:
    concern = _assigned()
    concern.note_deadline_missed(WATCHER, _on(DUE + timedelta(days=1)))
    later = DUE + timedelta(days=10)
    concern.extend_deadline(COMMITTEE, later, "灯具到货推迟", _on(DUE + timedelta(days=1)))

    concern.note_deadline_missed(WATCHER, _on(later + timedelta(days=1)))

    assert concern.missed_due_dates == [DUE, later]


def test_feedback_overdue_is_recorded_once_per_round_after_the_window() -> None:
    concern = _assigned()
    concern.resolve(OWNER, "更换了6盏路灯", _on(DUE - timedelta(days=2)))
    resolved_at = concern.resolved_at
    assert resolved_at is not None

    assert concern.feedback_overdue_since(resolved_at + timedelta(days=6), 7) is None
    overdue = resolved_at + timedelta(days=7)
    assert concern.feedback_overdue_since(overdue, 7) == overdue
    concern.note_feedback_overdue(WATCHER, 7, overdue)

    assert concern.status == "resolved"
    assert concern.feedback_overdue_since(overdue + timedelta(days=30), 7) is None
    with pytest.raises(Invalid):
        concern.note_feedback_overdue(WATCHER, 7, overdue)


def test_no_feedback_overdue_once_the_resident_answered() -> None:
    concern = _assigned()
    concern.resolve(OWNER, "更换了6盏路灯", _on(DUE - timedelta(days=2)))
    concern.record_feedback(STAFF, True, Satisfaction.SATISFIED, None, _on(DUE))

    assert concern.feedback_overdue_since(_on(DUE + timedelta(days=60)), 7) is None
