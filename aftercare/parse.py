"""Vectorised parsers for the cell values of DMS exports (01-data-contract.md, "Values").

Each parser takes a Series of raw cells (str, numbers, bools, dates, None/NaN) and
returns Series aligned on its index: the parsed values, and an ``issue`` holding None
(fine, or blank: blank is missing, not a problem) or a reason code of :data:`REASONS`.
Work is done once per distinct value, with pandas string methods and numpy; only odd
date strings go through dateutil one by one. Parsers never raise on bad cells.

Phones and masking live in :mod:`aftercare.parse_phone`, VINs and ID numbers in
:mod:`aftercare.parse_ids`; everything is re-exported here.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
import warnings

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from dateutil import parser as _dateutil

from .parse_base import (
    BLANK_TOKENS, REASONS, Distinct, ParsedSeries, arrow_map, is_blank, is_text_dtype, issues,
    nfkc,
)
from .parse_ids import IdResult, parse_id_number, parse_vin, vin_check_digit_ok
from .parse_phone import PhoneResult, mask_id_number, mask_phone, mask_phones, parse_phones

__all__ = [
    "REASONS", "SERVICE_TYPES", "ParsedSeries", "PhoneResult", "IdResult",
    "parse_dates", "parse_datetimes", "parse_mileage", "parse_phones", "mask_phone", "mask_phones",
    "mask_id_number", "parse_vin", "vin_check_digit_ok", "parse_id_number", "parse_bool",
    "normalise_text", "normalise_plate", "map_service_type", "is_test_row", "is_organisation",
]

# --------------------------------------------------------------------------- dates
_N = "[0-9]"  # ASCII digits only (\d would take any script's digits)
_TIME = (
    rf"(?:(?:\s+|T)(?:上午|下午|晚上)?\s*{_N}{{1,2}}[:：]{_N}{{1,2}}"
    rf"(?:[:：]{_N}{{1,2}}(?:[.,]{_N}+)?)?(?:\s*[AaPp][Mm])?)?"
)
_WEEKDAY = r"(?:\s*[(（]?(?:星期|周)[一二三四五六日天][)）]?)?"
_YMD = (
    rf"^(?P<y>{_N}{{4}})\s*(?:[-/.]|年)\s*(?P<m>{_N}{{1,2}})\s*(?:[-/.]|月)\s*"
    rf"(?P<d>{_N}{{1,2}})\s*日?{_WEEKDAY}{_TIME}\s*$"
)
_COMPACT = rf"^(?P<y>{_N}{{4}})(?P<m>{_N}{{2}})(?P<d>{_N}{{2}})(?:\s*{_N}{{2}}:?{_N}{{2}}(?::?{_N}{{2}})?)?$"
_DMY = rf"^(?P<a>{_N}{{1,2}})\s*[-/.]\s*(?P<b>{_N}{{1,2}})\s*[-/.]\s*(?P<y>{_N}{{4}}){_TIME}\s*$"
_SERIAL = r"^[0-9]{1,7}(?:\.[0-9]+)?$"
_EXCEL_EPOCH = np.datetime64("1899-12-30", "D")
_MIN_YEAR, _MAX_YEAR = 1800, 2261  # inside datetime64[ns]


def _assemble(y, m, d) -> np.ndarray:
    """datetime64[ns] from year/month/day float arrays; NaT where impossible or absent."""
    y, m, d = (np.asarray(a, dtype="float64") for a in (y, m, d))
    ok = (y >= _MIN_YEAR) & (y <= _MAX_YEAR) & (m >= 1) & (m <= 12) & (d >= 1) & (d <= 31)
    out = np.full(len(y), np.datetime64("NaT"), dtype="datetime64[ns]")
    if ok.any():
        parts = pd.DataFrame({"year": y[ok], "month": m[ok], "day": d[ok]}).astype("int64")
        out[ok] = pd.to_datetime(parts, errors="coerce").to_numpy(dtype="datetime64[ns]")
    return out


def _in_range(days) -> np.ndarray:
    """datetime64[ns] from days since 1970 (float), NaT outside the supported years."""
    days = np.asarray(days, dtype="float64")
    lo = (np.datetime64(f"{_MIN_YEAR}-01-01") - np.datetime64("1970-01-01")).astype(int)
    hi = (np.datetime64(f"{_MAX_YEAR}-12-31") - np.datetime64("1970-01-01")).astype(int)
    ok = np.isfinite(days) & (days >= lo) & (days <= hi)
    out = np.full(len(days), np.datetime64("NaT"), dtype="datetime64[ns]")
    out[ok] = days[ok].astype("int64").astype("datetime64[D]").astype("datetime64[ns]")
    return out


def _from_numbers(x: np.ndarray):
    """Excel serials and YYYYMMDD numbers -> (datetime64[ns], missing mask)."""
    missing = x == 0
    serial = (x >= 1) & (x <= 2958465)
    ymd = (x >= 10000101) & (x <= 99991231) & (np.floor(x) == x)
    out = np.full(len(x), np.datetime64("NaT"), dtype="datetime64[ns]")
    epoch = (_EXCEL_EPOCH - np.datetime64("1970-01-01", "D")).astype(int)
    out[serial] = _in_range(np.floor(x[serial]) + epoch)
    v = np.where(ymd, x, 0)
    out[ymd] = _assemble(v[ymd] // 10000, v[ymd] // 100 % 100, v[ymd] % 100)
    return out, missing


def _from_objects(objs: pd.Series) -> np.ndarray:
    """date/datetime/Timestamp/datetime64 objects -> datetime64[ns] at midnight."""
    days = np.full(len(objs), np.nan)
    try:
        conv = pd.to_datetime(objs, errors="coerce")  # tz-aware among naive: NaT
        if conv.dt.tz is not None:
            conv = conv.dt.tz_localize(None)
        ymd = conv.dt.floor("D").to_numpy(dtype="datetime64[D]")
        days = np.where(np.isnat(ymd), np.nan, ymd.astype("int64").astype("float64"))
    except (TypeError, ValueError, OverflowError):  # e.g. several time zones
        pass
    for i in np.flatnonzero(np.isnan(days)):  # rare: tz-aware or exotic objects
        try:
            t = pd.Timestamp(objs.iloc[i])
            days[i] = (dt.date(t.year, t.month, t.day) - dt.date(1970, 1, 1)).days
        except (TypeError, ValueError, OverflowError):
            pass
    return _in_range(days)


def _dateutil_one(text: str) -> float:
    """Days since 1970 for an odd date string, NaN unless it names a full date."""
    try:
        a = _dateutil.parse(text, default=dt.datetime(2000, 1, 1))
        b = _dateutil.parse(text, default=dt.datetime(2004, 2, 2))
    except (ValueError, OverflowError, TypeError, _dateutil.ParserError):
        return np.nan
    if (a.year, a.month, a.day) != (b.year, b.month, b.day):
        return np.nan  # a part was filled from the default: not a full date
    return float((dt.date(a.year, a.month, a.day) - dt.date(1970, 1, 1)).days)


def _from_texts(t: pd.Series, dayfirst: bool):
    """Date strings -> (datetime64[ns], missing mask, ambiguous mask)."""
    n = len(t)
    out = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    missing = is_blank(t)
    ambiguous = np.zeros(n, dtype=bool)
    done = missing.copy()
    # Fast path, in C: ISO dates with or without a time (`2024-01-05`, `2024-01-05
    # 09:25:11`), what most exports hold. Digit-only strings (serials, 20240105) and
    # everything it rejects go on to the patterns below.
    iso = ~done & t.str.match(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}(?:$|[ T])").to_numpy(dtype=bool)
    if iso.any():
        conv = pd.to_datetime(t[iso], format="ISO8601", errors="coerce")
        ok = conv.notna().to_numpy()
        rows = np.flatnonzero(iso)[ok]
        days = conv[ok].dt.normalize().to_numpy(dtype="datetime64[ns]")
        in_range = (days >= np.datetime64(f"{_MIN_YEAR}-01-01")) & (
            days <= np.datetime64(f"{_MAX_YEAR}-12-31"))
        out[rows[in_range]] = days[in_range]
        done[rows[in_range]] = True
    for pattern in (_YMD, _COMPACT):
        g = t.str.extract(pattern).astype("float64")
        hit = g["y"].notna().to_numpy() & ~done
        y, m, d = (g[c].to_numpy() for c in "ymd")
        zero = hit & (((y == 0) & (m == 0) & (d == 0)) | ((y == 1900) & (m == 1) & (d == 0)))
        missing |= zero
        out[hit & ~zero] = _assemble(y[hit & ~zero], m[hit & ~zero], d[hit & ~zero])
        done |= hit
    g = t.str.extract(_DMY).astype("float64")
    hit = g["y"].notna().to_numpy() & ~done
    a, b, y = (g[c].to_numpy() for c in "aby")
    both_small = (a <= 12) & (b <= 12) & (a != b)
    ambiguous = hit & both_small & (not dayfirst)
    day_first = (a > 12) | ((a <= 12) & (b <= 12) & dayfirst)
    day = np.where(day_first, a, b)
    month = np.where(day_first, b, a)
    ok = hit & ~ambiguous
    out[ok] = _assemble(y[ok], month[ok], day[ok])
    done |= hit
    serial = t.str.fullmatch(_SERIAL).to_numpy(dtype=bool) & ~done
    if serial.any():
        vals, zero = _from_numbers(pd.to_numeric(t[serial]).to_numpy(dtype="float64"))
        out[serial] = vals
        missing[np.flatnonzero(serial)[zero]] = True
        done |= serial
    odd = ~done & t.str.contains(r"[0-9]{4}").to_numpy(dtype=bool)
    odd &= ~t.str.fullmatch(r"[0-9.\s]+").to_numpy(dtype=bool)
    if odd.any():
        with warnings.catch_warnings():  # e.g. dateutil's UnknownTimezoneWarning
            warnings.simplefilter("ignore")
            days = np.array([_dateutil_one(s) for s in t[odd]], dtype="float64")
        out[odd] = _in_range(days)
    return out, missing, ambiguous


#: the ISO shapes (fixed width), and year/month/day with slashes as many DMS exports
#: write it (`2020/1/28`: a store's old RO export has ~5% of its dates so; they went
#: through the per-value patterns, ~0.07 s per column)
_FAST_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d", "%Y-%m-%d %H:%M", "%Y/%m/%d")
_ISO_SHAPE = "0000-00-00 00:00:00"  # '0': an ASCII digit; the ISO formats' fixed widths
_DAYS_IN_MONTH = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


def _exact_iso(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Texts written exactly ``YYYY-MM-DD``, ``YYYY-MM-DD HH:MM`` or ``YYYY-MM-DD
    HH:MM:SS`` (two-digit parts, a valid date and time, years 1800–2261), read from the
    bytes in numpy: (datetime64[ns], which). What ``pd.to_datetime`` with
    :data:`_FAST_FORMATS` makes of them; everything else is left to it."""
    n = len(arr)
    out = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    which = np.zeros(n, dtype=bool)
    if n == 0:
        return out, which
    length = pc.binary_length(arr).fill_null(-1).to_numpy(zero_copy_only=False)
    for width in (10, 16, 19):
        rows = np.flatnonzero(length == width)
        if not len(rows):
            continue
        # the texts of one width, side by side in one buffer: a (rows × width) matrix
        sub = arr.take(pa.array(rows)).cast(pa.large_string())
        offsets = np.frombuffer(sub.buffers()[1], dtype=np.int64)[sub.offset :]
        chars = np.frombuffer(sub.buffers()[2], dtype=np.uint8)
        chars = chars[offsets[0] : offsets[0] + width * len(rows)].reshape(-1, width)
        ok = np.ones(len(rows), dtype=bool)
        for j, want in enumerate(_ISO_SHAPE[:width]):
            if want != "0":
                ok &= chars[:, j] == ord(want)

        def number(*cols):  # the digits at these positions as a number (checked digits)
            out = np.zeros(len(rows), dtype=np.int32)
            for j in cols:
                digit = chars[:, j] - np.uint8(48)  # wraps below '0': > 9 then
                ok[:] &= digit <= 9
                out = out * 10 + digit
            return out

        y = number(0, 1, 2, 3)
        pair = [number(j, j + 1) for j in range(5, width, 3)]  # month, day, h, min, s
        m, d = pair[0], pair[1]
        ok &= (y >= _MIN_YEAR) & (y <= _MAX_YEAR) & (m >= 1) & (m <= 12) & (d >= 1)
        leap = (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))
        month = np.clip(m, 1, 12) - 1
        ok &= d <= _DAYS_IN_MONTH[month] + ((month == 1) & leap)
        secs = np.zeros(len(rows), dtype=np.int64)
        for k, (limit, unit) in enumerate(zip((24, 60, 60), (3600, 60, 1)), start=2):
            if k < len(pair):
                ok &= pair[k] < limit
                secs += pair[k] * unit
        rows, y, month, d, secs = rows[ok], y[ok].astype(np.int64), month[ok], d[ok], secs[ok]
        # days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil)
        y = y - (month < 2)
        era, yoe = y // 400, y % 400
        doy = (153 * np.where(month < 2, month + 10, month - 2) + 2) // 5 + d - 1
        days = era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468
        out[rows] = (days * 86400 + secs).astype("datetime64[s]").astype("datetime64[ns]")
        which[rows] = True
    return out, which


def _one_chunk(arr: pa.ChunkedArray) -> pa.Array:
    return arr.chunk(0) if arr.num_chunks == 1 else arr.combine_chunks()


def _in_ns_range(vals: np.ndarray) -> np.ndarray:
    """Which datetime64 values (any unit) lie in the years we accept (inside ns's)."""
    return (vals >= np.datetime64(f"{_MIN_YEAR}-01-01")) & (
        vals < np.datetime64(f"{_MAX_YEAR + 1}-01-01"))


def _fast_pass(raw: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """What most exports hold, parsed in C over every row: datetime cells, and text in
    the exact ISO formats above. Returns (datetime64[ns] with time of day, handled mask);
    every other value (serials, `2024/1/5`, `20240105`, blanks, odd text) is left to the
    per-distinct-value parsers."""
    n = len(raw)
    out = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    handled = np.zeros(n, dtype=bool)
    if not n:
        return out, handled
    if is_text_dtype(raw.dtype):  # every value a str
        is_str = raw.notna().to_numpy()
        is_dt = np.zeros(n, dtype=bool)
    elif pd.api.types.is_datetime64_dtype(raw.dtype):
        # a column of datetime cells (xlsx dates, Parquet timestamps): pandas makes it
        # datetime64 when the frame is built. Read as it is: mapping `type` over it made
        # a Timestamp object per row (3.2 s of parsing a group's 900k-row RO file)
        vals = raw.to_numpy()  # its own unit: a far year must not wrap round in ns
        is_str = np.zeros(n, dtype=bool)
        is_dt = np.zeros(n, dtype=bool)
        handled = ~np.isnat(vals) & _in_ns_range(vals)  # the rest: the per-value steps
        out[handled] = vals[handled].astype("datetime64[ns]")
    else:
        types = raw.map(type)
        is_str = (types == str).to_numpy()
        # date cells: calamine gives a date without a time of day as datetime.date (a
        # store's vehicle export has six such columns; they went value by value)
        is_dt = types.isin([dt.datetime, pd.Timestamp, dt.date]).to_numpy()
    if is_dt.any():
        conv = pd.to_datetime(raw[is_dt], errors="coerce")
        if conv.dt.tz is None:
            vals = conv.to_numpy()  # its own unit: a far year must not wrap round in ns
            ok = ~np.isnat(vals) & _in_ns_range(vals)
            rows = np.flatnonzero(is_dt)[ok]
            out[rows], handled[rows] = vals[ok].astype("datetime64[ns]"), True
    todo = np.flatnonzero(is_str)
    if is_text_dtype(raw.dtype):  # the usual shapes, straight from the bytes
        vals, exact = _exact_iso(_one_chunk(raw.array.__arrow_array__()))
        out[exact], handled[exact] = vals[exact], True
        todo = todo[~exact[todo]]
    if len(todo):  # each format over the distinct texts left, in C
        codes, uniq = pd.factorize(raw.iloc[todo].to_numpy(dtype=object))
        left = np.arange(len(uniq))
        got = np.full(len(uniq), np.datetime64("NaT"), dtype="datetime64[ns]")
        for fmt in _FAST_FORMATS:
            if not len(left):
                break
            conv = pd.to_datetime(pd.Series(uniq[left], dtype=object), format=fmt,
                                  errors="coerce")
            vals = conv.to_numpy(dtype="datetime64[ns]")
            ok = ~np.isnat(vals)
            got[left[ok]] = vals[ok]
            left = left[~ok]
        vals = got[codes]
        ok = ~np.isnat(vals)
        out[todo[ok]], handled[todo[ok]] = vals[ok], True
    lo, hi = np.datetime64(f"{_MIN_YEAR}-01-01"), np.datetime64(f"{_MAX_YEAR}-12-31")
    handled &= ~((out < lo) | (out > hi) | (out == np.datetime64("1899-12-30")))
    handled |= raw.isna().to_numpy() | (is_str & (raw == "").to_numpy())  # empty: missing
    return out, handled


def parse_dates(raw: pd.Series, *, dayfirst: bool = False) -> ParsedSeries:
    """Dates (values datetime64[ns] at midnight, NaT when missing or bad)."""
    if not isinstance(raw, pd.Series):
        raw = pd.Series(raw, dtype=object)
    fast, handled = _fast_pass(raw)
    values = fast.astype("datetime64[D]").astype("datetime64[ns]")
    return _with_fast_pass(raw, values, handled,
                           lambda rows: _parse_dates_slow(rows, dayfirst=dayfirst))


def _with_fast_pass(raw: pd.Series, values: np.ndarray, handled: np.ndarray,
                    slow) -> ParsedSeries:
    """The fast pass's ``values`` where it ``handled`` a row, ``slow(rows)`` for the rest
    (only they go through the row-by-row steps)."""
    if handled.all():
        return ParsedSeries(pd.Series(values, index=raw.index),
                            pd.Series([None] * len(raw), index=raw.index, dtype=object))
    if not handled.any():
        return slow(raw)
    rest = slow(raw[~handled])
    values[~handled] = rest.values.to_numpy(dtype="datetime64[ns]")
    issue = pd.Series([None] * len(raw), index=raw.index, dtype=object)
    issue[~handled] = rest.issue.to_numpy()
    return ParsedSeries(pd.Series(values, index=raw.index), issue)


def _parse_dates_slow(raw: pd.Series, *, dayfirst: bool) -> ParsedSeries:
    d = Distinct.of(raw)
    out = np.full(len(d), np.datetime64("NaT"), dtype="datetime64[ns]")
    missing = np.zeros(len(d), dtype=bool)
    ambiguous = np.zeros(len(d), dtype=bool)
    text = np.isin(d.kind, ["str", "other"])
    if text.any():
        out[text], missing[text], ambiguous[text] = _from_texts(d.nfkc()[text], dayfirst)
    num = d.kind == "num"
    if num.any():
        out[num], missing[num] = _from_numbers(d.floats(num))
    objs = d.kind == "dt"
    if objs.any():
        out[objs] = _from_objects(d.uniq[objs].reset_index(drop=True))
    excel_zero = out == np.datetime64("1899-12-30")  # Excel's day 0: an empty date cell
    missing |= excel_zero
    out[missing] = np.datetime64("NaT")
    issue = issues(len(d))
    issue[np.isnat(out) & ~missing] = "date_unparseable"
    issue[ambiguous] = "date_ambiguous"
    return d.result(out, issue, dtype="datetime64[ns]", fill=np.datetime64("NaT"))


_TIME = r"(?:^|[\sT日])(?P<h>[0-9]{1,2})[:：时](?P<m>[0-9]{1,2})(?:[:：分](?P<s>[0-9]{1,2}))?"


def parse_datetimes(raw: pd.Series, *, dayfirst: bool = False) -> ParsedSeries:
    """Date and time of day (e.g. promised and actual hand-back times): the date as
    :func:`parse_dates` reads it, plus the time written after it (`2024-01-05 09:25`,
    datetime cells, fractional Excel serials). No time given → midnight."""
    if not isinstance(raw, pd.Series):
        raw = pd.Series(raw, dtype=object)
    fast, handled = _fast_pass(raw)
    return _with_fast_pass(raw, fast, handled,
                           lambda rows: _parse_datetimes_slow(rows, dayfirst=dayfirst))


def _parse_datetimes_slow(raw: pd.Series, *, dayfirst: bool) -> ParsedSeries:
    base = parse_dates(raw, dayfirst=dayfirst)
    values = base.values
    offset = pd.Series(pd.NaT, index=raw.index, dtype="timedelta64[ns]")
    is_obj = raw.map(lambda v: isinstance(v, (dt.datetime, pd.Timestamp)))
    if is_obj.any():
        objs = pd.to_datetime(raw[is_obj], errors="coerce")
        offset[is_obj] = (objs - objs.dt.floor("D")).to_numpy()
    nums = pd.to_numeric(raw.where(raw.map(lambda v: isinstance(v, (int, float)) and
                                           not isinstance(v, bool))), errors="coerce")
    frac = nums.where((nums >= 1) & (nums <= 2958465)) % 1
    offset = offset.fillna(pd.to_timedelta((frac * 86400).round(), unit="s"))
    text = raw.where(raw.map(lambda v: isinstance(v, str))).astype("string")
    parts = text.str.extract(_TIME).astype("float64")
    ok = (parts["h"] < 24) & (parts["m"] < 60) & (parts["s"].fillna(0) < 60)
    secs = (parts["h"] * 3600 + parts["m"] * 60 + parts["s"].fillna(0)).where(ok)
    offset = offset.fillna(pd.to_timedelta(secs, unit="s"))
    out = values + offset.fillna(pd.Timedelta(0)).to_numpy()
    out = out.to_numpy(dtype="datetime64[ns]", copy=True)
    return ParsedSeries(pd.Series(out, index=raw.index), base.issue)


# ------------------------------------------------------------------------- mileage
_MILEAGE = (
    r"^(?P<num>[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:e[-+]?[0-9]+)?)\s*(?P<wan>万)?\s*"
    r"(?:km|kms|公里|千米)?\.?$"
)
MAX_MILEAGE = 2_000_000


def parse_mileage(raw: pd.Series) -> ParsedSeries:
    """Odometer readings in km (float64; NaN when missing or bad)."""
    d = Distinct.of(raw)
    km = np.full(len(d), np.nan)
    blank = np.zeros(len(d), dtype=bool)
    text = np.isin(d.kind, ["str", "other"])
    digits = np.zeros(len(d), dtype=bool)
    plain = text & d.plain()
    if plain.any():  # whole numbers written as ASCII digits (most): no more to do
        digits[plain] = arrow_map(d.texts(), plain, lambda a: pc.match_substring_regex(
            a, r"^[0-9]{1,15}$"))
        km[digits] = arrow_map(d.texts(), digits, lambda a: pc.cast(a, pa.float64()))
    text &= ~digits
    if text.any():
        t = d.nfkc()[text].str.casefold()
        blank[text] = is_blank(t)
        g = t.str.replace(r"[,，\s]", "", regex=True).str.extract(_MILEAGE)
        val = pd.to_numeric(g["num"], errors="coerce").to_numpy(dtype="float64")
        km[text] = np.where(g["wan"].notna().to_numpy(), val * 10_000, val)
    num = d.kind == "num"
    if num.any():
        km[num] = d.floats(num)
    with np.errstate(invalid="ignore"):
        bad_range = (km < 0) | (km > MAX_MILEAGE) | np.isinf(km)
    issue = issues(len(d))
    issue[np.isnan(km) & ~blank] = "mileage_unparseable"
    issue[bad_range] = "mileage_out_of_range"
    km[bad_range] = np.nan
    return d.result(km, issue, dtype="float64", fill=np.nan)


# ------------------------------------------------------------------------ booleans
_TRUE = {"是", "y", "yes", "1", "1.0", "true", "t", "√", "✓", "✔", "有", "对"}
_FALSE = {"否", "n", "no", "0", "0.0", "false", "f", "×", "✗", "✘", "无", "不是", "没有"}


def parse_bool(raw: pd.Series) -> ParsedSeries:
    """Yes/no cells (pandas ``boolean``; <NA> when blank or unrecognised)."""
    d = Distinct.of(raw)
    out = np.full(len(d), None, dtype=object)
    t = d.nfkc().str.casefold()
    is_true, is_false = t.isin(_TRUE).to_numpy(), t.isin(_FALSE).to_numpy()
    out[is_true], out[is_false] = True, False
    blank = is_blank(t, BLANK_TOKENS - {"无"}) & ~is_false
    dated = d.kind == "dt"
    out[dated] = None
    issue = issues(len(d))
    issue[pd.isna(out) & ~blank] = "bool_unparseable"
    return ParsedSeries(d.back(out).astype("boolean"), d.back(issue))


# ---------------------------------------------------------------------------- text
def _texts(d: Distinct) -> np.ndarray:
    """:func:`normalise_text` of each distinct value (kept on ``d``)."""

    def compute():
        t = d.nfkc()
        odd = ~d.plain()  # plain texts hold no white space
        if odd.any():
            t = t.copy()
            t[odd] = t[odd].str.replace(r"\s+", " ", regex=True)
        return t.where(t != "", None).to_numpy(dtype=object)

    return d.memo("text", compute)


def normalise_text(raw: pd.Series, *, arrow: bool = False) -> pd.Series:
    """NFKC, stripped, inner whitespace collapsed; None for blank cells. ``raw`` may be a
    :class:`Distinct` (shared with other parsers). ``arrow``: as Arrow-backed text
    (:meth:`Distinct.back_text`: blank cells NaN), not objects; then a text column whose
    texts are all plain (``plain_mask``: nothing for NFKC, ``strip`` or the white-space
    rule to change) is done in Arrow without a Python str per value."""
    d = Distinct.of(raw)
    if arrow and d.arrow() is not None and d.plain().all():  # nothing to change but ''
        texts = d.arrow()
        return d.back_text(pc.if_else(pc.equal(texts, ""), pa.scalar(None, texts.type),
                                      texts))
    return d.back(_texts(d), text=arrow)


def _plates(d: Distinct) -> np.ndarray:
    """:func:`normalise_plate` of each distinct value (kept on ``d``)."""

    def compute():
        t = d.nfkc()
        plain = d.plain()
        out = np.empty(len(t), dtype=object)
        if plain.any():  # no white space, '·', '・' or '•' in a plain text
            out[plain] = arrow_map(t, plain, lambda a: pc.replace_substring_regex(
                pc.ascii_upper(a), r"[\-.]", ""), same=True, arrow=d.arrow())
        odd = ~plain
        if odd.any():
            out[odd] = t[odd].str.upper().str.replace(r"[\s\-·・•.]", "", regex=True)
        return np.where(out == "", None, out)

    return d.memo("plate", compute)


def normalise_plate(raw: pd.Series, *, arrow: bool = False) -> pd.Series:
    """Plates: NFKC, upper-case, without spaces, '-', '·' or '.'; None for blank. ``raw``
    may be a :class:`Distinct` (shared with other parsers). ``arrow``: as in
    :func:`normalise_text`."""
    d = Distinct.of(raw)
    return d.back(_plates(d), text=arrow)


# ---------------------------------------------------------------------- service types
SERVICE_TYPES: dict[str, list[str]] = {
    "first_service": ["首保", "首次保养", "首次免费保养"],
    "maintenance": ["定保", "定期保养", "常规保养", "保养", "小保养", "大保养", "二保"],
    "repair": ["一般维修", "机修", "故障维修", "普通维修", "电器维修", "快修", "维修"],
    "bodyshop": ["事故车", "钣喷", "钣金", "喷漆", "事故维修", "理赔", "保险理赔"],
    "warranty": ["保修", "索赔", "三包", "质量担保", "质保"],
    "campaign": ["召回", "服务活动", "技术服务活动"],
    "internal": ["内部", "PDI", "新车整备", "内部结算"],
    "other": ["洗车", "精洗", "美容", "精品", "装潢"],
}
#: when two aliases of equal length are both contained in a value, the earlier kind wins
_TIE_ORDER = [
    "internal", "first_service", "maintenance", "warranty", "bodyshop", "repair", "campaign",
    "other",
]


def _alias_table(extra: dict[str, list[str]] | None) -> dict[str, str]:
    table: dict[str, str] = {}
    for source in (SERVICE_TYPES, extra or {}):  # config (extra) overrides built-ins
        for kind, aliases in source.items():
            for alias in aliases:
                key = unicodedata.normalize("NFKC", str(alias)).strip().casefold()
                if key:
                    table[key] = kind
    return table


def map_service_type(raw: pd.Series, extra: dict[str, list[str]] | None = None, *,
                     arrow: bool = False) -> ParsedSeries:
    """Raw service types -> canonical kinds (unknown -> 'repair' with an issue)."""
    d = Distinct.of(raw)
    t = d.nfkc().str.casefold()
    table = _alias_table(extra)
    kind = t.map(table).to_numpy(dtype=object, copy=True)  # whole value first
    rank = {k: i for i, k in enumerate(_TIE_ORDER)}
    for alias in sorted(table, key=lambda a: (-len(a), rank.get(table[a], len(rank)))):
        todo = pd.isna(kind)
        if not todo.any():
            break
        hit = todo & t.str.contains(alias, regex=False).to_numpy(dtype=bool)
        kind[hit] = table[alias]
    blank = is_blank(t)
    unknown = pd.isna(kind) & ~blank
    kind[unknown] = "repair"
    kind[blank] = None
    issue = issues(len(d))
    issue[unknown] = "service_type_unknown"
    return d.result(kind, issue, text=arrow)


# ---------------------------------------------------------------------- row flags
def is_test_row(name: pd.Series, plate: pd.Series | None) -> pd.Series:
    """Test rows: name 测试 / test (any case), or a plate containing 测试. Either may be
    a :class:`Distinct` (shared with other parsers)."""
    dn = Distinct.of(name)
    n = pd.Series(_texts(dn), dtype=object).str.casefold()
    out = dn.back(n.isin(["测试", "test"]).to_numpy(dtype=bool), dtype=bool, fill=False)
    out = out.to_numpy(dtype=bool)
    if plate is not None:
        dp = Distinct.of(plate)  # aligned with name, row for row
        p = pd.Series(_plates(dp), dtype=object)
        test = p.str.contains("测试", regex=False, na=False).to_numpy(dtype=bool)
        out = out | dp.back(test, dtype=bool, fill=False).to_numpy(dtype=bool)
    return pd.Series(out, index=dn.index, dtype=bool)


_ORG_TYPE = "单位|公司|企业|机构"
_ORG_NAME = "公司|有限|集团|厂|店|中心|协会|学校|医院|银行|局"


def is_organisation(name: pd.Series, customer_type: pd.Series | None = None) -> pd.Series:
    """Organisations, not persons: by customer type, else by words in the name."""
    n = normalise_text(name)
    out = n.str.contains(_ORG_NAME, regex=True, na=False).to_numpy(dtype=bool)
    if customer_type is not None:
        c = normalise_text(customer_type)  # aligned with name, row for row
        out = out | c.str.contains(_ORG_TYPE, regex=True, na=False).to_numpy(dtype=bool)
    return pd.Series(out, index=name.index, dtype=bool)
