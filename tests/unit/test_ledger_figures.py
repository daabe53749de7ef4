"""The ledger's figures in memory: the table of definitions, the cohort and window rules,
rates with zero denominators, the category split of visits, and the spreadsheet layout."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from api import ledger_export
from domain.errors import Invalid
from projections.ledger import household_key
from projections.ledger_figures import (
    BY_NAME,
    FIGURES,
    Clock,
    ConcernFacts,
    VisitFacts,
    concern_facts,
    parse_group_by,
)
from projections.ledger_tally import compute, concerns_of, tally

ZONE = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 4, 30, 12, 0, tzinfo=ZONE)
CLOCK = Clock(NOW, ZONE)
TODAY = CLOCK.today


def utc(moment: datetime) -> str:
    return moment.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def concern(clock: Clock = CLOCK, **changes: Any) -> ConcernFacts:
    """A concern's ledger row (as projections.ledger stores it) read against `clock`."""
    row: dict[str, Any] = {
        "id": "c1",
        "reference": "MQ-2026-000001",
        "title": "路灯不亮",
        "status": "intake",
        "category": "environment",
        "library": "problem",
        "grid": "2",
        "raised_at": utc(datetime(2026, 3, 3, 10, tzinfo=ZONE)),
        "referred_at": None,
        "shortlisted_at": None,
        "adopted_at": None,
        "assigned_at": None,
        "first_action_at": None,
        "due_on": None,
        "resolved_at": None,
        "resolved_on_time": None,
        "resolutions": 0,
        "decline_reason": None,
        "feedback_count": 0,
        "solved": None,
        "satisfaction": None,
        "reopened_count": 0,
        "extended_count": 0,
    }
    for key, value in changes.items():
        row[key] = utc(value) if isinstance(value, datetime) else value
    return concern_facts(row, clock)


def visit(grid: str = "2", household: str = "5号楼301", **changes: Any) -> VisitFacts:
    fields: dict[str, Any] = {
        "id": f"v-{grid}-{household}",
        "grid": grid,
        "household_key": household_key(grid, household),
        "visited_on": date(2026, 3, 3),
        "priority_visit": None,
        "recorded_by": "wangfang",
        "concern_count": 0,
    }
    return VisitFacts(**{**fields, **changes})


def count(name: str, concerns: list[ConcernFacts]) -> int:
    return len(concerns_of(BY_NAME[name], concerns, TODAY))


# -- the table --------------------------------------------------------------------------------


def test_every_figure_has_both_labels_and_says_how_it_is_computed() -> None:
    assert len(BY_NAME) == len(FIGURES)
    for f in FIGURES:
        assert f.zh
        assert f.en
        assert f.how_zh
        assert f.how_en
    indicators = {"响应率", "解决率", "满意率", "按期结案率", "返工率", "延期率"}
    assert indicators <= {f.zh for f in FIGURES}


def test_every_rate_divides_two_count_figures_and_everything_else_opens_into_one() -> None:
    for f in FIGURES:
        if f.kind == "rate":
            numerator, denominator = f.parts
            assert BY_NAME[numerator].kind == BY_NAME[denominator].kind == "count"
            assert f.opens is None
        else:
            assert f.opens is not None
            assert BY_NAME[f.opens].kind == "count"
            assert BY_NAME[f.opens].subject == f.subject


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        (None, ("month", "grid", "category")),
        ("", ()),
        ("grid", ("grid",)),
        (" category , month ", ("category", "month")),
    ],
)
def test_group_by_takes_any_of_the_keys_in_the_order_given(
    text: str | None, keys: tuple[str, ...]
) -> None:
    assert parse_group_by(text) == keys


@pytest.mark.parametrize("text", ["week", "month,month", "month;grid"])
def test_a_bad_group_by_names_the_field(text: str) -> None:
    with pytest.raises(Invalid) as caught:
        parse_group_by(text)
    assert caught.value.fields[0][0] == "group_by"


def test_a_household_is_the_same_however_it_is_typed_but_not_across_grids() -> None:
    key = household_key("2", "5号楼2单元301")

    assert household_key("2", " 5号楼 2单元 301 ") == key
    assert household_key("2", "５号楼２单元３０１") == key  # full-width digits
    assert household_key("3", "5号楼2单元301") != key
    assert household_key("2", "5号楼2单元302") != key
    assert re.fullmatch("[0-9a-f]{64}", key)  # a digest: the text itself is not kept


# -- concerns ----------------------------------------------------------------------------------


def test_a_concern_counts_in_the_local_month_it_was_raised() -> None:
    # 1 April 00:30 in Shanghai is still 31 March in UTC.
    late = concern(raised_at=datetime(2026, 4, 1, 0, 30, tzinfo=ZONE))
    assert late.month == "2026-04"


def test_the_response_window_counts_from_the_assignment_to_the_first_action() -> None:
    assigned = datetime(2026, 4, 20, 9, tzinfo=ZONE)
    quick = concern(assigned_at=assigned, first_action_at=assigned + timedelta(hours=47))
    slow = concern(assigned_at=assigned, first_action_at=assigned + timedelta(days=3))
    silent = concern(assigned_at=assigned)
    fresh = concern(assigned_at=NOW - timedelta(hours=5))

    assert [c.responded for c in (quick, slow, silent, fresh)] == [True, False, False, False]
    # A concern still inside its window with nothing done yet is not judged yet.
    assert [c.response_due for c in (quick, slow, silent, fresh)] == [True, True, True, False]
    wide = Clock(NOW, ZONE, timedelta(days=5))
    late = concern(wide, assigned_at=assigned, first_action_at=assigned + timedelta(days=3))
    assert late.responded


def test_due_for_closure_means_resolved_or_past_the_due_date() -> None:
    future = concern(status="assigned", due_on="2026-05-10")
    passed = concern(status="assigned", due_on="2026-04-10")
    resolved = concern(
        status="resolved",
        due_on="2026-05-10",
        resolved_at=datetime(2026, 4, 8, 9, tzinfo=ZONE),
        resolved_on_time=1,
        resolutions=1,
    )
    never_assigned = concern(status="committee")

    assert [count("due", [c]) for c in (future, passed, resolved, never_assigned)] == [0, 1, 1, 0]
    assert count("resolved_on_time", [future, passed, resolved]) == 1


def test_days_to_resolve_are_calendar_days_and_only_for_resolved_concerns() -> None:
    resolved = concern(
        status="resolved",
        resolved_at=datetime(2026, 4, 8, 9, tzinfo=ZONE),  # an hour short of 36 × 24 h
        resolutions=1,
    )
    reopened = concern(status="assigned", resolutions=1, reopened_count=1)

    assert resolved.days_to_resolve == 36
    assert reopened.days_to_resolve is None
    figures = compute([resolved, reopened], [], TODAY)
    assert figures["median_days_to_resolve"] == 36
    assert figures["resolved"] == 1
    assert figures["rework_rate"] == {
        "value": 0.5,
        "percent": 50.0,
        "numerator": 1,
        "denominator": 2,
    }


def test_a_rate_with_nothing_to_divide_by_is_null_not_zero() -> None:
    figures = compute([], [], TODAY)

    for f in FIGURES:
        if f.kind == "rate":
            assert figures[f.name]["value"] is None, f.name
            assert figures[f.name]["denominator"] == 0
    assert figures["median_days_to_resolve"] is None
    assert figures["declined_reasons"] == []
    assert figures["concerns_collected"] == 0


def test_satisfaction_reads_the_latest_answer_and_shows_the_split() -> None:
    answers = [
        concern(feedback_count=1, solved=1, satisfaction="satisfied"),
        concern(feedback_count=2, solved=1, satisfaction="basically_satisfied"),
        concern(feedback_count=1, solved=0, satisfaction="dissatisfied"),
        concern(),
    ]

    rate = compute(answers, [], TODAY)["satisfaction_rate"]

    assert (rate["numerator"], rate["denominator"], rate["percent"]) == (2, 3, 66.7)
    assert rate["split"] == {"satisfied": 1, "basically_satisfied": 1, "dissatisfied": 1}
    assert compute(answers, [], TODAY)["resolution_rate"]["numerator"] == 2


def test_decline_reasons_are_listed_most_frequent_first() -> None:
    declined = [
        concern(status="declined", decline_reason=reason)
        for reason in ("不属于社区职责", "重复反映", "不属于社区职责")
    ]

    figures = compute([*declined, concern()], [], TODAY)

    assert figures["declined_reasons"] == [
        {"reason": "不属于社区职责", "count": 2},
        {"reason": "重复反映", "count": 1},
    ]
    assert figures["decline_rate"]["value"] == 0.75


def test_people_helped_are_resolved_hardship_library_concerns() -> None:
    helped = concern(library="hardship", status="resolved", resolutions=1)
    waiting = concern(library="hardship", status="assigned")
    other = concern(library="problem", status="resolved", resolutions=1)

    assert count("people_helped", [helped, waiting, other]) == 1


# -- visits and grouping ---------------------------------------------------------------------------


def test_households_are_counted_once_and_priority_visits_by_kind() -> None:
    visits = [
        visit(household="5号楼301", priority_visit="elderly_sick"),
        visit(household="5号楼 301", priority_visit="elderly_sick", id="again"),
        visit(household="3号楼102", priority_visit="hardship"),
        visit(household="3号楼102", grid="3"),
    ]

    figures = compute([], visits, TODAY)

    assert figures["visits"] == 4
    assert figures["households_visited"] == 3
    assert figures["priority_visits"] == 3
    assert figures["priority_visits_elderly_sick"] == 2
    assert figures["priority_visits_hardship"] == 1
    assert figures["priority_visits_petitioner"] == 0


def test_grouped_by_category_visits_have_a_row_of_their_own() -> None:
    concerns = [concern(), concern(id="c2", category="dispute")]
    visits = [visit()]

    rows, totals = tally(concerns, visits, ("month", "category"), TODAY)

    assert [(r["month"], r["category"]) for r in rows] == [
        ("2026-03", None),
        ("2026-03", "dispute"),
        ("2026-03", "environment"),
    ]
    assert rows[0]["figures"]["visits"] == 1
    assert rows[0]["figures"]["concerns_collected"] is None
    assert rows[0]["category_label"] == {"zh": "不分类别", "en": "No category"}
    assert rows[2]["figures"]["visits"] is None
    assert rows[2]["category_label"] == {"zh": "环境卫生", "en": "Environment and sanitation"}
    assert totals["figures"]["visits"] == 1
    assert totals["figures"]["concerns_collected"] == 2


def test_without_group_by_there_are_only_totals() -> None:
    rows, totals = tally([concern()], [visit()], (), TODAY)

    assert len(rows) == 1  # one cell: everything
    assert rows[0]["figures"] == totals["figures"]


def test_a_rate_opens_into_nothing_and_says_which_parts_do() -> None:
    with pytest.raises(Invalid) as caught:
        concerns_of(BY_NAME["response_rate"], [concern()], TODAY)
    field, message = caught.value.fields[0]
    assert field == "figure"
    assert "responded" in message
    assert "response_due" in message


# -- the spreadsheets ---------------------------------------------------------------------------


def ledger() -> dict[str, Any]:
    rows, totals = tally([concern()], [visit()], ("month", "grid"), TODAY)
    return {
        "from": "2026-03-01",
        "to": "2026-03-31",
        "group_by": ["month", "grid"],
        "as_of": NOW.isoformat(),
        "response_window_days": 2.0,
        "rows": rows,
        "totals": totals,
    }


def test_the_csv_has_a_bom_two_header_rows_and_a_totals_line() -> None:
    data = ledger_export.to_csv(ledger())

    assert data.startswith(b"\xef\xbb\xbf")
    zh, en, march, totals = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert len(zh) == len(en) == len(march) == len(totals) == 2 + len(FIGURES)
    assert zh[:3] == ["月份", "网格", "走访次数"]
    assert en[:3] == ["Month", "Grid", "Visits"]
    assert march[:4] == ["2026-03", "2", "1", "1"]
    assert totals[0] == "合计 Total"


def test_the_workbook_shows_rates_as_percentages() -> None:
    book = openpyxl.load_workbook(io.BytesIO(ledger_export.to_xlsx(ledger())))

    sheet = book["台账 Ledger"]
    column = 3 + [f.name for f in FIGURES].index("decline_rate")
    assert sheet.cell(row=1, column=column).value == "拒办率 (%)"
    assert sheet.cell(row=3, column=column).value == 0
    assert sheet.cell(row=3, column=column).number_format == "0.0%"
    assert sheet.freeze_panes == "A3"
