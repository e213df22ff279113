"""aftercare.load.link internals: the key lookup and the gap filling from ROs."""

from __future__ import annotations

import numpy as np
import pandas as pd

from aftercare.load.link import _fill_from_ros, _lookup, _lookup_objects

T = pd.Timestamp


def test_lookup_finds_the_last_row_with_the_key():
    keys = pd.Series(["A", "B", None, "A", "C"], dtype=object)
    wanted = pd.Series(["A", None, "C", "Z", "B"], dtype=object)
    assert _lookup(keys, np.arange(5) * 10, wanted).tolist() == [30, -1, 40, -1, 10]


def test_lookup_by_arrow_is_the_lookup_by_pandas():
    """Arrow's ``index_in`` finds the first of equal values: searched from the end, it
    gives the last row of each key, as pandas' way does, for repeated keys, missing ones
    (None, NaN) on both sides, empty texts and an index that is not 0..n-1."""
    rng = np.random.default_rng(5)
    pool = np.array(["A", "B", "", "粤B12345", None, np.nan, "LSG0F6DM7RF201861"], dtype=object)
    for n_keys in (0, 1, 50):
        keys = pd.Series(pool[rng.integers(0, len(pool), n_keys)], dtype=object,
                         index=rng.permutation(n_keys) + 100)
        ids = rng.permutation(n_keys) * 7
        wanted = pd.Series(pool[rng.integers(0, len(pool), 200)], dtype=object)
        got = _lookup(keys, ids, wanted)
        assert got.tolist() == _lookup_objects(keys, ids, wanted).tolist()
        if n_keys == 50:
            assert (got >= 0).sum() > 50 and (got == -1).sum() > 20


def test_lookup_on_keys_that_are_not_text():
    keys = pd.Series([1, 2, 3, 2], dtype=object)
    wanted = pd.Series([2, 7, 1], dtype=object)
    assert _lookup(keys, np.arange(4), wanted).tolist() == [3, -1, 0]


def test_gaps_filled_from_the_latest_ro_with_a_value():
    """Vehicle 0 lacks model and mobile: model from its latest RO that has one (03-01, not
    the later RO without a model), mobile from the later of two ROs on one day. Vehicle 1
    keeps its own model; vehicle 2 has no RO and keeps its gap (None)."""
    vehicles = pd.DataFrame({"vehicle_id": [0, 1, 2],
                             "model": pd.Series([None, "雅阁", None], dtype=object),
                             "mobile": pd.Series([None, "13800000001", None], dtype=object)})
    ros = pd.DataFrame({
        "vehicle_id": [0, 0, 0, 0, 1],
        "open_date": [T("2025-03-01"), T("2025-01-01"), T("2025-05-01"), T("2025-05-01"),
                      T("2025-06-01")],
        "model": pd.Series(["凯美瑞", "卡罗拉", None, None, "思域"], dtype=object),
        "mobile": pd.Series([None, None, "13900000001", "13900000002", None], dtype=object),
    })
    out = _fill_from_ros(vehicles, ros).set_index("vehicle_id")
    assert out["model"].tolist() == ["凯美瑞", "雅阁", None]
    assert out["mobile"].tolist() == ["13900000002", "13800000001", None]
    assert "brand" not in out.columns  # only the ROs' columns are looked at


def _latest_by_hand(vehicles, ros, col):
    """The reference: per vehicle with a gap, the value of its last RO with one, ROs in
    a stable order by open date."""
    order = ros.reset_index(drop=True).sort_values("open_date", kind="stable")
    out = {}
    for vid, own in zip(vehicles["vehicle_id"], vehicles[col]):
        if pd.notna(own):
            out[vid] = own
            continue
        mine = order[(order["vehicle_id"] == vid) & order[col].notna()]
        out[vid] = mine[col].iloc[-1] if len(mine) else None
    return out


def test_gaps_filled_as_by_hand_whatever_the_vehicle_ids():
    """Random vehicles (ids 0..n-1 in order, or shuffled and spread) and ROs with ties on
    the day, values as text (Arrow or objects) and dates: each gap gets what a per-vehicle
    scan gives; vehicles with their own value keep it; an RO of an unknown vehicle is
    never used."""
    rng = np.random.default_rng(11)
    n, m = 40, 400
    for ids in (np.arange(n), rng.permutation(n) * 3 + 5):
        vehicles = pd.DataFrame({
            "vehicle_id": ids,
            "model": pd.Series(np.where(rng.random(n) < 0.5, None, "own"), dtype=object),
            "plate": pd.array(np.where(rng.random(n) < 0.5, None, "粤B1"), dtype="str"),
            "delivery_date": pd.Series(np.where(rng.random(n) < 0.5, pd.NaT,
                                                T("2020-01-01")), dtype="datetime64[ns]"),
        })
        vid = np.append(rng.choice(ids, m - 5), [-1, 10_000, -1, 10_000, 10_000])
        days = pd.to_datetime("2024-01-01") + pd.to_timedelta(rng.integers(0, 30, m), "D")
        ros = pd.DataFrame({
            "vehicle_id": vid, "open_date": days,
            "model": pd.Series([None if x < 0.4 else f"m{i}" for i, x in
                                enumerate(rng.random(m))], dtype=object),
            "plate": pd.array([None if x < 0.4 else f"P{i}" for i, x in
                               enumerate(rng.random(m))], dtype="str"),
            "delivery_date": pd.Series(np.where(rng.random(m) < 0.4, pd.NaT, days),
                                       dtype="datetime64[ns]"),
        })
        out = _fill_from_ros(vehicles, ros).set_index("vehicle_id")
        for col in ("model", "plate", "delivery_date"):
            want = _latest_by_hand(vehicles, ros, col)
            got = out[col].to_dict()
            assert {k: (None if pd.isna(v) else v) for k, v in got.items()} == \
                {k: (None if pd.isna(v) else v) for k, v in want.items()}, col
            filled = vehicles[col].isna().to_numpy() & out.loc[ids, col].notna().to_numpy()
            assert filled.sum() > 3


def test_combine_first_by_codes_is_pandas_combine_first():
    """link._combine_first aligns on codes of the sorted keys: the same frame (rows,
    order, dtypes) as ``combine_first`` on the Arrow-backed text keys themselves, for
    keys in any order, overlapping or not, and columns on one side only."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from aftercare.frames import TEXT
    from aftercare.load.link import _combine_first

    keys = st.lists(st.text(alphabet="ab张c:9", min_size=1, max_size=4), unique=True,
                    max_size=12)

    def frame(ks, rnd, cols):
        data = {}
        if "x" in cols:
            data["x"] = [rnd.choice([1.0, np.nan]) for _ in ks]
        if "s" in cols:
            data["s"] = pd.array([rnd.choice(["p", None, "车"]) for _ in ks], dtype=TEXT)
        if "b" in cols:
            data["b"] = [rnd.choice([True, False]) for _ in ks]
        return pd.DataFrame(data, index=pd.Index(pd.array(ks, dtype=TEXT),
                                                 name="customer_key"))

    @settings(max_examples=80, deadline=None)
    @given(keys, keys, st.randoms(use_true_random=False),
           st.sampled_from([("x", "s"), ("x", "s", "b"), ("s",)]),
           st.sampled_from([("x", "s", "b"), ("s", "b"), ("x",)]))
    def check(k1, k2, rnd, c1, c2):
        a, b = frame(k1, rnd, c1), frame(k2, rnd, c2)
        pd.testing.assert_frame_equal(_combine_first(a, b), a.combine_first(b),
                                      check_exact=True)

    check()
