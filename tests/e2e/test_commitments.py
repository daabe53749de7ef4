"""The commitments board over HTTP, on SQLite and PostgreSQL (承诺一件、兑现一件、注销一件): a
concern handled on receipt is a commitment in progress; its milestones give the progress
(50 % with one of two done); it is fulfilled when the resident is satisfied, written off by
staff (409 before), and a reopening puts it back in progress. The member's name shows only
once they agreed (党员亮身份). The milestones are on the resident's tracking page and in the
event feed; nothing personal is on the public pages.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from domain.vocabulary import Role
from tests.conftest import Server

RESIDENT = {"name": "张秀英", "phone": "13812345678", "address": "幸福里5号楼2单元301"}
CONCERN: dict[str, Any] = {
    "title": "5号楼东侧小路路灯两周不亮",
    "description": "东侧小路的路灯已经坏了两个星期，老人晚上出门不安全。",
    "category": "environment",
    "library": "problem",
    "channel": "visit",
    "grid": "2",
    "building": "5",
    "resident": RESIDENT,
}


def ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


def _board(server: Server, position: int) -> dict[str, Any]:
    with server.client() as anyone:
        return ok(anyone.get("/public/commitments", params={"min_position": position}))


def _mine(board: dict[str, Any], reference: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [i for i in board["items"] if i["reference"] == reference]
    assert len(found) == 1
    return found[0]


def test_a_commitment_goes_from_in_progress_through_milestones_to_written_off_and_back(
    server: Server,
) -> None:
    li_qiang = server.member("李强")
    staff = server.client(server.principal([Role.STAFF])[1])
    li = server.client(server.principal([Role.MEMBER], member=li_qiang)[1])
    feed = server.client(server.principal([Role.INTEGRATOR])[1])
    anyone = server.client()
    try:
        raised = ok(staff.post("/api/v1/concerns", json=CONCERN), 201)
        cid, ref, code = raised["id"], raised["reference"], raised["tracking_code"]
        with_owner = {"owner": li_qiang, "duty_role": "environment_monitor", "due_on": "2027-05-01"}
        done = ok(staff.post(f"/api/v1/concerns/{cid}/handle-now", json=with_owner))
        entry = _mine(_board(server, done["position"]), ref)
        assert entry["status"] == "in_progress"
        assert entry["status_label"] == {"zh": "承诺中", "en": "In progress"}
        assert (entry["progress"], entry["milestones"], entry["member_name"]) == (None, [], None)

        # Milestones: the owner adds two and marks one done — 50 %.
        first = ok(
            li.post(
                f"/api/v1/concerns/{cid}/milestones",
                json={"title": "采购灯具", "due_on": "2027-04-01"},
            ),
            201,
        )
        ok(
            staff.post(
                f"/api/v1/concerns/{cid}/milestones",
                json={"title": "安装灯具", "due_on": "2027-04-20"},
            ),
            201,
        )
        done = ok(
            li.post(
                f"/api/v1/concerns/{cid}/milestones/{first['milestone_id']}/done",
                json={"note": "灯具已到货"},
            )
        )
        entry = _mine(_board(server, done["position"]), ref)
        assert entry["progress"] == 50
        assert [(m["title"], m["done"]) for m in entry["milestones"]] == [
            ("采购灯具", True),
            ("安装灯具", False),
        ]
        unknown = li.post(f"/api/v1/concerns/{cid}/milestones/{cid}/done", json={})
        assert unknown.status_code == 404, unknown.text

        # 党员亮身份: the name shows once Li Qiang agrees.
        shown = ok(li.post(f"/api/v1/members/{li_qiang}/public-identity", json={"shown": True}))
        assert _mine(_board(server, shown["position"]), ref)["member_name"] == "李强"

        # Written off only after fulfilment.
        early = staff.post(f"/api/v1/concerns/{cid}/write-off", json={})
        assert early.status_code == 409, early.text
        assert early.json()["error"] == "transition_not_allowed"
        ok(li.post(f"/api/v1/concerns/{cid}/resolve", json={"summary": "更换了6盏路灯"}))
        answer = {"solved": True, "satisfaction": "basically_satisfied"}
        done = ok(anyone.post(f"/api/v1/track/{code}/feedback", json=answer))
        assert _mine(_board(server, done["position"]), ref)["status"] == "fulfilled"
        done = ok(staff.post(f"/api/v1/concerns/{cid}/write-off", json={"note": "已兑现"}))
        entry = _mine(_board(server, done["position"]), ref)
        assert (entry["status"], entry["status_label"]["zh"]) == ("written_off", "已注销")
        written_off = _board(server, done["position"])
        assert written_off["counts"]["written_off"] == 1

        # The resident's tracking page shows the milestones and the steps.
        tracked = ok(anyone.get(f"/api/v1/track/{code}"))
        assert tracked["commitment"] == "written_off"
        assert tracked["progress"] == 50
        assert [s["type"] for s in tracked["steps"]].count("MilestoneAdded") == 2
        assert "WrittenOff" in [s["type"] for s in tracked["steps"]]

        # The feed carries the new events.
        events = ok(feed.get("/api/v1/events", params={"after": 0, "subject": cid}))
        types = [e["type"] for e in events["events"]]
        for name in ("milestone_added", "milestone_done", "written_off"):
            assert f"org.minqing.concern.{name}.v1" in types

        # Reopening puts it back in progress, a new round; the history is kept.
        done = ok(staff.post(f"/api/v1/concerns/{cid}/reopen", json={"reason": "又坏了"}))
        entry = _mine(_board(server, done["position"]), ref)
        assert (entry["status"], entry["round"], entry["progress"]) == ("in_progress", 2, 50)
        history = ok(staff.get(f"/api/v1/concerns/{cid}/history"))
        assert [e["type"] for e in history["events"]][-2:] == ["WrittenOff", "Reopened"]

        # Nothing personal on the public board.
        with server.client() as public:
            text = public.get("/public/commitments").text
        for secret in [*RESIDENT.values(), code]:
            assert secret not in text
            assert secret not in json.dumps(json.loads(text), ensure_ascii=False)
    finally:
        for c in (staff, li, feed, anyone):
            c.close()


def test_a_voided_commitment_leaves_the_board(server: Server) -> None:
    member = server.member("王芳")
    staff = server.client(server.principal([Role.STAFF])[1])
    boss = server.client(server.principal([Role.SUPERVISOR])[1])
    try:
        raised = ok(staff.post("/api/v1/concerns", json=CONCERN), 201)
        cid, ref = raised["id"], raised["reference"]
        due = {"owner": member, "duty_role": "environment_monitor", "due_on": "2027-05-01"}
        done = ok(staff.post(f"/api/v1/concerns/{cid}/handle-now", json=due))
        board = _board(server, done["position"])
        assert _mine(board, ref)["status"] == "in_progress"
        assert board["counts"]["in_progress"] == 1

        # 作废: it did not meet the filing conditions — not a commitment kept or broken.
        ok(staff.post(f"/api/v1/concerns/{cid}/propose-void", json={"reason": "不符合立案条件"}))
        done = ok(boss.post(f"/api/v1/concerns/{cid}/approve-void"))
        board = _board(server, done["position"])
        assert ref not in [i["reference"] for i in board["items"]]
        assert board["counts"]["in_progress"] == 0
    finally:
        for c in (staff, boss):
            c.close()


def test_milestones_and_write_off_refuse_who_may_not_and_bad_input(server: Server) -> None:
    owner = server.member("李强")
    staff = server.client(server.principal([Role.STAFF])[1])
    collector = server.client(server.principal([Role.COLLECTOR], ["2"])[1])
    other = server.client(server.principal([Role.MEMBER], member=server.member("赵敏"))[1])
    try:
        cid = ok(staff.post("/api/v1/concerns", json=CONCERN), 201)["id"]
        with_owner = {"owner": owner, "duty_role": "environment_monitor", "due_on": "2027-05-01"}
        ok(staff.post(f"/api/v1/concerns/{cid}/handle-now", json=with_owner))
        before = server.event_count()
        milestone = {"title": "采购灯具", "due_on": "2027-04-01"}
        assert (
            collector.post(f"/api/v1/concerns/{cid}/milestones", json=milestone).status_code == 403
        )
        assert other.post(f"/api/v1/concerns/{cid}/milestones", json=milestone).status_code == 403
        assert collector.post(f"/api/v1/concerns/{cid}/write-off", json={}).status_code == 403
        bad = staff.post(f"/api/v1/concerns/{cid}/milestones", json={"title": "a\x00b"})
        assert bad.status_code == 422
        assert {f["field"] for f in bad.json()["fields"]} >= {"title", "due_on"}
        past = staff.post(
            f"/api/v1/concerns/{cid}/milestones", json={"title": "x", "due_on": "2001-01-01"}
        )
        assert past.status_code == 422
        assert past.json()["fields"][0]["field"] == "due_on"
        nothing_open = staff.post(f"/api/v1/concerns/{cid}/milestones/{cid}/done", json={})
        assert nothing_open.status_code == 409
        stranger = other.post(f"/api/v1/members/{owner}/public-identity", json={"shown": True})
        assert stranger.status_code == 403
        assert server.event_count() == before
    finally:
        for c in (staff, collector, other):
            c.close()
