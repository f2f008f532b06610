"""A report as CSV or Excel: the Chinese column labels as headers, one line per row.

Completion and budget percentages are written as the bureau writes them (137.43%).
CSV starts with a byte-order mark so Excel opens the Chinese headers correctly.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import Workbook

GROUP_LABEL = "汇总层级"


def _cell(key: str, value: Any) -> Any:
    if value is None:
        return ""
    if key.endswith("_pct"):
        return f"{value:.2f}%"
    return value


def _table(report: dict) -> tuple[list[str], list[list[Any]]]:
    keys = [c["key"] for c in report["columns"]]
    headers = [GROUP_LABEL] + [c["label"] for c in report["columns"]]
    dimension_labels = {c["key"]: c["label"] for c in report["columns"]}
    lines = []
    for row in report["rows"]:
        level = "+".join(dimension_labels[d] for d in row["group"]) or "合计"
        lines.append([level] + [_cell(k, row[k]) for k in keys])
    return headers, lines


def to_csv(report: dict) -> bytes:
    headers, lines = _table(report)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    writer.writerows(lines)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(report: dict, title: str) -> bytes:
    headers, lines = _table(report)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    sheet.append([f"{title} {report['date_from']} 至 {report['date_to']}"])
    sheet.append(headers)
    for line in lines:
        sheet.append(line)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
