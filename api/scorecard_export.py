"""Scorecards as CSV or an Excel workbook: bilingual headers, one row per subject, each rate
as its percent with its numerator and denominator beside it (written by
api/evaluation_export.py's table writers)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from api.evaluation_export import csv_bytes, xlsx_bytes

Card = dict[str, Any]


def _part(name: str, part: str) -> Callable[[Card], Any]:
    return lambda c: c["figures"][name][part]


COLUMNS: Sequence[tuple[str, str, Callable[[Card], Any]]] = (
    ("对象", "Subject", lambda c: c["subject"]),
    ("名称", "Name", lambda c: c.get("name")),
    ("民情数", "Concerns", _part("concerns", "count")),
    ("按期办结率 (%)", "On-time closure (%)", _part("on_time_closure", "percent")),
    ("按期办结", "Resolved on time", _part("on_time_closure", "numerator")),
    ("办结", "Resolved", _part("on_time_closure", "denominator")),
    ("返工率 (%)", "Rework (%)", _part("rework", "percent")),
    ("返工", "Reopened", _part("rework", "numerator")),
    ("延期率 (%)", "Extension (%)", _part("extension", "percent")),
    ("延期", "Extended", _part("extension", "numerator")),
    ("交办", "Assigned", _part("extension", "denominator")),
    ("满意率 (%)", "Satisfaction (%)", _part("satisfaction", "percent")),
    ("满意", "Satisfied", _part("satisfaction", "numerator")),
    ("回访", "Feedback recorded", _part("satisfaction", "denominator")),
    (
        "响应用时中位数（工作小时）",
        "Response, median (working hours)",
        _part("response", "median_hours"),
    ),
    ("响应用时平均（工作小时）", "Response, mean (working hours)", _part("response", "mean_hours")),
    ("黄牌", "Yellow cards", _part("yellow_cards", "count")),
    ("红牌", "Red cards", _part("red_cards", "count")),
    ("综合得分", "Score", lambda c: c["score"]),
    ("等级", "Grade", lambda c: c["grade"]),
)


def lines(found: dict[str, Any]) -> list[list[Any]]:
    """The header rows (Chinese, English) and one row per scorecard."""
    return [
        [zh for zh, _, _ in COLUMNS],
        [en for _, en, _ in COLUMNS],
        *([cell(card) for _, _, cell in COLUMNS] for card in found["scorecards"]),
    ]


def to_csv(found: dict[str, Any]) -> bytes:
    """CSV: UTF-8 with a byte-order mark, Chinese and English header rows."""
    return csv_bytes(lines(found))


def to_xlsx(found: dict[str, Any]) -> bytes:
    """An Excel workbook with one sheet of scorecards."""
    return xlsx_bytes(lines(found), "记分卡 Scorecards")


def filename(found: dict[str, Any], extension: str) -> str:
    """The download's name: subject and period."""
    span = f"{found['from'] or 'start'}_{found['to'] or found['as_of'][:10]}"
    return f"minqing-scorecards-{found['subject']}-{span}.{extension}"
