"""aftercare.rules.arrays: integer helpers equal to numpy's own."""

from __future__ import annotations

import numpy as np
import pytest

from aftercare.rules.arrays import distinct_ints


@pytest.mark.parametrize("n,high", [(0, 5), (1, 5), (2, 1), (1000, 10), (50_000, 1_000_000)])
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint16"])
def test_distinct_ints_equals_np_unique(n, high, dtype):
    rng = np.random.default_rng(n + high)
    lo = 0 if dtype.startswith("u") else -high
    values = rng.integers(lo, high, n).astype(dtype)
    out = distinct_ints(values)
    np.testing.assert_array_equal(out, np.unique(values))
    assert out.dtype == values.dtype


def test_distinct_ints_leaves_its_input_alone_and_refuses_floats():
    values = np.array([3, 1, 3, 2])
    assert distinct_ints(values).tolist() == [1, 2, 3]
    assert values.tolist() == [3, 1, 3, 2]
    with pytest.raises(TypeError):
        distinct_ints(np.array([1.0, np.nan, np.nan]))
