"""aftercare.frames.join_unique against the plain per-group join it replaces."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from aftercare.frames import join_unique, concat_rows


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


def _days_with_gaps(rng, n, keys):
    days = pd.to_datetime(rng.integers(0, 3000, n), unit="D").to_numpy("datetime64[ns]")
    days[rng.random(n) < 0.1] = np.datetime64("NaT")
    days[keys == 3] = np.datetime64("NaT")  # a key with only missing days
    return days


def test_latest_by_key_is_the_groupby_max():
    """The table of each key's latest day equals pandas' groupby max: missing days
    skipped, NaT for a key with only missing days, absent keys not seen; and None
    (the caller's groupby) for keys that are negative, spread too far or not integers."""
    from aftercare.frames import latest_by_key

    rng = np.random.default_rng(3)
    keys = rng.integers(0, 500, 5000)
    keys[keys == 7] = 8  # a key with no rows
    days = _days_with_gaps(rng, len(keys), keys)
    latest, seen = latest_by_key(keys, days)
    want = pd.Series(days).groupby(keys).max()
    assert list(np.flatnonzero(seen)) == list(want.index)
    np.testing.assert_array_equal(latest[want.index.to_numpy()], want.to_numpy())
    assert pd.isna(latest[3]) and seen[3] and not seen[7]
    assert latest_by_key(keys - 1, days) is None
    assert latest_by_key(np.r_[keys, 10**9], np.r_[days, days[:1]]) is None
    assert latest_by_key(keys.astype(object), days) is None
    assert latest_by_key(keys, days.view("int64")) is None
    assert latest_by_key(keys[:0], days[:0]) is None


def test_latest_rows_is_the_same_with_the_key_table_or_a_groupby(monkeypatch):
    """latest_rows and the rule context's last visits give the same with the fast table
    as with pandas' groupby (the table switched off)."""
    import aftercare.frames as frames
    import aftercare.rules.context as context
    from aftercare.frames import latest_rows

    rng = np.random.default_rng(4)
    keys = rng.integers(0, 300, 3000)
    frame = pd.DataFrame({"vehicle_id": keys, "open_date": _days_with_gaps(rng, 3000, keys),
                          "basis_km": rng.choice([np.nan, 1.0, 2.0, 3.0], 3000),
                          "is_visit": rng.random(3000) < 0.8})
    ctx = context.RuleContext(None, None, frame, None, None, None, None, None, {})
    fast, fast_last = latest_rows(frame, "vehicle_id", "open_date", "basis_km"), ctx.last_visit()
    for module in (frames, context):
        monkeypatch.setattr(module, "latest_by_key", lambda keys, days: None)
    ctx = context.RuleContext(None, None, frame, None, None, None, None, None, {})
    slow, slow_last = latest_rows(frame, "vehicle_id", "open_date", "basis_km"), ctx.last_visit()
    assert len(fast) > 250 and fast_last.isna().any()
    pd.testing.assert_frame_equal(fast, slow)
    pd.testing.assert_series_equal(fast_last, slow_last)


def _part(rng, n, start, all_missing=False):
    none = [None] * n
    text = none if all_missing else [None if x < 0.3 else f"t{x:.3f}" for x in rng.random(n)]
    return pd.DataFrame({
        "obj": pd.Series(text, dtype=object),
        "arrow": pd.array(text, dtype="str"),
        "day": pd.Series(pd.NaT if all_missing else pd.Timestamp("2024-01-01"),
                         index=range(n)) + pd.to_timedelta(rng.integers(0, 9, n), "D"),
        "num": np.nan if all_missing else rng.random(n),
        "flag": rng.random(n) < 0.5,
        "maybe": pd.array([None if x < 0.2 else bool(x < 0.6) for x in rng.random(n)],
                          dtype="boolean"),
        "count": rng.integers(0, 9, n),
    }, index=pd.Index(np.arange(start, start + n) * 2))


def test_concat_rows_is_pd_concat_and_lets_the_parts_go():
    """Column by column, the same frame as pd.concat (values, dtypes, index, column
    order), also with an all-missing part and a part whose column is of another dtype;
    the list of parts is emptied. Other columns in a part: pd.concat's own result."""
    rng = np.random.default_rng(3)
    cases = [
        [_part(rng, 5, 0), _part(rng, 7, 100), _part(rng, 3, 300)],
        [_part(rng, 4, 0), _part(rng, 6, 50, all_missing=True)],
        [_part(rng, 4, 0), _part(rng, 3, 9).assign(count=lambda f: f["count"] * 0.5)],
        [_part(rng, 4, 0)],
    ]
    for parts in cases:
        want = pd.concat(parts) if len(parts) > 1 else parts[0]
        got = concat_rows(list_ := list(parts))
        pd.testing.assert_frame_equal(got, want)
        assert list_ == []
    odd = [_part(rng, 3, 0), _part(rng, 3, 10).drop(columns="num")]
    pd.testing.assert_frame_equal(concat_rows(list(odd)), pd.concat(odd))


def test_to_arrow_text_turns_only_all_text_object_columns():
    from aftercare.frames import TEXT, to_arrow_text

    f = pd.DataFrame({"t": ["a", None, "车"], "n": [None, None, None],
                      "mixed": ["a", 1, None], "nan": ["a", np.nan, "b"],
                      "num": [1.0, 2.0, np.nan]}, index=[5, 7, 9])
    before = f.copy()
    out = to_arrow_text(f)
    pd.testing.assert_frame_equal(f, before)  # left as it was
    f = out
    assert f["t"].dtype == TEXT and f["n"].dtype == TEXT
    assert str(f["t"].array._pa_array.type) in ("string", "large_string")  # Arrow, no strs
    assert f["t"].tolist()[0::2] == ["a", "车"] and pd.isna(f["t"].iloc[1])
    assert f["n"].isna().all()
    # mixed values, a NaN among texts (not the parse's None) and numbers stay as they were
    for c in ("mixed", "nan", "num"):
        assert f[c].dtype == before[c].dtype
        pd.testing.assert_series_equal(f[c], before[c])
    assert list(f.index) == [5, 7, 9]


def test_issue_values_from_arrow_text_are_the_per_value_texts():
    """IssueLog.add_rows takes Arrow-backed text values as they are (missing: ""), the
    text a per-value call gives for them and for the same values as objects."""
    from aftercare.frames import TEXT
    from aftercare.issues import IssueLog

    values = ["作废", None, "nan", "", " 1.0 ", "删除"]
    frame = pd.DataFrame({"_file": "a.csv", "_sheet": "", "_row": range(2, 8),
                          "deleted_raw": pd.Series(values, dtype=TEXT)})
    mask = np.array([True, True, True, True, True, False])
    got = []
    for dtype in (TEXT, object):
        log = IssueLog()
        log.add_rows(frame, mask, field="deleted", reason="deleted_ro",
                     value=frame["deleted_raw"].astype(dtype))
        got.append(log.frame()["value"].tolist())
    assert got[0] == got[1] == ["作废", "", "nan", "", " 1.0 "]
