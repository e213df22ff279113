"""Small vectorised helpers on frames that several commands share."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


#: pandas' ``str`` dtype stored in Arrow (pandas 3's default ``str`` with pyarrow installed;
#: missing values are NaN). Text columns hold it from the parse on: see :func:`to_arrow_text`
TEXT = pd.StringDtype("pyarrow", na_value=np.nan)


def arrow_text(s: pd.Series) -> pa.ChunkedArray | None:
    """A text column held in Arrow (pandas' ``str`` with pyarrow storage, as the loader
    makes it) as its own Arrow data, without a copy; None for any other column. Its
    values can then be worked on in Arrow, never made Python strs."""
    dtype = s.dtype
    if not (isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"):
        return None
    arr = pa.array(s.array)  # the column's own Arrow data (zero-copy)
    if not isinstance(arr, pa.ChunkedArray):
        arr = pa.chunked_array([arr])
    return arr if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type) else None


def none_mask(values: np.ndarray) -> np.ndarray | None:
    """Which values of an object array are None, found by identity in C (pd.isna() took
    2-3x as long on text columns); None when some value's ``== None`` is not a bool."""
    try:
        none = np.asarray(values == None, dtype=bool)  # noqa: E711 - elementwise
    except (TypeError, ValueError):
        return None
    return none if none.shape == values.shape else None


def all_str_or_none(values: np.ndarray, none: np.ndarray | None = None) -> bool:
    """Whether an object array holds only str (or numpy str) and None. ``none``: its
    :func:`none_mask`, when already known."""
    if none is None:
        none = none_mask(values)
    if none is not None:
        rest = values[~none] if none.any() else values
        return not len(rest) or pd.api.types.infer_dtype(rest, skipna=False) == "string"
    missing = pd.isna(values)
    if missing.any():
        nulls = values[missing]
        if nulls.tolist().count(None) != len(nulls):  # NaN, NaT or NA among them
            return False
        values = values[~missing]
    return pd.api.types.infer_dtype(values, skipna=False) in ("string", "empty")


def to_arrow_text(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with each object column that holds only str and None as an Arrow-backed
    ``str`` column (:data:`TEXT`; None becomes NaN); other columns, mixed ones included,
    hold the same values. A new frame (``frame`` is left as it was) whose columns are not
    consolidated into one block per dtype.

    Why: a parsed file's text (VINs, plates, names, phone numbers) is millions of values
    on a dealer group. As Python objects each value is a str of its own that every later
    step touches one by one under the GIL: the parse cache's writer turned them into
    Arrow again, the run reading the cache back made a str of each, and the join hashed
    and copied them. In Arrow they are written, read back and joined as buffers. A dealer
    group's cold ``due``: 91.5 → 70.9 s, and 7.3 → 6.1 GB peak (two alternating pairs,
    bench/results.md); the workbooks were equal cell by cell.

    How, cheaply: the values go to Arrow by ``pa.array`` (pandas' own constructor checks
    each value again: ~40% slower); a column with no value at all (an RO export's owner
    columns, say) is made as nulls without looking at its cells again; and the frame is
    built anew from its columns, as replacing them one by one in a parsed frame copied
    its block of object columns each time (0.7 s of a group's 650k-row RO file)."""
    if not frame.columns.is_unique:
        return frame
    columns = {}
    for name in frame.columns:
        col = frame[name]
        if col.dtype == object:
            values = col.to_numpy()
            none = none_mask(values)
            if none is not None and none.all():
                col = pd.Series(TEXT.__from_arrow__(pa.nulls(len(values), pa.large_string())),
                                index=frame.index, copy=False)
            elif all_str_or_none(values, none):
                col = pd.Series(TEXT.__from_arrow__(pa.array(values, type=pa.large_string())),
                                index=frame.index, copy=False)
            else:  # its own copy: the parse's block of object columns is let go
                col = col.copy()
        columns[name] = col
    out = pd.DataFrame(columns, copy=False)
    out.index = frame.index
    out.columns = frame.columns
    return out


def map_distinct(s: pd.Series, fn: Callable[[Any], Any]) -> pd.Series:
    """``fn`` applied once per distinct value of ``s`` and mapped back onto the rows (an
    object Series; missing cells give None without a call). A ``Series.map(lambda …)``
    calls Python once per row: 300k rows of a dealer group's month list took 0.5 s."""
    obj = s.to_numpy(dtype=object, na_value=None)
    try:
        codes, uniq = pd.factorize(obj)
    except TypeError:  # unhashable cells: one call each (rare; not from our frames)
        return pd.Series([fn(v) for v in obj], index=s.index, dtype=object)
    texts = np.array([fn(v) for v in uniq] + [None], dtype=object)
    return pd.Series(texts[np.where(codes < 0, len(uniq), codes)], index=s.index, dtype=object)


def join_unique(frame: pd.DataFrame, key, col: str, sep: str = ";") -> pd.Series:
    """key → the distinct non-empty values of ``col`` as text, joined by ``sep`` in row
    order; keys in order of first appearance (``key``: a column or a list of columns).

    Keys whose values are all missing or empty are left out, like rows with a missing key.
    The texts are put in key order (a stable sort) and joined per key in Arrow
    (``binary_join`` over list offsets): no Python call per key. A groupby
    ``agg(sep.join)`` cost ~50 µs a key; a dealer group's month list has ~10^5."""
    keys = [key] if isinstance(key, str) else list(key)
    sub = frame[[*keys, col]]
    sub = sub[sub[col].notna() & sub[keys].notna().all(axis=1)]
    text = sub[col].astype(str)
    sub = sub.assign(**{col: text})[text != ""].drop_duplicates()
    if len(keys) == 1:
        codes, _ = pd.factorize(sub[keys[0]])  # numbered in order of first appearance
    else:
        codes = sub.groupby(keys, sort=False).ngroup().to_numpy()
    _, first = np.unique(codes, return_index=True)
    order = sub[keys].iloc[first]
    index = pd.Index(order[keys[0]]) if len(keys) == 1 else pd.MultiIndex.from_frame(order)
    by_key = np.argsort(codes, kind="stable")  # row order kept within a key
    offsets = np.zeros(len(first) + 1, dtype=np.int64)
    np.cumsum(np.bincount(codes, minlength=len(first)), out=offsets[1:])
    texts = pa.array(sub[col].to_numpy(dtype=object)[by_key], type=pa.large_string())
    lists = pa.LargeListArray.from_arrays(pa.array(offsets, type=pa.int64()), texts)
    joined = pc.binary_join(lists, pa.scalar(sep, pa.large_string()))
    joined = joined.to_numpy(zero_copy_only=False)
    return pd.Series(joined.astype(object), index=index, dtype=object, name=col)


def concat_rows(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """``pd.concat(parts)`` (rows, the parts' indexes kept) for frames with the same
    columns, built one column at a time; ``parts`` is emptied, and each part's column is
    let go once joined. The caller must hold no other reference to the parts.

    Why: ``pd.concat`` writes the whole result beside the parts, and memory written for
    the first time is slow on the machines this runs on (bench/README.md, "Memory is
    time here"): a dealer group's 7M ROs × 45 columns are 2.5 GB, joined in 4.3 s into
    fresh memory against 0.35 s into reused memory. A part built column by column (the
    cache's frames) frees each column's memory for the next one. The result's columns
    are not consolidated into one block per dtype. Parts with other columns, or repeated
    column names, take ``pd.concat``."""
    names = list(parts[0].columns)
    if len(parts) < 2 or not parts[0].columns.is_unique or any(
            list(p.columns) != names for p in parts[1:]):
        out = pd.concat(parts) if len(parts) > 1 else parts[0]
        parts.clear()
        return out
    index = parts[0].index.append([p.index for p in parts[1:]])
    columns_index = parts[0].columns
    columns = [[p[name] for p in parts] for name in names]
    parts.clear()
    joined = {}
    for i, name in enumerate(names):
        joined[name] = pd.concat(columns[i], ignore_index=True)
        columns[i] = None  # this column's parts can go
    out = pd.DataFrame(joined, copy=False)
    out.index = index
    out.columns = columns_index
    return out


def id_table_size(values, *more) -> int | None:
    """The length of a table indexed by ``values`` and ``more`` (integer arrays), when
    they are ids from 0 up to a few times the count of ``values`` (the loader's vehicle
    ids): their greatest value + 1. None when an array is empty or not of integers, or
    holds a negative id or one so large that the table would outgrow the rows."""
    arrays = [np.asarray(a) for a in (values, *more)]
    if any(not len(a) or a.dtype.kind not in "iu" for a in arrays):
        return None
    low = min(int(a.min()) for a in arrays)
    high = max(int(a.max()) for a in arrays)
    if low < 0 or high >= 4 * len(arrays[0]) + 1_000_000:
        return None
    return high + 1


def latest_by_key(keys, days) -> tuple[np.ndarray, np.ndarray] | None:
    """The latest of ``days`` (datetime64) per key in ``keys`` (integers from 0 up to a
    few times their count: the loader's vehicle ids), as ``(latest, seen)``: arrays over
    every key value, ``latest[k]`` the greatest day of key k (NaT when it has only NaT
    days, as pandas' groupby max gives) and ``seen[k]`` whether k has rows. One
    ``np.maximum.at`` over the days as integers (NaT is the smallest), where a groupby
    hashes every key: a dealer group's 6M visits took 0.07 s instead of 0.7 s. None when
    the keys or days are of other kinds, or the keys spread too far for a table."""
    keys, days = np.asarray(keys), np.asarray(days)
    size = id_table_size(keys)
    if size is None or days.dtype.kind != "M" or len(days) != len(keys):
        return None
    latest = np.full(size, np.iinfo("int64").min)  # NaT as an integer
    np.maximum.at(latest, keys, days.view("int64"))
    seen = np.bincount(keys, minlength=size) > 0
    return latest.view(days.dtype), seen


def latest_rows(frame: pd.DataFrame, key: str, day: str, tie: str) -> pd.DataFrame:
    """One row per ``key`` (the index, sorted): among its rows on its greatest ``day``, the
    one with the greatest ``tie`` (missing ``tie`` counts as greatest; the last such row
    on a tie). Only the rows of each key's greatest day are looked at, and only the keys
    with several rows that day are sorted by ``tie`` (often text: RO numbers; sorting a
    dealer group's 1M last visits by them took 1.2 s)."""
    keys = frame[key].to_numpy()
    table = latest_by_key(keys, frame[day].to_numpy())
    if table is not None:  # the groupby's transform("max"), from a table of the keys
        greatest = pd.Series(table[0][keys], index=frame.index)
    else:
        greatest = frame.groupby(key)[day].transform("max")
    on_day = frame[(frame[day] == greatest).to_numpy()]
    several = on_day[key].duplicated(keep=False).to_numpy()
    if several.any():
        tied = (on_day[several].sort_values([key, tie], kind="stable")
                .drop_duplicates(key, keep="last"))
        on_day = pd.concat([on_day[~several], tied])
    return on_day.sort_values(key, kind="stable").set_index(key)
