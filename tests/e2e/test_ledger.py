"""The ledger (台账) over HTTP, on the worked story as `minqing demo` plays it: the JSON figures,
the CSV and XLSX exports with Chinese and English headers (and the same numbers), the
drill-down from a figure to exactly the concerns or visits it counts, the grid scope, and the
401/403/422/503 answers."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import openpyxl
import pytest

from api.demo import load_demo
from domain.vocabulary import Role
from projections.ledger_figures import BY_NAME, FIGURES
from tests.conftest import Server

MARCH: dict[str, Any] = {"from": "2026-03-01", "to": "2026-03-31"}
STREETLIGHTS: dict[str, Any] = {"month": "2026-03", "grid": "2", "category": "environment"}


@dataclass
class Story:
    """The shared server with the worked story loaded, and a staff client."""

    server: Server
    staff: httpx.Client

    def client(self, roles: list[Role], grids: list[str] | None = None) -> httpx.Client:
        _, token = self.server.principal(roles, grids)
        return self.server.client(token)

    def get(
        self, path: str, *, client: httpx.Client | None = None, **params: Any
    ) -> httpx.Response:
        params.setdefault("min_position", self.server.event_count())
        return (client or self.staff).get(path, params=params)

    def ledger(self, *, client: httpx.Client | None = None, **params: Any) -> dict[str, Any]:
        r = self.get("/api/v1/ledger", client=client, **params)
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body


@pytest.fixture(scope="module")
def story(shared_server: Server) -> Iterator[Story]:
    list(load_demo(shared_server.app))
    _, token = shared_server.principal([Role.STAFF])
    with shared_server.client(token) as staff:
        yield Story(shared_server, staff)


def cell(ledger: dict[str, Any], **keys: Any) -> dict[str, Any]:
    (row,) = [r for r in ledger["rows"] if all(r[k] == v for k, v in keys.items())]
    figures: dict[str, Any] = row["figures"]
    return figures


# -- JSON ----------------------------------------------------------------------------------


def test_the_march_ledger_counts_the_streetlights_as_domain_md_says(story: Story) -> None:
    ledger = story.ledger(**MARCH, group_by="month,grid,category")

    figures = cell(ledger, **STREETLIGHTS)
    assert figures["concerns_collected"] == 1
    assert figures["discussed"] == 1
    assert figures["adopted"] == 1
    assert figures["resolved"] == 1
    assert figures["resolved_on_time"] == 1
    assert figures["median_days_to_resolve"] == 36
    assert figures["satisfaction_rate"]["percent"] == 100.0
    assert figures["satisfaction_rate"]["split"]["satisfied"] == 1
    assert cell(ledger, month="2026-03", grid="2", category=None)["households_visited"] == 1
    assert ledger["group_by"] == ["month", "grid", "category"]
    assert {f["name"] for f in ledger["figures"]} == set(BY_NAME)
    labels = {f["name"]: (f["zh"], f["en"]) for f in ledger["figures"]}
    assert labels["satisfaction_rate"] == ("满意率", "Satisfaction rate")
    assert ledger["response_window_days"] == 2


def test_the_ledger_defaults_to_month_grid_and_category(story: Story) -> None:
    ledger = story.ledger(**MARCH)

    assert ledger["group_by"] == ["month", "grid", "category"]
    assert cell(ledger, **STREETLIGHTS)["resolved_on_time"] == 1


def test_a_month_range_reads_like_its_days(story: Story) -> None:
    months: dict[str, Any] = {"from": "2026-03", "to": "2026-03"}
    by_month = story.ledger(**months, group_by="grid")
    by_day = story.ledger(**MARCH, group_by="grid")

    assert by_month["rows"] == by_day["rows"]
    assert (by_month["from"], by_month["to"]) == ("2026-03-01", "2026-03-31")


# -- CSV and XLSX ---------------------------------------------------------------------------


def _expected(name: str, value: Any, *, ratio: bool) -> Any:
    kind = BY_NAME[name].kind
    if value is None:
        return None
    if kind == "rate":
        return value["value"] if ratio else value["percent"]
    if kind == "reasons":
        return "；".join(f"{r['reason']} ×{r['count']}" for r in value) or None
    return value


def test_the_csv_has_chinese_and_english_headers_and_the_json_figures(story: Story) -> None:
    ledger = story.ledger(**MARCH)
    r = story.get("/api/v1/ledger", **MARCH, format="csv")

    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.content.startswith(b"\xef\xbb\xbf")  # the BOM: Excel then reads UTF-8
    assert 'filename="minqing-ledger-2026-03-01_2026-03-31.csv"' in r.headers["content-disposition"]
    zh, en, *lines = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert zh[:4] == ["月份", "网格", "类别", "类别名称"]
    assert en[:4] == ["Month", "Grid", "Category", "Category name"]
    assert "满意率 (%)" in zh
    assert "Satisfaction rate (%)" in en
    assert "收集民情" in zh
    assert "Concerns collected" in en
    assert len(lines) == len(ledger["rows"]) + 1  # and the totals
    by_key = {tuple(line[:3]): dict(zip(en, line, strict=True)) for line in lines}
    for row in ledger["rows"]:
        found = by_key[(row["month"], row["grid"], row["category"] or "")]
        for f in FIGURES:
            expected = _expected(f.name, row["figures"][f.name], ratio=False)
            shown = found[en[zh.index(_zh_header(f.name))]]
            assert shown == ("" if expected is None else str(expected)), (row, f.name)
    assert lines[-1][0] == "合计 Total"
    assert by_key[("2026-03", "2", "environment")]["Category name"] == "环境卫生"


def _zh_header(name: str) -> str:
    f = BY_NAME[name]
    return f"{f.zh} (%)" if f.kind == "rate" else f.zh


def test_the_xlsx_is_a_workbook_with_both_header_rows_and_the_json_figures(
    story: Story,
) -> None:
    ledger = story.ledger(**MARCH, group_by="grid,category")
    r = story.get("/api/v1/ledger", **MARCH, group_by="grid,category", format="xlsx")

    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert "attachment;" in r.headers["content-disposition"]
    assert ".xlsx" in r.headers["content-disposition"]
    book = openpyxl.load_workbook(io.BytesIO(r.content))
    assert book.sheetnames == ["台账 Ledger", "指标说明 Figures", "范围 Scope"]
    zh, en, *lines = list(book["台账 Ledger"].iter_rows(values_only=True))
    assert zh[:3] == ("网格", "类别", "类别名称")
    assert en[:3] == ("Grid", "Category", "Category name")
    assert len(lines) == len(ledger["rows"]) + 1
    for row, line in zip(ledger["rows"], lines, strict=False):
        assert line[:2] == (row["grid"], row["category"])
        for i, f in enumerate(FIGURES):
            assert line[3 + i] == _expected(f.name, row["figures"][f.name], ratio=True), f.name
    totals = lines[-1]
    assert totals[0] == "合计 Total"
    for i, f in enumerate(FIGURES):
        expected = _expected(f.name, ledger["totals"]["figures"][f.name], ratio=True)
        assert totals[3 + i] == expected, f.name
    definitions = list(book["指标说明 Figures"].iter_rows(values_only=True))
    assert ("satisfaction_rate", "满意率", "Satisfaction rate") in [d[:3] for d in definitions]


# -- drill-down -----------------------------------------------------------------------------


def test_each_figure_of_a_cell_opens_into_exactly_what_it_counts(story: Story) -> None:
    ledger = story.ledger(**MARCH)
    checked = 0
    for row in ledger["rows"]:
        keys = {k: row[k] for k in ("month", "grid", "category") if row[k] is not None}
        for f in FIGURES:
            if f.kind not in ("count", "distinct") or row["figures"][f.name] is None:
                continue
            r = story.get(f"/api/v1/ledger/{f.subject}", figure=f.name, **keys, **MARCH)
            assert r.status_code == 200, r.text
            items = r.json()["items"]
            if f.kind == "distinct":
                assert len({i["household_key"] for i in items}) == row["figures"][f.name]
            else:
                assert len(items) == row["figures"][f.name], (keys, f.name)
            checked += 1
    assert checked > 20


def test_resolved_on_time_in_the_streetlight_cell_is_the_streetlight_concern(
    story: Story,
) -> None:
    r = story.get("/api/v1/ledger/concerns", figure="resolved_on_time", **STREETLIGHTS)

    assert r.status_code == 200, r.text
    body = r.json()
    (item,) = body["items"]
    assert item["reference"] == "MQ-2026-000001"
    assert item["title"] == "5号楼东侧小路路灯两周不亮"
    assert item["status"] == "resolved"
    assert item["days_to_resolve"] == 36
    assert body["figure"]["zh"] == "按期办结"
    assert "resident" not in item
    assert "13800000000" not in r.text  # nothing personal in a drill-down


def test_a_median_opens_into_the_resolved_concerns_it_is_the_median_of(story: Story) -> None:
    r = story.get("/api/v1/ledger/concerns", figure="median_days_to_resolve", month="2026-03")

    assert sorted(i["days_to_resolve"] for i in r.json()["items"]) == [1, 36]


# -- grid scope -------------------------------------------------------------------------------


def test_a_grid_3_principal_sees_no_grid_2_figure(story: Story) -> None:
    grid3 = story.client([Role.STAFF], ["3"])
    raised = grid3.post(
        "/api/v1/concerns",
        json={
            "title": "3号网格垃圾清运不及时",
            "description": "垃圾桶满了两天没人清运。",
            "category": "environment",
            "library": "problem",
            "channel": "hotline",
            "grid": "3",
        },
    )
    assert raised.status_code == 201, raised.text

    ledger = story.ledger(client=grid3, group_by="grid")

    assert [r["grid"] for r in ledger["rows"]] == ["3"]
    assert ledger["totals"]["figures"]["concerns_collected"] == 1
    assert ledger["totals"]["figures"]["visits"] == 0
    march = story.ledger(client=grid3, **MARCH)
    assert march["rows"] == []
    assert march["totals"]["figures"]["resolved"] == 0
    for path, params in (
        ("/api/v1/ledger", {"grid": "2"}),
        ("/api/v1/ledger/concerns", {"figure": "resolved", "grid": "2"}),
        ("/api/v1/ledger/visits", {"figure": "visits", "grid": "2"}),
    ):
        r = story.get(path, client=grid3, **params)
        assert r.status_code == 403, (path, r.text)
        assert r.json()["error"] == "forbidden"
    opened = story.get("/api/v1/ledger/concerns", client=grid3, figure="concerns_collected").json()
    assert {i["grid"] for i in opened["items"]} == {"3"}
    assert story.get("/api/v1/ledger/visits", client=grid3, figure="visits").json()["items"] == []


# -- access and bad input ------------------------------------------------------------------------


def test_the_ledger_needs_a_token(story: Story) -> None:
    for path in ("/api/v1/ledger", "/api/v1/ledger/concerns?figure=resolved"):
        r = story.server.client().get(path)
        assert r.status_code == 401
        assert r.json()["error"] == "unauthenticated"


@pytest.mark.parametrize("role", [Role.MEMBER, Role.INTEGRATOR])
def test_roles_outside_staff_and_supervisor_may_not_read_the_ledger(
    story: Story, role: Role
) -> None:
    client = story.client([role])
    for path in ("/api/v1/ledger", "/api/v1/ledger/concerns", "/api/v1/ledger/visits"):
        r = client.get(path, params={"figure": "visits" if "visits" in path else "resolved"})
        assert r.status_code == 403, (path, r.text)
        assert r.json()["error"] == "forbidden"


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.COLLECTOR, Role.CHAIR])
def test_staff_roles_and_the_supervisor_read_the_ledger(story: Story, role: Role) -> None:
    ledger = story.ledger(client=story.client([role]), **MARCH)
    assert cell(ledger, **STREETLIGHTS)["resolved"] == 1


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/api/v1/ledger", {"group_by": "week"}, "group_by"),
        ("/api/v1/ledger", {"group_by": "month,month"}, "group_by"),
        ("/api/v1/ledger", {"from": "2026-13-01"}, "from"),
        ("/api/v1/ledger", {"to": "yesterday"}, "to"),
        ("/api/v1/ledger", {"from": "2026-04-01", "to": "2026-03-31"}, "to"),
        ("/api/v1/ledger", {"format": "pdf"}, "format"),
        ("/api/v1/ledger/concerns", {}, "figure"),
        ("/api/v1/ledger/concerns", {"figure": "happiness"}, "figure"),
        ("/api/v1/ledger/concerns", {"figure": "satisfaction_rate"}, "figure"),
        ("/api/v1/ledger/concerns", {"figure": "visits"}, "figure"),
        ("/api/v1/ledger/visits", {"figure": "resolved"}, "figure"),
        ("/api/v1/ledger/concerns", {"figure": "resolved", "month": "2026-3"}, "month"),
        ("/api/v1/ledger/concerns", {"figure": "resolved", "category": "weather"}, "category"),
        ("/api/v1/ledger/visits", {"figure": "visits", "from": "3 March"}, "from"),
    ],
)
def test_bad_ledger_input_is_refused_naming_the_field(
    story: Story, path: str, params: dict[str, Any], field: str
) -> None:
    r = story.get(path, **params)

    assert r.status_code == 422, r.text
    body = r.json()
    assert body["error"] == "invalid"
    assert field in [f["field"] for f in body["fields"]], body


def test_a_rate_names_its_parts_when_asked_to_open(story: Story) -> None:
    r = story.get("/api/v1/ledger/concerns", figure="satisfaction_rate")

    assert "satisfied_or_basically" in r.json()["fields"][0]["message"]
    assert "feedback_given" in r.json()["fields"][0]["message"]


def test_a_position_the_ledger_has_not_reached_answers_503(story: Story) -> None:
    r = story.get("/api/v1/ledger", min_position=10**9)

    assert r.status_code == 503
    assert r.json()["error"] == "unavailable"
    assert r.json()["position"] >= 1
