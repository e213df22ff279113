"""From a raw grid to a frame of canonical fields (still raw values).

Finds the header row, classifies the sheet, picks one column per field (the first
listed alias wins; extra phone columns become secondary numbers), drops title rows
above the header, and drops placeholder rows (`必填/选填`, `${item.roNo}`) and totals
rows (`合计`, `总计`) below it, reporting each.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa

from aftercare.issues import IssueLog
from aftercare.load.headers import classify, find_header_row, normalise_header
from aftercare.load.readers import STR_DTYPE, RawSheet

_PLACEHOLDER = re.compile(r"^\s*(\$\{.*\}|#\{.*\}|必填.*|选填.*|可选.*|非必填.*)\s*$", re.S)
_TOTALS = {"合计", "总计", "小计", "合计金额", "总合计", "total", "totals", "grandtotal", "sum"}
CONTACT_LOG_MARKERS = {normalise_header(h) for h in ("呼叫编号", "call_id")}


@dataclass
class SheetFrame:
    raw: RawSheet
    table: str | None
    header_row: int | None  # Excel row number of the header
    frame: pd.DataFrame | None = None
    columns: dict[str, str] = field(default_factory=dict)  # field → header used
    reason: str = ""  # why ignored
    dropped_above: int = 0
    headers: list = field(default_factory=list)  # the header row's cells (None: empty)


def sheet_to_frame(
    raw: RawSheet,
    aliases,
    issues: IssueLog,
    *,
    pinned: str | None = None,
    join_headers: dict[str, str] | None = None,
) -> SheetFrame:
    grid = raw.head(20)  # a Parquet file's whole grid is never built (RawSheet.typed)
    if grid.empty:
        return SheetFrame(raw, None, None, reason="empty_sheet")
    head = grid.to_numpy().tolist()
    pos = find_header_row(head, aliases)
    if pos is None:
        return SheetFrame(raw, None, None, reason="no_header")
    headers = head[pos]
    header_row = int(grid.index[pos])
    if CONTACT_LOG_MARKERS & {normalise_header(h) for h in headers}:
        return SheetFrame(raw, "contact_logs", header_row, reason="contact_log",
                          headers=headers)
    match = classify(headers, aliases, pinned)
    if match.table is None:
        return SheetFrame(raw, None, header_row, reason=match.reason, headers=headers)
    data = raw.rows_below(header_row)
    out: dict = {}  # the frame's columns, built at once below
    used: dict[str, str] = {}
    for fname, cols in match.columns.items():
        out[fname] = _values(data[grid.columns[cols[0]]])
        used[fname] = str(headers[cols[0]])
        if fname == "mobile" and len(cols) > 1:
            parts = [data[grid.columns[c]].astype("string").fillna("") for c in cols[1:]]
            joined = parts[0]
            for part in parts[1:]:  # a handful of phone columns, each whole-column
                joined = joined + ";" + part
            joined = joined.str.strip(";")
            out["extra_phones"] = joined.astype(object).where(joined != "", None).to_numpy()
    join_header = (join_headers or {}).get(match.table)
    if join_header:
        want = normalise_header(join_header)
        pos_join = [i for i, h in enumerate(headers) if normalise_header(h) == want]
        if pos_join:
            out["join_key"] = _values(data[grid.columns[pos_join[0]]])
            used["join_key"] = join_header
    out["_file"] = str(raw.file.name)
    out["_sheet"] = raw.sheet
    out["_row"] = data.index.to_numpy()
    out = {k: _text_column(v) if isinstance(v, np.ndarray) else v for k, v in out.items()}
    out = _drop_non_data_rows(pd.DataFrame(out, index=data.index), data, issues)
    return SheetFrame(raw, match.table, header_row, out, used, dropped_above=pos,
                      headers=headers)


def _values(col: pd.Series):
    """A column's values for the frame: typed columns (``str``, datetime64) as they are,
    the grid's objects as an object array."""
    return col.to_numpy() if col.dtype == object else col.array


def _text_column(values: np.ndarray):
    """A column of text and empty cells (None) as pandas' ``str`` array, as
    ``pd.DataFrame`` would make it, but without its check of every value in Python;
    any other column as it is (``pd.DataFrame`` decides)."""
    if values.dtype != object or pd.api.types.infer_dtype(values, skipna=True) != "string":
        return values
    # every value is text or missing (None, NaN, NA, NaT: all null with from_pandas, as
    # pandas makes them missing); no check of each value for NaN first (a Python compare
    # per cell: 14% of parsing a group's RO file)
    try:
        arr = pa.array(values, type=pa.large_string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return values
    return pd.arrays.ArrowStringArray(arr, dtype=STR_DTYPE)


def _drop_non_data_rows(out: pd.DataFrame, data: pd.DataFrame, issues: IssueLog) -> pd.DataFrame:
    """Drop empty rows, and placeholder and totals rows (reporting those two).

    Placeholder/hint rows sit right under the header and totals rows at the bottom, so
    only the first and last few rows are inspected: cheap on a 200k-row sheet.
    """
    empty = np.arange(len(data))  # rows with no value so far, narrowed column by column
    for col in data.columns:
        if not len(empty):
            break
        s = data[col]
        if s.dtype == object:
            v = s.to_numpy()[empty]
            filled = pd.notna(v) & (v != "")
        else:  # typed (RawSheet.typed): text has no '' left, so only missing is empty
            filled = s.iloc[empty].notna().to_numpy()
        empty = empty[~filled]
    all_empty = np.zeros(len(data), dtype=bool)
    all_empty[empty] = True
    all_empty = pd.Series(all_empty, index=data.index)
    edge = sorted(set(range(min(5, len(data)))) | set(range(max(0, len(data) - 5), len(data))))
    values = data.iloc[edge].to_numpy(dtype=object)
    placeholder = pd.Series(False, index=data.index)
    totals = pd.Series(False, index=data.index)
    first_cell = pd.Series("", index=data.index, dtype=object)
    for k, i in enumerate(edge):  # at most ten rows: a loop over edge rows, not the data
        cells = [str(v).strip() for v in values[k] if pd.notna(v) and str(v).strip() != ""]
        if not cells:
            continue
        first_cell.iloc[i] = cells[0]
        if any(_PLACEHOLDER.match(c) for c in cells):
            placeholder.iloc[i] = True
            continue
        head = re.sub(r"[\s:：]", "", cells[0]).casefold()
        if head in _TOTALS or head.startswith(("合计", "总计")):
            totals.iloc[i] = True
    issues.add_rows(out, placeholder, field="", reason="placeholder_row", value=first_cell)
    issues.add_rows(out, totals, field="", reason="totals_row", value=first_cell)
    keep = ~(all_empty | placeholder | totals)
    return out.loc[keep.to_numpy()]
