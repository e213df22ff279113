"""Churn bands (02-rules.md, "Churn (流失) segments"): band edges, the last visit, who is
counted apart, the 本地/外地 × 在保/出保 split, overdue against the own schedule, ranking and
movement. as_of 2026-11-20 unless a test says otherwise; expected values are worked out in
each docstring."""

import numpy as np
import pandas as pd
import pytest

from aftercare.commands.churn import previous_as_of
from aftercare.errors import ConfigError
from aftercare.rules import churn
from aftercare.rules.context import prepare
from tests.rules.builders import config, dataset

AS_OF = "2026-11-20"
T = pd.Timestamp


def bands(ds, cfg=None, as_of=AS_OF):
    return churn.band_vehicles(prepare(ds, as_of, cfg or config()))


def veh(i, **kw):
    return {"vehicle_id": i, "customer_key": f"c:{i}", "plate": f"粤B{i:05d}",
            "delivery_date": "2020-01-01", **kw}


def ro(i, no, date, **kw):
    return {"vehicle_id": i, "ro_no": no, "open_date": date, "kind": "repair", **kw}


def test_band_edges():
    """Days since the last visit on each side of every edge: 89 (2026-08-23) active,
    90 (08-22) and 179 (05-25) m3, 180 (05-24) and 269 (02-24) m6, 270 (02-23) and 364
    (2025-11-21) m9, 365 (2025-11-20) and 729 (2024-11-21) lost, 730 (2024-11-20) long_lost."""
    days = {89: "2026-08-23", 90: "2026-08-22", 179: "2026-05-25", 180: "2026-05-24",
            269: "2026-02-24", 270: "2026-02-23", 364: "2025-11-21", 365: "2025-11-20",
            729: "2024-11-21", 730: "2024-11-20"}
    ds = dataset([veh(i) for i in range(len(days))],
                 ros=[ro(i, f"R{i}", d) for i, d in enumerate(days.values())])
    b = bands(ds)
    assert b["days_since"].tolist() == list(days)
    assert b["band"].tolist() == ["active", "m3", "m3", "m6", "m6", "m9", "m9", "lost",
                                  "lost", "long_lost"]


def test_bands_from_config():
    """[churn] bands = [30, 60, 90, 120, 150]: a visit 45 days ago (2026-10-06) is m3 and
    one 150 days ago (2026-06-23) long_lost."""
    ds = dataset([veh(1), veh(2)],
                 ros=[ro(1, "R1", "2026-10-06"), ro(2, "R2", "2026-06-23")])
    b = bands(ds, config(churn={"bands": [30, 60, 90, 120, 150]}))
    assert b["band"].tolist() == ["m3", "long_lost"]


def test_bad_band_config_names_the_key():
    """Four edges, or edges not increasing, are a config error naming [churn] bands."""
    ds = dataset([veh(1)])
    for bad in ([90, 180, 270, 365], [90, 80, 270, 365, 730]):
        with pytest.raises(ConfigError, match=r"\[churn\] bands"):
            bands(ds, config(churn={"bands": bad}))


def test_never_came_back_uses_delivery_date():
    """Delivered 2026-05-01 with no RO: last visit is the delivery day, 203 days → m6,
    last visit kind `delivery`, no visits in 24 months."""
    b = bands(dataset([veh(1, delivery_date="2026-05-01")])).loc[1]
    assert (b.last_visit, b.last_visit_kind, b.days_since, b.band, b.visits_24m) == (
        T("2026-05-01"), "delivery", 203, "m6", 0)


def test_internal_and_deleted_ros_are_not_visits():
    """A maintenance visit on 2026-01-10 (314 days: m9) stays the last visit despite an
    internal RO on 2026-10-01 and a deleted one on 2026-11-01; it is the only visit counted."""
    ds = dataset([veh(1)], ros=[ro(1, "R1", "2026-01-10", kind="maintenance", amount=300),
                                ro(1, "R2", "2026-10-01", kind="internal", amount=50),
                                ro(1, "R3", "2026-11-01", deleted=True, amount=900)])
    b = bands(ds).loc[1]
    assert (b.last_visit, b.last_visit_kind, b.days_since, b.band) == (
        T("2026-01-10"), "maintenance", 314, "m9")
    assert (b.visits_24m, b.spend_24m) == (1, 300.0)


def test_visits_and_spend_in_the_last_24_months():
    """The 24 months ending 2026-11-20 start after 2024-11-20: ROs on 2024-11-21 (200) and
    2026-06-01 (no amount: 0) count, 2024-11-20 (999) does not → 2 visits, 200 spend."""
    ds = dataset([veh(1)], ros=[ro(1, "R1", "2024-11-20", amount=999),
                                ro(1, "R2", "2024-11-21", amount=200),
                                ro(1, "R3", "2026-06-01", amount=None)])
    b = bands(ds).loc[1]
    assert (b.visits_24m, b.spend_24m) == (2, 200.0)


def test_exclusions_counted_apart():
    """Scrapped, sold and transferred vehicles and one with neither a visit nor a delivery
    date are not banded but carry their reason; an opted-out customer's car is banded
    (m3: 2026-07-01 is 142 days) without a rank; a car delivered after as_of is absent."""
    ds = dataset(
        [veh(1, vehicle_status="scrapped"), veh(2, vehicle_status="sold"),
         veh(3, vehicle_status="transferred"), veh(4, delivery_date=None),
         veh(5), veh(6, delivery_date="2026-12-01")],
        customers=[{"customer_key": "c:5", "do_not_contact": True}],
        ros=[ro(5, "R5", "2026-07-01")])
    ctx = prepare(ds, AS_OF, config())
    b = churn.band_vehicles(ctx)
    assert list(b.index) == [1, 2, 3, 4, 5]
    assert b["excluded_reason"].tolist()[:4] == ["scrapped", "sold", "transferred", "no_date"]
    assert b.loc[:4, "band"].isna().all()
    assert (b.loc[5, "band"], b.loc[5, "opted_out"]) == ("m3", True)
    assert pd.isna(b.loc[5, "rank"])
    assert ctx.counts["vehicles_after_as_of"] == 1
    issues = churn.no_date_issues(ctx, b)
    assert issues[["field", "reason", "detail"]].values.tolist() == [
        ["delivery_date", "churn_no_date", "粤B00004"]]


def test_local_flag_with_prefixes():
    """With 粤B configured: 粤B… and `粤b 12345` are local, 粤A… non-local, no plate unknown."""
    plates = pd.Series(["粤B12345", "粤b 12345", "粤A12345", None])
    assert churn.local_flag(plates, ["粤B"]).tolist() == ["local", "local", "nonlocal",
                                                          "unknown"]


def test_local_flag_unconfigured_is_unknown():
    """With no prefix configured every plate is unknown (未知)."""
    plates = pd.Series(["粤B12345", "湘A12345"])
    assert churn.local_flag(plates, []).tolist() == ["unknown", "unknown"]


def test_local_from_config():
    """[churn] local_plate_prefixes = ["粤B", "粤A"] reaches band_vehicles: 粤A… is local,
    湘A… non-local."""
    ds = dataset([veh(1, plate="粤A00001"), veh(2, plate="湘A00002")])
    b = bands(ds, config(churn={"local_plate_prefixes": ["粤B", "粤A"]}))
    assert b["local"].tolist() == ["local", "nonlocal"]


def test_warranty_by_date_and_years():
    """warranty_end 2026-11-20 (as_of) is in, 2026-11-19 out; without one, delivery
    2023-11-21 + 3 years = 2026-11-21 is in, 2023-11-19 + 3 = 2026-11-19 out; no end and no
    delivery date (banded by its visit) is unknown."""
    ds = dataset([veh(1, warranty_end="2026-11-20"), veh(2, warranty_end="2026-11-19"),
                  veh(3, delivery_date="2023-11-21"), veh(4, delivery_date="2023-11-19"),
                  veh(5, delivery_date=None)], ros=[ro(5, "R5", "2026-10-01")])
    b = bands(ds)
    assert b["warranty"].tolist() == ["in", "out", "in", "out", "unknown"]
    assert b.loc[3, "warranty_end"] == T("2026-11-21")


def test_warranty_by_projected_km():
    """Delivered 2025-11-20, 90,000 km on 2026-09-20 (304 days: 296.05 km/day): 100,000 km
    is reached 2026-09-20 + ceil(10,000 / 296.05) = 34 days = 2026-10-24, before as_of →
    out of warranty though 3 years have not passed; projected km now 90,000 + 296.05 × 61
    = 108,059."""
    ds = dataset([veh(1, delivery_date="2025-11-20")],
                 ros=[ro(1, "R1", "2026-09-20", mileage=90000)])
    b = bands(ds).loc[1]
    assert (b.warranty, b.warranty_end, b.projected_km) == ("out", T("2026-10-24"), 108059)


def _ranked_fleet():
    """A, B: maintenance 2026-03-01 (due 09-01: 80 days overdue), repair 07-01 (m3),
    spends 100 / 500; C: maintenance 02-01 (due 08-01: 111 overdue); D: maintenance 07-01
    (due 2027-01-01: −42); E like C but opted out. Delivered 2024-01-01; ~10 km/day, so
    time decides."""
    vs = [veh(i, delivery_date="2024-01-01") for i in range(1, 6)]
    rows = []
    for i, (maint, spend) in {1: ("2026-03-01", 100), 2: ("2026-03-01", 500),
                              3: ("2026-02-01", 0), 4: ("2026-07-01", 9999),
                              5: ("2026-02-01", 0)}.items():
        rows.append(ro(i, f"M{i}", maint, kind="maintenance", mileage=8000, amount=spend))
        if i != 4:
            rows.append(ro(i, f"R{i}", "2026-07-01", amount=0))
    return dataset(vs, customers=[{"customer_key": "c:5", "do_not_contact": True}], ros=rows)


def test_overdue_against_own_schedule():
    """Overdue days are as_of − the next maintenance due date: A, B 80, C 111, D −42 (not
    overdue yet); all five are m3 (last visit 2026-07-01: 142 days)."""
    b = bands(_ranked_fleet())
    assert b["band"].unique().tolist() == ["m3"]
    assert b["service_kind"].unique().tolist() == ["maintenance"]
    assert b["overdue_days"].tolist() == [80, 80, 111, -42, 111]
    assert b["maintenance_overdue"].tolist() == [True, True, True, False, True]
    assert b.loc[3, "service_due"] == T("2026-08-01")


def test_ranking_order():
    """Within m3: C (111 days overdue) first, then B over A (both 80; spend 500 > 100), then
    D (not overdue, whatever it spent); E is opted out and gets no rank."""
    b = bands(_ranked_fleet())
    assert b["rank"].tolist()[:4] == [3, 2, 1, 4]
    assert pd.isna(b.loc[5, "rank"])


def test_rank_within_band_is_per_band():
    """Ranks restart in each band and a vehicle without an overdue figure ranks last."""
    f = pd.DataFrame({"band": ["m3", "m6", "m3", "m6"], "overdue_days": [5, np.nan, 9, 1],
                      "spend_24m": [0.0, 900.0, 0.0, 0.0], "days_since": [100, 200, 100, 200]},
                     index=[10, 11, 12, 13])
    assert churn.rank_within_band(f).tolist() == [2, 2, 1, 1]


def test_never_serviced_car_measured_against_first_service():
    """Delivered 2025-01-10, only a repair (3,000 km) on 2026-10-01: its first service fell
    due 2025-04-10 (3 months; 5,000 km only on 2027-11-25 at 4.77 km/day) → 589 days
    overdue, though the car is active (50 days)."""
    ds = dataset([veh(1, delivery_date="2025-01-10")],
                 ros=[ro(1, "R1", "2026-10-01", mileage=3000)])
    b = bands(ds).loc[1]
    assert (b.band, b.service_kind, b.service_due, b.overdue_days) == (
        "active", "first_service", T("2025-04-10"), 589)


def test_long_lost_car_still_gets_its_maintenance_due():
    """Last maintenance 2024-01-05 at 5,000 km (delivered 2023-01-01: 13.6 km/day): due
    2024-07-05 by time, 868 days overdue, even past due's 24-month lapse window."""
    ds = dataset([veh(1, delivery_date="2023-01-01")],
                 ros=[ro(1, "M1", "2024-01-05", kind="maintenance", mileage=5000)])
    b = bands(ds).loc[1]
    assert (b.band, b.service_due, b.overdue_days) == ("long_lost", T("2024-07-05"), 868)


def test_split_matrix_counts_90_to_364_days_only():
    """粤B configured: a local in-warranty m3 car, a non-local out-of-warranty m9 car count;
    an active and a lost car do not."""
    ds = dataset([veh(1, plate="粤B1", delivery_date="2025-01-01"),
                  veh(2, plate="湘A2", delivery_date="2020-01-01"),
                  veh(3, delivery_date="2026-11-01"), veh(4, delivery_date="2024-01-01")],
                 ros=[ro(1, "R1", "2026-07-01"), ro(2, "R2", "2026-01-01"),
                      ro(4, "R4", "2025-06-01")])
    b = bands(ds, config(churn={"local_plate_prefixes": ["粤B"]}))
    assert b["band"].tolist() == ["m3", "m9", "active", "lost"]
    m = churn.split_matrix(b)
    assert (m.loc["local", "in"], m.loc["nonlocal", "out"], int(m.to_numpy().sum())) == (1, 1, 2)


def test_movement_since_previous_month():
    """2026-10-20 → 11-20: a car last seen 2026-08-22 (59 → 90 days) moves active → m3; a
    car last seen 04-01 (202 days, m6) came back on 11-10 → active; a car delivered 11-01 is
    new in active; a car seen 04-20 stays m6 (183 → 214 days). previous + entered − left =
    current."""
    ds = dataset([veh(1), veh(2), veh(3, delivery_date="2026-11-01"), veh(4)],
                 ros=[ro(1, "R1", "2026-08-22"), ro(2, "R2", "2026-04-01"),
                      ro(2, "R3", "2026-11-10"), ro(4, "R4", "2026-04-20")])
    ctx = prepare(ds, AS_OF, config())
    cur = churn.band_vehicles(ctx)
    prev = churn.bands_on(ctx, previous_as_of(ctx.as_of))
    assert prev["band"].to_dict() == {1: "active", 2: "m6", 4: "m6"}
    m = churn.movement(cur, prev)
    assert m.loc["active"].tolist() == [1, 2, 1, 2]  # previous, entered, left, current
    assert m.loc["m3"].tolist() == [0, 1, 0, 1]
    assert m.loc["m6"].tolist() == [2, 0, 1, 1]
    assert (m["previous"] + m["entered"] - m["left"] == m["current"]).all()


def test_previous_as_of_is_one_calendar_month_earlier():
    """One calendar month back, end-of-month clipped: 2026-03-31 → 2026-02-28."""
    assert previous_as_of("2026-03-31") == T("2026-02-28")
    assert previous_as_of("2026-11-20") == T("2026-10-20")


def test_last_visit_on_a_day_with_several_visits_and_on_an_earlier_day():
    """Vehicle 1 came twice on 2026-10-01 (R2 maintenance, R10 repair): the greatest RO
    key that day (|R2 > |R10 as text) gives the kind; its later visit (2026-11-25) is
    after as_of. Seen on 2026-09-15 (bands_on with an earlier day), its last visit is R1
    (2026-09-01). Vehicle 2's only visit is after either day: its delivery counts."""
    ds = dataset([veh(1), veh(2, delivery_date="2026-02-01")], ros=[
        ro(1, "R1", "2026-09-01", kind="bodyshop"),
        ro(1, "R2", "2026-10-01", kind="maintenance"),
        ro(1, "R10", "2026-10-01", kind="repair"),
        ro(1, "R3", "2026-11-25"),
        ro(2, "R4", "2026-11-21"),
    ])
    ctx = prepare(ds, AS_OF, config())
    now = churn.bands_on(ctx)
    assert (now.loc[1, "last_visit"], now.loc[1, "last_visit_kind"]) == (
        T("2026-10-01"), "maintenance")
    assert (now.loc[2, "last_visit"], now.loc[2, "last_visit_kind"]) == (
        T("2026-02-01"), "delivery")
    before = churn.bands_on(ctx, "2026-09-15")
    assert (before.loc[1, "last_visit"], before.loc[1, "last_visit_kind"],
            before.loc[1, "days_since"]) == (T("2026-09-01"), "bodyshop", 14)


@pytest.mark.parametrize("ids", ["text", "numbers"])
def test_customer_columns_as_a_lookup_by_customer_key_gives_them(ids):
    """Each vehicle's customer id, name, mobile and opt-out are its customer's, looked up
    by customer_key, as ``Series.map`` gives them; a vehicle whose customer is not in the
    customers table gets missing values and is not opted out. Numeric customer ids turn
    float when one is missing, as with map."""
    ds = dataset([veh(1), veh(2), veh(3)],
                 customers=[{"customer_key": "c:1", "customer_name": "甲", "mobile": None,
                             "do_not_contact": True},
                            {"customer_key": "c:2", "customer_name": "乙",
                             "mobile": "13800000002", "do_not_contact": False}],
                 ros=[ro(1, "R1", "2026-07-01")])
    ctx = prepare(ds, AS_OF, config())
    cust = ctx.customers
    if ids == "numbers":
        cust = cust.assign(customer_id=np.arange(101, 101 + len(cust), dtype="int64"))
    for customers in (cust, cust[cust["customer_key"] != "c:3"], cust.iloc[:0]):
        b = churn.band_vehicles(ctx.replace(customers=customers))
        keys = ctx.vehicles["customer_key"]
        for col in ("customer_id", "customer_name", "mobile"):
            expected = keys.map(customers[col]).astype(object).tolist()
            got = b[col].tolist()  # missing: None or NaN alike (the writer shows neither)
            assert [None if pd.isna(x) else (type(x), x) for x in got] == \
                [None if pd.isna(x) else (type(x), x) for x in expected], col
        assert b["opted_out"].tolist() == keys.map(customers["do_not_contact"]).eq(True).tolist()
    assert b["opted_out"].tolist() == [False, False, False]
