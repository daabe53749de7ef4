"""The appeal of an overdue stage (超期申诉) on the in-memory store: after resolution, once
per concern, the owner appeals a stage recorded overdue; a supervisor approves, which
exempts the stage while the DeadlineMissed fact stays; the refusals (not resolved, a stage
not overdue, a second appeal: appeal_used, roles)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest

from domain.errors import Conflict, Forbidden, Invalid
from domain.vocabulary import DutyRole
from tests.unit.verbs_support import STAFF, SUPERVISOR, Office, open_office

ZONE = ZoneInfo("Asia/Shanghai")


def late_and_resolved(office: Office) -> UUID:
    app = office.app
    office.clock.now = datetime(2026, 3, 2, 10, tzinfo=ZONE)
    concern = office.raise_concern()
    app.handle_now(concern, STAFF, office.owner, DutyRole.MEDIATOR, date(2026, 3, 4))
    office.clock.now += timedelta(days=5)
    assert app.record_missed_deadlines(concern, 7) == ["DeadlineMissed"]
    return concern


def test_an_approved_appeal_exempts_the_stage_and_keeps_the_fact() -> None:
    office = open_office()
    app = office.app
    concern = late_and_resolved(office)
    with pytest.raises(Conflict) as early:
        app.appeal(concern, office.owner_principal, "handling", "配件缺货")
    assert early.value.rule == "not_resolved"
    app.resolve(concern, STAFF, "已修好")
    with pytest.raises(Forbidden):
        app.appeal(concern, STAFF, "handling", "配件缺货")
    with pytest.raises(Invalid) as not_overdue:
        app.appeal(concern, office.owner_principal, "triage", "配件缺货")
    assert not_overdue.value.fields[0][0] == "stage"
    app.appeal(concern, office.owner_principal, "handling", "配件全市缺货")
    with pytest.raises(Forbidden):
        app.decide_appeal(concern, STAFF, True, "属实")
    app.decide_appeal(concern, SUPERVISOR, True, "情况属实")
    found = app.get_concern(concern)
    assert found.exempt_stages() == ["handling"]
    assert found.missed_due_dates == [date(2026, 3, 4)]  # the raw fact stays
    view = app.concern_view(found, SUPERVISOR)
    assert view["overdue_stages"] == ["handling"]
    assert view["exempt_stages"] == ["handling"]
    assert view["appeal"]["approved"] is True
    with pytest.raises(Conflict) as twice:
        app.appeal(concern, office.owner_principal, "handling", "再申诉")
    assert twice.value.rule == "appeal_used"
    with pytest.raises(Conflict) as decided:
        app.decide_appeal(concern, SUPERVISOR, False, "改判")
    assert decided.value.rule == "no_appeal"


def test_a_refused_appeal_exempts_nothing_and_is_still_used() -> None:
    office = open_office()
    app = office.app
    concern = late_and_resolved(office)
    app.resolve(concern, STAFF, "已修好")
    app.appeal(concern, office.owner_principal, "handling", "天气原因")
    app.decide_appeal(concern, SUPERVISOR, False, "理由不足")
    assert app.get_concern(concern).exempt_stages() == []
    with pytest.raises(Conflict) as twice:
        app.appeal(concern, office.owner_principal, "handling", "再申诉")
    assert twice.value.rule == "appeal_used"
