"""The evaluation of a period as CSV or an Excel workbook, for a member's own organisation:
bilingual headers, one row per member."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

COLUMNS: Sequence[tuple[str, str, str]] = (
    ("name", "姓名", "Name"),
    ("kind", "类别", "Kind"),
    ("organisation", "单位", "Organisation"),
    ("hours", "服务时长（小时）", "Hours served"),
    ("posts", "所认岗位", "Posts held"),
    ("resolved_on_time", "按期办结民情", "Concerns resolved on time"),
    ("points", "积分", "Points"),
    ("feedback", "社区评价", "Community's feedback"),
)


def _cell(item: dict[str, Any], key: str) -> Any:
    value = item.get(key)
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    return "" if value is None else value


def rows(items: Sequence[dict[str, Any]]) -> list[list[Any]]:
    """The header rows (Chinese, English) and one row per member."""
    return [
        [zh for _, zh, _ in COLUMNS],
        [en for _, _, en in COLUMNS],
        *([_cell(i, key) for key, _, _ in COLUMNS] for i in items),
    ]


def to_csv(items: Sequence[dict[str, Any]]) -> bytes:
    """CSV: UTF-8 with a byte-order mark so spreadsheet programs read the Chinese."""
    return csv_bytes(rows(items))


def to_xlsx(items: Sequence[dict[str, Any]], period: str) -> bytes:
    """An Excel workbook with one sheet for the period."""
    return xlsx_bytes(rows(items), f"考评 {period}")


def csv_bytes(lines: Sequence[Sequence[Any]]) -> bytes:
    """Lines (two header rows, Chinese and English, then data) as CSV in UTF-8 with a
    byte-order mark; None is an empty cell."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows(["" if v is None else v for v in line] for line in lines)
    return out.getvalue().encode("utf-8-sig")


def xlsx_bytes(lines: Sequence[Sequence[Any]], title: str) -> bytes:
    """Lines (two header rows, Chinese and English, then data) as a workbook of one sheet."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # noqa: S101 - a new workbook has its one sheet
    sheet.title = title
    for line in lines:
        sheet.append(list(line))
    for cell in (*sheet[1], *sheet[2]):
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A3"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
