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
