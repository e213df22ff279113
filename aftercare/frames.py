"""Small vectorised helpers on frames that several commands share."""

from __future__ import annotations

import pandas as pd


def join_unique(frame: pd.DataFrame, key, col: str, sep: str = ";") -> pd.Series:
    """key → the distinct non-empty values of ``col`` as text, joined by ``sep`` in row
    order; keys in order of first appearance (``key``: a column or a list of columns).

    Keys whose values are all missing or empty are left out, like rows with a missing key.
    Most keys have a single value (one vehicle per call): those are taken as they are and
    only the keys with several values go through a Python ``str.join`` (a groupby
    ``agg(sep.join)`` over every group costs ~50 µs a group)."""
    keys = [key] if isinstance(key, str) else list(key)
    sub = frame[[*keys, col]]
    sub = sub[sub[col].notna() & sub[keys].notna().all(axis=1)]
    text = sub[col].astype(str)
    sub = sub.assign(**{col: text})[text != ""].drop_duplicates()
    order = sub[keys].drop_duplicates()
    index = pd.Index(order[keys[0]]) if len(keys) == 1 else pd.MultiIndex.from_frame(order)
    several = sub.duplicated(keys, keep=False)
    one = sub[~several].set_index(keys)[col]
    if several.any():
        many = sub[several].groupby(keys, sort=False)[col].agg(sep.join)
        one = pd.concat([one, many])
    return one.reindex(index).astype(object)


def latest_rows(frame: pd.DataFrame, key: str, day: str, tie: str) -> pd.DataFrame:
    """One row per ``key`` (the index): among its rows on its greatest ``day``, the one with
    the greatest ``tie`` (missing ``tie`` counts as greatest; the last such row on a
    tie). Only the rows of each key's greatest day are sorted, not the whole frame."""
    greatest = frame.groupby(key)[day].transform("max")
    on_day = frame[(frame[day] == greatest).to_numpy()]
    return (on_day.sort_values([key, tie], kind="stable")
            .drop_duplicates(key, keep="last").set_index(key))
