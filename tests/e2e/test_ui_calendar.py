"""The work calendar page over HTTP (both backends): a year from the official table, a year
counted on weekdays said so in words, an admin marking a day (the API then shows it), a bad
day refused in the reader's language, and non-admins without the form."""

from __future__ import annotations

from domain.vocabulary import Role
from tests.conftest import Server
from tests.e2e.ui_client import csrf_of, signed_in, text_of, ui_user


def test_the_calendar_page_shows_the_year_and_its_fallback(shared_server: Server) -> None:
    staff = ui_user(shared_server, [Role.STAFF])
    with signed_in(shared_server, staff) as s:
        page = s.get("/ui/calendar", params={"year": "2026", "lang": "en"})
        assert page.status_code == 200
        text = text_of(page.text)
        assert "2026-10-10" in text
        assert "Saturday" in text
        assert "National Day (make-up working day)" in text
        assert "No official holiday table" not in text
        assert 'action="/ui/calendar/2026/days"' not in page.text  # staff may not change it
        assert "Not saved" not in text
        zh = text_of(s.get("/ui/calendar", params={"year": "2026", "lang": "zh"}).text)
        assert "国庆节调休" in zh
        later = s.get("/ui/calendar", params={"year": "2031", "lang": "zh"})
        assert "2031年尚无官方节假日安排" in text_of(later.text)
        bad = s.get("/ui/calendar", params={"year": "12"})
        assert bad.status_code == 422
        assert "「年份」须在 2000 至 2100 之间" in text_of(bad.text)


def test_an_admin_marks_a_day_on_the_page(shared_server: Server) -> None:
    admin = ui_user(shared_server, [Role.ADMIN])
    before = shared_server.event_count()
    with signed_in(shared_server, admin) as s:
        page = s.get("/ui/calendar", params={"year": "2030"})
        token = csrf_of(page.text)
        done = s.post(
            "/ui/calendar/2030/days",
            data={"csrf": token, "day": "2030-10-01", "day_kind": "holiday", "day_name": "国庆节"},
        )
        assert done.status_code == 303
        shown = s.get(done.headers["location"])
        assert "工作日历已更新" in text_of(shown.text)
        assert "国庆节" in text_of(shown.text)
        refused = s.post(
            "/ui/calendar/2030/days",
            data={"csrf": token, "day": "2031-01-02", "day_kind": "holiday"},
        )
        assert refused.status_code == 422
        assert "「日期」须是2030年的一天" in text_of(refused.text)
        control = s.post(
            "/ui/calendar/2030/days",
            data={"csrf": token, "day": "2030-10-02", "day_kind": "holiday", "day_name": "a\x01"},
        )
        assert control.status_code == 422
        assert "「名称」" in text_of(control.text)
    assert shared_server.event_count() == before + 2  # the seed and the one day
    _, api = shared_server.principal([Role.STAFF])
    with shared_server.client(api) as c:
        days = c.get("/api/v1/calendar/2030").json()["days"]
    assert days == [{"date": "2030-10-01", "kind": "holiday", "name": "国庆节", "weekday": 2}]
