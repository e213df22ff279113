"""Integer-array helpers for the rules."""

from __future__ import annotations

import numpy as np

from aftercare.frames import id_table_size


def distinct_ints(values) -> np.ndarray:
    """``np.unique`` of an integer array (its sorted distinct values), by one sort and a
    look at each value's neighbour. numpy 2's ``np.unique`` hashes integers and then sorts
    the distinct ones: 2.0-2.4 s for 5M vehicle ids with 1M distinct, where this takes
    0.07 s (numpy 2.4, this machine; the report asks for such sets several times a month)."""
    values = np.asarray(values).ravel()
    if values.dtype.kind not in "iu":
        raise TypeError(f"distinct_ints takes integers, not {values.dtype}")
    size = id_table_size(values)
    if size is not None:
        # ids from 0 up (the loader's vehicle ids): which occur, from a count of each,
        # no sort (a month's 600k visits of a dealer group: ~5 ms against ~40)
        seen = np.bincount(values, minlength=size) > 0
        return np.flatnonzero(seen).astype(values.dtype)
    values = np.sort(values)
    new = np.ones(len(values), dtype=bool)
    np.not_equal(values[1:], values[:-1], out=new[1:])
    return values[new]


def int_members(values, members) -> np.ndarray | None:
    """``np.isin(values, members)`` for integers from 0 up to a few times the count of
    ``values`` (the loader's vehicle ids), from a boolean table of ``members``: one
    gather where ``isin`` hashes or sorts every value (a dealer group's 7M ROs against
    1M vehicles: ~0.03 s against ~0.2 s). None for other values: the caller's isin."""
    values, members = np.asarray(values), np.asarray(members)
    if values.dtype.kind not in "iu" or members.dtype.kind not in "iu":
        return None
    if not len(values) or not len(members):
        return np.zeros(len(values), dtype=bool)
    size = id_table_size(values, members)
    if size is None:
        return None
    table = np.zeros(size, dtype=bool)
    table[members] = True
    return table[values]
