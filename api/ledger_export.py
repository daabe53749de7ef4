"""The ledger as a spreadsheet: CSV (UTF-8 with BOM, so Excel reads the Chinese) and XLSX.

Both have two header rows, Chinese then English, and the same columns in the same order:
the cell's keys, then every figure of projections.ledger_figures.FIGURES. A rate is one
column (percent in the CSV, a ratio shown as a percentage in the workbook); its numerator
and denominator are figures with columns of their own.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from projections.ledger_figures import FIGURES, KEY_LABELS, Figure

TOTAL = ("合计", "Total")
CATEGORY_NAME = ("类别名称", "Category name")


def _columns(group_by: Sequence[str]) -> list[tuple[str, str]]:
    keys = [KEY_LABELS[k] for k in group_by] or [("范围", "Scope")]
    if "category" in group_by:
        keys.append(CATEGORY_NAME)
    return keys


def _figure_header(f: Figure, lang: int) -> str:
    label = (f.zh, f.en)[lang]
    return f"{label} (%)" if f.kind == "rate" else label


def headers(group_by: Sequence[str]) -> tuple[list[str], list[str]]:
    """The two header rows: Chinese, then English."""
    keys = _columns(group_by)
    return (
        [k[0] for k in keys] + [_figure_header(f, 0) for f in FIGURES],
        [k[1] for k in keys] + [_figure_header(f, 1) for f in FIGURES],
    )


def _reasons(value: list[dict[str, Any]]) -> str:
    return "；".join(f"{r['reason']} ×{r['count']}" for r in value)


def figure_cell(f: Figure, value: Any, *, ratio: bool) -> Any:
    """One figure's cell: None stays empty; a rate is its percent (or ratio); reasons a text."""
    if value is None:
        return None
    if f.kind == "rate":
        return value["value"] if ratio else value["percent"]
    if f.kind == "reasons":
        return _reasons(value) or None  # no reasons: an empty cell, as in the workbook
    return value


def body(ledger: dict[str, Any], *, ratio: bool) -> list[list[Any]]:
    """The data rows (the ledger's rows, then its totals) in the header's column order."""
    group_by: list[str] = ledger["group_by"]
    lines = []
    for row in ledger["rows"]:
        keys: list[Any] = [row[k] for k in group_by]
        if "category" in group_by:
            keys.append(row["category_label"]["zh"])
        figures = row["figures"]
        lines.append(keys + [figure_cell(f, figures[f.name], ratio=ratio) for f in FIGURES])
    totals: list[Any] = [f"{TOTAL[0]} {TOTAL[1]}"] + [None] * (len(_columns(group_by)) - 1)
    figures = ledger["totals"]["figures"]
    lines.append(totals + [figure_cell(f, figures[f.name], ratio=ratio) for f in FIGURES])
    return lines


def to_csv(ledger: dict[str, Any]) -> bytes:
    """The ledger as CSV: UTF-8 with a byte-order mark, Chinese and English header rows."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows(headers(ledger["group_by"]))
    writer.writerows(["" if v is None else v for v in line] for line in body(ledger, ratio=False))
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(ledger: dict[str, Any]) -> bytes:
    """The ledger as an Excel workbook: the table, then the figures' definitions, then the
    range it covers."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # noqa: S101 - a new workbook has its one sheet
    sheet.title = "台账 Ledger"
    zh, en = headers(ledger["group_by"])
    sheet.append(zh)
    sheet.append(en)
    for cell in (*sheet[1], *sheet[2]):
        cell.font = Font(bold=True)
    rates = [
        i + 1 + len(_columns(ledger["group_by"])) for i, f in enumerate(FIGURES) if f.kind == "rate"
    ]
    for line in body(ledger, ratio=True):
        sheet.append(line)
        for column in rates:
            sheet.cell(row=sheet.max_row, column=column).number_format = "0.0%"
    sheet.freeze_panes = "A3"

    definitions = book.create_sheet("指标说明 Figures")
    definitions.append(["指标", "名称", "Name", "计算方法", "How it is computed"])
    definitions.append(["figure", "zh", "en", "how (zh)", "how (en)"])
    for f in FIGURES:
        definitions.append([f.name, f.zh, f.en, f.how_zh, f.how_en])

    about = book.create_sheet("范围 Scope")
    for label, value in (
        (("起始日期", "From"), ledger["from"]),
        (("截止日期", "To"), ledger["to"]),
        (("分组", "Grouped by"), ",".join(ledger["group_by"])),
        (("统计时间", "As of"), ledger["as_of"]),
        (("响应时限（天）", "Response window (days)"), ledger["response_window_days"]),
    ):
        about.append([label[0], label[1], value])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
