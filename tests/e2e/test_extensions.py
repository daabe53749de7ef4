"""Extensions (延期) over HTTP on SQLite and PostgreSQL: the owner requests, the committee
refuses or approves (extend-deadline with no date adds one original limit), the third
approval refused with rule extension_cap, an overdue stage refused with already_overdue;
roles and blank reasons refused with nothing recorded."""

from __future__ import annotations

from datetime import datetime

from domain.vocabulary import Role
from tests.conftest import Server
from tests.e2e.concern_requests import RAISE, ZONE, status


def test_request_refuse_approve_cap_and_overdue(server: Server) -> None:
    now = [datetime(2026, 3, 2, 10, 0, tzinfo=ZONE)]
    server.set_clock(lambda: now[0])
    member = server.member()
    _, staff = server.principal([Role.STAFF])
    _, committee = server.principal([Role.COMMITTEE])
    _, owner = server.principal([Role.MEMBER], member=member)
    with server.client(staff) as c:
        cid = status(c.post("/api/v1/concerns", json=RAISE), 201)["id"]
        due = {"owner": member, "duty_role": "mediator", "due_on": "2026-03-12"}
        status(c.post(f"/api/v1/concerns/{cid}/handle-now", json=due), 200)
        assert (
            c.post(f"/api/v1/concerns/{cid}/request-extension", json={"reason": "x"}).status_code
            == 403
        )
    path = f"/api/v1/concerns/{cid}"
    before = server.event_count()
    with server.client(owner) as c:
        blank = status(c.post(f"{path}/request-extension", json={"reason": " "}), 422)
        assert blank["fields"][0]["field"] == "reason"
        assert server.event_count() == before
        status(c.post(f"{path}/request-extension", json={"reason": "配件未到"}), 200)
    with server.client(committee) as c:
        status(c.post(f"{path}/refuse-extension", json={"reason": "请先联系其他供应商"}), 200)
        nothing = status(c.post(f"{path}/refuse-extension", json={"reason": "理由不足"}), 409)
        assert nothing["rule"] == "no_request"
    with server.client(owner) as c:
        status(c.post(f"{path}/request-extension", json={"reason": "供应商均缺货"}), 200)
    with server.client(committee) as c:
        status(c.post(f"{path}/extend-deadline", json={"reason": "同意"}), 200)
        assert status(c.get(path), 200)["due_on"] == "2026-03-22"  # ten days more
        status(
            c.post(f"{path}/extend-deadline", json={"due_on": "2026-03-30", "reason": "再延"}), 200
        )
        third = status(
            c.post(f"{path}/extend-deadline", json={"due_on": "2026-04-10", "reason": "第三次"}),
            409,
        )
        assert third["rule"] == "extension_cap"
    with server.client(staff) as c:
        other = status(c.post("/api/v1/concerns", json=RAISE), 201)["id"]
        due = {"owner": member, "duty_role": "mediator", "due_on": "2026-03-12"}
        status(c.post(f"/api/v1/concerns/{other}/handle-now", json=due), 200)
    now[0] = datetime(2026, 3, 13, 9, 0, tzinfo=ZONE)  # past the due date
    with server.client(committee) as c:
        late = c.post(
            f"/api/v1/concerns/{other}/extend-deadline",
            json={"due_on": "2026-03-20", "reason": "迟了"},
        )
        assert status(late, 409)["rule"] == "already_overdue"
    with server.client(owner) as c:
        late = c.post(f"/api/v1/concerns/{other}/request-extension", json={"reason": "迟了"})
        assert status(late, 409)["rule"] == "already_overdue"
