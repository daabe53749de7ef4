"""Suspension (挂账) on the in-memory store: the owner asks with a reason and an until date
(422 `until` in the past or beyond the maximum), the committee refuses or approves; while
suspended no handling command runs (409 `suspended`), the stage's clock stops and its
deadline moves later; resumed by hand the due date moves by the suspended working time;
approved once per concern (`suspension_used`); the watcher's resumption at the until date
happens once and no automatic card is issued while suspended. And the extension cap as a
setting: a cap of 1 refuses the second approval."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest

from domain.errors import Conflict, Forbidden, Invalid
from domain.vocabulary import DutyRole, Satisfaction
from tests.unit.verbs_support import COMMITTEE, STAFF, Office, open_office

ZONE = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2026, 3, 2, 10, tzinfo=ZONE)


def assigned(office: Office) -> UUID:
    """A concern handled on receipt on Monday 2 March at 10:00, due Thursday 12 March."""
    office.clock.now = MONDAY
    concern = office.raise_concern()
    office.app.handle_now(concern, STAFF, office.owner, DutyRole.MEDIATOR, date(2026, 3, 12))
    return concern


def refused(rule: str, call: object, *args: object) -> None:
    with pytest.raises(Conflict) as exc:
        call(*args)  # type: ignore[operator]
    assert exc.value.rule == rule


def test_request_refuse_approve_resume_and_once() -> None:
    office = open_office()
    app = office.app
    concern = assigned(office)
    owner = office.owner_principal
    with pytest.raises(Forbidden):
        app.request_suspension(concern, STAFF, "等待供电公司", date(2026, 3, 20))
    for until in (date(2026, 3, 2), date(2026, 3, 1), date(2027, 3, 3)):
        with pytest.raises(Invalid) as bad:
            app.request_suspension(concern, owner, "等待供电公司", until)
        assert bad.value.fields[0][0] == "until"
    app.request_suspension(concern, owner, "等待供电公司改线", date(2026, 3, 20))
    refused("pending", app.request_suspension, concern, owner, "再申请", date(2026, 3, 21))
    with pytest.raises(Forbidden):
        app.approve_suspension(concern, STAFF)
    app.refuse_suspension(concern, COMMITTEE, "请先联系供电公司")
    refused("no_request", app.refuse_suspension, concern, COMMITTEE, "再拒绝")
    refused("no_request", app.approve_suspension, concern, COMMITTEE)
    office.clock.now = datetime(2026, 3, 4, 10, tzinfo=ZONE)  # Wednesday
    app.request_suspension(concern, owner, "供电公司排期到下周", date(2026, 3, 20))
    before = app.stage_of(app.get_concern(concern))
    assert before is not None
    assert not before["suspended"]
    app.approve_suspension(concern, COMMITTEE)
    found = app.get_concern(concern)
    assert found.suspended
    assert found.suspension is not None
    assert found.suspension["until"] == date(2026, 3, 20)
    # No handling while suspended, whoever asks.
    refused("suspended", app.record_progress, concern, owner, "联系中")
    refused("suspended", app.resolve, concern, STAFF, "已修好")
    refused("suspended", app.reassign, concern, COMMITTEE, office.voters[0], DutyRole.MEDIATOR, "x")
    refused("suspended", app.request_extension, concern, owner, "再等等")
    refused("suspended", app.extend_deadline, concern, COMMITTEE, date(2026, 3, 30), "延期")
    refused("suspension_used", app.request_suspension, concern, owner, "再挂", date(2026, 3, 25))
    assert app.concern_view(found, COMMITTEE)["allowed_actions"] == []
    # The clock stopped: Wednesday to Monday used no time, the deadline moved three working
    # days later (Friday 13 March 00:00 → Tuesday 17 March 18:00).
    office.clock.now = datetime(2026, 3, 9, 10, tzinfo=ZONE)
    during = app.stage_of(app.get_concern(concern))
    assert during is not None
    assert during["suspended"]
    assert during["used_percent"] == before["used_percent"]
    assert before["deadline"] == "2026-03-13T00:00:00+08:00"
    assert during["deadline"] == "2026-03-17T18:00:00+08:00"
    # Resumed by hand (the owner): the due date moves by the three working days suspended.
    app.resume(concern, owner)
    found = app.get_concern(concern)
    assert not found.suspended
    assert found.due_on == date(2026, 3, 17)
    after = app.stage_of(found)
    assert after is not None
    assert not after["suspended"]
    assert after["used_percent"] == before["used_percent"]
    assert after["deadline"] == "2026-03-18T00:00:00+08:00"
    office.clock.now = datetime(2026, 3, 10, 10, tzinfo=ZONE)
    later = app.stage_of(app.get_concern(concern))
    assert later is not None
    assert later["used_percent"] > before["used_percent"]
    refused("not_suspended", app.resume, concern, COMMITTEE)
    refused("suspension_used", app.request_suspension, concern, owner, "再挂", date(2026, 3, 25))
    app.record_progress(concern, owner, "已联系施工队")
    assert office.events(concern)[-3:] == ["SuspensionApproved", "Resumed", "ProgressRecorded"]


def test_only_an_assigned_open_concern_is_suspended() -> None:
    office = open_office()
    app = office.app
    owner = office.owner_principal
    concern = assigned(office)
    app.resolve(concern, STAFF, "已修好")
    refused("not_assigned", app.request_suspension, concern, owner, "等", date(2026, 3, 20))
    app.record_feedback(concern, STAFF, True, Satisfaction.SATISFIED)
    refused("not_open", app.request_suspension, concern, owner, "等", date(2026, 3, 20))
    # A request still waiting when the work was resolved is not approved afterwards.
    other = assigned(office)
    app.request_suspension(other, owner, "等待资金", date(2026, 3, 20))
    app.resolve(other, STAFF, "已修好")
    refused("not_assigned", app.approve_suspension, other, COMMITTEE)


def test_the_watcher_resumes_once_at_the_until_date_and_issues_no_card() -> None:
    office = open_office(suspension_max_days=30)
    app = office.app
    owner = office.owner_principal
    concern = assigned(office)
    with pytest.raises(Invalid):  # the maximum is a setting: 30 days here
        app.request_suspension(concern, owner, "等待资金", date(2026, 4, 2))
    # Thursday 12 March 10:00: the stage is past its yellow threshold, no card issued yet.
    office.clock.now = datetime(2026, 3, 12, 10, tzinfo=ZONE)
    app.request_suspension(concern, owner, "等待资金", date(2026, 3, 16))
    app.approve_suspension(concern, COMMITTEE)
    stage = app.stage_of(app.get_concern(concern))
    assert stage is not None
    assert stage["colour"] == "yellow"
    assert stage["suspended"]
    assert app.record_cards(concern) == []
    assert app.resume_if_due(concern) == []  # not its until date yet
    office.clock.now = datetime(2026, 3, 16, 9, tzinfo=ZONE)
    assert app.record_missed_deadlines(concern, 7) == []  # due 12 March, but suspended
    assert app.resume_if_due(concern) == ["Resumed"]
    assert app.resume_if_due(concern) == []
    found = app.get_concern(concern)
    assert found.suspension is not None
    assert found.suspension["automatic"] is True
    # It ended at the start of the until date: Thursday 10:00 to Monday 00:00 is 14 working
    # hours, added after the due date's end (Friday, then Monday until 16:00): Monday 16 March.
    assert found.suspension["ended"] == datetime(2026, 3, 16, tzinfo=ZONE)
    assert found.due_on == date(2026, 3, 16)
    assert app.record_cards(concern) == ["yellow_card"]


def test_the_extension_cap_is_a_setting() -> None:
    office = open_office(extension_cap=1)
    app = office.app
    concern = assigned(office)
    app.extend_deadline(concern, COMMITTEE, date(2026, 3, 20), "同意延期")
    refused("extension_cap", app.extend_deadline, concern, COMMITTEE, date(2026, 3, 25), "再延")
    refused("extension_cap", app.request_extension, concern, office.owner_principal, "再延")
    assert app.get_concern(concern).due_on == date(2026, 3, 20)
