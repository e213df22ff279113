"""Contact-log sheets built in memory, as the reader gets them from a workbook."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from aftercare.load.readers import RawSheet
from aftercare.logs.read import LogSource, read_logs
from aftercare.reports.contact_log import LOG_FIELDS, LOG_HEADERS


def source(records, *, file="log-2026-10-甲.xlsx", lang="zh", mtime=0.0, title_rows=0,
           strict=True) -> LogSource:
    """A log sheet holding ``records`` (field name → cell value), header in the row after
    ``title_rows`` empty rows; Excel row numbers as the grid's index."""
    header = [LOG_HEADERS[f][1 if lang == "en" else 0] for f in LOG_FIELDS]
    body = [[rec.get(f) for f in LOG_FIELDS] for rec in records]
    cells = [[None] * len(header) for _ in range(title_rows)] + [header] + body
    grid = pd.DataFrame(cells, index=range(1, len(cells) + 1), columns=range(len(header)),
                        dtype=object)
    return LogSource(RawSheet(Path(file), "联系记录", grid), Path("/logs") / file, mtime, strict)


def read(records, **kw):
    """(log_rows, issues frame) of one sheet."""
    rows, issues = read_logs([source(records, **kw)])
    return rows, issues.frame()


def call(call_id, customer_id, plate, *, kinds="first_service", month="2026-10",
         agent="甲", mobile=None, vin=None, plan="2026-10-08", **staff) -> dict:
    """One prefilled row (three planned attempts from ``plan``) plus staff cells."""
    day = pd.Timestamp(plan)
    plans = [day, day + pd.Timedelta(days=1), day + pd.Timedelta(days=2)]
    rec = {"call_id": call_id, "agent": agent, "month": month, "customer_id": customer_id,
           "customer_name": "客户", "mobile": mobile, "plate": plate, "vin": vin,
           "kinds": kinds}
    for n, (d, part) in enumerate(zip(plans, ("上午", "下午", "傍晚")), start=1):
        rec[f"attempt{n}_plan"] = f"{d:%Y-%m-%d} {part}"
    return {**rec, **staff}
