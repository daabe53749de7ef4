"""Graded supervision (督办) over HTTP on SQLite and PostgreSQL: a supervisor's card and the
owner's reply (roles, text policy, nothing to reply to), the watcher's yellow then red card,
once each, the supervised queue, the cards on the concern and in the event feed, and the
owner's points deducted."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from domain.vocabulary import Role
from tests.conftest import Server
from tests.e2e.ui_client import signed_in, text_of, ui_user
from workers.deadlines import DeadlineWatcher

ZONE = ZoneInfo("Asia/Shanghai")
RAISE = {
    "title": "路灯不亮",
    "description": "东侧小路路灯坏了",
    "category": "environment",
    "library": "problem",
    "channel": "visit",
    "grid": "2",
}


def ok(r: Any, status: int = 200) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body: dict[str, Any] = r.json()
    return body


def test_cards_by_hand_and_by_the_watcher(server: Server) -> None:
    now = [datetime(2026, 3, 6, 10, 0, tzinfo=ZONE)]  # a Friday
    server.set_clock(lambda: now[0])
    member = server.member()
    _, staff = server.principal([Role.STAFF])
    _, boss = server.principal([Role.SUPERVISOR])
    _, owner = server.principal([Role.MEMBER], member=member)
    _, integrator = server.principal([Role.INTEGRATOR])
    served = server.served
    assert served is not None
    watcher = DeadlineWatcher(served.state.minqing)
    with server.client(staff) as c:
        waiting = ok(c.post("/api/v1/concerns", json=RAISE), 201)["id"]
        handled = ok(c.post("/api/v1/concerns", json=RAISE), 201)["id"]
        due = {"owner": member, "duty_role": "mediator", "due_on": "2026-03-20"}
        ok(c.post(f"/api/v1/concerns/{handled}/handle-now", json=due))
    card = {"grade": "red", "requirement": "三日内答复进展", "reply_by": "2026-03-11"}
    with server.client(staff) as c:
        assert c.post(f"/api/v1/concerns/{handled}/supervise", json=card).status_code == 403
    with server.client(boss) as c:
        bad = c.post(f"/api/v1/concerns/{handled}/supervise", json={**card, "requirement": "a\x00"})
        assert bad.status_code == 422
        assert bad.json()["fields"][0]["field"] == "requirement"
        ok(c.post(f"/api/v1/concerns/{handled}/supervise", json=card))
    with server.client(staff) as c:
        refused = c.post(f"/api/v1/concerns/{handled}/reply-supervision", json={"reply": "在办"})
        assert refused.status_code == 403
    with server.client(owner) as c:
        ok(c.post(f"/api/v1/concerns/{handled}/reply-supervision", json={"reply": "周五安装"}))
        again = c.post(f"/api/v1/concerns/{handled}/reply-supervision", json={"reply": "再答"})
        assert again.status_code == 409
        assert again.json()["rule"] == "no_card"
    # The watcher: Monday 10:01 is past the triage limit (one working day): yellow, then red.
    now[0] = datetime(2026, 3, 9, 10, 1, tzinfo=ZONE)
    served.state.projections.catch_up()
    assert dict(watcher.sweep().recorded) == {"yellow_card": 1, "red_card": 1, "StageMissed": 1}
    served.state.projections.catch_up()
    assert dict(watcher.sweep().recorded) == {}
    with server.client(boss) as c:
        cards = ok(c.get(f"/api/v1/concerns/{waiting}"))["cards"]
        assert [(k["grade"], k["automatic"], k["stage"]) for k in cards] == [
            ("yellow", True, "triage"),
            ("red", True, "triage"),
        ]
        answered = ok(c.get(f"/api/v1/concerns/{handled}"))["cards"]
        assert answered[0]["reply"] == "周五安装"
        assert answered[0]["requirement"] == "三日内答复进展"
        position = server.event_count()
        queue = ok(c.get("/api/v1/queues/supervised", params={"min_position": position}))
        assert {i["id"] for i in queue["items"]} == {waiting, handled}
    with server.client(integrator) as c:
        feed = ok(c.get("/api/v1/events", params={"limit": 200}))["events"]
    types = [e["type"] for e in feed]
    assert types.count("org.minqing.concern.supervision_card_issued.v1") == 3
    assert types.count("org.minqing.concern.supervision_replied.v1") == 1
    with server.client(staff) as c:
        points = ok(c.get(f"/api/v1/members/{member}/points", params={"min_position": position}))
    red = next(i for i in points["items"] if i["kind"] == "red_card")
    assert (red["count"], red["weight"], red["points"]) == (1, -10, -10)
    # The concern page says the cards in words.
    clerk = ui_user(server, [Role.STAFF])
    with signed_in(server, clerk) as s:
        page = text_of(s.get(f"/ui/concerns/{handled}", params={"lang": "zh"}).text)
        assert "红牌督办" in page
        assert "三日内答复进展" in page
        assert "已答复：周五安装" in page
        page = text_of(s.get(f"/ui/concerns/{waiting}", params={"lang": "en"}).text)
        assert "Yellow card" in page
        assert "issued automatically on the time limit" in page
