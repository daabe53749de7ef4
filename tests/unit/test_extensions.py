"""Extensions (延期), requested and approved, on the in-memory store: the owner asks, the
committee refuses or approves (one original limit more when no date is named), the third
approval of a round refused (`extension_cap`), none once the due date has passed
(`already_overdue`), a new round starting the count again."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest

from domain.errors import Conflict, Forbidden, Invalid
from domain.vocabulary import DutyRole, Satisfaction
from tests.unit.verbs_support import COMMITTEE, STAFF, Office, open_office

ZONE = ZoneInfo("Asia/Shanghai")


def assigned(office: Office) -> UUID:
    office.clock.now = datetime(2026, 3, 2, 10, tzinfo=ZONE)
    concern = office.raise_concern()
    # Ten days: 2 March to 12 March.
    office.app.handle_now(concern, STAFF, office.owner, DutyRole.MEDIATOR, date(2026, 3, 12))
    return concern


def rule(exc: pytest.ExceptionInfo[Conflict]) -> str:
    return exc.value.rule


def test_request_refuse_approve_and_the_cap() -> None:
    office = open_office()
    app = office.app
    concern = assigned(office)
    with pytest.raises(Forbidden):
        app.request_extension(concern, STAFF, "配件未到")
    with pytest.raises(Invalid):
        app.request_extension(concern, office.owner_principal, " ")
    app.request_extension(concern, office.owner_principal, "配件未到")
    with pytest.raises(Conflict) as pending:
        app.request_extension(concern, office.owner_principal, "再申请")
    assert rule(pending) == "pending"
    with pytest.raises(Forbidden):
        app.refuse_extension(concern, STAFF, "理由不足")
    app.refuse_extension(concern, COMMITTEE, "请先联系其他供应商")
    with pytest.raises(Conflict) as nothing:
        app.refuse_extension(concern, COMMITTEE, "理由不足")
    assert rule(nothing) == "no_request"
    app.request_extension(concern, office.owner_principal, "供应商均缺货")
    # Approved without a date: one original limit (ten days) more.
    app.extend_deadline(concern, COMMITTEE, None, "同意延期")
    found = app.get_concern(concern)
    assert found.due_on == date(2026, 3, 22)
    assert found.extension_request is None
    app.extend_deadline(concern, COMMITTEE, date(2026, 3, 30), "再延一次")
    with pytest.raises(Conflict) as cap:
        app.extend_deadline(concern, COMMITTEE, date(2026, 4, 10), "第三次")
    assert rule(cap) == "extension_cap"
    with pytest.raises(Conflict) as cap:
        app.request_extension(concern, office.owner_principal, "第三次")
    assert rule(cap) == "extension_cap"
    assert app.get_concern(concern).due_on == date(2026, 3, 30)
    # A new round (reopened by the resident's feedback) counts again.
    app.resolve(concern, STAFF, "已修好")
    app.record_feedback(concern, STAFF, False, Satisfaction.DISSATISFIED)
    app.extend_deadline(concern, COMMITTEE, date(2026, 4, 10), "新一轮")


def test_no_extension_once_the_due_date_has_passed() -> None:
    office = open_office()
    app = office.app
    concern = assigned(office)
    office.clock.now = datetime(2026, 3, 12, 23, 59, tzinfo=ZONE)  # still the due date
    app.request_extension(concern, office.owner_principal, "配件未到")
    office.clock.now += timedelta(minutes=2)  # 13 March: overdue
    with pytest.raises(Conflict) as overdue:
        app.extend_deadline(concern, COMMITTEE, date(2026, 3, 20), "同意")
    assert rule(overdue) == "already_overdue"
    with pytest.raises(Conflict) as overdue:
        app.request_extension(concern, office.owner_principal, "再申请")
    assert rule(overdue) == "already_overdue"
    assert app.get_concern(concern).due_on == date(2026, 3, 12)
