"""Month-end KPIs (04-kpis.md) on small hand-built datasets. The month is 2026-10 (so M−12
is 2025-10 and the cohort contexts are cut at 2026-09-30) unless a test says otherwise;
each expected value is worked out in the test's docstring."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from aftercare.rules import kpis, service
from aftercare.rules.context import prepare
from tests.rules.builders import config, dataset

OCT = "2026-10"
T = pd.Timestamp


def veh(i, **kw):
    return {"vehicle_id": i, "customer_key": f"c:{i}", "plate": f"粤B{i:05d}",
            "vin": f"VIN{i:014d}", "delivery_date": "2020-01-01", **kw}


def ro(i, date, kind="repair", n=0, **kw):
    return {"vehicle_id": i, "ro_no": f"R{i}-{date}-{kind}-{n}", "open_date": date,
            "kind": kind, **kw}


def kpi(ds, code, month=OCT, cfg=None):
    return {r.kpi: r for r in kpis.compute_month(ds, month, cfg or config())}[code]


def test_visits_by_kind_sum_to_total():
    """Visits in 2026-10: car 1 maintenance and repair on 10-03 (two ROs, two visits), car 2
    first service 10-15 (its internal PDI 10-16 and car 3's deleted bodyshop RO 10-20 are
    not visits), car 3 a wash at 18:30 on 10-31 (in M). Car 1's 09-30 and car 3's 11-01 ROs
    are outside M. Total 4 = first_service 1 + maintenance 1 + repair 1 + other 1."""
    ds = dataset([veh(1), veh(2), veh(3)], ros=[
        ro(1, "2026-10-03", "maintenance"), ro(1, "2026-10-03", "repair"),
        ro(1, "2026-09-30"), ro(2, "2026-10-15", "first_service"),
        ro(2, "2026-10-16", "internal"), ro(3, "2026-10-20", "bodyshop", deleted=True),
        ro(3, T("2026-10-31 18:30"), "other"), ro(3, "2026-11-01", "warranty")])
    res = {r.kpi: r.value for r in kpis.compute_month(ds, OCT, config())}
    assert res["visits"] == 4
    assert {k: res[f"visits_{k}"] for k in kpis.VISIT_KINDS} == {
        "first_service": 1, "maintenance": 1, "repair": 1, "bodyshop": 0, "warranty": 0,
        "campaign": 0, "other": 1}
    assert sum(res[f"visits_{k}"] for k in kpis.VISIT_KINDS) == res["visits"]


def test_revenue_by_kind_and_per_visit():
    """Four visits in M with amounts 100, 250.5, none and 49.5: revenue 400.0 (maintenance
    350.5, repair 49.5, first service 0), 400 ÷ 4 visits = 100.0 per visit."""
    ds = dataset([veh(1), veh(2)], ros=[
        ro(1, "2026-10-01", "maintenance", amount=100), ro(1, "2026-10-09", "maintenance",
                                                             amount=250.5),
        ro(2, "2026-10-10", "first_service", amount=None), ro(2, "2026-10-11", amount=49.5),
        ro(2, "2026-10-12", "internal", amount=999)])
    res = {r.kpi: r for r in kpis.compute_month(ds, OCT, config())}
    assert res["revenue"].value == 400.0
    assert (res["revenue_maintenance"].value, res["revenue_repair"].value,
            res["revenue_first_service"].value) == (350.5, 49.5, 0.0)
    per = res["revenue_per_visit"]
    assert (per.value, per.numerator, per.denominator) == (100.0, 400.0, 4)


def test_visits_by_iso_week_within_month():
    """2026-10-01 is a Thursday: weeks W40 (10-01..10-04), W41, W42, W43, W44 (10-26..10-31).
    Two visits on 10-03 → W40 2; 10-15 → W42 1; 10-31 → W44 1."""
    ds = dataset([veh(1)], ros=[ro(1, "2026-10-03", "maintenance"), ro(1, "2026-10-03", n=1),
                                ro(1, "2026-10-15"), ro(1, "2026-10-31", "other")])
    weeks = kpis.visits_by_week(ds, OCT, config())
    assert weeks["iso_week"].tolist() == ["2026-W40", "2026-W41", "2026-W42", "2026-W43",
                                          "2026-W44"]
    assert weeks["visits"].tolist() == [2, 0, 1, 0, 1]
    assert (weeks.loc[0, "week_start"], weeks.loc[4, "week_end"]) == (T("2026-10-01"),
                                                                      T("2026-10-31"))
    assert weeks["visits_repair"].tolist() == [1, 0, 1, 0, 0]


def test_first_service_return_rate():
    """Cut at 2026-09-30, fleet default 40 km/day (5,000 km = 125 days, later than 3
    months for all): A delivered 07-05 → due 10-05, maintenance visit 10-20 (numerator);
    B 07-20 → due 10-20, only a repair in M; F 07-31 (scrapped, still counted) → due
    10-31; G 07-15 → due 10-15, its first service in M deleted and the real one on 11-02.
    Not in the cohort: C (due 09-10), D (due 11-01), E (first service on 09-01). 1 ÷ 4."""
    vs = [veh(1, delivery_date="2026-07-05"), veh(2, delivery_date="2026-07-20"),
          veh(3, delivery_date="2026-06-10"), veh(4, delivery_date="2026-08-01"),
          veh(5, delivery_date="2026-07-12"),
          veh(6, delivery_date="2026-07-31", vehicle_status="scrapped"),
          veh(7, delivery_date="2026-07-15")]
    ds = dataset(vs, ros=[
        ro(1, "2026-10-20", "maintenance"), ro(2, "2026-10-10", "repair"),
        ro(3, "2026-10-02", "first_service"), ro(4, "2026-10-25", "first_service"),
        ro(5, "2026-09-01", "first_service"),
        ro(7, "2026-10-16", "first_service", deleted=True), ro(7, "2026-11-02", "first_service")])
    r = kpi(ds, "first_service_return_rate")
    assert (r.numerator, r.denominator, r.value) == (1, 4, 0.25)
    m = r.members.set_index("vehicle_id")
    assert sorted(m.index) == [1, 2, 6, 7]
    assert m.loc[1, "in_numerator"] and m["in_numerator"].sum() == 1
    assert m.loc[1, "due_date"] == T("2026-10-05") and m.loc[1, "visit_date"] == T("2026-10-20")
    assert (r.target, r.status) == (0.95, "not_met")


def test_maintenance_return_rate():
    """Delivered 2024-01-01 (0 km), last maintenance at 10,000 km: about 12 km/day, so the
    time rule (+6 months) comes first. H (04-10 → due 10-10) has a maintenance visit 10-12;
    I (04-25 → 10-25) none; K (04-30 → 10-30) only a repair on 10-31 and maintenance on
    11-01. J (03-05 → due 09-05) is not in the cohort. 1 ÷ 3."""
    vs = [veh(i, delivery_date="2024-01-01") for i in (1, 2, 3, 4)]
    ds = dataset(vs, ros=[
        ro(1, "2026-04-10", "maintenance", mileage=10000), ro(1, "2026-10-12", "maintenance"),
        ro(2, "2026-04-25", "maintenance", mileage=10000),
        ro(3, "2026-04-30", "maintenance", mileage=10000), ro(3, "2026-10-31", "repair"),
        ro(3, "2026-11-01", "maintenance"),
        ro(4, "2026-03-05", "maintenance", mileage=10000), ro(4, "2026-10-02", "maintenance")])
    r = kpi(ds, "maintenance_return_rate")
    assert (r.numerator, r.denominator) == (1, 3)
    assert r.value == pytest.approx(1 / 3)
    m = r.members.set_index("vehicle_id")
    assert m["due_date"].to_dict() == {1: T("2026-10-10"), 2: T("2026-10-25"),
                                       3: T("2026-10-30")}
    assert m["in_numerator"].to_dict() == {1: True, 2: False, 3: False}


def test_cohorts_use_the_due_rules_at_the_day_before_the_month():
    """The cohort is exactly the due rules' candidates at as_of 2026-09-30 whose due date
    falls in October (the same functions `due` calls, on a context equal to prepare's)."""
    ds = _random_dataset(7)
    cfg = config()
    ctx = prepare(ds, "2026-09-30", cfg)
    for kind, cands in (("first_service", service.first_service(ctx)[0]),
                        ("maintenance", service.maintenance(ctx))):
        due = cands[cands["due_date"].between(T("2026-10-01"), T("2026-10-31"))]
        r = kpi(ds, f"{kind}_return_rate", cfg=cfg)
        assert sorted(r.members["vehicle_id"]) == sorted(due["vehicle_id"])


def test_kpi_contexts_equal_prepare():
    """KpiInputs.context(as_of) gives the same first-service and maintenance candidates,
    schedule and projection as context.prepare at four cut-offs."""
    ds = _random_dataset(3)
    cfg = config()
    inp = kpis.KpiInputs(ds, cfg)
    for as_of in ("2024-02-29", "2025-09-30", "2026-06-30", "2026-09-30"):
        a, b = prepare(ds, as_of, cfg), inp.context(as_of)
        pd.testing.assert_frame_equal(service.first_service(a)[0].reset_index(drop=True),
                                      service.first_service(b)[0].reset_index(drop=True))
        pd.testing.assert_frame_equal(service.maintenance(a).reset_index(drop=True),
                                      service.maintenance(b).reset_index(drop=True))
        pd.testing.assert_frame_equal(a.schedule, b.schedule)
        pd.testing.assert_frame_equal(a.projection.vehicles, b.projection.vehicles)
        # the report's contexts cut readings collected once; ro_key is a number there
        pd.testing.assert_frame_equal(a.projection.readings.drop(columns="ro_key"),
                                      b.projection.readings.drop(columns="ro_key"))
        pd.testing.assert_frame_equal(a.projection.issues.drop(columns="ro_key"),
                                      b.projection.issues.drop(columns="ro_key"))
    assert inp._readings is not None and len(inp._readings.vid) > len(
        b.projection.readings)  # collected over every day, cut for each context


def test_report_holds_few_contexts():
    """The report computes 13 months (M, the 11 trend months before it, M−12) but holds at most two rule contexts at once: the
    report month's (kept: report.build reads it again) and the latest one; the kept one is
    the very object build reads, not a rebuilt copy."""
    ds = _random_dataset(5)
    cfg = config(limits={"jobs": 1})  # every month here (see the next test)
    inp = kpis.KpiInputs(ds, cfg)
    built = []
    cut = inp._cut
    inp._cut = lambda as_of: built.append(as_of) or cut(as_of)
    kpis.compute_report(inp, OCT, cfg)
    assert len(built) == 13
    assert set(inp._contexts) == {T("2026-09-30"), T("2025-09-30")}
    kept = inp._contexts[T("2026-09-30")]
    assert inp.context("2026-09-30") is kept and len(built) == 13
    inp.context("2026-03-31")  # a third: the unkept latest one makes way
    assert set(inp._contexts) == {T("2026-09-30"), T("2026-03-31")}


def _all_months(rep):
    return [(m, r) for m, by in [(rep.month, {r.kpi: r for r in rep.results}), *rep.trend,
                                 ("prev_month", rep.prev_month), ("prev_year", rep.prev_year)]
            for r in by.values()]


def _assert_same_report(a, b):
    got, want = _all_months(a), _all_months(b)
    assert len(got) == len(want) > 100
    for (ma, ra), (mb, rb) in zip(got, want):
        assert (ma, ra.kpi, ra.value, ra.numerator, ra.denominator, ra.target,
                ra.provisional, ra.no_data) == (mb, rb.kpi, rb.value, rb.numerator,
                                                rb.denominator, rb.target, rb.provisional,
                                                rb.no_data)
        if ra.members is None:
            assert rb.members is None
        else:
            pd.testing.assert_frame_equal(ra.members, rb.members)


def test_report_months_split_with_a_forked_worker(monkeypatch):
    """With [limits] jobs ≥ 2, every other month besides M is computed in a forked worker:
    this process builds 7 of the 13 contexts, and the report is the same as computed
    here alone. A worker that fails leaves its months to this process; without room on
    the machine for a copy of this process, the report is computed here alone."""
    ds = _random_dataset(5)
    serial = kpis.compute_report(ds, OCT, config(limits={"jobs": 1}))

    def report(jobs):
        inp = kpis.KpiInputs(ds, config(limits={"jobs": jobs}))
        built = []
        cut = inp._cut
        inp._cut = lambda as_of: built.append(as_of) or cut(as_of)
        return kpis.compute_report(inp, OCT, inp.cfg), built

    rep, built = report(2)
    assert len(built) == 7
    _assert_same_report(rep, serial)

    def broken(months):
        raise RuntimeError("worker failed")

    monkeypatch.setattr(kpis, "_months_elsewhere", broken)
    rep, built = report(2)
    assert len(built) == 13
    _assert_same_report(rep, serial)
    monkeypatch.undo()
    monkeypatch.setattr(kpis.memory, "room_for_a_copy", lambda: False)
    rep, built = report(2)
    assert len(built) == 13
    _assert_same_report(rep, serial)


_ELSEWHERE = kpis._months_elsewhere


def _slowly_elsewhere(months):
    """The month worker's job, half a second late (module level: the pool pickles it)."""
    import time

    time.sleep(0.5)
    return _ELSEWHERE(months)


def test_the_reports_own_month_is_computed_before_waiting_for_the_worker(monkeypatch):
    """With a month worker, this process computes its share and then M itself before it
    waits for the worker's months (its results come back after the fork and a pickle);
    the report is the same. The worker is slowed down here, so the order is certain."""
    ds = _random_dataset(5)
    serial = kpis.compute_report(ds, OCT, config(limits={"jobs": 1}))
    monkeypatch.setattr(kpis, "_months_elsewhere", _slowly_elsewhere)
    seen = []

    class Months(dict):
        def __setitem__(self, month, results):  # a month computed here
            seen.append(("here", month))
            super().__setitem__(month, results)

        def update(self, other):  # the worker's months arrive
            seen.append(("worker", len(other)))
            super().update(other)

    inp = kpis.KpiInputs(ds, config(limits={"jobs": 2}))
    inp._months = Months()
    rep = kpis.compute_report(inp, OCT, inp.cfg)
    _assert_same_report(rep, serial)
    arrived = seen.index(("worker", 6))
    assert ("here", T("2026-10-01")) in seen[:arrived]
    assert len([s for s in seen[:arrived] if s[0] == "here"]) == 7


def test_the_forked_worker_inherits_the_sorted_readings(monkeypatch, tmp_path):
    """The readings are collected and sorted once, before the fork: neither process
    collects them again (each call leaves a line in a file both processes append to)."""
    from aftercare.rules import mileage

    ds = _random_dataset(5)
    calls = tmp_path / "calls"
    collect = mileage.collect_readings

    def counted(*args, **kw):
        with open(calls, "a") as fh:
            fh.write("x\n")
        return collect(*args, **kw)

    monkeypatch.setattr(mileage, "collect_readings", counted)
    rep = kpis.compute_report(ds, OCT, config(limits={"jobs": 2}))
    _assert_same_report(rep, kpis.compute_report(ds, OCT, config(limits={"jobs": 1})))
    assert calls.read_text().count("x") == 2  # once for each report above


def test_readings_collected_beside_the_inputs_give_the_same_report(monkeypatch):
    """From a dataset, compute_report collects the readings in a thread while KpiInputs
    is built: exactly once, with the report's config, and the report is the one
    computed from inputs built one step after the other."""
    from aftercare.rules import mileage

    ds = _random_dataset(7)
    cfg = config(limits={"jobs": 1})
    seen = []
    collect = mileage.collect_readings

    def counted(vehicles, ros, c):
        seen.append(c)
        return collect(vehicles, ros, c)

    monkeypatch.setattr(mileage, "collect_readings", counted)
    rep = kpis.compute_report(ds, OCT, cfg)
    assert len(seen) == 1 and seen[0] is cfg
    assert rep.inputs._readings is not None
    inp = kpis.KpiInputs(ds, cfg)
    inp._readings_all()
    _assert_same_report(rep, kpis.compute_report(inp, OCT, cfg))


def test_kpis_read_only_the_kpi_ro_columns():
    """The sample's report is the same when the ROs keep only KPI_RO_COLUMNS (what
    `report` does to save memory): every KPI, its members and the log tables."""
    from pathlib import Path

    from aftercare.config import load_config
    from aftercare.load import load_folder

    root = Path(__file__).resolve().parents[2]
    cfg = load_config(root / "examples" / "sample" / "aftercare.toml")
    ds = load_folder(root / "sample_data", cfg)
    slim = kpis.kpi_dataset(ds)
    assert len(slim.repair_orders.columns) < len(ds.repair_orders.columns) - 10
    assert all(isinstance(slim.repair_orders[c].dtype, pd.CategoricalDtype)
               for c in ("_file", "_sheet", "kind"))
    full, cut = (kpis.compute_report(d, OCT, cfg, trend_months=3) for d in (ds, slim))
    for a, b in zip(full.results + [r for _, m in full.trend for r in m.values()],
                    cut.results + [r for _, m in cut.trend for r in m.values()]):
        assert (a.kpi, a.numerator, a.denominator, a.value) == \
            (b.kpi, b.numerator, b.denominator, b.value)
        if a.members is not None:
            pd.testing.assert_frame_equal(a.members, b.members)
    assert any(r.denominator for r in full.results)


def test_first_service_rate_12m():
    """Delivered in 2025-10: P (10-01) first service 2026-10-01, exactly 12 months (both
    days count); Q (10-31) maintenance 2026-10-31; R (10-15) first service 2026-10-16, a
    day late; S (10-20) only a repair; U (10-10) an internal PDI and a deleted first
    service. T (delivered 2025-09-30) is not in the cohort. 2 ÷ 5 = 0.4."""
    vs = [veh(1, delivery_date="2025-10-01"), veh(2, delivery_date="2025-10-31"),
          veh(3, delivery_date="2025-10-15"), veh(4, delivery_date="2025-10-20"),
          veh(5, delivery_date="2025-09-30"), veh(6, delivery_date="2025-10-10")]
    ds = dataset(vs, ros=[
        ro(1, "2026-10-01", "first_service"), ro(2, "2026-10-31", "maintenance"),
        ro(3, "2026-10-16", "first_service"), ro(4, "2025-12-01", "repair"),
        ro(5, "2026-01-01", "first_service"), ro(6, "2025-10-10", "internal"),
        ro(6, "2025-12-01", "first_service", deleted=True)])
    r = kpi(ds, "first_service_rate_12m")
    assert (r.numerator, r.denominator, r.value) == (2, 5, 0.4)
    m = r.members.set_index("vehicle_id")
    assert m["in_numerator"].to_dict() == {1: True, 2: True, 3: False, 4: False, 6: False}
    assert m.loc[3, "window_end"] == T("2026-10-15")


def test_appointment_rate():
    """Visits in M flagged yes, no, yes and one without a flag (denominator, not numerator);
    an internal RO flagged yes and a September visit do not count. 2 ÷ 4 = 0.5."""
    ds = dataset([veh(1), veh(2)], ros=[
        ro(1, "2026-10-01", appointment=True), ro(1, "2026-10-02", appointment=False),
        ro(2, "2026-10-03", appointment=True), ro(2, "2026-10-04", appointment=None),
        ro(2, "2026-10-05", "internal", appointment=True),
        ro(1, "2026-09-05", appointment=True)])
    r = kpi(ds, "appointment_rate")
    assert (r.numerator, r.denominator, r.value, r.no_data) == (2, 4, 0.5, None)
    assert len(r.members) == 4 and r.members["in_numerator"].sum() == 2
    assert r.status == "met"  # 0.5 ≥ 0.45


def test_appointment_rate_without_flags_is_no_data():
    """No RO carries an appointment flag: "no data: needs the appointment flag", not 0%."""
    ds = dataset([veh(1)], ros=[ro(1, "2026-10-01"), ro(1, "2026-10-02")])
    r = kpi(ds, "appointment_rate")
    assert (r.value, r.numerator, r.no_data, r.status) == (None, None, "appointment", None)


def test_active_base_window_and_base_months():
    """Base as of 2026-10-31 over 12 months is visits on 2025-11-01..2026-10-31: car 2
    (2025-11-01) and car 3 (2026-10-31), not car 1 (2025-10-31), car 4 (11-01, after M),
    car 5 (internal) or car 6 (deleted) → 2. With base_months 24 car 1 joins → 3."""
    ds = dataset([veh(i) for i in range(1, 7)], ros=[
        ro(1, "2025-10-31"), ro(2, "2025-11-01"), ro(3, "2026-10-31"), ro(4, "2026-11-01"),
        ro(5, "2026-05-01", "internal"), ro(6, "2026-05-01", deleted=True)])
    assert kpi(ds, "active_base").value == 2
    assert kpi(ds, "active_base", cfg=config(kpi={"base_months": 24})).value == 3


def test_churn_rate():
    """Visited in 2025-10: car 1 (never again), car 2 (back 2026-10-31), car 3 (back only
    2026-11-02, after M), car 5 (twice in 2025-10, counted once, never again). Car 4
    (2025-09-30) is not in the base. Churned 1, 3, 5: 3 ÷ 4 = 0.75."""
    ds = dataset([veh(i) for i in range(1, 6)], ros=[
        ro(1, "2025-10-05"), ro(2, "2025-10-10"), ro(2, "2026-10-31"), ro(3, "2025-10-20"),
        ro(3, "2026-11-02"), ro(4, "2025-09-30"), ro(5, "2025-10-01"), ro(5, "2025-10-25")])
    r = kpi(ds, "churn_rate")
    assert (r.numerator, r.denominator, r.value) == (3, 4, 0.75)
    m = r.members.set_index("vehicle_id")
    assert m["in_numerator"].to_dict() == {1: True, 2: False, 3: True, 5: True}
    assert m.loc[5, "last_visit"] == T("2025-10-25") and m.loc[2, "next_visit"] == T(
        "2026-10-31")


def test_retention_rate():
    """12 months ending 2026-10-31 = 2025-11-01..2026-10-31; months 13–24 =
    2024-11-01..2025-10-31. Car 1 (2025-10-31 and 2026-10-31) kept; car 2 (2024-11-01
    only) and car 4 (2025-06-01, back only 2026-11-01) lost; car 3 (2024-10-31, then
    2026-01-01) not in the base. 1 ÷ 3."""
    ds = dataset([veh(i) for i in range(1, 5)], ros=[
        ro(1, "2025-10-31"), ro(1, "2026-10-31"), ro(2, "2024-11-01"), ro(3, "2024-10-31"),
        ro(3, "2026-01-01"), ro(4, "2025-06-01"), ro(4, "2026-11-01")])
    r = kpi(ds, "retention_rate")
    assert (r.numerator, r.denominator) == (1, 3)
    assert r.members.set_index("vehicle_id")["in_numerator"].to_dict() == {
        1: True, 2: False, 4: False}


def test_twelve_months_ending_a_february_follows_the_letter():
    """D = 2025-02-28: months 13–24 are the 12 months ending 2024-02-28, i.e. after
    2023-02-28 up to 2024-02-28, so a visit on 2024-02-29 is in the 12 months ending D
    (after 2024-02-28) and not in months 13–24."""
    ds = dataset([veh(1)], ros=[ro(1, "2024-02-29")])
    assert kpi(ds, "active_base", month="2025-02").value == 1
    r = kpi(ds, "retention_rate", month="2025-02")
    assert r.denominator == 0


def test_winback_count_and_bands():
    """First visit in M vs the previous visit (deliveries, internal and deleted ROs do not
    count): car 1 183 days (m6), car 2 179 (no), car 3 2024-01-01 → 2026-10-10 = 1,013
    (long_lost), car 4 no previous visit (no), car 5 2025-10-01 → 10-15 = 379 (lost; its
    10-20 visit is not measured), car 6 2025-12-01 → 2026-10-01 = 304 (m9). 4 win-backs."""
    ds = dataset([veh(i) for i in range(1, 7)], ros=[
        ro(1, "2026-04-01"), ro(1, "2026-10-01"), ro(2, "2026-04-05"), ro(2, "2026-10-01"),
        ro(3, "2024-01-01"), ro(3, "2026-10-10"), ro(4, "2026-10-05"),
        ro(5, "2025-10-01"), ro(5, "2026-06-01", "internal"), ro(5, "2026-10-15"),
        ro(5, "2026-10-20"), ro(6, "2025-12-01"), ro(6, "2026-05-01", deleted=True),
        ro(6, "2026-10-01")])
    res = {r.kpi: r for r in kpis.compute_month(ds, OCT, config())}
    assert res["winback"].value == 4
    bands = {k: res[k].value for k in res if k.startswith("winback_")}
    assert bands == {"winback_m6": 1, "winback_m9": 1, "winback_lost": 1,
                     "winback_long_lost": 1}
    m = res["winback"].members.set_index("vehicle_id")
    assert m["days_since"].to_dict() == {3: 1013, 5: 379, 6: 304, 1: 183}
    assert m.loc[5, "visit_date"] == T("2026-10-15")


def test_holdover_rate():
    """Visits in M with both times: handed back the same day (19:00 vs 17:00 promised),
    the next day (late), a day early; a visit with no hand-back time is not counted.
    1 ÷ 3, below the 5% target → not met."""
    ds = dataset([veh(1)], ros=[
        ro(1, "2026-10-05", promised_at="2026-10-05 17:00", delivered_at="2026-10-05 19:00"),
        ro(1, "2026-10-06", promised_at="2026-10-06 17:00", delivered_at="2026-10-07 09:00"),
        ro(1, "2026-10-07", promised_at="2026-10-09 17:00", delivered_at="2026-10-08 10:00"),
        ro(1, "2026-10-08", promised_at="2026-10-08 17:00")])
    r = kpi(ds, "holdover_rate")
    assert (r.numerator, r.denominator) == (1, 3)
    assert r.members["days_late"].tolist() == [0, 1, -1]
    assert (r.target, r.status) == (0.05, "not_met")


def test_holdover_without_promised_times_is_no_data():
    """No RO has a promised time: "no data: needs promised times"."""
    ds = dataset([veh(1)], ros=[ro(1, "2026-10-05", delivered_at="2026-10-05 19:00")])
    r = kpi(ds, "holdover_rate")
    assert (r.value, r.no_data) == (None, "promised_at")


def test_zero_denominators_give_no_value():
    """A month without visits, deliveries or due vehicles (the data holds only 2020 ROs,
    with flags and times): every rate's denominator is 0 and its value None ("—"), never 0,
    and it has no status."""
    ds = dataset([veh(1)], ros=[ro(1, "2020-05-01", appointment=True,
                                   promised_at="2020-05-01 17:00",
                                   delivered_at="2020-05-01 18:00")])
    res = {r.kpi: r for r in kpis.compute_month(ds, OCT, config())}
    for code in ("first_service_return_rate", "maintenance_return_rate",
                 "first_service_rate_12m", "appointment_rate", "churn_rate", "retention_rate",
                 "holdover_rate", "revenue_per_visit"):
        r = res[code]
        assert (r.value, r.denominator, r.no_data, r.status) == (None, 0, None, None), code
    assert res["visits"].value == 0 and res["winback"].value == 0


def test_contact_log_kpis_are_rows_without_data():
    """The list KPIs are present with no value and "no data: needs contact logs"; their
    targets come from config (提醒完成率 100%, 3DC 95%)."""
    res = {r.kpi: r for r in kpis.compute_month(dataset([veh(1)]), OCT, config())}
    for code in (*kpis.CONTACT_LOG_KPIS, "no_return_reasons"):
        assert (res[code].value, res[code].no_data) == (None, "contact_logs")
    assert res["reminder_completion_first_service"].target == 1.0
    assert res["followup_rate"].target == 0.95


def test_status_is_exact_at_the_target():
    """19 ÷ 20 = 0.95 meets a 95% target; a holdover of 1 ÷ 20 = 5% misses "< 5%"."""
    assert kpis.KpiResult("first_service_return_rate", 19 / 20, 19, 20, True, 0.95).status \
        == "met"
    assert kpis.KpiResult("holdover_rate", 1 / 20, 1, 20, True, 0.05).status == "not_met"
    assert kpis.KpiResult("holdover_rate", 0.0, 0, 20, True, 0.05).status == "met"


def test_month_is_provisional_when_the_data_ends_before_its_end():
    """The newest RO is 2026-10-20: October's KPIs are 暂定, September's are not, and the
    no-data rows never are."""
    ds = dataset([veh(1)], ros=[ro(1, "2026-09-10", appointment=True),
                                ro(1, "2026-10-20", appointment=True)])
    octo = {r.kpi: r for r in kpis.compute_month(ds, OCT, config())}
    sep = {r.kpi: r for r in kpis.compute_month(ds, "2026-09", config())}
    assert octo["visits"].provisional and octo["appointment_rate"].provisional
    assert not octo["reach_rate"].provisional
    assert not sep["visits"].provisional


def test_trend_equals_twelve_single_month_runs():
    """Each of the 12 trend months, and M−1 and M−12, equals a fresh single-month run of
    that month (every KPI's value, numerator and denominator, and its members)."""
    ds = _random_dataset(11)
    cfg = config()
    rep = kpis.compute_report(ds, OCT, cfg)
    months = [m for m, _ in rep.trend]
    assert [m.strftime("%Y-%m") for m in months] == [
        f"{y}-{mo:02d}" for y, mo in [(2025, 11), (2025, 12)] + [(2026, i) for i in range(1, 11)]]
    checks = [(m, by) for m, by in rep.trend] + [
        (T("2026-09-01"), rep.prev_month), (T("2025-10-01"), rep.prev_year)]
    for month, by in checks:
        fresh = {r.kpi: r for r in kpis.compute_month(ds, month, cfg)}  # new KpiInputs
        for code, r in fresh.items():
            got = by[code]
            assert (got.value, got.numerator, got.denominator) == (
                r.value, r.numerator, r.denominator), (month, code)
            if r.members is not None:
                pd.testing.assert_frame_equal(got.members, r.members)
    frame = rep.trend_frame()
    assert len(frame) == 12
    assert frame["churn_rate__den"].tolist() == [by["churn_rate"].denominator
                                                 for _, by in rep.trend]


def test_members_sum_to_numerator_and_denominator():
    """Every drill-down lists exactly the denominator, and its in_numerator rows are the
    numerator (流失召回: its rows are the count)."""
    ds = _random_dataset(5)
    for month in ("2026-06", "2026-10"):
        res = {r.kpi: r for r in kpis.compute_month(ds, month, config())}
        for code in kpis.DRILL_DOWN_KPIS:
            r = res[code]
            if code == "winback":
                assert len(r.members) == r.value
                continue
            assert len(r.members) == r.denominator, code
            assert int(r.members["in_numerator"].sum()) == r.numerator, code


# ------------------------------------------------------------------------- helpers
def _random_dataset(seed: int, n: int = 80):
    """n vehicles delivered 2022-01..2026-09, each with ROs every ~2–9 months (km rising
    40/day), random kinds, appointment flags (some missing) and hand-back times."""
    rng = np.random.default_rng(seed)
    kinds = ["maintenance", "maintenance", "repair", "first_service", "other", "internal",
             "bodyshop", "warranty"]
    vs, ros = [], []
    for i in range(1, n + 1):
        delivered = T("2022-01-01") + pd.Timedelta(days=int(rng.integers(0, 1730)))
        status = "scrapped" if i % 17 == 0 else "active"
        vs.append(veh(i, delivery_date=delivered, vehicle_status=status,
                      brand=rng.choice(["丰田", "本田", None])))
        day = delivered + pd.Timedelta(days=int(rng.integers(30, 150)))
        k = 0
        while day <= T("2026-11-20"):
            kind = kinds[int(rng.integers(0, len(kinds)))]
            promised = day + pd.Timedelta(hours=17)
            late = pd.Timedelta(days=int(rng.integers(-1, 3)), hours=int(rng.integers(0, 5)))
            ros.append(ro(i, day, kind, n=k, mileage=float((day - delivered).days * 40),
                          amount=float(rng.integers(0, 2000)),
                          appointment=[True, False, None][int(rng.integers(0, 3))],
                          deleted=bool(rng.random() < 0.05),
                          promised_at=promised, delivered_at=promised + late))
            k += 1
            day = day + pd.Timedelta(days=int(rng.integers(60, 280)))
    return dataset(vs, ros=ros)


def test_visits_are_the_same_whether_ro_numbers_are_arrow_text_or_python_strs():
    """KpiInputs.visits, sorted by day, with the RO numbers of a cached dataset (Arrow
    text, taken as they are) or of a fresh parse (Python strs): the same frame."""
    import dataclasses

    ds = _random_dataset(7)
    ros = ds.repair_orders.copy()
    ros["ro_no"] = [f"RO{i:05d}" for i in range(len(ros))][::-1]  # not in day order
    as_object = dataclasses.replace(ds, repair_orders=ros.astype({"ro_no": object}))
    as_arrow = dataclasses.replace(ds, repair_orders=ros.astype({"ro_no": "str"}))
    cfg = config()
    a = kpis.KpiInputs(as_object, cfg).visits
    b = kpis.KpiInputs(as_arrow, cfg).visits
    pd.testing.assert_frame_equal(a, b)
    assert a["ro_no"].notna().sum() > 10
    visits = ros[ros["is_visit"].astype(bool)]
    want = dict(zip(visits["ro_no"], visits["vehicle_id"]))
    assert [want[r] for r in b["ro_no"]] == b["vehicle_id"].tolist()


def test_first_service_visit_is_the_first_service_visit_of_each_window():
    """KpiInputs.first_service_visit (首保率's lookup) against a scan of the visits: for
    windows before the data, inside it, after it, of a day, and of vehicles without
    visits, the earliest first-service or maintenance visit in the window, the first in
    the visits' order on a tie, -1 when none."""
    ds = _random_dataset(11, n=60)
    ros = ds.repair_orders
    # a second service visit on the day of an existing one: the tie goes to the first
    twin = ros[ros["kind"].eq("maintenance") & ros["is_visit"]].iloc[:3].assign(
        ro_no=lambda f: f["ro_no"] + "-twin", kind="first_service")
    ds = __import__("dataclasses").replace(
        ds, repair_orders=pd.concat([ros, twin], ignore_index=True))
    inp = kpis.KpiInputs(ds, config())
    v = inp.visits
    rng = np.random.default_rng(3)
    vids = np.r_[rng.integers(1, 64, 400), 1, 1, 1]  # 61-63: no visits at all
    lo = rng.integers(inp._dmin - 400, inp._dmin + inp._span + 100, len(vids))
    hi = lo + rng.integers(0, 500, len(vids))
    lo[-3:] = [-(10**6), -(10**6), inp.day[0]]  # every day twice; one day's window
    hi[-3:] = [10**6, 10**6, inp.day[0]]
    got = inp.first_service_visit(vids, lo, hi)
    service_kind = v["kind"].isin(kpis.SERVICE_KINDS).to_numpy()
    want = []
    for vid, a, b in zip(vids, lo, hi):
        rows = np.flatnonzero(service_kind & (v["vehicle_id"].to_numpy() == vid)
                              & (inp.day >= a) & (inp.day <= b))
        want.append(rows[np.argmin(inp.day[rows])] if len(rows) else -1)
    np.testing.assert_array_equal(got, want)
    assert (got >= 0).sum() > 50 and (got < 0).sum() > 50
    for row in twin["ro_no"]:  # a twin is never the pick: its original comes first
        assert row not in set(v["ro_no"].to_numpy(dtype=object)[got[got >= 0]])


def test_service_ros_are_computed_once_per_context():
    """service_ros is what the ROs give, once per context; replace() keeps it while the
    ROs stay and not when they change."""
    ds = _random_dataset(5, n=20)
    ctx = prepare(ds, T("2026-06-30"), config())
    a = service.service_ros(ctx)
    assert service.service_ros(ctx) is a
    ros = ctx.ros
    want = ros[~ros["deleted"] & ros["kind"].isin(service.SERVICE_KINDS)]
    assert a["_pos"].tolist() == [ros.index.get_loc(i) for i in want.index]
    assert service.service_ros(ctx.replace(vehicles=ctx.vehicles)) is a
    fewer = ctx.replace(ros=ctx.ros.iloc[: len(ros) // 2])
    assert len(service.service_ros(fewer)) < len(a)
