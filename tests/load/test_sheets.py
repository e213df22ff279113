"""aftercare.load.sheets internals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from aftercare.load.sheets import _text_column

STR = pd.StringDtype("pyarrow", na_value=np.nan)


@pytest.mark.parametrize("values, arrow", [
    (["a", None, "b"], True),
    (["a", float("nan"), None, "粤B12345"], True),
    (["a", pd.NA, "b"], True),
    (["a", pd.NaT, None], False),  # Arrow refuses NaT as text: left to pandas
    ([None, None], False),  # no text at all: not a text column
    (["", " x ", "=1+1"], True),
])
def test_text_column_is_what_pandas_makes_of_it(values, arrow):
    """Text with missing values becomes pandas' str array (Arrow-backed, made here), equal
    to what pandas itself makes of the column."""
    arr = np.array(values, dtype=object)
    out = _text_column(arr.copy())
    assert isinstance(out, pd.arrays.ArrowStringArray) is arrow
    got = pd.Series(out)
    want = pd.Series(arr).astype(STR) if pd.api.types.infer_dtype(arr, skipna=True) == "string" \
        else pd.Series(arr)
    assert got.isna().tolist() == want.isna().tolist()
    assert got[got.notna()].tolist() == want[want.notna()].tolist()


def test_other_columns_are_left_alone():
    arr = np.array([1, "a", None], dtype=object)
    assert _text_column(arr) is arr
    nums = np.array([1.5, 2.0])
    assert _text_column(nums) is nums
