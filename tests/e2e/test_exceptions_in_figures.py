"""The approved exceptions as the figures read them, end to end on SQLite and PostgreSQL:
a real suspension counted by the ledger's suspension rate (which folds the event by its
name), and a real void leaving the scorecards (listed under `voided`, in no subject's
concerns) as it leaves the ledger's denominators."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.vocabulary import Role
from tests.conftest import Server
from tests.e2e.concern_requests import RAISE, ZONE, status

MARCH: dict[str, Any] = {"from": "2026-03-01", "to": "2026-03-31"}


def test_a_suspension_and_a_void_in_the_ledger_and_the_scorecards(server: Server) -> None:
    now = datetime(2026, 3, 2, 10, 0, tzinfo=ZONE)
    server.set_clock(lambda: now)
    member = server.member()
    _, staff = server.principal([Role.STAFF])
    _, committee = server.principal([Role.COMMITTEE])
    _, boss = server.principal([Role.SUPERVISOR])
    _, owner = server.principal([Role.MEMBER], member=member)
    with server.client(staff) as c:
        kept = status(c.post("/api/v1/concerns", json=RAISE), 201)
        due = {"owner": member, "duty_role": "mediator", "due_on": "2026-03-12"}
        status(c.post(f"/api/v1/concerns/{kept['id']}/handle-now", json=due), 200)
        gone = status(c.post("/api/v1/concerns", json=RAISE), 201)
        status(c.post(f"/api/v1/concerns/{gone['id']}/propose-void", json={"reason": "重复"}), 200)
    with server.client(owner) as c:
        ask = {"reason": "等待供电公司改线", "until": "2026-03-20"}
        status(c.post(f"/api/v1/concerns/{kept['id']}/suspend", json=ask), 200)
    with server.client(committee) as c:
        status(c.post(f"/api/v1/concerns/{kept['id']}/approve-suspension"), 200)
    with server.client(boss) as c:
        status(c.post(f"/api/v1/concerns/{gone['id']}/approve-void"), 200)

        at = {**MARCH, "min_position": server.event_count()}
        totals = status(c.get("/api/v1/ledger", params={**at, "group_by": ""}), 200)["totals"]
        figures = totals["figures"]
        rate = figures["suspension_rate"]
        assert (rate["numerator"], rate["denominator"]) == (1, 1)
        assert (figures["void_rate"]["numerator"], figures["void_rate"]["denominator"]) == (1, 2)
        drill = status(c.get("/api/v1/ledger/concerns", params={**at, "figure": "suspended"}), 200)
        assert [item["id"] for item in drill["items"]] == [kept["id"]]

        cards = status(c.get("/api/v1/scorecards", params={**at, "subject": "grid"}), 200)
        assert cards["voided"] == [gone["reference"]]
        (grid,) = cards["scorecards"]
        assert grid["figures"]["concerns"]["concerns"] == [kept["reference"]]
