"""Reading filled contact logs back (03-outputs.md, "Contact log" — the round trip).

Logs come from two places: the data folder (the loader sets aside every sheet with a
呼叫编号/call_id header, and every sheet of a file named ``log-*``: ``Dataset.log_sheets``)
and the output folder, where staff fill them in (:func:`scan_out_folder`: any workbook
with that header, whatever it was renamed to). Files are opened read-only, never changed.

:func:`read_logs` turns the sheets into one typed frame, ``log_rows``: one row per
(call, vehicle) as staff left it, result cells as codes (a Chinese label → its code),
dates as dates, and provenance. Cells that cannot be used (an unknown code, an impossible
date, a bad number) are data issues and are read as empty; nothing here raises on a cell.

Choices where the spec is silent:

* An attempt with a result but no date happened "as planned": its date is the date of
  the plan text (``2026-12-01 上午``); with no plan either (an overflow call), the first
  day of the log's month. A written date that cannot be read is a data issue, and the
  plan's date stands in for it.
* A date written without a year (``12.3``, ``12月3日``) takes the year of the log's
  month (the nearest such date to it).
* ``outcome`` is the final result (结果代码) when filled, else the last attempt's result.
* ``log_date`` is the latest attempt date on the row (written or planned); a row with
  no attempt takes its first planned date, else the first day of its month. It orders
  entries and decides what counts at ``as_of``.
* The same row (call id, customer id, mobile, plate, VIN) in several files — a copy in
  the data folder, a ``.bak-`` kept by ``--force``, a renamed copy — is read once: the
  copy with staff entries, else the newest file.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from aftercare import parse
from aftercare.issues import IssueLog
from aftercare.parse_base import Distinct
from aftercare.reports.contact_log import (
    LOG_HEADERS,
    PREFILLED_COLUMNS,
    RESULT_CODES,
    STAFF_COLUMNS,
)

__all__ = [
    "LogSource", "LOG_ROW_COLUMNS", "RESULT_COLUMNS", "REACHED", "FAILED", "VEHICLE_RESULTS",
    "read_logs", "scan_out_folder", "read_out_folder", "sources_from_dataset", "code_of",
    "allowed_codes_text",
]

ATTEMPTS = (1, 2, 3)
RESULT_COLUMNS = [f"attempt{n}_result" for n in ATTEMPTS] + ["result"]
CODES = tuple(code for code, _ in RESULT_CODES)
NOT_REACHED = ("no_answer", "busy", "wrong_number")
REACHED = tuple(c for c in CODES if c not in NOT_REACHED)
FAILED = ("no_answer", "busy")
VEHICLE_RESULTS = ("done_elsewhere", "sold", "scrapped")  # apply to the row's vehicle only
LOG_ROW_COLUMNS = [
    "call_id", "agent", "month", "list_day", "month_start", "customer_id", "customer_name",
    "mobile", "plate", "vin", "kinds",
    *[f"attempt{n}_{p}" for n in ATTEMPTS for p in ("plan_date", "date", "result")],
    "result", "outcome", "booked_date", "reason", "other_shop", "other_shop_date",
    "other_shop_km", "new_mobile", "note", "has_entry", "log_date",
    "_file", "_sheet", "_row", "_path", "_mtime",
]
SKIP_PREFIXES = ("due-", "churn-", "report-")
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls")
_HEADER_SCAN_ROWS = 20
_DATE_MIN = pd.Timestamp("1990-01-01")
_NO_YEAR = re.compile(r"^\s*(\d{1,2})\s*(?:[./\-]|月)\s*(\d{1,2})\s*日?\s*$")
_PLAN_DAY = re.compile(r"(\d{4}-\d{1,2}-\d{1,2})")
_MONTH = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?\s*$")
_DAY = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*$")


@dataclass
class LogSource:
    """One sheet that may be a contact log: its grid, where it came from, and whether a
    missing log header is a data issue (a ``log-*`` file in the data folder) or simply
    means "not a log" (any other workbook found in the output folder)."""

    raw: object  # aftercare.load.readers.RawSheet
    path: Path
    mtime: float
    strict: bool = False


# --------------------------------------------------------------------------- labels
def _norm(value) -> str:
    if value is None:
        return ""
    text = unicodedata.normalize("NFKC", str(value)).strip().casefold()
    if text.isascii():
        return re.sub(r"[\s\-]+", "_", text).strip("_")
    return re.sub(r"\s+", "", text)


_CODE_OF: dict[str, str] = {}
for _code, _label in RESULT_CODES:
    _CODE_OF[_norm(_code)] = _code
    _CODE_OF[_norm(_label)] = _code
    for _part in re.split(r"[/／]", _label):
        _CODE_OF.setdefault(_norm(_part), _code)

_HEADER_OF: dict[str, str] = {}
for _field, (_zh, _en) in LOG_HEADERS.items():
    _HEADER_OF.setdefault(_norm(_zh), _field)
    _HEADER_OF.setdefault(_norm(_en), _field)
_MARKERS = {_norm(h) for h in LOG_HEADERS["call_id"]}


def code_of(value) -> str | None:
    """A result cell's code: the code itself or its Chinese label (``已预约`` →
    ``reached_booked``; either half of ``占线/挂断``); None when unknown or blank."""
    return _CODE_OF.get(_norm(value))


def allowed_codes_text() -> str:
    return ", ".join(f"{label}/{code}" for code, label in RESULT_CODES)


# --------------------------------------------------------------------------- sources
def sources_from_dataset(ds) -> list[LogSource]:
    """The data folder's log sheets (``Dataset.log_sheets``)."""
    out = []
    for sf in ds.log_sheets:
        path = Path(sf.raw.file)
        try:
            mtime = path.stat().st_mtime
        except OSError:
            mtime = 0.0
        out.append(LogSource(sf.raw, path, mtime, strict=True))
    return out


def scan_out_folder(out_dir: Path) -> list[Path]:
    """Workbooks in the output folder that may be filled logs, sorted by name: any
    ``.xlsx/.xlsm/.xls`` (renamed logs too) and the ``.bak-<time>`` copies ``--force``
    keeps; not our own due/churn/report workbooks, hidden files or Office lock files."""
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        return []
    found = []
    for path in sorted(out_dir.iterdir()):
        name = path.name
        lower = name.lower()
        if name.startswith((".", "~$")) or lower.startswith(SKIP_PREFIXES):
            continue
        base = lower.split(".bak-")[0] if ".bak-" in lower else lower
        if not base.endswith(WORKBOOK_SUFFIXES) or not path.is_file():
            continue
        found.append(path)
    return found


def read_out_folder(out_dir: Path, cfg: dict) -> list[LogSource]:
    """Read the candidate workbooks of the output folder (read-only). A file that cannot
    be read is skipped: it is not ours to judge (the data folder's loader reports its own)."""
    from aftercare.errors import BadFileError
    from aftercare.load.readers import read_file

    out = []
    for path in scan_out_folder(out_dir):
        try:
            raws = read_file(path, max_file_mb=cfg["limits"]["max_file_mb"],
                             max_rows=cfg["limits"]["max_rows"])
            mtime = path.stat().st_mtime
        except (BadFileError, OSError):
            continue
        out += [LogSource(raw, path, mtime, strict=False) for raw in raws]
    return out


# --------------------------------------------------------------------------- reading
def _header_row(grid: pd.DataFrame) -> int | None:
    head = grid.head(_HEADER_SCAN_ROWS).to_numpy(dtype=object)
    for i, row in enumerate(head):
        if _MARKERS & {_norm(v) for v in row if v is not None}:
            return i
    return None


def _sheet_frame(src: LogSource, issues: IssueLog) -> pd.DataFrame | None:
    grid = src.raw.grid
    file_name = Path(src.raw.file).name
    pos = _header_row(grid) if len(grid) else None
    if pos is None:
        if src.strict and len(grid):
            issues.add(file=file_name, sheet=src.raw.sheet, field="call_id",
                       reason="log_no_header", value="")
        return None
    header = grid.iloc[pos].tolist()
    cols: dict[str, int] = {}
    for j, h in enumerate(header):
        f = _HEADER_OF.get(_norm(h))
        if f is not None and f not in cols:
            cols[f] = j
    data = grid.iloc[pos + 1:]
    frame = pd.DataFrame(index=data.index)
    for f in [*PREFILLED_COLUMNS, *STAFF_COLUMNS]:
        frame[f] = data[grid.columns[cols[f]]].to_numpy() if f in cols else None
    frame = frame.loc[~_blank_rows(frame)]
    frame["_file"] = file_name
    frame["_sheet"] = src.raw.sheet
    frame["_row"] = frame.index.to_numpy()
    frame["_path"] = str(src.path)
    frame["_mtime"] = float(src.mtime)
    return frame.reset_index(drop=True)


def _blank_rows(frame: pd.DataFrame) -> np.ndarray:
    """Rows whose every cell is missing or whitespace-only text. Each column is looked at
    only for the rows still blank so far: in a log as `due` wrote it the first column
    settles almost every row. (Turning the whole grid into numpy text to strip it took
    4.7 s for a dealer group's 300k-row log.)"""
    blank = np.ones(len(frame), dtype=bool)
    for j in range(frame.shape[1]):
        rows = np.flatnonzero(blank)
        if not len(rows):
            break
        values = frame.iloc[:, j].to_numpy(dtype=object)[rows]
        empty = pd.isna(values)
        if pd.api.types.infer_dtype(values, skipna=True) in ("string", "mixed",
                                                             "mixed-integer"):
            stripped = pd.Series(values, dtype=object).str.strip()  # non-text: NaN
            empty |= (stripped == "").to_numpy(dtype=bool)
        blank[rows] = empty
    return blank


def _text(raw: pd.Series) -> pd.Series:
    return parse.normalise_text(raw).astype(object)


def _filled(raw: pd.Series) -> pd.Series:
    return _text(raw).notna()


def read_logs(sources: list[LogSource]) -> tuple[pd.DataFrame, IssueLog]:
    """Every log sheet among ``sources`` → (``log_rows``, data issues). See the module
    docstring; columns are :data:`LOG_ROW_COLUMNS`."""
    issues = IssueLog()
    seen: set[tuple[str, str]] = set()
    parts = []
    for src in sources:
        key = (str(Path(src.path).resolve()), src.raw.sheet)
        if key in seen:  # the data folder is the output folder: one read is enough
            continue
        seen.add(key)
        f = _sheet_frame(src, issues)
        if f is not None and len(f):
            parts.append(f)
    if not parts:
        return empty_rows(), issues
    raw = pd.concat(parts, ignore_index=True)
    raw = _dedupe(raw)
    return _parse(raw, issues), issues


def empty_rows() -> pd.DataFrame:
    out = pd.DataFrame({c: pd.Series(dtype=object) for c in LOG_ROW_COLUMNS})
    for c in LOG_ROW_COLUMNS:
        if c.endswith("_date") or c in ("log_date", "month_start", "list_day"):
            out[c] = pd.Series(dtype="datetime64[ns]")
    out["other_shop_km"] = pd.Series(dtype="float64")
    out["has_entry"] = pd.Series(dtype=bool)
    out["_mtime"] = pd.Series(dtype="float64")
    return out


def _dedupe(raw: pd.DataFrame) -> pd.DataFrame:
    """One row per (call id, customer id, mobile, plate, VIN): the copy with staff
    entries, else the newest file's."""
    entry = pd.concat([_filled(raw[c]) for c in STAFF_COLUMNS], axis=1).any(axis=1)
    key = pd.Series("", index=raw.index, dtype=object)
    for c in ("call_id", "customer_id", "mobile", "plate", "vin"):
        key = key + "\x1f" + _text(raw[c]).fillna("").astype(str)
    order = raw.assign(_entry=entry.to_numpy(), _k=key.to_numpy())
    order = order.sort_values(["_entry", "_mtime", "_path", "_row"],
                              ascending=[False, False, True, True], kind="stable")
    order = order.drop_duplicates("_k", keep="first").sort_index()
    return order.drop(columns=["_k"]).reset_index(drop=True)


def _month_of(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """The 月份 cell → (month start, the day for a day list's log)."""

    def read(v):
        if hasattr(v, "year") and not isinstance(v, str):  # a cell Excel made a date
            try:
                return (pd.Timestamp(v).normalize().replace(day=1), pd.NaT)
            except (ValueError, TypeError):
                return (pd.NaT, pd.NaT)
        text = unicodedata.normalize("NFKC", str(v))
        mm, dd = _MONTH.match(text), _DAY.match(text)
        try:
            if dd:
                d = pd.Timestamp(int(dd[1]), int(dd[2]), int(dd[3]))
                return (d.replace(day=1), d)
            if mm:
                return (pd.Timestamp(int(mm[1]), int(mm[2]), 1), pd.NaT)
        except ValueError:
            pass
        return (pd.NaT, pd.NaT)

    def part(i):
        got = _per_value(raw, lambda v: read(v)[i])
        return pd.Series(pd.to_datetime(got).to_numpy(dtype="datetime64[ns]"), index=raw.index)

    return part(0), part(1)


def _per_value(raw: pd.Series, fn, default=None) -> pd.Series:
    """``fn`` applied once per distinct cell value (not per row), mapped back; missing
    cells get ``default``."""
    d = Distinct(raw)
    values = np.empty(len(d.uniq), dtype=object)
    for i, v in enumerate(d.uniq):  # distinct values, not rows
        values[i] = fn(v)
    return d.back(values, fill=default)


def _plan_dates(raw: pd.Series) -> pd.Series:
    """The day of a plan text (``2026-12-01 上午``), or of a cell Excel made a date."""

    def day(v):
        if hasattr(v, "year") and not isinstance(v, str):
            return v
        found = _PLAN_DAY.search(str(v))
        return found[1] if found else None

    return parse.parse_dates(_per_value(raw, day)).values


def _dates(frame: pd.DataFrame, field: str, month_start: pd.Series, issues: IssueLog) -> pd.Series:
    """A staff date column: parsed; a date without a year takes the log month's year;
    unreadable or before 1990 → a data issue and empty."""
    raw = frame[field]
    # "12.3" / "12月3日" (typed as text, or as the number 12.3): month and day, no year
    short = _per_value(raw, lambda v: isinstance(v, (str, int, float))
                       and not isinstance(v, bool)
                       and _NO_YEAR.match(unicodedata.normalize("NFKC", str(v))) is not None,
                       default=False).astype(bool)
    res = parse.parse_dates(raw.where(~short, None))
    values = res.values.copy()
    issue = res.issue.copy()
    issue[short] = "date_unparseable"
    bad = issue.notna()
    if bad.any():
        text = raw[bad].astype(str).map(lambda s: unicodedata.normalize("NFKC", s))
        parts = text.str.extract(_NO_YEAR).astype("float64")
        ok = parts[0].notna() & month_start[bad].notna()
        for i in parts.index[ok]:  # only cells that failed to parse and look like "12.3"
            base = month_start[i]
            try:
                cands = [pd.Timestamp(base.year + k, int(parts.at[i, 0]), int(parts.at[i, 1]))
                         for k in (-1, 0, 1)]
            except ValueError:
                continue
            values[i] = min(cands, key=lambda c: abs((c - base).days))
            issue[i] = None
    suspect = values.notna() & (values < _DATE_MIN)
    issue = issue.where(~suspect, "event_date_suspect")
    values = values.mask(suspect)
    issues.add_rows(frame, issue.notna(), field=field, reason=issue.fillna(""), value=raw)
    return values


def _results(frame: pd.DataFrame, field: str, issues: IssueLog) -> pd.Series:
    raw = frame[field]
    text = _text(raw)
    codes = _per_value(text, code_of)
    unknown = text.notna() & codes.isna()
    issues.add_rows(frame, unknown, field=field, reason="log_unknown_code", value=raw,
                    detail=allowed_codes_text())
    return codes.where(codes.notna(), None)


def _parse(raw: pd.DataFrame, issues: IssueLog) -> pd.DataFrame:
    out = pd.DataFrame(index=raw.index)
    for c in ("call_id", "agent", "customer_id", "customer_name", "kinds", "reason",
              "other_shop", "note"):
        out[c] = _text(raw[c])
    out["month"] = _text(raw["month"])
    out["month_start"], out["list_day"] = _month_of(raw["month"])
    out["mobile"] = parse.parse_phones(raw["mobile"]).primary
    out["plate"] = parse.normalise_plate(raw["plate"])
    vin = _text(raw["vin"])
    out["vin"] = vin.str.upper().str.replace(r"\s+", "", regex=True).where(vin.notna(), None)
    plans = {n: _plan_dates(raw[f"attempt{n}_plan"]) for n in ATTEMPTS}
    # a month that cannot be read: the month of the first planned day
    out["month_start"] = out["month_start"].fillna(
        plans[1].dt.to_period("M").dt.to_timestamp())
    for n in ATTEMPTS:
        written = _dates(raw, f"attempt{n}_date", out["month_start"], issues)
        result = _results(raw, f"attempt{n}_result", issues)
        attempted = written.notna() | result.notna() | _filled(raw[f"attempt{n}_date"])
        fallback = plans[n].fillna(out["list_day"]).fillna(out["month_start"])
        out[f"attempt{n}_plan_date"] = plans[n]
        out[f"attempt{n}_date"] = written.where(written.notna(), fallback).where(attempted)
        out[f"attempt{n}_result"] = result
    out["result"] = _results(raw, "result", issues)
    outcome = out["result"].copy()
    for n in reversed(ATTEMPTS):
        outcome = outcome.where(outcome.notna(), out[f"attempt{n}_result"])
    out["outcome"] = outcome.where(outcome.notna(), None)
    out["booked_date"] = _dates(raw, "booked_date", out["month_start"], issues)
    out["other_shop_date"] = _dates(raw, "other_shop_date", out["month_start"], issues)
    km = parse.parse_mileage(raw["other_shop_km"])
    issues.add_rows(raw, km.issue.notna(), field="other_shop_km", reason=km.issue.fillna(""))
    out["other_shop_km"] = km.values.astype("float64")
    phones = parse.parse_phones(raw["new_mobile"])
    bad = phones.issue.notna() & phones.primary.isna()
    issues.add_rows(raw, bad, field="new_mobile", reason=phones.issue.fillna(""))
    out["new_mobile"] = phones.primary
    out["has_entry"] = pd.concat([_filled(raw[c]) for c in STAFF_COLUMNS], axis=1).any(axis=1)
    out["log_date"] = log_dates(out)
    for c in ("_file", "_sheet", "_row", "_path", "_mtime"):
        out[c] = raw[c].to_numpy()
    return out[LOG_ROW_COLUMNS]


def log_dates(rows: pd.DataFrame) -> pd.Series:
    """The latest attempt date on each row; else its first planned day, else its day or
    month (see the module docstring)."""
    latest = pd.concat([rows[f"attempt{n}_date"] for n in ATTEMPTS], axis=1).max(axis=1)
    fallback = rows["attempt1_plan_date"].fillna(rows["list_day"]).fillna(rows["month_start"])
    return pd.Series(latest.fillna(fallback).to_numpy(dtype="datetime64[ns]"), index=rows.index)
