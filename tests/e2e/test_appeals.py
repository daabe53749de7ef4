"""The appeal of an overdue stage (超期申诉) over HTTP on SQLite and PostgreSQL: the owner
appeals the missed handling stage after resolution, a supervisor approves; the concern shows
the fact and the exemption; a second appeal is refused with rule appeal_used."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from domain.vocabulary import Role
from tests.conftest import Server
from tests.e2e.concern_requests import RAISE, ZONE, status


def test_appeal_decide_and_once_only(server: Server) -> None:
    now = [datetime(2026, 3, 2, 10, 0, tzinfo=ZONE)]
    server.set_clock(lambda: now[0])
    member = server.member()
    _, staff = server.principal([Role.STAFF])
    _, boss = server.principal([Role.SUPERVISOR])
    _, owner = server.principal([Role.MEMBER], member=member)
    with server.client(staff) as c:
        cid = status(c.post("/api/v1/concerns", json=RAISE), 201)["id"]
        due = {"owner": member, "duty_role": "mediator", "due_on": "2026-03-04"}
        status(c.post(f"/api/v1/concerns/{cid}/handle-now", json=due), 200)
    now[0] = datetime(2026, 3, 6, 10, 0, tzinfo=ZONE)
    served = server.served
    assert served is not None
    assert served.state.minqing.record_missed_deadlines(UUID(cid), 7) == ["DeadlineMissed"]
    path = f"/api/v1/concerns/{cid}"
    with server.client(staff) as c:
        status(c.post(f"{path}/resolve", json={"summary": "已修好"}), 200)
    with server.client(owner) as c:
        bad = status(c.post(f"{path}/appeal", json={"stage": "soon", "reason": "x"}), 422)
        assert bad["fields"][0]["field"] == "stage"
        status(c.post(f"{path}/appeal", json={"stage": "handling", "reason": "配件全市缺货"}), 200)
    with server.client(staff) as c:
        refused = c.post(f"{path}/decide-appeal", json={"approved": True, "reason": "属实"})
        assert refused.status_code == 403
    with server.client(boss) as c:
        status(c.post(f"{path}/decide-appeal", json={"approved": True, "reason": "情况属实"}), 200)
        read = status(c.get(path), 200)
        assert read["overdue_stages"] == ["handling"]
        assert read["exempt_stages"] == ["handling"]
        assert read["appeal"]["stage"] == "handling"
        assert read["appeal"]["approved"] is True
        # The overdue fact stays in the history, with the appeal and its decision after it.
        kinds = [e["type"] for e in status(c.get(f"{path}/history"), 200)["events"]]
        assert kinds[-4:] == ["DeadlineMissed", "Resolved", "AppealLodged", "AppealDecided"]
    with server.client(owner) as c:
        again = status(c.post(f"{path}/appeal", json={"stage": "handling", "reason": "再诉"}), 409)
        assert again["rule"] == "appeal_used"
