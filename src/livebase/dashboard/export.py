"""The month's figures of a base for the district: one row per metric, as CSV and XLSX.

Columns: the metric, its labels and unit, the month's figure, the year to date, and the
target the month falls under (period, target, actual, forecast, status). Money stays in
integer fen, as everywhere in the API.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from livebase.dashboard.service import Dashboard, target_for_month

COLUMNS = (
    "metric",
    "label_zh",
    "label_en",
    "unit",
    "month",
    "actual_month",
    "actual_ytd",
    "target_period",
    "target",
    "target_actual",
    "forecast",
    "status",
)


def rows(dash: Dashboard) -> list[dict[str, Any]]:
    out = []
    for fig in dash.figures:
        spec = fig.metric.spec
        target = target_for_month(fig, dash.through)
        out.append(
            {
                "metric": spec.name,
                "label_zh": spec.label_zh,
                "label_en": spec.label_en,
                "unit": spec.unit,
                "month": dash.through,
                "actual_month": fig.month_value,
                "actual_ytd": fig.ytd,
                "target_period": target.period if target else "",
                "target": target.target if target else "",
                "target_actual": target.actual if target else "",
                "forecast": target.projected if target else "",
                "status": target.status if target else "",
            }
        )
    return out


def to_csv(dash: Dashboard) -> bytes:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows(dash))
    # A byte-order mark, so spreadsheet programs open the Chinese labels as UTF-8.
    return buf.getvalue().encode("utf-8-sig")


def to_xlsx(dash: Dashboard) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = dash.through
    sheet.append([f"{dash.base.name} · {dash.base.district} · {dash.through}"])
    sheet.append(list(COLUMNS))
    for row in rows(dash):
        sheet.append([row[c] for c in COLUMNS])
    for i, name in enumerate(COLUMNS, start=1):
        width = 14 if name not in ("label_zh", "label_en") else 22
        sheet.column_dimensions[get_column_letter(i)].width = width
    sheet.freeze_panes = "B3"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
