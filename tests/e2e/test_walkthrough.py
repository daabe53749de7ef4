"""A concern driven through every state of the lifecycle over HTTP, each step an event."""

from __future__ import annotations

from datetime import date, timedelta

from domain.vocabulary import Role
from tests.conftest import Server

RAISE = {
    "title": "5号楼东侧小路路灯两周不亮",
    "description": "东侧小路的路灯已经坏了两个星期。",
    "category": "environment",
    "library": "problem",
    "channel": "visit",
    "grid": "2",
    "building": "5",
    "resident": {"name": "张秀英", "phone": "13800000000"},
}


def test_a_concern_walks_from_intake_to_resolved_and_the_resident_answers(server: Server) -> None:
    owner = server.member()
    _, staff = server.principal([Role.STAFF, Role.GRID_LEADER])
    _, committee = server.principal([Role.COMMITTEE])
    _, assignee = server.principal([Role.MEMBER], ["2"], member=owner)
    due = (date.today() + timedelta(days=30)).isoformat()
    with server.client(staff) as s, server.client(committee) as c, server.client(assignee) as a:
        r = s.post("/api/v1/concerns", json=RAISE)
        assert r.status_code == 201, r.text
        created = r.json()
        cid = created["id"]
        assert created["status"] == "intake"
        assert created["reference"].startswith(f"MQ-{date.today().year}-")
        assert r.headers["Location"] == f"/api/v1/concerns/{cid}"

        r = s.post(f"/api/v1/concerns/{cid}/refer", json={"note": "需要研究"})
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "committee"
        assert r.json()["position"] > created["position"]

        body = {"owner": owner, "duty_role": "project_coordinator", "due_on": due}
        r = c.post(f"/api/v1/concerns/{cid}/assign", json=body)
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "assigned"

        view = a.get(f"/api/v1/concerns/{cid}").json()
        assert set(view["allowed_actions"]) == {
            "record_progress",
            "send_back",
            "resolve",
            "add_milestone",
        }
        assert (
            a.post(f"/api/v1/concerns/{cid}/record-progress", json={"note": "订购灯具"}).status_code
            == 200
        )
        r = a.post(f"/api/v1/concerns/{cid}/resolve", json={"summary": "更换了6盏路灯"})
        assert r.json()["status"] == "resolved"

        track = created["tracking_code"]
        r = s.get(f"/api/v1/track/{track}")
        assert r.status_code == 200
        public = r.json()
        assert public["status"] == "resolved"
        assert "张秀英" not in r.text
        assert "13800000000" not in r.text

        r = s.post(
            f"/api/v1/track/{track}/feedback", json={"solved": True, "satisfaction": "satisfied"}
        )
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "resolved"

        history = s.get(f"/api/v1/concerns/{cid}/history").json()["events"]
        assert [e["type"] for e in history] == [
            "Raised",
            "Referred",
            "Assigned",
            "ProgressRecorded",
            "Resolved",
            "FeedbackRecorded",
        ]
        assert [e["version"] for e in history] == list(range(1, 7))
        assert all(e["actor"] and e["role"] and e["at"] for e in history)
