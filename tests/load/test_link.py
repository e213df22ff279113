"""aftercare.load.link internals: the key lookup and the gap filling from ROs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

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
    """link._combine_first aligns on codes of the sorted keys, and builds Arrow-backed
    text columns itself: the same frame (rows, order, values, dtypes) as pandas'
    ``combine_first`` on the text keys themselves, for keys in any order, overlapping or
    not, empty frames, columns on one side only, text columns all missing on one side,
    and columns of each dtype the loader makes (Arrow text, object text, yes/no, float,
    integer, dates)."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from aftercare.frames import TEXT
    from aftercare.load.link import _combine_first

    keys = st.lists(st.text(alphabet="ab张c:9", min_size=1, max_size=4), unique=True,
                    max_size=12)
    makers = {
        "x": lambda rnd, n: [rnd.choice([1.0, np.nan]) for _ in range(n)],
        "s": lambda rnd, n: pd.array([rnd.choice(["p", None, "车"]) for _ in range(n)],
                                     dtype=TEXT),
        "t": lambda rnd, n: pd.array([rnd.choice(["q", None]) for _ in range(n)],
                                     dtype=TEXT),
        "u": lambda rnd, n: pd.array([None] * n, dtype=TEXT),  # all missing
        "o": lambda rnd, n: pd.Series([rnd.choice(["p", None]) for _ in range(n)],
                                      dtype=object),
        "b": lambda rnd, n: [rnd.choice([True, False]) for _ in range(n)],
        "i": lambda rnd, n: np.array([rnd.randint(0, 9) for _ in range(n)], dtype="int64"),
        "d": lambda rnd, n: pd.to_datetime(
            [rnd.choice(["2024-01-02", None]) for _ in range(n)]).astype("datetime64[ns]"),
    }

    def frame(ks, rnd, cols):
        data = {c: makers[c](rnd, len(ks)) for c in cols}
        for c in list(data):
            if isinstance(data[c], pd.Series):
                data[c] = data[c].to_numpy()
        return pd.DataFrame(data, index=pd.Index(pd.array(ks, dtype=TEXT),
                                                 name="customer_key"))

    columns = st.lists(st.sampled_from(sorted(makers)), unique=True, max_size=6)

    @settings(max_examples=300, deadline=None)
    @given(keys, keys, st.randoms(use_true_random=False), columns, columns, st.booleans())
    def check(k1, k2, rnd, c1, c2, subset):
        if subset:  # other's columns among table's: the path that builds text itself
            c1 = list(dict.fromkeys([*c1, *c2]))
        a, b = frame(k1, rnd, c1), frame(k2, rnd, c2)
        try:
            want = a.combine_first(b)
        except Exception as exc:  # noqa: BLE001 - pandas' own (an empty int column)
            with pytest.raises(type(exc)):
                _combine_first(a, b)
            return
        pd.testing.assert_frame_equal(_combine_first(a, b), want, check_exact=True)

    check()


def _vehicle_by_hand(vehicles, ro_vin, ro_plate):
    """The reference link of one RO: the last vehicle row with its VIN; else the vehicle
    last touched (latest file time, then last row) with its plate, unless both it and the
    RO carry a VIN (then it is another car wearing that plate); else -1."""
    rows = vehicles.to_dict("records")
    if pd.notna(ro_vin):
        hits = [i for i, r in enumerate(rows) if pd.notna(r["vin"]) and r["vin"] == ro_vin]
        if hits:
            return hits[-1]
    if pd.isna(ro_plate):
        return -1
    hits = [i for i, r in enumerate(rows) if pd.notna(r["plate"]) and r["plate"] == ro_plate]
    if not hits:
        return -1
    best = max(hits, key=lambda i: (rows[i]["_mtime"], i))
    return best if pd.isna(ro_vin) or pd.isna(rows[best]["vin"]) else -1


def test_ros_link_to_vehicles_as_by_hand():
    """link_ros_to_vehicles (VINs looked up in two halves side by side, then the plates of
    the ROs whose VIN found nothing) links each RO as a per-RO scan does, for any number
    of ROs (odd, even, none), VIN and plate text in Arrow or as objects, repeated keys,
    missing ones, and a plate whose vehicle has another VIN; an RO linked to no vehicle
    gets a new one, shared by the ROs with its VIN (else plate)."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from aftercare.frames import TEXT
    from aftercare.load.link import link_ros_to_vehicles

    vins = st.sampled_from([None, "V1", "V2", "V3", "V4"])
    plates = st.sampled_from([None, "粤B1", "粤B2", "粤B3"])
    vehicle = st.tuples(vins, plates, st.sampled_from([1.0, 2.0]))
    ro = st.tuples(vins, plates)

    @settings(max_examples=150, deadline=None)
    @given(st.lists(vehicle, max_size=8), st.lists(ro, max_size=15), st.booleans())
    def check(vrows, rrows, arrow):
        text = TEXT if arrow else object
        vehicles = pd.DataFrame({
            "vin": pd.Series([v for v, _, _ in vrows], dtype=text),
            "plate": pd.Series([p for _, p, _ in vrows], dtype=text),
            "_mtime": pd.Series([t for _, _, t in vrows], dtype="float64")})
        ros = pd.DataFrame({
            "vin": pd.Series([v for v, _ in rrows], dtype=text),
            "plate": pd.Series([p for _, p in rrows], dtype=text),
            "open_date": pd.Series(pd.Timestamp("2025-01-01"), index=range(len(rrows)))})
        want = [_vehicle_by_hand(vehicles, v, p) for v, p in rrows]
        v_out, r_out = link_ros_to_vehicles(vehicles, ros)
        got = r_out["vehicle_id"].tolist()
        n = len(vehicles)
        for (vin, plate), w, g in zip(rrows, want, got):
            if w >= 0:
                assert g == w
            else:
                assert g >= n and bool(v_out.loc[v_out["vehicle_id"] == g, "from_ros"].iloc[0])
        new = {}
        for (vin, plate), w, g in zip(rrows, want, got):
            if w < 0:
                assert new.setdefault(vin if pd.notna(vin) else ("P", plate), g) == g
        assert len(set(new.values())) == len(new)

    check()


def test_customer_keys_as_by_hand():
    """link_customers (keys built in Arrow) gives each vehicle the key a per-vehicle rule
    gives: "c:" + its customer id; else the key of the customer table's last row with its
    mobile; else "m:" + its mobile; else "v:" + its vehicle id. Text in Arrow or as
    objects; the customers come out once per key, in key order, flagged when the table
    has them."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from aftercare.frames import TEXT
    from aftercare.load.link import link_customers

    ids = st.sampled_from([None, "C1", "C2", ""])
    mobiles = st.sampled_from([None, "138", "139", "137"])

    @settings(max_examples=150, deadline=None)
    @given(st.lists(st.tuples(ids, mobiles), max_size=8),
           st.lists(st.tuples(st.sampled_from(["c:C1", "c:C9", "m:139", "k"]), mobiles),
                    max_size=6, unique_by=lambda c: c[0]),
           st.booleans())
    def check(vrows, crows, arrow):
        text = TEXT if arrow else object
        vehicles = pd.DataFrame({
            "vehicle_id": np.arange(len(vrows), dtype="int64"),
            "customer_id": pd.Series([c for c, _ in vrows], dtype=text),
            "mobile": pd.Series([m for _, m in vrows], dtype=text)})
        customers = pd.DataFrame({
            "customer_key": pd.Series([k for k, _ in crows], dtype=TEXT),
            "mobile": pd.Series([m for _, m in crows], dtype=text)})
        v_out, merged = link_customers(vehicles, customers)
        for i, (cid, mobile) in enumerate(vrows):
            last = [k for k, m in crows if m is not None and m == mobile]
            want = (f"c:{cid}" if cid is not None else last[-1] if last
                    else f"m:{mobile}" if mobile is not None else f"v:{i}")
            assert v_out["customer_key"].iloc[i] == want
        keys = sorted({*v_out["customer_key"], *(k for k, _ in crows)})
        got = merged["customer_key"].tolist()
        # in key order when both sides have rows (else as pandas leaves the one side)
        assert got == keys if vrows and crows else sorted(got) == keys
        table = {k for k, _ in crows}
        assert merged["in_customer_table"].tolist() == [k in table for k in got]

    check()
