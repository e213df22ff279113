"""The RO duplicate tests shared by aggregate_lines and dedupe_across_files: the RO numbers
are hashed once (tables.ro_no_codes) and only rows whose number repeats are compared."""

import numpy as np
import pandas as pd
import pytest

from aftercare.load import tables
from aftercare.load.tables import RO_NO_DTYPE


def _ros(seed: int, n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    stores = np.array([None, "", "A店", "B店"], dtype=object)
    files = np.array(["a.xlsx", "b.csv", "c.xlsx"], dtype=object)
    numbers = np.array([f"RO{i:05d}" for i in rng.integers(0, n // 2, n)], dtype=object)
    frame = pd.DataFrame({
        "_file": files[rng.integers(0, len(files), n)],
        "store": stores[rng.integers(0, len(stores), n)],
        "ro_no": pd.array(numbers, dtype=RO_NO_DTYPE),
        "_mtime": rng.choice([1.0, 2.0, 3.0], n),
        "kind": rng.choice(["repair", "maintenance", "first_service"], n),
        "amount": rng.random(n),
        "deleted": rng.random(n) < 0.1,
    })
    frame.index = pd.Index(np.sort(rng.choice(10 * n, n, replace=False)))
    return frame


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("keep", [False, "first", "last"])
def test_duplicated_is_pandas_duplicated_in_any_row_order(seed, keep):
    ros = _ros(seed)
    order = np.random.default_rng(seed + 10).permutation(len(ros))
    key = ["_file", "store", "ro_no"]
    codes = tables.ro_no_codes(ros)
    for o in (None, order):
        rows = ros[key] if o is None else ros[key].iloc[o]
        want = rows.duplicated(keep=keep).to_numpy()
        assert want.any() and not want.all()
        got = tables._duplicated(ros, key, keep, codes, o)
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(tables._duplicated(ros, key, keep, None, o), want)


def test_a_missing_store_is_not_an_empty_one_and_unique_numbers_need_no_comparing():
    ros = pd.DataFrame({"_file": ["f"] * 4, "store": [None, "", None, "x"],
                        "ro_no": pd.array(["1", "1", "1", "2"], dtype=RO_NO_DTYPE)})
    got = tables._duplicated(ros, ["_file", "store", "ro_no"], False, None)
    np.testing.assert_array_equal(got, [True, False, True, False])
    codes = tables.ro_no_codes(ros)
    assert codes.tolist() == [0, 0, 0, 1]


def test_lines_and_copies_across_files_are_the_same_with_shared_codes():
    ros = _ros(3)
    codes = tables.ro_no_codes(ros)
    merged = tables.aggregate_lines(ros, codes)
    assert len(merged) < len(ros)
    pd.testing.assert_frame_equal(merged, tables.aggregate_lines(ros))
    # the lines' merge changed the rows: the copies' test hashes the numbers again
    kept, dups = tables.dedupe_across_files(merged)
    mask = merged[["_mtime", "_file"]].reset_index(drop=True).sort_values(
        ["_mtime", "_file"], kind="stable").index.to_numpy()
    expect = (~merged[["store", "ro_no"]].iloc[mask].duplicated(keep="last")).sum()
    assert dups > 0 and len(kept) == expect
    one_file = ros[ros["_file"] == "a.xlsx"].drop_duplicates(["store", "ro_no"])
    same, none = tables.dedupe_across_files(one_file, tables.ro_no_codes(one_file))
    assert none == 0 and same.equals(one_file)


def test_ro_keys_are_store_bar_number_as_pandas_text_gives_them():
    ros = _ros(4)
    want = ros["store"].fillna("").astype(str) + "|" + ros["ro_no"].astype(str)
    got = tables.ro_keys(ros)
    pd.testing.assert_series_equal(got, want, check_names=False)
    assert got.iloc[0] == (ros["store"].iloc[0] or "") + "|" + ros["ro_no"].iloc[0]
    odd = ros.assign(store=ros["store"].where(ros.index % 5 != 0, 7))  # a number: pandas' way
    pd.testing.assert_series_equal(
        tables.ro_keys(odd), odd["store"].fillna("").astype(str) + "|" + odd["ro_no"].astype(str),
        check_names=False)
