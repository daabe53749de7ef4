"""Suspension (挂账) over HTTP on SQLite and PostgreSQL: the owner asks, the committee
refuses or approves, the owner resumes; the refusals (403 for others, 422 `until`, 409
`pending`, `suspended` for handling commands, `suspension_used`, `not_open`,
`not_suspended`); the stage's clock stopped while suspended (used percent and deadline
before, during and after, the due date moved), the list and its queues showing it; the
deadline watcher resuming at the until date once and issuing no card while suspended. And
MINQING_EXTENSION_CAP=1 refusing the second extension."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from domain.vocabulary import Role
from tests.conftest import BACKENDS, Server, _database, start_server
from tests.e2e.concern_requests import RAISE, ZONE, status
from tests.e2e.ui_client import signed_in, text_of, ui_user
from workers.deadlines import DeadlineWatcher


def assigned(server: Server, staff: str, member: str, due_on: str = "2026-03-12") -> str:
    with server.client(staff) as c:
        cid = status(c.post("/api/v1/concerns", json=RAISE), 201)["id"]
        due = {"owner": member, "duty_role": "mediator", "due_on": due_on}
        status(c.post(f"/api/v1/concerns/{cid}/handle-now", json=due), 200)
    return str(cid)


def test_suspend_refuse_approve_resume_and_the_stopped_clock(server: Server) -> None:
    now = [datetime(2026, 3, 2, 10, 0, tzinfo=ZONE)]  # a Monday
    server.set_clock(lambda: now[0])
    served = server.served
    assert served is not None
    member = server.member()
    _, staff = server.principal([Role.STAFF])
    _, committee = server.principal([Role.COMMITTEE])
    _, owner = server.principal([Role.MEMBER], member=member)
    cid = assigned(server, staff, member)
    path = f"/api/v1/concerns/{cid}"
    ask = {"reason": "等待供电公司改线", "until": "2026-03-20"}
    with server.client(staff) as c:
        assert c.post(f"{path}/suspend", json=ask).status_code == 403
    before = server.event_count()
    with server.client(owner) as c:
        for until in ("2026-03-02", "2027-03-03", "not a day"):
            bad = status(c.post(f"{path}/suspend", json={**ask, "until": until}), 422)
            assert bad["fields"][0]["field"] == "until"
        assert server.event_count() == before
        status(c.post(f"{path}/suspend", json=ask), 200)
        assert status(c.post(f"{path}/suspend", json=ask), 409)["rule"] == "pending"
    with server.client(committee) as c:
        status(c.post(f"{path}/refuse-suspension", json={"reason": "请先联系供电公司"}), 200)
        assert status(c.post(f"{path}/approve-suspension"), 409)["rule"] == "no_request"
    now[0] = datetime(2026, 3, 4, 10, 0, tzinfo=ZONE)  # Wednesday
    with server.client(owner) as c:
        status(c.post(f"{path}/suspend", json=ask), 200)
        running = status(c.get(path), 200)["stage"]
    with server.client(staff) as c:
        assert c.post(f"{path}/approve-suspension").status_code == 403
    with server.client(committee) as c:
        status(c.post(f"{path}/approve-suspension"), 200)
    with server.client(owner) as c:
        read = status(c.get(path), 200)
        assert read["stage"]["suspended"] is True
        assert read["suspension"]["until"] == "2026-03-20"
        assert read["allowed_actions"] == []
        for verb, body in (
            ("record-progress", {"note": "联系中"}),
            ("resolve", {"summary": "已修好"}),
            ("request-extension", {"reason": "再等等"}),
        ):
            refused = status(c.post(f"{path}/{verb}", json=body), 409)
            assert refused["rule"] == "suspended", verb
        again = status(c.post(f"{path}/suspend", json={**ask, "until": "2026-03-25"}), 409)
        assert again["rule"] == "suspension_used"
    with server.client(committee) as c:
        extend = c.post(f"{path}/extend-deadline", json={"reason": "延期", "due_on": "2026-03-30"})
        assert status(extend, 409)["rule"] == "suspended"
    # Five days later the stage has used no more time; its deadline moved three working
    # days later (Friday 13 March 00:00 to Tuesday 17 March 18:00).
    now[0] = datetime(2026, 3, 9, 10, 0, tzinfo=ZONE)
    served.state.projections.catch_up()
    with server.client(staff) as c:
        during = status(c.get(path), 200)["stage"]
        assert during["used_percent"] == running["used_percent"]
        assert running["deadline"] == "2026-03-13T00:00:00+08:00"
        assert during["deadline"] == "2026-03-17T18:00:00+08:00"
        assert during["colour"] == running["colour"]
        listed = status(c.get("/api/v1/concerns"), 200)["items"]
        row = next(i for i in listed if i["id"] == cid)
        assert row["suspended_until"] == "2026-03-20"
        assert row["stage"]["suspended"] is True
        assert row["stage"]["deadline"] == during["deadline"]
        overdue = status(c.get("/api/v1/queues/overdue"), 200)["items"]
        assert cid not in {i["id"] for i in overdue}
    # The web UI says it in words, on the concern page and on its card in the lists.
    with signed_in(server, ui_user(server, [Role.STAFF])) as s:
        page = text_of(s.get(f"/ui/concerns/{cid}", params={"lang": "zh"}).text)
        assert "已挂账，计时暂停" in page
        page = text_of(s.get(f"/ui/concerns/{cid}", params={"lang": "en"}).text)
        assert "suspended, the clock stopped" in page
    with server.client(owner) as c:
        status(c.post(f"{path}/resume"), 200)
        read = status(c.get(path), 200)
        assert read["due_on"] == "2026-03-17"  # three working days later
        assert read["stage"]["suspended"] is False
        assert read["stage"]["used_percent"] == running["used_percent"]
        assert status(c.post(f"{path}/resume"), 409)["rule"] == "not_suspended"
        status(c.post(f"{path}/record-progress", json={"note": "已联系施工队"}), 200)
    served.state.projections.catch_up()
    with server.client(staff) as c:
        row = next(i for i in status(c.get("/api/v1/concerns"), 200)["items"] if i["id"] == cid)
        assert row["suspended_until"] is None
        assert row["due_on"] == "2026-03-17"
        assert row["stage"]["suspended"] is False
        history = status(c.get(f"{path}/history"), 200)["events"]
        kinds = [e["type"] for e in history]
        assert kinds.count("SuspensionRequested") == 2
        assert kinds.count("SuspensionRefused") == 1
        resumed = next(e for e in history if e["type"] == "Resumed")
        assert resumed["data"]["automatic"] is False
        assert resumed["changes"]["due_on"] == {"from": "2026-03-12", "to": "2026-03-17"}
    # A closed concern is not suspended.
    closed = assigned(server, staff, member, "2026-03-20")
    with server.client(staff) as c:
        status(c.post(f"/api/v1/concerns/{closed}/resolve", json={"summary": "已修好"}), 200)
        answer = {"solved": True, "satisfaction": "satisfied"}
        status(c.post(f"/api/v1/concerns/{closed}/record-feedback", json=answer), 200)
    with server.client(owner) as c:
        late = status(c.post(f"/api/v1/concerns/{closed}/suspend", json=ask), 409)
        assert late["rule"] == "not_open"


def test_the_watcher_resumes_once_at_the_until_date_and_issues_no_card(server: Server) -> None:
    now = [datetime(2026, 3, 2, 10, 0, tzinfo=ZONE)]
    server.set_clock(lambda: now[0])
    served = server.served
    assert served is not None
    watcher = DeadlineWatcher(served.state.minqing)
    member = server.member()
    _, staff = server.principal([Role.STAFF])
    _, committee = server.principal([Role.COMMITTEE])
    _, owner = server.principal([Role.MEMBER], member=member)
    cid = assigned(server, staff, member)
    path = f"/api/v1/concerns/{cid}"
    # Thursday 12 March 10:00, the due date: past the yellow threshold, no card yet.
    now[0] = datetime(2026, 3, 12, 10, 0, tzinfo=ZONE)
    with server.client(owner) as c:
        status(c.post(f"{path}/suspend", json={"reason": "等待资金", "until": "2026-03-16"}), 200)
    with server.client(committee) as c:
        status(c.post(f"{path}/approve-suspension"), 200)
        assert status(c.get(path), 200)["stage"]["colour"] == "yellow"
    served.state.projections.catch_up()
    assert dict(watcher.sweep().recorded) == {}
    # Friday: the due date has passed, but the clock stopped: no DeadlineMissed, no card.
    now[0] = datetime(2026, 3, 13, 10, 0, tzinfo=ZONE)
    served.state.projections.catch_up()
    assert dict(watcher.sweep().recorded) == {}
    # Monday 16 March, the until date: resumed, once, whatever the watcher does after.
    now[0] = datetime(2026, 3, 16, 9, 0, tzinfo=ZONE)
    served.state.projections.catch_up()
    assert watcher.sweep().recorded["Resumed"] == 1
    for _ in range(2):
        served.state.projections.catch_up()
        assert watcher.sweep().recorded["Resumed"] == 0
    with server.client(committee) as c:
        read = status(c.get(path), 200)
        assert read["stage"]["suspended"] is False
        assert read["suspension"]["automatic"] is True
        # Thursday 10:00 to Monday 00:00 is 14 working hours: due Monday 16 March now.
        assert read["due_on"] == "2026-03-16"
        assert status(c.post(f"{path}/resume"), 409)["rule"] == "not_suspended"
    with server.client(staff) as c:
        events = status(c.get(f"{path}/history"), 200)["events"]
        resumed = [e for e in events if e["type"] == "Resumed"]
        assert len(resumed) == 1
        assert resumed[0]["data"]["automatic"] is True
        assert resumed[0]["actor"] == "system:deadline-watcher"
        assert not [e for e in events if e["type"] == "DeadlineMissed"]
        # The yellow card waited for the clock to run again.
        cards = [e for e in events if e["type"] == "SupervisionCardIssued"]
        assert [e["data"]["grade"] for e in cards] == ["yellow"]
        assert cards[0]["version"] > resumed[0]["version"]


@pytest.fixture(params=BACKENDS)
def capped_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    """A server started with MINQING_EXTENSION_CAP=1."""
    for url in _database(request.param, request, tmp_path):
        yield from start_server(url, tmp_path, extension_cap=1)


def test_an_extension_cap_of_one_refuses_the_second(capped_server: Server) -> None:
    server = capped_server
    server.set_clock(lambda: datetime(2026, 3, 2, 10, 0, tzinfo=ZONE))
    member = server.member()
    _, staff = server.principal([Role.STAFF])
    _, committee = server.principal([Role.COMMITTEE])
    cid = assigned(server, staff, member)
    with server.client(committee) as c:
        path = f"/api/v1/concerns/{cid}/extend-deadline"
        status(c.post(path, json={"reason": "同意"}), 200)
        second = status(c.post(path, json={"reason": "再延", "due_on": "2026-04-10"}), 409)
        assert second["rule"] == "extension_cap"
        assert status(c.get(f"/api/v1/concerns/{cid}"), 200)["due_on"] == "2026-03-22"
