"""Scorecards (考核记分卡) over HTTP on SQLite and PostgreSQL: five concerns with known
outcomes, their figures worked out by hand per owner, grid and collector; the composite
score and grade; each figure's concerns; the CSV and XLSX; the grid scope; who may read."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import httpx
import openpyxl
import pytest

from domain.vocabulary import Role
from tests.conftest import BACKENDS, Server, _database, start_server
from tests.e2e.concern_requests import RAISE, ZONE, status
from tests.e2e.ui_client import signed_in, text_of, ui_user

PERIOD = {"from": "2026-03-01", "to": "2026-03-31"}


@pytest.fixture(scope="module", params=BACKENDS)
def quiet_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """A server whose deadline watcher sweeps once an hour: no card but the test's own."""
    tmp = tmp_path_factory.mktemp("scorecards")
    for url in _database(request.param, request, tmp):
        yield from start_server(url, tmp, deadline_check_seconds=3600)


@dataclass
class Story:
    server: Server
    refs: dict[str, str]  # c1 … c5 -> reference
    owners: dict[str, str]  # A, B -> member id
    collectors: dict[str, str]  # S1, S3 -> principal id

    def get(self, roles: list[Role], grids: list[str] | None = None, /, **params: str) -> Any:
        _, token = self.server.principal(roles, grids)
        with self.server.client(token) as c:
            return c.get(
                "/api/v1/scorecards",
                params={**PERIOD, "min_position": self.server.event_count(), **params},
            )

    def cards(self, subject: str, **kw: Any) -> dict[str, dict[str, Any]]:
        body = status(self.get([Role.SUPERVISOR], subject=subject, **kw), 200)
        return {c["subject"]: c for c in body["scorecards"]}


def _play(server: Server) -> Story:
    """c1 resolved on time and satisfied; c2 late, appealed and approved; c3 extended,
    resolved and reopened; c5 late; c4 (grid 3, owner B) carded yellow, still open."""
    now = [datetime(2026, 3, 2, 10, 0, tzinfo=ZONE)]  # a Monday
    server.set_clock(lambda: now[0])
    a, b = server.member("李强"), server.member("赵敏")
    s1, staff = server.principal([Role.STAFF])
    s3, staff3 = server.principal([Role.STAFF], ["3"])
    _, boss = server.principal([Role.SUPERVISOR])
    _, committee = server.principal([Role.COMMITTEE])
    _, owner_a = server.principal([Role.MEMBER], member=a)
    ids: dict[str, str] = {}
    refs: dict[str, str] = {}
    with server.client(staff) as c:
        for name, due in (("c1", "2026-03-12"), ("c2", "2026-03-04"), ("c3", "2026-03-12")):
            made = status(c.post("/api/v1/concerns", json=RAISE), 201)
            ids[name], refs[name] = made["id"], made["reference"]
            body = {"owner": a, "duty_role": "mediator", "due_on": due}
            status(c.post(f"/api/v1/concerns/{made['id']}/handle-now", json=body), 200)
    with server.client(staff3) as c:
        made = status(c.post("/api/v1/concerns", json={**RAISE, "grid": "3"}), 201)
        ids["c4"], refs["c4"] = made["id"], made["reference"]
        body = {"owner": b, "duty_role": "mediator", "due_on": "2026-03-12"}
        status(c.post(f"/api/v1/concerns/{made['id']}/handle-now", json=body), 200)
    with server.client(staff) as c:
        made = status(c.post("/api/v1/concerns", json=RAISE), 201)
        ids["c5"], refs["c5"] = made["id"], made["reference"]
        body = {"owner": a, "duty_role": "mediator", "due_on": "2026-03-04"}
        status(c.post(f"/api/v1/concerns/{made['id']}/handle-now", json=body), 200)
    path = {k: f"/api/v1/concerns/{v}" for k, v in ids.items()}
    with server.client(boss) as c:
        card = {"grade": "yellow", "requirement": "三日内回复", "reply_by": "2026-03-09"}
        status(c.post(f"{path['c4']}/supervise", json=card), 200)
    now[0] = datetime(2026, 3, 3, 10, 0, tzinfo=ZONE)  # 8 working hours later
    with server.client(staff) as c:
        status(c.post(f"{path['c1']}/resolve", json={"summary": "已修好"}), 200)
        answer = {"solved": True, "satisfaction": "satisfied", "comment": ""}
        status(c.post(f"{path['c1']}/record-feedback", json=answer), 200)
    with server.client(owner_a) as c:
        status(c.post(f"{path['c3']}/request-extension", json={"reason": "配件未到"}), 200)
    with server.client(committee) as c:
        status(c.post(f"{path['c3']}/extend-deadline", json={"reason": "同意"}), 200)
    now[0] = datetime(2026, 3, 4, 14, 0, tzinfo=ZONE)  # 18 working hours after handling
    with server.client(staff) as c:
        status(c.post(f"{path['c3']}/resolve", json={"summary": "已修好"}), 200)
        status(c.post(f"{path['c3']}/reopen", json={"reason": "又坏了"}), 200)
    now[0] = datetime(2026, 3, 6, 10, 0, tzinfo=ZONE)  # 32 working hours after handling
    served = server.served
    assert served is not None
    assert served.state.minqing.record_missed_deadlines(UUID(ids["c2"]), 7) == ["DeadlineMissed"]
    with server.client(staff) as c:
        status(c.post(f"{path['c2']}/resolve", json={"summary": "已修好"}), 200)
        status(c.post(f"{path['c5']}/resolve", json={"summary": "已修好"}), 200)
    with server.client(owner_a) as c:
        appeal = {"stage": "handling", "reason": "配件全市缺货"}
        status(c.post(f"{path['c2']}/appeal", json=appeal), 200)
    with server.client(boss) as c:
        decision = {"approved": True, "reason": "情况属实"}
        status(c.post(f"{path['c2']}/decide-appeal", json=decision), 200)
    return Story(server, refs, {"A": a, "B": b}, {"S1": s1.id, "S3": s3.id})


@pytest.fixture(scope="module")
def story(quiet_server: Server) -> Story:
    return _play(quiet_server)


def _refs(story: Story, *names: str) -> list[str]:
    return [story.refs[n] for n in names]


def test_owner_scorecards_are_the_figures_worked_out_by_hand(story: Story) -> None:
    cards = story.cards("owner")
    a = cards[story.owners["A"]]
    assert a["name"] == "李强"
    f = a["figures"]
    assert f["concerns"]["count"] == 4
    # c1 on time, c2 late but its handling stage exempted on appeal, c3 on time; c5 late.
    assert (f["on_time_closure"]["numerator"], f["on_time_closure"]["denominator"]) == (3, 4)
    assert f["on_time_closure"]["percent"] == 75.0
    assert f["rework"]["value"] == 0.25  # c3 reopened
    assert f["extension"]["value"] == 0.25  # c3 extended, of four assigned
    assert f["satisfaction"]["value"] == 1.0  # c1, the only feedback
    # Working hours from handle-now to the first action: 8, 18, 32 and 32.
    assert f["response"] == {
        "median_hours": 25.0,
        "mean_hours": 22.5,
        "count": 4,
        "concerns": _refs(story, "c1", "c2", "c3", "c5"),
    }
    assert (f["yellow_cards"]["count"], f["red_cards"]["count"]) == (0, 0)
    # 50 × 0.75 + 20 × (1 − 0.25) + 10 × (1 − 0.25) + 20 × 1 = 80.
    assert (a["score"], a["grade"]) == (80.0, "B")

    b = cards[story.owners["B"]]
    assert b["figures"]["yellow_cards"] == {"count": 1, "concerns": _refs(story, "c4")}
    assert b["figures"]["on_time_closure"]["value"] is None  # nothing resolved: no rate
    # Only the extension rate (0 of 1) is present: it carries the whole score.
    assert (b["score"], b["grade"]) == (100.0, "A")


def test_every_figure_drills_down_to_its_concerns(story: Story) -> None:
    f = story.cards("owner")[story.owners["A"]]["figures"]
    assert f["on_time_closure"]["concerns"] == {
        "numerator": _refs(story, "c1", "c2", "c3"),
        "denominator": _refs(story, "c1", "c2", "c3", "c5"),
    }
    assert f["rework"]["concerns"]["numerator"] == _refs(story, "c3")
    assert f["extension"]["concerns"]["numerator"] == _refs(story, "c3")
    assert f["satisfaction"]["concerns"] == {
        "numerator": _refs(story, "c1"),
        "denominator": _refs(story, "c1"),
    }


def test_grid_and_collector_scorecards_group_the_same_concerns(story: Story) -> None:
    grids = story.cards("grid")
    assert sorted(grids) == ["2", "3"]
    assert grids["2"]["figures"]["concerns"]["concerns"] == _refs(story, "c1", "c2", "c3", "c5")
    assert grids["2"]["score"] == 80.0
    assert grids["3"]["figures"]["yellow_cards"]["count"] == 1
    collectors = story.cards("collector")
    assert collectors[story.collectors["S1"]]["figures"]["concerns"]["count"] == 4
    assert collectors[story.collectors["S3"]]["figures"]["concerns"]["concerns"] == _refs(
        story, "c4"
    )


def test_a_period_before_the_concerns_has_no_scorecards(story: Story) -> None:
    body = status(
        story.get([Role.STAFF], subject="owner", to="2026-02-28", **{"from": "2026-02-01"}), 200
    )
    assert body["scorecards"] == []
    assert body["rules"]["weights"] == {
        "on_time_closure": 50,
        "rework": 20,
        "extension": 10,
        "satisfaction": 20,
    }


def test_a_grid_leader_sees_only_their_grids_concerns(story: Story) -> None:
    body = status(story.get([Role.GRID_LEADER], ["3"], subject="owner"), 200)
    assert [c["subject"] for c in body["scorecards"]] == [story.owners["B"]]
    grids = status(story.get([Role.GRID_LEADER], ["3"], subject="grid"), 200)["scorecards"]
    assert [c["subject"] for c in grids] == ["3"]


def test_csv_and_xlsx_carry_the_same_figures(story: Story) -> None:
    r = story.get([Role.SUPERVISOR], subject="grid", format="csv")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert "minqing-scorecards-grid-2026-03-01_2026-03-31.csv" in r.headers["content-disposition"]
    assert r.content.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    zh, en = lines[0], lines[1]
    assert zh[:4] == ["对象", "名称", "民情数", "按期办结率 (%)"]
    grid2 = dict(zip(en, lines[2], strict=True))
    assert grid2["Subject"] == "2"
    assert grid2["On-time closure (%)"] == "75.0"
    assert (grid2["Score"], grid2["Grade"]) == ("80.0", "B")
    assert grid2["Response, median (working hours)"] == "25.0"

    x = story.get([Role.SUPERVISOR], subject="grid", format="xlsx")
    assert x.status_code == 200, x.text
    sheet = openpyxl.load_workbook(io.BytesIO(x.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("对象", "名称", "民情数", "按期办结率 (%)")
    by_en = dict(zip(rows[1], rows[2], strict=True))
    assert (by_en["Subject"], by_en["Score"], by_en["Grade"]) == ("2", 80, "B")
    assert by_en["Yellow cards"] == 0
    assert dict(zip(rows[1], rows[3], strict=True))["Yellow cards"] == 1


def test_who_may_read_and_what_is_refused(story: Story) -> None:
    assert story.get([Role.MEMBER]).status_code == 403
    with httpx.Client(base_url=story.server.base_url) as anonymous:
        assert anonymous.get("/api/v1/scorecards").status_code == 401
    bad = status(story.get([Role.STAFF], subject="household"), 422)
    assert bad["fields"][0]["field"] == "subject"
    backwards = status(story.get([Role.STAFF], **{"from": "2026-03-31", "to": "2026-03-01"}), 422)
    assert backwards["fields"][0]["field"] == "to"
    outside = status(story.get([Role.GRID_LEADER], ["3"]), 200)["scorecards"]
    assert all(story.refs["c1"] not in c["figures"]["concerns"]["concerns"] for c in outside)


def test_the_scorecards_page_shows_the_figures_and_opens_them_to_their_concerns(
    story: Story,
) -> None:
    server = story.server
    boss = ui_user(server, [Role.SUPERVISOR])
    leader = ui_user(server, [Role.GRID_LEADER], ["3"])
    member = ui_user(server, [Role.MEMBER])
    query = {**PERIOD, "subject": "owner", "at": str(server.event_count())}
    with signed_in(server, boss) as s:
        page = s.get("/ui/scorecards", params=query)
        assert page.status_code == 200
        assert 'href="/ui/scorecards"' in page.text  # in the supervisor's navigation
        text = text_of(page.text)
        assert "李强 的记分明细" in text
        assert re.search(r'data-figure="on_time_closure">75.0%', page.text)
        assert re.search(r'data-figure="score">80.0<', page.text)
        assert re.search(r'data-figure="grade">B<', page.text)
        # Each figure opens to its concerns, linked to their pages.
        assert f'href="/ui/concerns/{story.refs["c3"]}"' in page.text
        english = s.get("/ui/scorecards", params={**query, "lang": "en"})
        assert "Scorecard of 李强" in text_of(english.text)
        csv_page = s.get("/ui/scorecards.csv", params={**PERIOD, "subject": "grid"})
        assert csv_page.headers["content-type"] == "text/csv; charset=utf-8"
        r = story.get([Role.SUPERVISOR], subject="grid", format="csv")
        assert csv_page.content == r.content
        xlsx = s.get("/ui/scorecards.xlsx", params={**PERIOD, "subject": "grid"})
        assert xlsx.content[:2] == b"PK"
        bad = s.get("/ui/scorecards", params={"from": "2026-04", "to": "2026-03", "lang": "en"})
        assert bad.status_code == 422
        assert "cannot be before the start" in text_of(bad.text)  # in words
    with signed_in(server, leader) as s:
        grids = s.get("/ui/scorecards", params={**PERIOD, "subject": "grid"})
        assert story.refs["c4"] in grids.text
        assert story.refs["c1"] not in grids.text
    with signed_in(server, member) as s:
        assert s.get("/ui/scorecards").status_code == 403
