"""aftercare.rules.arrays: integer helpers equal to numpy's own."""

from __future__ import annotations

import numpy as np
import pytest

from aftercare.rules.arrays import distinct_ints, int_members


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


@pytest.mark.parametrize("n,high", [(1, 3), (1000, 10), (600_000, 1_000_000)])
def test_distinct_ints_of_ids_from_zero_equals_np_unique(n, high):
    """Ids from 0 up (counted in a table, not sorted) give np.unique's answer too."""
    values = np.random.default_rng(n).integers(0, high, n)
    out = distinct_ints(values)
    np.testing.assert_array_equal(out, np.unique(values))
    assert out.dtype == values.dtype


@pytest.mark.parametrize("n,high,m", [(0, 5, 3), (5, 5, 0), (1000, 10, 4),
                                      (50_000, 60_000, 20_000)])
def test_int_members_is_np_isin(n, high, m):
    """The table lookup gives np.isin's answer, ids absent from the values included."""
    rng = np.random.default_rng(n + m)
    values = rng.integers(0, high, n)
    members = rng.integers(0, high + 10, m)  # some ids beyond every value
    np.testing.assert_array_equal(int_members(values, members), np.isin(values, members))


def test_int_members_leaves_other_values_to_isin():
    """None (the caller's isin) for negative ids, ids spread far beyond their count and
    values that are not integers."""
    assert int_members(np.array([-1, 2]), np.array([2])) is None
    assert int_members(np.array([1, 2]), np.array([10**9])) is None
    assert int_members(np.array([1.0, 2.0]), np.array([1])) is None
    assert int_members(np.array(["a"], dtype=object), np.array([1])) is None
