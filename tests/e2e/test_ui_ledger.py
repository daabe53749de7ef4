"""The ledger page over HTTP: the API's figures, its downloads, the grid scope (both
backends)."""

from __future__ import annotations

import re
from dataclasses import replace

from domain.vocabulary import Role
from tests.conftest import Server
from tests.e2e.ui_client import signed_in, text_of, ui_user
from tests.integration.support import STAFF, draft


def _figure(page: str, name: str) -> str:
    found = re.search(rf'<dd data-figure="{name}">([^<]*)</dd>', page)
    assert found, name
    return found.group(1)


def test_the_ledger_page_shows_the_apis_figures_within_the_callers_grids(
    shared_server: Server,
) -> None:
    app = shared_server.app
    for grid in ("8", "8", "9"):
        app.raise_concern(STAFF, replace(draft(title=f"网格{grid}的民情"), grid=grid))
    eight = ui_user(shared_server, [Role.STAFF], ["8"])
    _, token = shared_server.principal([Role.STAFF], ["8"])
    written = shared_server.event_count()
    with shared_server.client(token) as api:
        query: dict[str, str | int] = {"group_by": "month", "min_position": written}
        expected = api.get("/api/v1/ledger", params=query).json()
        csv = api.get("/api/v1/ledger", params={"group_by": "month", "format": "csv"})
    assert expected["totals"]["figures"]["concerns_collected"] == 2
    with signed_in(shared_server, eight) as s:
        page = s.get("/ui/ledger", params={"at": written})
        assert page.status_code == 200
        assert _figure(page.text, "concerns_collected") == "2"
        assert "网格9" not in page.text
        assert 'href="/ui/ledger.csv?group_by=month"' in page.text
        download = s.get("/ui/ledger.csv", params={"group_by": "month"})
        assert download.headers["content-type"] == "text/csv; charset=utf-8"
        assert "attachment;" in download.headers["content-disposition"]
        assert download.content == csv.content
        xlsx = s.get("/ui/ledger.xlsx", params={"group_by": "month"})
        assert xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
        assert xlsx.content[:2] == b"PK"


def test_a_bad_range_is_said_in_words_and_members_are_refused(
    shared_server: Server,
) -> None:
    staff = ui_user(shared_server, [Role.STAFF])
    member = ui_user(shared_server, [Role.MEMBER])
    _, token = shared_server.principal([Role.STAFF])
    with shared_server.client(token) as api:
        refused = api.get("/api/v1/ledger", params={"from": "2026-04", "to": "2026-03"}).json()
    message = refused["fields"][0]["message"]
    with signed_in(shared_server, staff) as s, signed_in(shared_server, member) as m:
        page = s.get("/ui/ledger", params={"from": "2026-04", "to": "2026-03"})
        assert page.status_code == 422
        assert message not in text_of(page.text)  # the API's English stays in the API
        assert "「截止日期」不能早于起始日期。" in text_of(page.text)
        assert m.get("/ui/ledger").status_code == 403
        assert m.get("/ui/ledger.csv").status_code == 403
