"""aftercare.load.sheets internals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from aftercare.load.sheets import _text_column

STR = pd.StringDtype("pyarrow", na_value=np.nan)


@pytest.mark.parametrize("values", [
    ["a", None, "b"],
    ["a", float("nan"), None, "粤B12345"],
    ["a", pd.NA, "b"],
    ["a", pd.NaT, None],
    [None, None],
    ["", " x ", "=1+1"],
])
def test_text_column_is_what_pandas_makes_of_it(values):
    """Text with missing values of any kind becomes pandas' str array, equal to what
    pandas itself makes of the column."""
    arr = np.array(values, dtype=object)
    got = pd.Series(_text_column(arr.copy()))
    want = pd.Series(arr).astype(STR) if pd.api.types.infer_dtype(arr, skipna=True) == "string" \
        else pd.Series(arr)
    assert got.isna().tolist() == want.isna().tolist()
    assert got[got.notna()].tolist() == want[want.notna()].tolist()


def test_other_columns_are_left_alone():
    arr = np.array([1, "a", None], dtype=object)
    assert _text_column(arr) is arr
    nums = np.array([1.5, 2.0])
    assert _text_column(nums) is nums
