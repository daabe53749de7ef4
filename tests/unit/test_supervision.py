"""Graded supervision (督办) on the in-memory store: the watcher's cards once each and never
red before yellow, a supervisor's card with a requirement and a reply date, the owner's
reply, and the refusals (roles, not the owner, nothing to reply to, a closed concern)."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest

from domain.errors import Conflict, Forbidden, Invalid
from domain.supervision import Grade
from domain.vocabulary import DutyRole
from tests.unit.verbs_support import STAFF, SUPERVISOR, Office, open_office

ZONE = ZoneInfo("Asia/Shanghai")
FRIDAY = datetime(2026, 3, 6, 10, 0, tzinfo=ZONE)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=ZONE)


def grades(office: Office, concern: UUID) -> list[tuple[str, bool]]:
    return [(c["grade"], c["automatic"]) for c in office.app.get_concern(concern).cards]


def test_the_watcher_issues_yellow_then_red_once_each() -> None:
    office = open_office()
    app = office.app
    office.clock.now = FRIDAY
    concern = office.raise_concern()  # triage: one working day, until Monday 10:00
    office.clock.now = at(9, 8, 23)  # 79 %
    assert app.record_cards(concern) == []
    office.clock.now = at(9, 8, 24)  # 80 %
    assert app.record_cards(concern) == ["yellow_card"]
    assert app.record_cards(concern) == []
    office.clock.now = at(9, 10)  # 100 %: still yellow
    assert app.record_cards(concern) == []
    office.clock.now = at(9, 10, 1)
    assert app.record_cards(concern) == ["red_card"]
    assert app.record_cards(concern) == []
    assert grades(office, concern) == [("yellow", True), ("red", True)]
    card = app.get_concern(concern).cards[1]
    assert card["stage"] == "triage"
    assert card["stage_started_at"] == FRIDAY


def test_a_stage_found_past_red_gets_yellow_first() -> None:
    office = open_office()
    app = office.app
    office.clock.now = FRIDAY
    concern = office.raise_concern()
    office.clock.now = at(10, 9)
    assert app.record_cards(concern) == ["yellow_card", "red_card"]
    events = office.events(concern)
    assert events[-2:] == ["SupervisionCardIssued", "SupervisionCardIssued"]
    # A new stage has cards of its own.
    app.refer(concern, STAFF)
    assert app.record_cards(concern) == []


def test_a_supervisors_card_and_the_owners_reply() -> None:
    office = open_office()
    app = office.app
    office.clock.now = at(2, 10)
    concern = office.raise_concern()
    app.handle_now(concern, STAFF, office.owner, DutyRole.MEDIATOR, date(2026, 3, 20))
    with pytest.raises(Forbidden):
        app.supervise(concern, STAFF, Grade.YELLOW, "三日内答复", date(2026, 3, 5))
    with pytest.raises(Invalid):
        app.supervise(concern, SUPERVISOR, Grade.YELLOW, " ", date(2026, 3, 5))
    with pytest.raises(Invalid):
        app.supervise(concern, SUPERVISOR, Grade.YELLOW, "三日内答复", date(2026, 3, 1))
    app.supervise(concern, SUPERVISOR, Grade.RED, "三日内答复进展", date(2026, 3, 5))
    card = app.get_concern(concern).cards[0]
    assert (card["grade"], card["stage"], card["reply_by"]) == ("red", "handling", date(2026, 3, 5))
    assert card["owner"] == office.owner
    with pytest.raises(Forbidden):
        app.reply_supervision(concern, STAFF, "在办")
    app.reply_supervision(concern, office.owner_principal, "灯已订购，周五安装")
    card = app.get_concern(concern).cards[0]
    assert card["reply"] == "灯已订购，周五安装"
    with pytest.raises(Conflict) as nothing:
        app.reply_supervision(concern, office.owner_principal, "再答一次")
    assert nothing.value.rule == "no_card"


def test_a_closed_concern_is_not_supervised() -> None:
    office = open_office()
    app = office.app
    concern = office.raise_concern()
    app.withdraw(concern, STAFF, "居民撤回")
    with pytest.raises(Conflict) as closed:
        app.supervise(concern, SUPERVISOR, Grade.YELLOW, "说明原因", date(2026, 3, 5))
    assert closed.value.rule == "not_open"
    assert app.record_cards(concern) == []
