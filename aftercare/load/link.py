"""Linking: ROs to vehicles (VIN when both have one, else plate), vehicles seen only in
ROs, and vehicles to customers (customer id, else primary mobile, else the vehicle's own
owner columns). Vectorised with maps and merges."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from aftercare.frames import TEXT, arrow_text

OWNER_COLUMNS = ["customer_id", "customer_name", "mobile", "mobile_type", "other_phones",
                 "sms_able", "phone_issue", "birthday", "id_number", "customer_type"]
VEHICLE_FROM_RO = ["vin", "plate", "brand", "model", "delivery_date", "registration_date",
                   "inspection_due", "insurance_expiry", "store"]


def link_ros_to_vehicles(vehicles: pd.DataFrame, ros: pd.DataFrame):
    """Give every RO a ``vehicle_id``; vehicles that appear only in ROs are added.

    Returns (vehicles, ros). Vehicles get ``vehicle_id`` 0..n-1 and ``from_ros``.
    """
    vehicles = vehicles.reset_index(drop=True).copy(deep=False)  # copy-on-write: shallow
    vehicles["vehicle_id"] = np.arange(len(vehicles))
    vehicles["from_ros"] = False
    ros = ros.copy(deep=False)
    # positions in the vehicle table (-1: none), by hashing each key column once. The
    # VINs in two halves side by side, as Arrow lets the GIL go while it hashes; then the
    # plates, only of the ROs whose VIN found no vehicle (a dealer group's 7M ROs: 1.9 s
    # with the VINs and all the plates side by side, now ~1 s)
    half = len(ros) // 2
    with ThreadPoolExecutor(1) as pool:
        later = pool.submit(_lookup, vehicles["vin"], np.arange(len(vehicles)),
                            ros["vin"].iloc[half:])
        by_vin = np.concatenate([_lookup(vehicles["vin"], np.arange(len(vehicles)),
                                         ros["vin"].iloc[:half]), later.result()])
    found = by_vin
    rest = np.flatnonzero(by_vin < 0)
    if len(rest):
        order = np.argsort(vehicles["_mtime"].to_numpy(), kind="stable")
        by_plate = _lookup(vehicles["plate"].iloc[order], order, ros["plate"].iloc[rest])
        # plate only when the RO has no VIN or the plate's vehicle has none (when both
        # carry a VIN and they differ, it is another car that wears the same plate)
        has_vin = np.append(vehicles["vin"].notna().to_numpy(), True)  # [-1]: no vehicle
        plate_ok = (by_plate >= 0) & (ros["vin"].iloc[rest].isna().to_numpy()
                                      | ~has_vin[by_plate])
        found = by_vin.copy()
        found[rest] = np.where(plate_ok, by_plate, -1)
    vid = pd.Series(np.where(found >= 0, found, np.nan), index=ros.index)  # float: NaN = none
    ros["vehicle_id"] = vid
    orphans = ros.loc[vid.isna()]
    if len(orphans):
        key = orphans["vin"].fillna("P:" + orphans["plate"].fillna(""))
        latest = orphans.assign(_key=key).sort_values("open_date", kind="stable")
        new = latest.groupby("_key", sort=True).last()  # last non-null per column
        new = new.reset_index()
        new["vehicle_id"] = np.arange(len(vehicles), len(vehicles) + len(new))
        new["from_ros"] = True
        ids = dict(zip(new["_key"], new["vehicle_id"]))
        ros.loc[vid.isna(), "vehicle_id"] = key.map(ids)
        cols = [c for c in [*VEHICLE_FROM_RO, *OWNER_COLUMNS, "_file", "_sheet", "_row"]
                if c in new.columns]
        new = new[["vehicle_id", "from_ros", *cols]]
        new["vehicle_status"] = "active"
        vehicles = pd.concat([vehicles, new], ignore_index=True)
    ros["vehicle_id"] = ros["vehicle_id"].astype("int64")
    vehicles = _fill_from_ros(vehicles, ros)
    return vehicles, ros


def _lookup(keys: pd.Series, ids: np.ndarray, wanted: pd.Series) -> np.ndarray:
    """For each wanted value, the id of the last row of ``keys`` holding it (-1: none;
    missing values match nothing). Text keys are hashed by Arrow (a group's 7M RO VINs
    against 1M vehicles: ~1 s instead of ~8 s as Python strings): ``index_in`` gives the
    first of equal values, so the keys are searched from the end, and missing values on
    either side match nothing (``skip_nulls``). Without the old way's duplicate marking
    and object copies, a group's two lookups take ~1.5 s less."""
    import pyarrow as pa
    import pyarrow.compute as pc

    ids = np.asarray(ids)
    try:
        backwards = pa.array(keys.iloc[::-1], type=pa.string(), from_pandas=True)
        text = pa.array(wanted, type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # keys that are not all text
        return _lookup_objects(keys, ids, wanted)
    pos = pc.index_in(text, value_set=backwards, skip_nulls=True).to_numpy(
        zero_copy_only=False)  # float, NaN: not found
    found = ~np.isnan(pos)
    out = np.full(len(wanted), -1, dtype=np.int64)
    out[found] = ids[len(keys) - 1 - pos[found].astype(np.int64)]
    return out


def _lookup_objects(keys: pd.Series, ids: np.ndarray, wanted: pd.Series) -> np.ndarray:
    """:func:`_lookup` for keys or values that are not all text, by pandas' hashing."""
    k = keys.to_numpy(dtype=object, na_value=None)
    last = ~pd.Series(k).duplicated(keep="last").to_numpy() & pd.notna(k)
    if not last.any():
        return np.full(len(wanted), -1, dtype=np.int64)
    w = wanted.to_numpy(dtype=object, na_value=None)
    pos = pd.Index(k[last], dtype=object).get_indexer(w)
    out = np.where(pos >= 0, ids[last][np.maximum(pos, 0)], -1)
    out[pd.isna(wanted).to_numpy()] = -1
    return out


def _fill_from_ros(vehicles: pd.DataFrame, ros: pd.DataFrame) -> pd.DataFrame:
    """Gaps in a vehicle's own columns filled from its latest RO (plate, owner, model…):
    per column, the latest RO with a value, among the ROs of vehicles with that gap (a
    group's RO exports often carry no owner columns at all: nothing to group then).

    Only the ROs of vehicles with a gap are looked at, and only they are put in date
    order (stable: of two ROs on one day the later row wins, as in a stable sort of all
    ROs): a dealer group's 7M ROs, of which a few thousand belong to vehicles with a gap,
    were all tested for a value and sorted by date (~1.5 s)."""
    cols = [c for c in [*VEHICLE_FROM_RO, *OWNER_COLUMNS] if c in ros.columns]
    idx = vehicles.set_index("vehicle_id")
    vids = ros["vehicle_id"].to_numpy()
    if idx.index.equals(pd.RangeIndex(len(idx))):  # ids 0..n-1 in order, as linked
        row_of = np.where((vids >= 0) & (vids < len(idx)), vids, -1)
    else:
        row_of = idx.index.get_indexer(vids)  # each RO's vehicle row
    opened = ros["open_date"].to_numpy()
    for c in cols:
        if c not in idx.columns:
            idx[c] = None
        gap = np.append(idx[c].isna().to_numpy(), False)  # [-1]: an RO without a vehicle
        if not gap.any() or not _has_values(ros[c]):  # no gap, or no RO value to fill it
            continue  # with (a group's ROs without owner columns: 19 passes over 7M ROs)
        candidates = np.flatnonzero(gap[row_of])
        if not len(candidates):
            continue
        values = ros[c].iloc[candidates]
        has = values.notna().to_numpy()
        if not has.any():
            continue
        pick = candidates[has]
        by_date = np.argsort(opened[pick], kind="stable")  # ROs by open date, stable
        sub = pd.DataFrame({"vid": vids[pick[by_date]],
                            "v": values.to_numpy()[has][by_date]})
        latest = sub.drop_duplicates("vid", keep="last").set_index("vid")["v"]
        fill = latest.reindex(idx.index)
        idx[c] = idx[c].where(idx[c].notna() | fill.isna(), fill)
    return idx.reset_index()


def _has_values(s: pd.Series) -> bool:
    """Whether a column holds any value (Arrow knows it without a pass over the rows)."""
    arr = arrow_text(s)
    return bool(s.notna().any()) if arr is None else arr.null_count < len(arr)


def link_customers(vehicles: pd.DataFrame, customers: pd.DataFrame):
    """Give every vehicle a ``customer_key`` and return (vehicles, customers).

    customers: the customers table's rows plus a customer made from each vehicle's owner
    columns when the table does not have it; where both give a value, the table wins.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    vehicles = vehicles.copy(deep=False)  # copy-on-write: only the new column is added
    # the key in Arrow: the customer id, else the customer table's key for the mobile
    # (its last row with that mobile), else the mobile, else the vehicle (as objects in
    # pandas, a dealer group's 1M vehicles took ~0.7 s)
    mobile = _text_keys(vehicles["mobile"])
    via_mobile = pa.nulls(len(vehicles), pa.large_string())
    if len(customers):
        pos = _lookup(customers["mobile"], np.arange(len(customers)), vehicles["mobile"])
        via_mobile = _text_keys(customers["customer_key"]).take(pa.array(pos, mask=pos < 0))
    vid = pa.array(vehicles["vehicle_id"].to_numpy("int64")).cast(pa.large_string())

    def prefixed(prefix: str, values):  # null stays null
        return pc.binary_join_element_wise(pa.scalar(prefix, pa.large_string()), values,
                                           pa.scalar("", pa.large_string()))

    key = pc.coalesce(prefixed("c:", _text_keys(vehicles["customer_id"])), via_mobile,
                      prefixed("m:", mobile), prefixed("v:", vid))
    vehicles["customer_key"] = TEXT.__from_arrow__(key)  # as the parse's text (frames.TEXT)
    owners = vehicles[["customer_key", *[c for c in OWNER_COLUMNS if c in vehicles.columns]]]
    owners = owners.groupby("customer_key", sort=False).first()  # first non-null per column
    merged = (_combine_first(customers.set_index("customer_key"), owners) if len(customers)
              else owners)
    merged = merged.reset_index()
    # in Arrow (pandas' isin on its Arrow-backed str goes value by value in Python: 4.7 s
    # for a group's 1.7M keys; as objects 0.7 s; here ~0.1 s)
    merged["in_customer_table"] = pc.is_in(
        _text_keys(merged["customer_key"]),
        value_set=_text_keys(customers["customer_key"]).combine_chunks() if len(customers)
        else pa.array([], type=pa.large_string())).to_numpy(zero_copy_only=False)
    return vehicles, merged


def _text_keys(s: pd.Series):
    """A column as Arrow text (large_string; missing values null): its own Arrow data
    when it is Arrow-backed text already, else its values as text."""
    import pyarrow as pa

    arr = arrow_text(s)
    if arr is None:
        arr = pa.chunked_array([pa.array(s.astype(TEXT), type=pa.large_string())])
    return arr.cast(pa.large_string())


def _combine_first(table: pd.DataFrame, other: pd.DataFrame) -> pd.DataFrame:
    """``table.combine_first(other)``, both indexed by unique keys, aligned on integer
    codes instead of the keys: the codes number the keys in their sorted order, so the
    rows come out in the order the keys would give them, and the result is the same.
    Aligning Arrow-backed text keys made a Python str of each in pandas' index engine (a
    dealer group's 1.7M customer keys: ~1 s of the 2.3 s).

    Text columns (Arrow-backed on both sides) are built by one Arrow ``take`` each, from
    both sides' values, instead of pandas aligning each side (a ``take`` of every column
    of both) and then picking with ``where``: a dealer group's 861k customers and 845k
    owners took 1.5 s, now 0.6 s. The other columns still go through pandas'
    ``combine_first``, with its rules for their dtypes (a yes/no column on one side only
    becomes ``object`` with NaN, say). Frames this path does not cover (an empty side,
    columns of ``other`` that ``table`` lacks) take pandas' way for every column."""
    import pyarrow as pa

    codes, keys = pd.factorize(table.index.append(other.index), sort=True)
    if (codes < 0).any():  # a missing key: pandas' own way
        return table.combine_first(other)
    n = len(table)
    by_code = (table.set_axis(pd.Index(codes[:n]), axis=0),
               other.set_axis(pd.Index(codes[n:]), axis=0))
    if not _by_columns(table, other):
        out = by_code[0].combine_first(by_code[1])
        out.index = pd.Index(keys.take(out.index.to_numpy()), name=table.index.name)
        return out
    text = [c for c in table.columns
            if _arrow(table[c]) is not None and (c not in other or _arrow(other[c]) is not None)]
    rest = [c for c in table.columns if c not in text]
    # pandas for the other columns, with one placeholder column on both sides: pandas
    # treats a frame without columns as empty and takes another path then
    mark = "\0combine_first"
    out = by_code[0][rest].assign(**{mark: 0.0}).combine_first(
        by_code[1][[c for c in other.columns if c in rest]].assign(**{mark: 0.0}))
    at = out.index.to_numpy()  # each row's code: the union of both sides' codes, sorted

    def rows_of(side_codes: np.ndarray) -> np.ndarray:  # each result row's row on a side
        pos = np.full(len(keys), -1, dtype=np.int64)
        pos[side_codes] = np.arange(len(side_codes))
        return pos[at]

    t_pos, o_pos = rows_of(codes[:n]), rows_of(codes[n:])
    out = out.drop(columns=mark).set_axis(pd.Index(keys.take(at), name=table.index.name),
                                          axis=0)  # a new frame: its dtypes are kept
    for c in text:
        mine = _arrow(table[c])
        if c in other:  # table's value, else other's (pandas' combine_first)
            valid = np.append(mine.is_valid().to_numpy(zero_copy_only=False), False)
            pos = np.where(valid[t_pos], t_pos, np.where(o_pos >= 0, n + o_pos, -1))
            src = pa.chunked_array([*mine.chunks, *_arrow(other[c]).cast(mine.type).chunks],
                                   type=mine.type)
        else:
            pos, src = t_pos, mine
        out[c] = TEXT.__from_arrow__(src.take(pa.array(pos, mask=pos < 0)))
    return out[list(table.columns)]


def _by_columns(table: pd.DataFrame, other: pd.DataFrame) -> bool:
    """Whether :func:`_combine_first` may build the text columns itself: both sides have
    rows and columns, unique column names, and ``other`` no column ``table`` lacks (then
    the result's columns are ``table``'s, in its order)."""
    return (len(table) > 0 and len(other) > 0 and len(other.columns) > 0
            and table.columns.is_unique and other.columns.is_unique
            and bool(other.columns.isin(table.columns).all()))


def _arrow(s: pd.Series):
    """A :data:`TEXT` column's own Arrow data, else None (``string[pyarrow]`` too: its
    missing value is another one)."""
    return arrow_text(s) if s.dtype == TEXT else None
