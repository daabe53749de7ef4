"""The time limits table and the stage of every concern read, over HTTP on SQLite and
PostgreSQL: the defaults, an admin's table (one event), the refusals (roles, a stage without
a row, a unit that is not one), and `stage` on the concern and on list and queue items,
green, then yellow, then red on the server's clock."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from domain.vocabulary import Role
from tests.conftest import Server
from tests.e2e.ui_client import signed_in, text_of, ui_user

ZONE = ZoneInfo("Asia/Shanghai")
RAISE = {
    "title": "路灯不亮",
    "description": "东侧小路路灯坏了",
    "category": "environment",
    "library": "problem",
    "channel": "visit",
    "grid": "2",
}
STAGES = ("triage", "committee", "handling", "feedback")


def table(amount: float, unit: str = "working_hours") -> dict[str, Any]:
    return {
        "limits": [{"stage": s, "amount": amount, "unit": unit} for s in STAGES],
        "thresholds": {"yellow": 80, "red": 100},
    }


def test_the_table_its_refusals_and_the_stage_in_every_read(server: Server) -> None:
    now = [datetime(2026, 3, 2, 8, 0, tzinfo=ZONE)]  # a Monday morning
    server.set_clock(lambda: now[0])
    _, admin = server.principal([Role.ADMIN])
    _, staff = server.principal([Role.STAFF])
    with server.client(staff) as c:
        defaults = c.get("/api/v1/time-limits").json()
        assert defaults["version"] == 0
        assert {r["stage"] for r in defaults["limits"]} == set(STAGES)
        assert defaults["thresholds"] == {"yellow": 80, "red": 100}
        assert c.put("/api/v1/time-limits", json=table(2)).status_code == 403
    before = server.event_count()
    with server.client(admin) as c:
        missing = table(2)
        missing["limits"] = missing["limits"][:3]
        r = c.put("/api/v1/time-limits", json=missing)
        assert r.status_code == 422
        assert r.json()["fields"][0]["field"] == "limits"
        bad = table(2)
        bad["limits"][0]["unit"] = "fortnights"
        r = c.put("/api/v1/time-limits", json=bad)
        assert r.status_code == 422
        assert "unit" in r.json()["fields"][0]["field"]
        assert server.event_count() == before
        r = c.put("/api/v1/time-limits", json=table(10))
        assert r.status_code == 200, r.text
        assert r.json()["version"] == 2
    assert server.event_count() == before + 2  # started, set
    with server.client(staff) as c:
        raised = c.post("/api/v1/concerns", json=RAISE).json()
        cid, position = raised["id"], raised["position"]
        stage = c.get(f"/api/v1/concerns/{cid}").json()["stage"]
        # Ten working hours from Monday 08:00: Tuesday 10:00.
        assert stage == {
            "name": "triage",
            "started_at": "2026-03-02T08:00:00+08:00",
            "deadline": "2026-03-03T10:00:00+08:00",
            "unit": "working_hours",
            "used_percent": 0,
            "colour": "green",
            "suspended": False,
        }
        now[0] = datetime(2026, 3, 3, 8, 0, tzinfo=ZONE)  # 8 of 10 working hours
        stage = c.get(f"/api/v1/concerns/{cid}").json()["stage"]
        assert (stage["used_percent"], stage["colour"]) == (80, "yellow")
        items = c.get("/api/v1/concerns", params={"min_position": position}).json()["items"]
        assert [i["stage"]["colour"] for i in items if i["id"] == cid] == ["yellow"]
        queue = c.get("/api/v1/queues/triage", params={"min_position": position}).json()
        assert [i["stage"]["name"] for i in queue["items"] if i["id"] == cid] == ["triage"]
        now[0] = datetime(2026, 3, 3, 10, 1, tzinfo=ZONE)
        assert c.get(f"/api/v1/concerns/{cid}").json()["stage"]["colour"] == "red"
        withdrawn = c.post(f"/api/v1/concerns/{cid}/withdraw", json={"reason": "已自行解决"})
        assert withdrawn.status_code == 200
        assert c.get(f"/api/v1/concerns/{cid}").json()["stage"] is None


def test_the_concern_page_and_the_queue_say_the_stage_in_words(server: Server) -> None:

    now = datetime(2026, 3, 2, 8, 0, tzinfo=ZONE)
    server.set_clock(lambda: now)
    clerk = ui_user(server, [Role.STAFF])
    _, staff = server.principal([Role.STAFF])
    with server.client(staff) as c:
        raised = c.post("/api/v1/concerns", json=RAISE).json()
    with signed_in(server, clerk) as s:
        page = text_of(s.get(f"/ui/concerns/{raised['id']}", params={"lang": "en"}).text)
        assert "Time limit" in page
        assert "Triage · due by" in page
        assert "0% used" in page
        assert "On time" in page
        queue = s.get("/ui/triage", params={"lang": "zh", "at": raised["position"]}).text
        assert 'data-colour="green"' in queue
        assert "已用 0%" in text_of(queue)
