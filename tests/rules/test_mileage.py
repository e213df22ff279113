"""Mileage projection (02-rules.md, "Mileage projection"): readings, typos, rates, walking."""

from __future__ import annotations

import copy
import time

import numpy as np
import pandas as pd
import pytest

from aftercare.rules import mileage
from aftercare.rules.mileage import REASONS, collect_readings, date_reaching, km_on, project

AS_OF = pd.Timestamp("2024-12-31")
CFG = {"mileage": {"delivery_km": 0, "fleet_default_daily_km": 40, "min_fleet_vehicles": 30,
                   "min_span_days": 30, "max_daily_km": 500}}


def cfg(**kw):
    out = copy.deepcopy(CFG)
    out["mileage"].update(kw)
    return out


def vehicles(*rows):
    """rows: (vehicle_id, delivery_date or None)."""
    return pd.DataFrame({
        "vehicle_id": pd.Series([r[0] for r in rows], dtype="int64"),
        "delivery_date": pd.to_datetime(pd.Series([r[1] for r in rows], dtype=object))
        .astype("datetime64[ns]"),
        "vehicle_status": "active",
    })


def ros(*rows):
    """rows: (vehicle_id, open_date, mileage) or (..., deleted) or (..., deleted, kind)."""
    full = [(r + (False, "maintenance"))[:5] for r in rows]
    return pd.DataFrame({
        "vehicle_id": pd.Series([r[0] for r in full], dtype="int64"),
        "ro_key": [f"RO{i}" for i in range(len(full))],
        "open_date": pd.to_datetime(pd.Series([r[1] for r in full], dtype=object),
                                    format="mixed").astype("datetime64[ns]"),
        "mileage": pd.Series([r[2] for r in full], dtype="float64"),
        "deleted": pd.Series([r[3] for r in full], dtype=bool),
        "kind": [r[4] for r in full],
        "_file": "ro.xlsx",
        "_sheet": "工单",
        "_row": pd.Series(range(2, len(full) + 2), dtype="int64"),
    })


def one(proj, vid=1):
    return proj.vehicles.loc[vid]


def rejects(proj):
    """The reject column as a list, None for kept readings."""
    col = proj.readings.reject.astype(object)
    return col.where(col.notna(), None).tolist()


def test_own_rate_over_span():
    """Kept readings spanning ≥ 30 days give the vehicle its own rate: (6,000 − 0) / 100 = 60."""
    r = ros((1, "2024-02-15", 2_500), (1, "2024-04-10", 6_000))
    p = project(vehicles((1, "2024-01-01")), r, AS_OF, CFG)
    v = one(p)
    # delivery 2024-01-01 at 0 km → 2024-04-10 at 6,000 km: 100 days
    assert v.daily_km == 60.0 and bool(v.own_rate)
    assert v.last_date == pd.Timestamp("2024-04-10") and v.last_km == 6_000
    assert v.first_date == pd.Timestamp("2024-01-01") and v.first_km == 0
    assert v.n_readings == 3
    assert p.issues.empty


def test_short_span_uses_fleet_default():
    """A 29-day span is too short: the fleet default (40, too few vehicles for a median) is used."""
    p = project(vehicles((1, "2024-03-01")), ros((1, "2024-03-30", 900)), AS_OF, CFG)
    v = one(p)
    assert v.daily_km == 40.0 and not bool(v.own_rate) and p.fleet_daily_km == 40.0
    assert v.last_km == 900 and v.n_readings == 2
    assert p.issues.empty  # a short span is not a data problem


def test_fleet_median_with_enough_vehicles():
    """With min_fleet_vehicles=3, three own rates 20, 50, 90 give a fleet median of 50."""
    v = vehicles((1, "2024-01-01"), (2, "2024-01-01"), (3, "2024-01-01"), (4, "2024-01-01"))
    r = ros((1, "2024-04-10", 2_000), (2, "2024-04-10", 5_000), (3, "2024-04-10", 9_000),
            (4, "2024-01-11", 300))  # vehicle 4: 10-day span, no own rate
    p = project(v, r, AS_OF, cfg(min_fleet_vehicles=3))
    # 100 days each: 20, 50, 90 km/day → median 50
    assert p.fleet_daily_km == 50.0
    assert one(p, 4).daily_km == 50.0 and not bool(one(p, 4).own_rate)
    assert one(p, 2).daily_km == 50.0 and bool(one(p, 2).own_rate)


def test_fleet_median_falls_back_below_minimum():
    """Three own rates but min_fleet_vehicles=4: the configured 40 km/day is used instead."""
    v = vehicles((1, "2024-01-01"), (2, "2024-01-01"), (3, "2024-01-01"), (4, "2024-01-01"))
    r = ros((1, "2024-04-10", 2_000), (2, "2024-04-10", 5_000), (3, "2024-04-10", 9_000),
            (4, "2024-01-11", 300))
    p = project(v, r, AS_OF, cfg(min_fleet_vehicles=4))
    assert p.fleet_daily_km == 40.0 and one(p, 4).daily_km == 40.0
    assert one(p, 1).daily_km == 20.0  # own rates stay


def test_fleet_median_skips_vehicles_delivered_after_as_of():
    """A vehicle delivered after as_of is no fleet member, even with an own rate from its ROs."""
    v = vehicles((1, "2024-01-01"), (2, "2024-01-01"), (3, "2025-06-01"))
    # vehicle 3: two RO readings before its delivery, 100 days apart, 100 km/day
    r = ros((1, "2024-04-10", 2_000), (2, "2024-04-10", 3_000),
            (3, "2024-01-01", 10_000), (3, "2024-04-10", 20_000))
    p = project(v, r, AS_OF, cfg(min_fleet_vehicles=3))
    assert one(p, 3).daily_km == 100.0  # own rate kept
    assert p.fleet_daily_km == 40.0  # only 2 members (20 and 30): fallback
    p = project(v, r, AS_OF, cfg(min_fleet_vehicles=2))
    assert p.fleet_daily_km == 25.0  # median of 20 and 30, without vehicle 3's 100


def test_fleet_median_counts_unknown_delivery_and_status_excluded():
    """Vehicles without a delivery date and of any status count in the fleet median."""
    v = vehicles((1, None), (2, "2024-01-01"), (3, "2024-01-01"))
    v["vehicle_status"] = ["scrapped", "active", "sold"]
    r = ros((1, "2024-01-01", 1_000), (1, "2024-04-10", 2_000),  # 10 km/day
            (2, "2024-04-10", 3_000), (3, "2024-04-10", 8_000))  # 30, 80 km/day
    p = project(v, r, AS_OF, cfg(min_fleet_vehicles=3))
    assert p.fleet_daily_km == 30.0  # median of 10, 30, 80


def test_high_typo_is_rejected():
    """10,000 → 100,000 → 12,000 a month apart each: the middle reading is a high typo."""
    r = ros((1, "2024-01-01", 10_000), (1, "2024-02-01", 100_000), (1, "2024-03-02", 12_000))
    p = project(vehicles((1, None)), r, AS_OF, CFG)
    # 100,000 > 12,000 and (100,000 − 10,000) / 31 days ≈ 2,903 km/day > 500
    rd = p.readings.set_index("ro_key")
    assert rd.loc["RO1", "reject"] == "high_typo" and not rd.loc["RO1", "kept"]
    assert rd.loc[["RO0", "RO2"], "kept"].all()
    # rate from the kept ones: (12,000 − 10,000) / 61 days
    assert one(p).daily_km == pytest.approx(2_000 / 61) and one(p).last_km == 12_000
    iss = p.issues
    assert list(iss.reason) == ["mileage_high_typo"]
    row = iss.iloc[0]
    assert (row.vehicle_id, row.ro_key, row._file, row._sheet, row._row, row.field, row.value) == (
        1, "RO1", "ro.xlsx", "工单", 3, "mileage", 100_000)
    assert row.detail == "10000 → 100000 → 12000 km"


def test_high_typo_needs_a_fast_climb_from_the_previous_reading():
    """A reading above the next one but only 400 km/day above the previous is a rollback case."""
    r = ros((1, "2024-01-01", 10_000), (1, "2024-01-11", 14_000), (1, "2024-02-10", 13_000))
    p = project(vehicles((1, None)), r, AS_OF, CFG)
    # (14,000 − 10,000) / 10 = 400 km/day ≤ 500: not a typo; then 13,000 < 14,000 is a rollback
    assert rejects(p) == [None, None, "rollback"]


def test_reading_equal_to_the_next_is_not_a_high_typo():
    """10,000 → 100,000 → 100,000: the middle is not *higher* than the next, so all are kept."""
    r = ros((1, "2024-01-01", 10_000), (1, "2024-02-01", 100_000), (1, "2024-03-02", 100_000))
    p = project(vehicles((1, None)), r, AS_OF, CFG)
    assert rejects(p) == [None, None, None]
    # (100,000 − 10,000) / 61 days ≈ 1,475 km/day: a suspect rate instead
    assert list(p.issues.reason) == ["daily_km_suspect"]


def test_sort_without_packing_gives_the_same_answer():
    """Vehicle ids too far apart to pack into one sort key still sort by vehicle, date, km."""
    big = 2**62
    r = ros((big, "2024-03-02", 12_000), (big, "2024-02-01", 100_000), (big, "2024-01-01", 10_000),
            (1, "2024-04-10", 6_000), (1, "2024-01-01", 0))
    p = project(vehicles((1, None), (big, None)), r, AS_OF, CFG)
    assert p.readings.vehicle_id.tolist() == [1, 1, big, big, big]
    assert rejects(p) == [None, None, None, "high_typo", None]
    assert one(p, 1).daily_km == 60.0 and one(p, big).last_km == 12_000


def test_same_day_jump_uses_one_day():
    """Same-day readings count as one day apart: 600 km more on the same day is a typo (> 500)."""
    r = ros((1, "2024-01-01", 10_000), (1, "2024-01-01", 10_600), (1, "2024-02-01", 10_500))
    p = project(vehicles((1, None)), r, AS_OF, CFG)
    # sorted 10,000, 10,600, 10,500 → middle is above the next and 600 / max(0, 1) > 500
    assert rejects(p) == [None, "high_typo", None]
    # 400 / max(0, 1) ≤ 500: no typo; then 10,300 < 10,400 rolls back
    r = ros((1, "2024-01-01", 10_000), (1, "2024-01-01", 10_400), (1, "2024-02-01", 10_300))
    p = project(vehicles((1, None)), r, AS_OF, CFG)
    assert rejects(p) == [None, None, "rollback"]


def test_first_and_last_readings_are_never_high_typos():
    """A huge first or last reading is judged only as a rollback (or kept), never a high typo."""
    # last reading 900,000 after 10,000: it has no reading after it → kept
    r = ros((1, "2024-01-01", 10_000), (1, "2024-02-01", 12_000), (1, "2024-03-01", 900_000))
    p = project(vehicles((1, None)), r, AS_OF, CFG)
    assert p.readings.kept.all()
    # 60 days, (900,000 − 10,000) / 60 ≈ 14,833 km/day → suspect rate, not a typo
    assert list(p.issues.reason) == ["daily_km_suspect"]
    # first reading 900,000 before 10,000: no reading before it → kept; the later ones roll back
    r = ros((1, "2024-01-01", 900_000), (1, "2024-02-01", 10_000), (1, "2024-03-01", 12_000))
    p = project(vehicles((1, None)), r, AS_OF, CFG)
    assert rejects(p) == [None, "rollback", "rollback"]
    assert one(p).n_readings == 1 and one(p).last_km == 900_000


def test_rollback_after_typo_removal():
    """Rollbacks are judged against kept readings only: after the typo goes, 11,000 < 12,000."""
    r = ros((1, "2024-01-01", 10_000), (1, "2024-02-01", 100_000), (1, "2024-03-01", 12_000),
            (1, "2024-04-01", 11_000), (1, "2024-05-01", 13_000))
    p = project(vehicles((1, None)), r, AS_OF, CFG)
    # 100,000 is a typo (> 12,000 next, 90,000 / 31 > 500); among 10,000 12,000 11,000 13,000
    # the running maximum before 11,000 is 12,000 → rollback; 13,000 is fine
    assert dict(zip(p.readings.ro_key, rejects(p))) == {
        "RO0": None, "RO1": "high_typo", "RO2": None, "RO3": "rollback", "RO4": None}
    assert sorted(p.issues.reason) == ["mileage_high_typo", "mileage_rollback"]
    roll = p.issues[p.issues.reason == "mileage_rollback"].iloc[0]
    assert roll.ro_key == "RO3" and roll.detail == "12000 → 11000 km"
    # rate: (13,000 − 10,000) / 121 days (2024-01-01 → 2024-05-01)
    assert one(p).daily_km == pytest.approx(3_000 / 121)


def test_delivery_reading_is_included():
    """The delivery day is a reading at delivery_km: 0 km on 2024-01-01 starts the line."""
    p = project(vehicles((1, "2024-01-01")), ros((1, "2024-03-01", 3_000)), AS_OF, CFG)
    rd = p.readings
    assert rd.source.tolist() == ["delivery", "ro"]
    assert rd.iloc[0].date == pd.Timestamp("2024-01-01") and rd.iloc[0].km == 0
    assert pd.isna(rd.iloc[0].ro_key) and rd.iloc[1].ro_key == "RO0"
    assert isinstance(rd["ro_key"].dtype, pd.StringDtype)  # text keys stay Arrow
    obj = ros((1, "2024-03-01", 3_000)).astype({"ro_key": object})
    rd = project(vehicles((1, "2024-01-01")), obj, AS_OF, CFG).readings
    assert rd["ro_key"].tolist() == [None, "RO0"] and rd["ro_key"].dtype == object
    # 3,000 km over 60 days = 50 km/day
    assert one(p).daily_km == 50.0 and one(p).first_km == 0
    p = project(vehicles((1, "2024-01-01")), ros((1, "2024-03-01", 3_000)), AS_OF,
                cfg(delivery_km=10))
    assert p.readings.km.tolist() == [10.0, 3_000.0]


def test_delivery_reading_below_a_pdi_reading_is_a_rollback():
    """A PDI at 15 km before delivery makes the later 0 km delivery reading a rollback:
    excluded, but not listed (it is no row of the user's files)."""
    v = vehicles((1, "2024-01-05"))
    v["_file"], v["_sheet"], v["_row"] = "veh.xlsx", "车辆", 7
    p = project(v, ros((1, "2024-01-02", 15, False, "pdi"), (1, "2024-03-05", 3_015)), AS_OF, CFG)
    assert rejects(p) == [None, "rollback", None]  # 15 (PDI) | 0 (delivery) < 15 | 3,015
    assert len(p.issues) == 0
    # (3,015 − 15) / 63 days (2024-01-02 → 2024-03-05)
    assert one(p).daily_km == pytest.approx(3_000 / 63)


def test_delivery_after_as_of_and_unknown_give_no_reading():
    """No delivery reading when the date is unknown or after as_of."""
    v = vehicles((1, None), (2, "2025-01-05"))
    p = project(v, ros((1, "2024-03-01", 3_000), (2, "2024-12-20", 5)), AS_OF, CFG)
    assert (p.readings.source == "ro").all() and len(p.readings) == 2


def test_deleted_late_and_missing_readings_are_excluded():
    """Deleted ROs, ROs opened after as_of and missing mileages give no reading; kinds all count."""
    r = ros((1, "2024-01-01", 1_000, False, "pdi"),
            (1, "2024-02-01", 99_999, True),  # deleted
            (1, "2024-03-01", np.nan),  # no mileage
            (1, "2024-04-10", 6_000, False, "repair"),
            (1, "2024-12-31 15:30", 7_000),  # opened on as_of (afternoon) → counts
            (1, "2025-01-01", 50_000))  # after as_of
    p = project(vehicles((1, None)), r, AS_OF, CFG)
    assert p.readings.ro_key.tolist() == ["RO0", "RO3", "RO4"]
    assert p.readings.date.iloc[-1] == pd.Timestamp("2024-12-31")  # day, not time of day
    assert p.issues.empty
    # (7,000 − 1,000) / 365 days (2024-01-01 → 2024-12-31)
    assert one(p).daily_km == pytest.approx(6_000 / 365)


def test_suspect_rate_uses_fleet_default_and_is_listed():
    """2,000 km/day over 30 days is suspect: the fleet default is used and one issue listed."""
    r = ros((1, "2024-01-01", 0), (1, "2024-01-31", 60_000))
    p = project(vehicles((1, None)), r, AS_OF, CFG)
    # 60,000 / 30 = 2,000 km/day > 500; not a typo: first and last readings
    v = one(p)
    assert v.daily_km == 40.0 and not bool(v.own_rate) and v.last_km == 60_000
    assert p.readings.kept.all()
    iss = p.issues
    assert list(iss.reason) == ["daily_km_suspect"]
    assert (iss.iloc[0].ro_key, iss.iloc[0]._row, iss.iloc[0].value) == ("RO1", 3, 2_000.0)
    assert iss.iloc[0].detail == (
        "(60000 − 0) km / (2024-01-31 − 2024-01-01) = 2000.0 km/day; 40 used")


def test_rate_below_one_is_suspect():
    """A rate under 1 km/day (20 km in 100 days = 0.2) is suspect too; exactly 1 is not."""
    r = ros((1, "2024-01-01", 100), (1, "2024-04-10", 120),
            (2, "2024-01-01", 100), (2, "2024-04-10", 200))
    p = project(vehicles((1, None), (2, None)), r, AS_OF, CFG)
    assert one(p, 1).daily_km == 40.0 and one(p, 2).daily_km == 1.0
    assert p.issues.vehicle_id.tolist() == [1]


def test_vehicle_without_readings():
    """No kept reading: last_date NaT, daily_km the fleet default, own_rate False, 0 readings."""
    p = project(vehicles((1, None), (2, "2024-01-01")), ros((2, "2024-06-01", 5)), AS_OF, CFG)
    v = one(p, 1)
    assert pd.isna(v.last_date) and np.isnan(v.last_km) and v.daily_km == 40.0
    assert not bool(v.own_rate) and v.n_readings == 0
    assert pd.isna(date_reaching(p, [1], [5_000]).iloc[0])
    assert np.isnan(km_on(p, [1], ["2024-06-01"]).iloc[0])
    assert p.vehicles.index.tolist() == [1, 2]


def test_date_reaching():
    """K ≤ last km → last reading's date; above → ceil((K − last) / rate) days later; NaN → NaT."""
    p = project(vehicles((1, "2024-01-01")), ros((1, "2024-04-10", 6_000)), AS_OF, CFG)
    # rate 60 km/day, last reading 2024-04-10 at 6,000 km
    got = date_reaching(p, pd.Series([1, 1, 1, 1, 1]),
                        pd.Series([5_000, 6_000, 6_001, 10_000, np.nan]))
    assert got.iloc[0] == got.iloc[1] == pd.Timestamp("2024-04-10")  # already reached
    assert got.iloc[2] == pd.Timestamp("2024-04-11")  # ceil(1 / 60) = 1 day
    assert got.iloc[3] == pd.Timestamp("2024-04-10") + pd.Timedelta(days=67)  # ceil(66.67)
    assert pd.isna(got.iloc[4])
    assert str(got.dtype).startswith("datetime64")
    # an unknown vehicle id is NaT too; a Series input keeps its index
    got = date_reaching(p, pd.Series([1, 99], index=[10, 11]), np.array([12_000, 12_000]))
    assert got.index.tolist() == [10, 11]
    # (12,000 − 6,000) / 60 = 100 days after 2024-04-10
    assert got.loc[10] == pd.Timestamp("2024-07-19") and pd.isna(got.loc[11])


def test_km_on_forwards_and_backwards():
    """Projected km walks the same line both ways: 6,000 ± 60 km/day × days."""
    p = project(vehicles((1, "2024-01-01")), ros((1, "2024-04-10", 6_000)), AS_OF, CFG)
    got = km_on(p, np.array([1, 1, 1]), pd.to_datetime(["2024-04-20", "2024-04-10", "2024-03-31"]))
    assert got.tolist() == [6_600.0, 6_000.0, 5_400.0]  # +10 days, 0, −10 days
    assert km_on(p, [1], [pd.Timestamp("2024-04-20 18:00")]).iloc[0] == 6_600.0
    assert np.isnan(km_on(p, [1], [pd.NaT]).iloc[0])


@pytest.mark.parametrize("seed", range(5))
def test_kept_readings_never_decrease(seed):
    """Whatever the noise, each vehicle's kept readings are non-decreasing in date and km order."""
    rng = np.random.default_rng(seed)
    n = 3_000
    vid = rng.integers(1, 60, n)
    day = rng.integers(0, 700, n)
    km = rng.integers(0, 120_000, n).astype(float)
    km[rng.random(n) < 0.3] *= 10  # wild typos
    r = pd.DataFrame({
        "vehicle_id": vid.astype("int64"),
        "ro_key": [f"R{i}" for i in range(n)],
        "open_date": pd.Timestamp("2023-01-01") + pd.to_timedelta(day, "D"),
        "mileage": np.where(km <= 2_000_000, km, np.nan),
        "deleted": rng.random(n) < 0.1,
        "kind": "repair", "_file": "f", "_sheet": "s", "_row": np.arange(n),
    })
    v = vehicles(*[(i, "2023-01-01") for i in range(1, 60)])
    p = project(v, r, pd.Timestamp("2024-12-31"), CFG)
    kept = p.readings[p.readings.kept]
    assert (kept.groupby("vehicle_id").km.diff().dropna() >= 0).all()
    assert (kept.groupby("vehicle_id").date.diff().dropna() >= pd.Timedelta(0)).all()
    # every rejected reading has exactly one issue; every suspect rate is not own
    assert (~p.readings.kept).sum() == (p.issues.reason != "daily_km_suspect").sum()
    rates = p.vehicles.daily_km[p.vehicles.own_rate]
    assert rates.between(1, 500).all()
    # last / first columns agree with the kept readings
    g = kept.groupby("vehicle_id")
    assert (g.km.last() == p.vehicles.last_km.loc[g.km.last().index]).all()
    assert (g.size() == p.vehicles.n_readings.loc[g.size().index]).all()


def test_fractional_km_takes_the_general_path():
    """Readings with decimals (12,000.5 km) are sorted and rolled back exactly like whole km."""
    r = ros((1, "2024-01-01", 10_000.5), (1, "2024-02-01", 100_000.25), (1, "2024-03-02", 12_000.5),
            (1, "2024-04-01", 12_000.25), (1, "2024-04-01", 12_000.5))
    p = project(vehicles((1, None)), r, AS_OF, CFG)
    # sorted: 10,000.5 | 100,000.25 typo | 12,000.5 | 12,000.25 (< 12,000.5: rollback) | 12,000.5
    assert rejects(p) == [None, "high_typo", None, "rollback", None]


def test_reasons_have_both_languages():
    """Every reason code the rule can emit has a Chinese and an English text."""
    assert set(REASONS) == {"mileage_high_typo", "mileage_rollback", "daily_km_suspect"}
    assert all(len(pair) == 2 and all(pair) for pair in REASONS.values())


def test_empty_inputs():
    """No vehicles and no ROs: empty tables and the configured fleet default, no error."""
    p = project(vehicles(), ros(), AS_OF, CFG)
    assert p.vehicles.empty and p.readings.empty and p.issues.empty
    assert p.fleet_daily_km == 40.0
    assert len(date_reaching(p, np.array([], dtype="int64"), np.array([]))) == 0


def test_scale_smoke(capsys):
    """200k vehicles / 1.4M ROs of random data project in seconds (time printed, not asserted)."""
    rng = np.random.default_rng(0)
    nv, nr = 200_000, 1_400_000
    dday = rng.integers(0, 3_000, nv)
    v = pd.DataFrame({
        "vehicle_id": np.arange(1, nv + 1, dtype="int64"),
        "delivery_date": (pd.Timestamp("2016-01-01") + pd.to_timedelta(dday, "D"))
        .where(rng.random(nv) > 0.1).astype("datetime64[ns]"),
        "vehicle_status": "active",
    })
    car = rng.integers(0, nv, nr)
    after = rng.integers(0, 3_650, nr)
    rate = rng.lognormal(np.log(40), 0.5, nv)
    km = np.round(rate[car] * after + rng.normal(0, 50, nr)).clip(0)
    u = rng.random(nr)
    km = np.where(u < 0.01, km * 10, np.where(u < 0.02, np.round(km / 10), km))
    km[rng.random(nr) < 0.03] = np.nan
    r = pd.DataFrame({
        "vehicle_id": car + 1,
        "ro_key": np.arange(nr).astype(str).astype(object),
        "open_date": (pd.Timestamp("2016-01-01") + pd.to_timedelta(dday[car] + after, "D"))
        .astype("datetime64[ns]"),
        "mileage": np.where(km <= 2_000_000, km, np.nan),
        "deleted": rng.random(nr) < 0.02,
        "kind": "maintenance", "_file": "ro.xlsx", "_sheet": "Sheet1",
        "_row": np.arange(2, nr + 2),
    })
    start = time.perf_counter()
    p = project(v, r, pd.Timestamp("2030-12-31"), CFG)
    mid = time.perf_counter()
    date_reaching(p, p.vehicles.index.to_numpy(), np.full(len(p.vehicles), 100_000.0))
    km_on(p, p.vehicles.index.to_numpy(), np.full(len(p.vehicles), np.datetime64("2025-06-30")))
    end = time.perf_counter()
    with capsys.disabled():
        print(f"\nmileage scale smoke: {nv:,} vehicles / {nr:,} ROs: project {mid - start:.2f}s, "
              f"date_reaching + km_on {end - mid:.2f}s; {len(p.readings):,} readings, "
              f"{len(p.issues):,} issues, fleet {p.fleet_daily_km:.1f} km/day")
    assert len(p.vehicles) == nv


@pytest.mark.parametrize("spread", [3, 50, 10**6])
def test_stable_argsort_equals_numpys_stable_sort(spread):
    """The readings' order (an unstable argsort with its ties put back in input order) is
    numpy's stable argsort, with many, some and hardly any equal keys."""
    from aftercare.rules.mileage import _stable_argsort

    rng = np.random.default_rng(spread)
    for n in (0, 1, 2, 1000, 50_000):
        key = rng.integers(0, spread, n).astype("int64") << 20
        assert np.array_equal(_stable_argsort(key), np.argsort(key, kind="stable"))


def _noisy_tables(seed: int, n_vehicles: int = 40, n_ros: int = 2_000):
    """Vehicles (some delivered with a time of day, some without a date) and ROs with
    typos, rollbacks, equal readings, deleted rows, missing km and times of day."""
    rng = np.random.default_rng(seed)
    delivered = (pd.Timestamp("2022-01-01")
                 + pd.to_timedelta(rng.integers(0, 900, n_vehicles), "D")
                 + pd.to_timedelta(rng.integers(0, 3, n_vehicles) * 5, "h"))
    delivered = pd.Series(delivered).where(rng.random(n_vehicles) > 0.1)
    v = pd.DataFrame({"vehicle_id": np.arange(1, n_vehicles + 1, dtype="int64"),
                      "delivery_date": delivered.astype("datetime64[ns]"),
                      "vehicle_status": "active",
                      "_file": "v.xlsx", "_sheet": "车辆", "_row": np.arange(2, n_vehicles + 2)})
    day = rng.integers(0, 1200, n_ros)
    km = (day * 40 + rng.integers(0, 3, n_ros) * 1000).astype(float)
    km[rng.random(n_ros) < 0.05] *= 10  # typos
    km[rng.random(n_ros) < 0.05] /= 3  # rollbacks
    km[rng.random(n_ros) < 0.05] = np.nan
    dup = rng.random(n_ros) < 0.2  # the same vehicle, day and km as the row before
    vid = rng.integers(1, n_vehicles + 6, n_ros)  # some vehicles only in the ROs
    for arr in (vid, day, km):
        arr[1:][dup[1:]] = arr[:-1][dup[1:]]
    r = pd.DataFrame({
        "vehicle_id": vid.astype("int64"),
        "ro_key": [f"R{i}" for i in range(n_ros)],
        "open_date": (pd.Timestamp("2022-01-01") + pd.to_timedelta(day, "D")
                      + pd.to_timedelta(rng.integers(0, 2, n_ros) * 9, "h")),
        "mileage": km, "deleted": rng.random(n_ros) < 0.05,
        "kind": "repair", "_file": "ro.xlsx", "_sheet": "工单", "_row": np.arange(2, n_ros + 2),
    })
    return v, r


@pytest.mark.parametrize("seed", range(3))
def test_cut_readings_give_the_same_projection(seed):
    """Readings collected once over every day and cut the way context.prepare cuts the
    tables (vehicles delivered after as_of, ROs opened after it or of a dropped vehicle)
    give the very projection that collecting from the cut tables gives, at cutoffs on a
    delivery day with a time of day, between ROs and after all of them."""
    v, r = _noisy_tables(seed)
    full = collect_readings(v, r, CFG)
    later = v["delivery_date"].dropna().iloc[0].normalize()
    reasons = set()
    for as_of in (later, pd.Timestamp("2022-06-30"), pd.Timestamp("2023-05-01"),
                  pd.Timestamp("2030-01-01")):
        vm = ~(v["delivery_date"] > as_of).to_numpy()
        rm = ((r["open_date"] <= as_of) & r["vehicle_id"].isin(v["vehicle_id"][vm])).to_numpy()
        cv, cr = v[vm].reset_index(drop=True), r[rm].reset_index(drop=True)
        a = project(cv, cr, as_of, CFG)
        cut = full.cut(vm, rm)
        own = mileage._collect_readings(cv, cr, as_of.value // 86_400_000_000_000, 0.0)
        for name in ("vid", "day", "km", "src"):  # src: positions in the cut tables
            np.testing.assert_array_equal(getattr(cut, name), getattr(own, name))
        assert cut.integral_km == own.integral_km
        b = project(cv, cr, as_of, CFG, readings=cut)
        assert len(a.readings)
        reasons |= set(a.issues["reason"])
        pd.testing.assert_frame_equal(a.vehicles, b.vehicles)
        pd.testing.assert_frame_equal(a.readings, b.readings)
        pd.testing.assert_frame_equal(a.issues, b.issues)
        assert a.fleet_daily_km == b.fleet_daily_km
    assert reasons >= {"mileage_high_typo", "mileage_rollback"}


def test_kept_ro_km_is_read_from_the_readings_and_the_frame_waits_until_asked():
    """kept_ro_km (what maintenance reads) gives each RO row's kept reading km, as the
    readings frame lists it (NaN for ROs without a kept reading: rejected, deleted, no
    km); the frame itself is only built when read."""
    v, r = _noisy_tables(3)
    p = project(v, r, pd.Timestamp("2030-01-01"), CFG)
    assert "readings" not in p.__dict__  # not built by project
    km = p.kept_ro_km(len(r))
    assert "readings" not in p.__dict__
    rd = p.readings
    sel = (rd["source"] == "ro") & rd["kept"]
    want = np.full(len(r), np.nan)
    want[rd.loc[sel, "ro_pos"].to_numpy()] = rd.loc[sel, "km"].to_numpy()
    np.testing.assert_array_equal(km, want)
    assert np.isfinite(km).sum() > 100 and (~rd["kept"]).any()
    assert p.readings is rd  # built once


def test_numbered_ro_keys_become_nullable_integers():
    """ROs keyed by number (the report's contexts) give an Int64 ro_key, NA for the
    delivery reading: the same keys as object ints would, without a Python int each."""
    numbered = ros((1, "2024-03-01", 3_000), (1, "2024-05-01", 5_000)).assign(
        ro_key=np.array([7, 3], dtype="int64"))
    rd = project(vehicles((1, "2024-01-01")), numbered, AS_OF, CFG).readings
    assert str(rd["ro_key"].dtype) == "Int64"
    assert rd["ro_key"].tolist() == [pd.NA, 7, 3]
    as_obj = project(vehicles((1, "2024-01-01")), numbered.astype({"ro_key": object}),
                     AS_OF, CFG).readings
    assert [None if pd.isna(k) else k for k in rd["ro_key"]] == as_obj["ro_key"].tolist()


@pytest.mark.parametrize("integral", [True, False], ids=["whole-km", "fractional-km"])
def test_step_two_kept_with_the_readings_gives_each_cuts_own(integral):
    """Typos and rollbacks worked out once over every reading and carried into as_of
    cuts (Readings.steps) are those the cut's own readings give, at cutoffs that leave a
    typo as a vehicle's last reading (no next reading any more: no longer a typo). A cut
    that does not keep a prefix of each vehicle's readings carries none."""
    rng = np.random.default_rng(7)
    n_veh, per = 300, 12
    vid = np.repeat(np.arange(n_veh, dtype="int64"), per)
    day = np.sort(rng.integers(0, 2000, size=(n_veh, per)), axis=1).ravel()
    km = (day * rng.uniform(20, 80, len(day))).round()
    typo = rng.random(len(km)) < 0.08
    km[typo] += rng.choice([90_000.0, 200_000.0], typo.sum())  # high typos
    back = rng.random(len(km)) < 0.05
    km[back] = (km[back] * 0.3).round()  # rollbacks
    if not integral:
        km = km + 0.25
    r = mileage.Readings(vid, day, km, np.arange(len(km)), integral)
    full = mileage.Readings(vid, day, km, r.src, integral, mileage._steps(r, 500.0))
    lost = 0
    for cutoff in range(0, 2001, 50):
        keep = day <= cutoff
        cut = full.cut(np.zeros(0, bool), keep)
        assert cut.steps is not None
        own = mileage.Readings(cut.vid, cut.day, cut.km, cut.src, cut.integral_km)
        a, b = mileage._reject(cut, 500.0), mileage._reject(own, 500.0)
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])
        np.testing.assert_array_equal(a[2], b[2])  # each reading's highest earlier km
        lost += int((cut.steps.high_typo & ~a[0]).sum())
    assert lost > 20  # typos that were a cut's last reading
    assert a[0].any() and a[1].any()
    holes = np.ones(len(km), bool)
    holes[1] = False  # the second reading of vehicle 0 gone, its third kept
    assert full.cut(np.zeros(0, bool), holes).steps is None
    assert mileage._reject(full.cut(np.zeros(0, bool), holes), 500.0)[0].any()
