"""aftercare.frames.join_unique against the plain per-group join it replaces."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from aftercare.frames import join_unique


def slow(frame, key, col, sep=";"):
    """The reference: one Python join per group over its distinct non-empty texts; keys
    in order of their first non-empty value."""
    keys = [key] if isinstance(key, str) else list(key)
    ok = frame[col].map(lambda v: v is not None and v == v and str(v) != "")
    out = {}
    for k, g in frame.loc[ok.to_numpy(dtype=bool)].dropna(subset=keys).groupby(keys, sort=False):
        texts = [str(v) for v in g[col]]
        out[k[0] if isinstance(key, str) else k] = sep.join(dict.fromkeys(texts))
    return out


def test_example():
    f = pd.DataFrame({"k": ["a", "b", "a", "c", "a", None, "d"],
                      "v": ["x", "y", "z", None, "x", "q", ""]})
    got = join_unique(f, "k", "v")
    assert got.to_dict() == {"a": "x;z", "b": "y"}
    assert list(got.index) == ["a", "b"]  # first appearance; c, d only empty: left out
    assert join_unique(f.iloc[[1, 6, 0]], "k", "v").to_dict() == {"b": "y", "a": "x"}


def test_list_key_and_separator():
    f = pd.DataFrame({"c": [1, 1, 1, 2], "p": ["A", "A", "B", "A"], "k": ["m", "b", "m", "m"]})
    got = join_unique(f, ["c", "p"], "k", "\n")
    assert got.to_dict() == {(1, "A"): "m\nb", (1, "B"): "m", (2, "A"): "m"}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c", None]),
                          st.sampled_from(["x", "y", "", None, 3, 3.5])), max_size=30))
def test_same_as_per_group_join(rows):
    f = pd.DataFrame(rows, columns=["k", "v"], dtype=object)
    got = join_unique(f, "k", "v")
    assert got.to_dict() == slow(f, "k", "v")
    assert list(got.index) == list(slow(f, "k", "v"))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([1, 2, None]), st.sampled_from(["A", "B"]),
                          st.sampled_from(["x", "y", "", None, "粤B1", 4.5])),
                max_size=30), st.sampled_from([";", "\n"]))
def test_same_as_per_group_join_two_keys(rows, sep):
    """Two key columns (the contact log's), either separator, a number among the texts."""
    f = pd.DataFrame(rows, columns=["c", "p", "v"], dtype=object)
    got = join_unique(f, ["c", "p"], "v", sep)
    assert got.to_dict() == slow(f, ["c", "p"], "v", sep)
    assert list(got.index) == list(slow(f, ["c", "p"], "v", sep))


def test_latest_rows_takes_the_last_day_then_the_greatest_tie():
    """Per key: rows of its greatest day only, then the greatest tie value (missing counts
    as greatest), the last such row on a tie; other days' higher values are ignored."""
    from aftercare.frames import latest_rows

    f = pd.DataFrame({"v": [1, 1, 1, 2, 2, 3, 3],
                      "day": [5, 9, 9, 3, 3, 4, 4],
                      "km": [999.0, 10.0, 20.0, 7.0, 7.0, 1.0, np.nan],
                      "tag": list("abcdefg")})
    got = latest_rows(f, "v", "day", "km")
    assert got["tag"].to_dict() == {1: "c", 2: "e", 3: "g"}
    assert list(got.index) == [1, 2, 3]


def test_map_distinct_calls_once_per_value_and_leaves_missing_none():
    from aftercare.frames import map_distinct

    calls = []
    s = pd.Series(["a", "b", None, "a", np.nan, "b"], index=[5, 4, 3, 2, 1, 0], dtype=object)
    got = map_distinct(s, lambda v: calls.append(v) or v.upper())
    assert sorted(calls) == ["a", "b"]
    assert got.tolist() == ["A", "B", None, "A", None, "B"] and got.index.equals(s.index)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 6), st.integers(0, 3),
                          st.sampled_from(["R1", "R2", "R10", None]), st.integers(0, 99)),
                min_size=1, max_size=40))
def test_latest_rows_same_as_sorting_every_row(rows):
    """The same rows, in the same order, as sorting every row of each key's greatest day
    by (key, tie) and keeping the last: missing ties last, input order on a tie."""
    from aftercare.frames import latest_rows

    f = pd.DataFrame(rows, columns=["v", "day", "ro", "tag"])
    f["ro"] = f["ro"].astype("str")  # the RO keys' dtype (NaN for a missing one)
    greatest = f.groupby("v")["day"].transform("max")
    want = (f[(f["day"] == greatest).to_numpy()].sort_values(["v", "ro"], kind="stable")
            .drop_duplicates("v", keep="last").set_index("v"))
    pd.testing.assert_frame_equal(latest_rows(f, "v", "day", "ro"), want)
