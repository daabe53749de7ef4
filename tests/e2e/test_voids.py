"""The void (作废) over HTTP on SQLite and PostgreSQL: staff propose, a supervisor refuses or
approves; a voided concern is closed, stays in the history with its reason, and leaves the
ledger's figures but `filed` and `voided` (the void and accurate-filing rates, drill-down);
an approved appeal counts its stage on time in the ledger while the overdue fact stays."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import httpx

from domain.vocabulary import Role
from tests.conftest import Server
from tests.e2e.concern_requests import RAISE, ZONE, status

MARCH: dict[str, Any] = {"from": "2026-03-01", "to": "2026-03-31"}


def _at(server: Server, day: int) -> None:
    moment = datetime(2026, 3, day, 10, 0, tzinfo=ZONE)
    server.set_clock(lambda: moment)


def _totals(server: Server, c: httpx.Client) -> dict[str, Any]:
    params: dict[str, Any] = {**MARCH, "group_by": "", "min_position": server.event_count()}
    figures: dict[str, Any] = status(c.get("/api/v1/ledger", params=params), 200)["totals"][
        "figures"
    ]
    return figures


def _opened(server: Server, c: httpx.Client, figure: str) -> set[str]:
    params: dict[str, Any] = {**MARCH, "figure": figure, "min_position": server.event_count()}
    body = status(c.get("/api/v1/ledger/concerns", params=params), 200)
    assert body["count"] == len(body["items"])
    return {item["id"] for item in body["items"]}


def _rate(figures: dict[str, Any], name: str) -> tuple[int, int]:
    return figures[name]["numerator"], figures[name]["denominator"]


def test_a_void_is_proposed_refused_proposed_again_and_approved(server: Server) -> None:
    _at(server, 2)
    _, staff = server.principal([Role.STAFF])
    _, boss = server.principal([Role.SUPERVISOR])
    _, collector = server.principal([Role.COLLECTOR])
    with server.client(staff) as c:
        cid = status(c.post("/api/v1/concerns", json=RAISE), 201)["id"]
    path = f"/api/v1/concerns/{cid}"
    with server.client(boss) as b:
        nothing = status(b.post(f"{path}/approve-void"), 409)
        assert nothing["rule"] == "no_proposal"
        assert status(b.post(f"{path}/refuse-void", json={"reason": "不"}), 409)["rule"] == (
            "no_proposal"
        )
        # A supervisor does not propose; staff do.
        assert b.post(f"{path}/propose-void", json={"reason": "重复"}).status_code == 403
    with server.client(collector) as c:
        assert c.post(f"{path}/propose-void", json={"reason": "重复"}).status_code == 403
    with server.client(staff) as c:
        blank = status(c.post(f"{path}/propose-void", json={"reason": "  "}), 422)
        assert blank["fields"][0]["field"] == "reason"
        status(c.post(f"{path}/propose-void", json={"reason": "不符合立案条件：非本社区事项"}), 200)
        again = status(c.post(f"{path}/propose-void", json={"reason": "再提"}), 409)
        assert again["rule"] == "pending"
        assert status(c.get(path), 200)["void_proposal"]["reason"] == "不符合立案条件：非本社区事项"
        # Staff do not approve their own proposal.
        assert c.post(f"{path}/approve-void").status_code == 403
    with server.client(boss) as b:
        status(b.post(f"{path}/refuse-void", json={"reason": "属于本社区，应受理"}), 200)
        read = status(b.get(path), 200)
        assert read["status"] == "intake"
        assert read["void_proposal"] is None
        assert read["voided"] is None
    with server.client(staff) as c:
        status(c.post(f"{path}/propose-void", json={"reason": "重复登记，与另一件相同"}), 200)
    with server.client(boss) as b:
        done = status(b.post(f"{path}/approve-void"), 200)
        assert done["status"] == "voided"
        read = status(b.get(path), 200)
        assert read["status"] == "voided"
        assert read["voided"]["reason"] == "重复登记，与另一件相同"
        assert read["voided"]["from"] == "intake"
        assert read["allowed_actions"] == []
        # It stays in the history, with each reason.
        events = status(b.get(f"{path}/history"), 200)["events"]
        tail = [(e["type"], e["reason"]) for e in events][-4:]
        assert tail == [
            ("VoidProposed", "不符合立案条件：非本社区事项"),
            ("VoidRefused", "属于本社区，应受理"),
            ("VoidProposed", "重复登记，与另一件相同"),
            ("VoidApproved", "重复登记，与另一件相同"),
        ]
        assert events[-1]["label"] == {"zh": "作废", "en": "Voided"}
        assert events[-1]["changes"]["status"] == {"from": "intake", "to": "voided"}
        # Closed: nothing further, a second void neither.
        closed = status(b.post(f"{path}/approve-void"), 409)
        assert closed["error"] == "transition_not_allowed"
    with server.client(staff) as c:
        refused = status(c.post(f"{path}/refer", json={}), 409)
        assert refused["error"] == "transition_not_allowed"
        assert refused["status"] == "voided"
        assert refused["allowed_actions"] == []
        closed = status(c.post(f"{path}/propose-void", json={"reason": "再作废"}), 409)
        assert closed["error"] == "transition_not_allowed"


def test_a_voided_concern_leaves_the_denominators_and_the_rates_open_their_concerns(
    server: Server,
) -> None:
    _at(server, 2)
    member = server.member()
    _, staff = server.principal([Role.STAFF])
    _, boss = server.principal([Role.SUPERVISOR])
    _, committee = server.principal([Role.COMMITTEE])
    _, owner = server.principal([Role.MEMBER], member=member)
    due = {"owner": member, "duty_role": "mediator", "due_on": "2026-03-20"}
    with server.client(staff) as c:
        ids = [status(c.post("/api/v1/concerns", json=RAISE), 201)["id"] for _ in range(3)]
        for cid in ids:
            status(c.post(f"/api/v1/concerns/{cid}/handle-now", json=due), 200)
    kept, extended, voided = ids
    with server.client(owner) as o:
        status(o.post(f"/api/v1/concerns/{kept}/resolve", json={"summary": "已修好"}), 200)
    with server.client(committee) as c:
        body = {"reason": "等待配件", "due_on": "2026-03-27"}
        status(c.post(f"/api/v1/concerns/{extended}/extend-deadline", json=body), 200)
    with server.client(staff) as c:
        before = _totals(server, c)
        # By hand: three filed, none voided; three assigned, one extended, one resolved.
        assert (before["filed"], before["voided"], before["concerns_collected"]) == (3, 0, 3)
        assert _rate(before, "void_rate") == (0, 3)
        assert _rate(before, "accurate_filing_rate") == (3, 3)
        assert _rate(before, "extension_rate") == (1, 3)
        assert _rate(before, "decline_rate") == (0, 3)
        assert _rate(before, "suspension_rate") == (0, 3)
        status(
            c.post(f"/api/v1/concerns/{voided}/propose-void", json={"reason": "非社区事项"}), 200
        )
    with server.client(boss) as b:
        status(b.post(f"/api/v1/concerns/{voided}/approve-void"), 200)
    with server.client(staff) as c:
        after = _totals(server, c)
        assert (after["filed"], after["voided"], after["concerns_collected"]) == (3, 1, 2)
        assert after["assigned"] == 2
        assert _rate(after, "void_rate") == (1, 3)
        assert after["void_rate"]["percent"] == 33.3
        assert _rate(after, "accurate_filing_rate") == (2, 3)
        assert after["accurate_filing_rate"]["percent"] == 66.7
        assert _rate(after, "extension_rate") == (1, 2)
        assert _rate(after, "decline_rate") == (0, 2)
        assert _rate(after, "suspension_rate") == (0, 2)
        assert _rate(after, "on_time_closure_rate") == (1, 1)
        # Drill-down: each figure opens exactly the concerns it counts.
        assert _opened(server, c, "voided") == {voided}
        assert _opened(server, c, "filed") == set(ids)
        assert _opened(server, c, "concerns_collected") == {kept, extended}
        assert _opened(server, c, "assigned") == {kept, extended}
        assert _opened(server, c, "extended") == {extended}
        assert _opened(server, c, "suspended") == set()
        # The voided concern is a closed one in the lists too.
        listed = status(c.get(f"/api/v1/concerns/{voided}"), 200)
        assert listed["stage"] is None


def test_an_approved_appeal_counts_the_stage_on_time_and_keeps_the_fact(server: Server) -> None:
    _at(server, 2)
    member = server.member()
    _, staff = server.principal([Role.STAFF])
    _, boss = server.principal([Role.SUPERVISOR])
    _, owner = server.principal([Role.MEMBER], member=member)
    with server.client(staff) as c:
        cid = status(c.post("/api/v1/concerns", json=RAISE), 201)["id"]
        due = {"owner": member, "duty_role": "mediator", "due_on": "2026-03-04"}
        status(c.post(f"/api/v1/concerns/{cid}/handle-now", json=due), 200)
    _at(server, 6)
    served = server.served
    assert served is not None
    assert served.state.minqing.record_missed_deadlines(UUID(cid), 7) == ["DeadlineMissed"]
    path = f"/api/v1/concerns/{cid}"
    with server.client(owner) as o:
        status(o.post(f"{path}/resolve", json={"summary": "已修好"}), 200)
    with server.client(staff) as c:
        late = _totals(server, c)
        assert late["resolved_on_time"] == 0
        assert _rate(late, "on_time_closure_rate") == (0, 1)
        assert late["overdue"] == 1
        assert _opened(server, c, "overdue") == {cid}
    with server.client(owner) as o:
        status(o.post(f"{path}/appeal", json={"stage": "handling", "reason": "配件全市缺货"}), 200)
    with server.client(boss) as b:
        status(b.post(f"{path}/decide-appeal", json={"approved": True, "reason": "情况属实"}), 200)
    with server.client(staff) as c:
        exempt = _totals(server, c)
        assert exempt["resolved_on_time"] == 1
        assert _rate(exempt, "on_time_closure_rate") == (1, 1)
        assert exempt["overdue"] == 0
        params: dict[str, Any] = {
            **MARCH,
            "figure": "resolved_on_time",
            "min_position": server.event_count(),
        }
        (item,) = status(c.get("/api/v1/ledger/concerns", params=params), 200)["items"]
        assert item["id"] == cid
        assert item["resolved_on_time"] is False  # the raw fact: resolved after the due date
        assert item["overdue_stages"] == ["handling"]
        assert item["exempt_stages"] == ["handling"]
        # The overdue fact stays in the history.
        kinds = [e["type"] for e in status(c.get(f"{path}/history"), 200)["events"]]
        assert "DeadlineMissed" in kinds
        # And the owner has the on-time point the late resolution did not give.
        at = {"min_position": server.event_count()}
        points = status(c.get(f"/api/v1/members/{member}/points", params=at), 200)["items"]
        (on_time,) = [i for i in points if i["kind"] == "resolved_on_time"]
        assert on_time["count"] == 1
