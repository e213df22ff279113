"""Integer-array helpers for the rules."""

from __future__ import annotations

import numpy as np


def distinct_ints(values) -> np.ndarray:
    """``np.unique`` of an integer array (its sorted distinct values), by one sort and a
    look at each value's neighbour. numpy 2's ``np.unique`` hashes integers and then sorts
    the distinct ones: 2.0-2.4 s for 5M vehicle ids with 1M distinct, where this takes
    0.07 s (numpy 2.4, this machine; the report asks for such sets several times a month)."""
    values = np.sort(np.asarray(values).ravel())
    if values.dtype.kind not in "iu":
        raise TypeError(f"distinct_ints takes integers, not {values.dtype}")
    new = np.ones(len(values), dtype=bool)
    np.not_equal(values[1:], values[:-1], out=new[1:])
    return values[new]
