"""The void (作废) and the exception figures without a database: the verbs on the in-memory
store, the ledger's fold of a suspension approved (an event another module adds, folded by
name: a hand-made event here), and the figures a voided, suspended or appealed concern
changes, recomputed by hand."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest

from domain.errors import Conflict, Forbidden, Invalid, TransitionNotAllowed
from domain.lifecycle import Status
from domain.vocabulary import DutyRole
from projections.ledger import Ledger
from projections.ledger_figures import BY_NAME
from projections.ledger_tally import compute, concerns_of
from projections.runner import Recorded
from tests.unit.test_ledger_figures import CLOCK, concern
from tests.unit.verbs_support import COMMITTEE, STAFF, SUPERVISOR, Office, open_office

ZONE = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def office() -> Office:
    return open_office()


# -- the verbs ----------------------------------------------------------------------------


def test_staff_propose_a_supervisor_approves_and_the_concern_is_closed(office: Office) -> None:
    app, cid = office.app, office.raise_concern()
    app.propose_void(cid, STAFF, "  不符合立案条件：非本社区事项  ")
    proposal = app.get_concern(cid).void_proposal
    assert proposal is not None
    assert proposal["reason"] == "不符合立案条件：非本社区事项"

    result = app.approve_void(cid, SUPERVISOR)

    assert result.status == Status.VOIDED.value
    concern = app.get_concern(cid)
    assert concern.voided is not None
    assert concern.voided["reason"] == "不符合立案条件：非本社区事项"
    assert concern.voided["from"] == Status.INTAKE.value
    assert concern.void_proposal is None
    assert office.events(cid)[-2:] == ["VoidProposed", "VoidApproved"]
    with pytest.raises(TransitionNotAllowed):
        app.refer(cid, STAFF)
    with pytest.raises(TransitionNotAllowed):
        app.propose_void(cid, STAFF, "再作废")


def test_one_proposal_waits_at_a_time_and_a_refusal_lets_the_concern_go_on(
    office: Office,
) -> None:
    app, cid = office.app, office.raise_concern()
    with pytest.raises(Conflict) as nothing:
        app.approve_void(cid, SUPERVISOR)
    assert nothing.value.rule == "no_proposal"
    app.propose_void(cid, STAFF, "重复登记")
    with pytest.raises(Conflict) as pending:
        app.propose_void(cid, STAFF, "重复登记")
    assert pending.value.rule == "pending"

    app.refuse_void(cid, SUPERVISOR, "不是重复：地点不同")

    assert office.status(cid) is Status.INTAKE
    assert app.get_concern(cid).void_proposal is None
    with pytest.raises(Conflict) as refused:
        app.refuse_void(cid, SUPERVISOR, "again")
    assert refused.value.rule == "no_proposal"
    app.refer(cid, STAFF)  # the concern goes on
    assert office.status(cid) is Status.COMMITTEE


def test_an_assigned_concern_may_be_voided_a_resolved_one_not(office: Office) -> None:
    app = office.app
    assigned, resolved = office.raise_concern(), office.raise_concern()
    for cid in (assigned, resolved):
        app.handle_now(cid, STAFF, office.owner, DutyRole.ENVIRONMENT_MONITOR, office.due())
    app.resolve(resolved, office.owner_principal, "已修好")
    app.propose_void(assigned, STAFF, "不属于立案范围")
    app.approve_void(assigned, SUPERVISOR)
    assert office.status(assigned) is Status.VOIDED
    with pytest.raises(TransitionNotAllowed):
        app.propose_void(resolved, STAFF, "不属于立案范围")


def test_a_proposal_the_concern_moved_past_is_refused_not_approved(office: Office) -> None:
    app, cid = office.app, office.raise_concern()
    app.handle_now(cid, STAFF, office.owner, DutyRole.ENVIRONMENT_MONITOR, office.due())
    app.propose_void(cid, STAFF, "不属于立案范围")
    app.resolve(cid, office.owner_principal, "已修好")
    with pytest.raises(TransitionNotAllowed):
        app.approve_void(cid, SUPERVISOR)
    app.refuse_void(cid, SUPERVISOR, "已办结，不再作废")
    concern = app.get_concern(cid)
    assert concern.void_proposal is None
    assert concern.status == Status.RESOLVED.value


def test_who_proposes_and_who_decides(office: Office) -> None:
    app, cid = office.app, office.raise_concern()
    with pytest.raises(Forbidden):
        app.propose_void(cid, SUPERVISOR, "重复")
    with pytest.raises(Forbidden):
        app.propose_void(cid, COMMITTEE, "重复")
    with pytest.raises(Invalid):
        app.propose_void(cid, STAFF, "   ")
    app.propose_void(cid, STAFF, "重复")
    with pytest.raises(Forbidden):
        app.approve_void(cid, STAFF)
    with pytest.raises(Forbidden):
        app.refuse_void(cid, STAFF, "不同意")
    assert office.status(cid) is Status.INTAKE


# -- the ledger's fold of a suspension approved (by name) -----------------------------------


@dataclass
class SuspensionApproved:
    """A hand-made event of the kind the suspension's module records (folded by name)."""

    originator_version: int
    at: datetime
    until: date


@dataclass
class _Recorded:
    event: Any
    position: int


def test_the_ledger_counts_each_suspension_approved() -> None:
    row: dict[str, Any] = {
        **dict.fromkeys(Ledger.columns),
        "status": Status.ASSIGNED.value,
        "suspended_count": 0,
    }
    ledger = Ledger()
    at = datetime(2026, 3, 5, 9, tzinfo=ZONE)
    for version in (7, 9):
        event = SuspensionApproved(version, at, date(2026, 6, 1))
        folded = ledger.fold(row, cast(Recorded, _Recorded(event, 100 + version)))
        assert folded is not None
        row = folded
    assert row["suspended_count"] == 2
    assert row["status"] == Status.ASSIGNED.value  # it carries no status and changes none
    assert (row["version"], row["position"]) == (9, 109)


# -- the figures, by hand -----------------------------------------------------------------


def _value(name: str, concerns: list[Any]) -> Any:
    return compute(concerns, [], CLOCK.today, ("concerns",))[name]


def test_a_voided_concern_counts_in_filed_and_voided_only() -> None:
    due = date(2026, 3, 20)
    kept = concern(id="a", status="assigned", assigned_at=datetime(2026, 3, 4, tzinfo=ZONE))
    voided = concern(
        id="b",
        status="voided",
        assigned_at=datetime(2026, 3, 4, tzinfo=ZONE),
        due_on=due.isoformat(),
        extended_count=1,
    )
    both = [kept, voided]
    assert _value("filed", both) == 2
    assert _value("voided", both) == 1
    assert _value("concerns_collected", both) == 1
    assert _value("assigned", both) == 1
    assert _value("extended", both) == 0
    assert _value("due", both) == 0
    assert _value("void_rate", both)["value"] == 0.5
    assert _value("accurate_filing_rate", both)["value"] == 0.5
    assert _value("extension_rate", both)["denominator"] == 1
    assert [c.id for c in concerns_of(BY_NAME["voided"], both, CLOCK.today)] == ["b"]
    assert [c.id for c in concerns_of(BY_NAME["filed"], both, CLOCK.today)] == ["a", "b"]


def test_the_suspension_rate_is_suspended_over_assigned() -> None:
    assigned_at = datetime(2026, 3, 4, tzinfo=ZONE)
    concerns = [
        concern(id="a", status="assigned", assigned_at=assigned_at, suspended_count=1),
        concern(id="b", status="assigned", assigned_at=assigned_at),
        concern(id="c", status="intake"),
    ]
    rate = _value("suspension_rate", concerns)
    assert (rate["numerator"], rate["denominator"]) == (1, 2)
    assert [c.id for c in concerns_of(BY_NAME["suspended"], concerns, CLOCK.today)] == ["a"]


def test_an_exempt_stage_is_on_time_while_the_overdue_fact_stays() -> None:
    late: dict[str, Any] = {
        "status": "resolved",
        "due_on": "2026-03-04",
        "resolved_at": datetime(2026, 3, 6, 10, tzinfo=ZONE),
        "resolved_on_time": 0,
        "resolutions": 1,
        "overdue_stages": "handling,triage",
    }
    appealed = concern(id="a", **late, exempt_stages="handling")
    not_appealed = concern(id="b", **late)
    assert appealed.resolved_on_time is False  # the raw fact
    assert appealed.on_time
    assert not not_appealed.on_time
    # Triage stays overdue: the appeal exempted the handling stage only.
    assert appealed.overdue
    assert not_appealed.overdue
    assert _value("resolved_on_time", [appealed, not_appealed]) == 1
    assert _value("on_time_closure_rate", [appealed, not_appealed])["value"] == 0.5
    only_handling = concern(
        id="c", **{**late, "overdue_stages": "handling"}, exempt_stages="handling"
    )
    assert not only_handling.overdue
    assert _value("overdue", [appealed, only_handling]) == 1
