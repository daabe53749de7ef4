"""The work calendar over HTTP on SQLite and PostgreSQL: a year seeded from the official
holiday table (2026's National Day week and its make-up days), a year without one (2027)
counted on weekdays and said so in the calendar and in /readyz, an admin marking a day (one
event each), and the refusals: roles, a day of another year, a kind that is not one."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from domain.vocabulary import Role
from tests.conftest import Server

ZONE = ZoneInfo("Asia/Shanghai")


def test_a_year_from_the_official_table(server: Server) -> None:
    _, token = server.principal([Role.STAFF])
    before = server.event_count()
    with server.client(token) as c:
        r = c.get("/api/v1/calendar/2026")
    assert r.status_code == 200, r.text
    year = r.json()
    assert year["source"] == "chinese-calendar"
    assert year["note"] is None
    days = {d["date"]: d for d in year["days"]}
    assert days["2026-10-05"]["kind"] == "holiday"
    assert days["2026-10-05"]["name"] == "国庆节"
    assert days["2026-10-10"] == {
        "date": "2026-10-10",
        "kind": "workday",
        "name": "国庆节调休",
        "weekday": 6,
    }
    assert year["working_periods"] == [
        {"start": "08:00", "end": "12:00"},
        {"start": "14:00", "end": "18:00"},
    ]
    assert year["working_days"] + year["holidays"] == 365
    assert year["version"] == 0
    assert server.event_count() == before  # reading records nothing


def test_a_year_without_a_table_falls_back_and_says_so(server: Server) -> None:
    server.set_clock(lambda: datetime(2026, 12, 5, 10, tzinfo=ZONE))
    _, token = server.principal([Role.STAFF])
    with server.client(token) as c:
        year = c.get("/api/v1/calendar/2027").json()
    assert year["source"] == "weekdays"
    assert "2027" in year["note"]
    assert year["days"] == []
    assert year["working_days"] == 261  # 2027's Mondays to Fridays
    with server.client() as c:
        ready = c.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["calendar"] == {"2026": "chinese-calendar", "2027": "weekdays"}
    assert any("2027" in n for n in ready.json()["notes"])


def test_an_admin_marks_days_each_an_event(server: Server) -> None:
    _, admin = server.principal([Role.ADMIN])
    _, staff = server.principal([Role.STAFF])
    before = server.event_count()
    with server.client(admin) as c:
        r = c.put(
            "/api/v1/calendar/2027/days/2027-10-01", json={"kind": "holiday", "name": "国庆节"}
        )
        assert r.status_code == 200, r.text
        assert r.json()["kind"] == "holiday"
        assert r.json()["version"] == 2  # seeded, then marked
        r = c.put("/api/v1/calendar/2027/days/2027-10-09", json={"kind": "workday"})
        assert r.status_code == 200, r.text
    # The seed and two marks.
    assert server.event_count() == before + 3
    with server.client(staff) as c:
        year = c.get("/api/v1/calendar/2027").json()
        days = {d["date"]: d for d in year["days"]}
        assert days["2027-10-01"]["kind"] == "holiday"
        assert days["2027-10-09"]["kind"] == "workday"  # a Saturday worked
        assert year["version"] == 3
        assert year["working_days"] == 261  # one weekday off, one Saturday worked
        refused = c.put("/api/v1/calendar/2027/days/2027-10-02", json={"kind": "holiday"})
        assert refused.status_code == 403
        assert refused.json()["error"] == "forbidden"
    with server.client(admin) as c:
        other = c.put("/api/v1/calendar/2027/days/2028-01-03", json={"kind": "holiday"})
        assert other.status_code == 422
        assert "day" in other.text
        bad = c.put("/api/v1/calendar/2027/days/2027-01-04", json={"kind": "weekend"})
        assert bad.status_code == 422
        assert "kind" in bad.text
        nul = c.put(
            "/api/v1/calendar/2027/days/2027-01-04", json={"kind": "holiday", "name": "a\x00"}
        )
        assert nul.status_code == 422
        assert "name" in nul.text
    assert server.event_count() == before + 3
