"""The effects of filled contact logs (aftercare.logs.effects): who each row is, what
counts at as_of, and each effect — opt-outs, wrong and new numbers, SMS fallback,
no-shows, done elsewhere, sold/scrapped, moved, agent continuity — and the rules' use of
them."""

from __future__ import annotations

import pandas as pd

from aftercare.logs import effects as E
from aftercare.rules import service
from aftercare.rules.context import prepare
from aftercare.rules.month import month_list
from tests.logs.helpers import call, read
from tests.rules.builders import config, dataset

T = pd.Timestamp
AS_OF = T("2026-10-31")


def ds_(ros=(), **cust_kw):
    """Three customers: C1 (one car, 粤B1), C2 (two cars, 粤B2 and 粤B3), C3 (粤B4), all
    delivered 2026-07-28 (first service due 2026-10-28, contact date 10-14)."""
    vehicles = [{"vehicle_id": i, "customer_key": k, "plate": p, "vin": f"VIN{i:014d}",
                 "delivery_date": "2026-07-28"}
                for i, (k, p) in enumerate([("c:C1", "粤B1"), ("c:C2", "粤B2"), ("c:C2", "粤B3"),
                                            ("c:C3", "粤B4")])]
    customers = [{"customer_key": f"c:C{i}", "customer_id": f"C{i}",
                  "mobile": f"1380000000{i}", **cust_kw.get(f"C{i}", {})} for i in (1, 2, 3)]
    return dataset(vehicles, customers, ros)


def effects_of(records, ds=None, as_of=AS_OF, register=None):
    ds = ds or ds_()
    rows, _ = read(records)
    rows, issues = E.match(rows, ds)
    return E.compute(rows, ds, as_of, register=register), rows, issues


def test_rows_match_by_id_else_mobile_else_plate_and_edited_keys_are_issues():
    """Customer id first, then mobile, then plate/VIN; a filled row matching nobody, or
    saying 已卖车 of a car nobody has, is a data issue."""
    ds = ds_()
    rows, _ = read([call("a", "C1", "粤B1"), call("b", "X", "粤B9", mobile="13800000002"),
                    call("c", None, "粤B4"), call("d", "X", "粤Z1", result="已预约"),
                    call("e", "C1", "粤Z2", result="sold")])
    rows, issues = E.match(rows, ds)
    assert rows["customer_key"].tolist() == ["c:C1", "c:C2", "c:C3", None, "c:C1"]
    assert rows["vehicle_id"].tolist()[:3] == [0, pd.NA, 3]
    assert issues[["row", "field", "reason"]].values.tolist() == [
        [5, "customer_id", "log_no_match"], [6, "plate", "log_vehicle_no_match"]]


def test_no_log_rows_match_nothing_without_building_lookups():
    """No log rows: the same columns, dtypes and (empty) issues as matching one row that
    is then dropped, and the customers and vehicles are not looked at."""
    rows, _ = read([call("a", "C1", "粤B1")])
    full_rows, full_issues = E.match(rows, ds_())

    class Untouchable:
        def __getattr__(self, name):
            raise AssertionError(f"looked at ds.{name}")

    rows0, issues0 = E.match(rows.iloc[:0], Untouchable())
    assert list(rows0.columns) == list(full_rows.columns)
    assert rows0.dtypes.to_dict() == full_rows.dtypes.to_dict()
    assert list(issues0.columns) == list(full_issues.columns) and issues0.empty
    assert E.compute(rows0, ds_(), AS_OF).opted_out == frozenset()


def test_opt_out_on_any_row_applies_to_the_customer_whenever_dated():
    """拒绝联系 on one row of C2's two-car call opts C2 out, even dated after as_of; so
    does a register entry (by id or by number)."""
    eff, _, _ = effects_of([
        call("a", "C2", "粤B2"),
        call("a", "C2", "粤B3", attempt1_result="拒绝联系", attempt1_date="2026-11-20")])
    assert eff.opted_out == {"c:C2"}
    reg = pd.DataFrame({"customer_id": [None], "mobile": ["13800000003"], "plate": [None],
                        "date": ["2026-01-01"], "source": ["x"]})
    eff, _, _ = effects_of([call("b", "C1", "粤B1")], register=reg)
    assert eff.opted_out == {"c:C3"}


def test_entries_after_as_of_do_not_count():
    """An attempt dated after as_of is ignored, and the row's result with it."""
    eff, _, _ = effects_of([call("a", "C1", "粤B1", attempt1_result="已卖车",
                                 attempt1_date="2026-11-02")])
    assert eff.gone.empty
    eff, _, _ = effects_of([call("a", "C1", "粤B1", attempt1_result="已卖车",
                                 attempt1_date="2026-10-30")])
    assert eff.gone.to_dict() == {0: "sold"}


def test_wrong_number_until_a_new_number_or_a_changed_export():
    """空号 keeps C1 on the wrong list while the number in use is the one logged; a 新号码
    or an export with another number clears it."""
    wrong = call("a", "C1", "粤B1", mobile="13800000001", attempt1_result="空号/错号")
    eff, _, _ = effects_of([wrong])
    assert eff.wrong_numbers.to_dict() == {"c:C1": "13800000001"}
    eff, _, _ = effects_of([{**wrong, "new_mobile": "13900000001"}])
    assert eff.wrong_numbers.empty and eff.new_mobiles.to_dict() == {"c:C1": "13900000001"}
    eff, _, _ = effects_of([wrong], ds=ds_(C1={"mobile": "13700000001"}))
    assert eff.wrong_numbers.empty


def test_new_number_is_used_until_the_export_brings_an_unseen_one():
    """The latest 新号码 replaces the number (also in the data the rules see), unless the
    export now holds a number the logs never saw."""
    rows = [call("a", "C1", "粤B1", mobile="13800000001", new_mobile="13900000001",
                 result="reached_later", attempt1_date="2026-10-08"),
            call("b", "C1", "粤B1", mobile="13900000001", new_mobile="13900000011",
                 result="reached_later", attempt1_date="2026-10-20")]
    eff, _, _ = effects_of(rows)
    assert eff.new_mobiles.to_dict() == {"c:C1": "13900000011"}
    applied = E.apply(ds_(), eff).customers.set_index("customer_key")
    assert applied.loc["c:C1", "mobile"] == "13900000011"
    assert applied.loc["c:C1", "mobile_type"] == "mobile"
    eff, _, _ = effects_of(rows, ds=ds_(C1={"mobile": "13700000001"}))
    assert eff.new_mobiles.empty


def test_three_failed_attempts_go_to_sms_unless_reached_since():
    """No answer, busy, no answer in one call whose third attempt fell in the month before
    as_of: SMS; reached later, only two failures, or failed too long ago: not."""
    failed = dict(attempt1_result="无人接听", attempt2_result="busy", attempt3_result="no_answer")
    eff, _, _ = effects_of([call("a", "C1", "粤B1", **failed),
                            call("b", "C2", "粤B2", **{**failed, "attempt3_result": None}),
                            call("c", "C3", "粤B4", **failed, plan="2026-09-01")])
    assert eff.sms["customer_key"].tolist() == ["c:C1"]
    assert eff.sms["failed_on"].tolist() == [T("2026-10-10")]
    eff, _, _ = effects_of([call("a", "C1", "粤B1", **failed),
                            call("z", "C1", "粤B1", result="已预约", plan="2026-10-20")])
    assert eff.sms.empty


def test_no_show_when_no_visit_within_three_days_of_the_booking():
    """Booked 10-15: a visit on 10-13 keeps it (either side); one on 10-19 does not."""
    booked = call("a", "C1", "粤B1", attempt1_result="已预约", booked_date="2026-10-15")
    for day, expected in (("2026-10-13", []), ("2026-10-19", ["c:C1"]), (None, ["c:C1"])):
        ros = [{"vehicle_id": 0, "ro_no": "R1", "open_date": day}] if day else []
        eff, _, _ = effects_of([booked], ds=ds_(ros))
        assert eff.no_shows["customer_key"].tolist() == expected, day
    eff, _, _ = effects_of([booked], as_of=T("2026-10-17"))  # window not closed yet
    assert eff.no_shows.empty


def test_done_elsewhere_closes_first_service_and_is_the_new_maintenance_basis():
    """已在他店保养 with 他店日期 2026-10-05 and 4000 km: no first service any more; the
    next maintenance is due by time or km from that service, which is not a visit."""
    ds = ds_()
    eff, _, _ = effects_of([call("a", "C1", "粤B1", result="done_elsewhere",
                                 other_shop="途虎 宝安 ¥380", other_shop_date="2026-10-05",
                                 other_shop_km="4000")], ds=ds)
    assert eff.closures[["vehicle_id", "kind"]].values.tolist() == [[0, "first_service"]]
    applied = E.apply(ds, eff)
    ctx = prepare(applied, AS_OF, config())
    assert 0 not in set(service.first_service(ctx)[0]["vehicle_id"])
    m = service.maintenance(ctx).set_index("vehicle_id")
    # 4000 km in 69 days → 57.97 km/day; 9000 km after 5000 / 57.97 = 86.3 → 87 days
    assert m.loc[0, "due_date"] == T("2026-12-31")
    assert m.loc[0, "basis"] == "mileage"
    assert 0 not in set(ctx.visits["vehicle_id"])


def test_done_elsewhere_without_a_date_closes_only_the_listed_reminders():
    """Without 他店日期 nothing becomes a basis; the first service is closed for good, a
    recurring kind only up to its month end plus lead days."""
    eff, _, _ = effects_of([call("a", "C1", "粤B1", kinds="first_service;insurance",
                                 result="已在他店保养")])
    assert eff.services.empty
    assert sorted(eff.closures["kind"]) == ["first_service", "insurance"]
    cands = pd.DataFrame({"vehicle_id": [0, 0, 0, 1], "kind": ["first_service", "insurance",
                                                               "insurance", "first_service"],
                          "due_date": [T("2027-05-01"), T("2026-12-14"), T("2027-12-20"),
                                       T("2026-10-20")]})
    from aftercare.rules.month import drop_closed

    kept = drop_closed(cands, eff, config())
    # insurance closed up to 10-31 + 45 lead days = 12-15
    assert kept[["vehicle_id", "kind"]].values.tolist() == [[0, "insurance"],
                                                            [1, "first_service"]]


def test_sold_applies_to_the_row_vehicle_moved_to_the_customer():
    """已卖车 on C2's first car marks that car only; 外迁 marks all of C3's cars; the
    rules then leave the sold car out."""
    eff, _, _ = effects_of([call("a", "C2", "粤B2", attempt1_result="已卖车"),
                            call("a", "C2", "粤B3"),
                            call("b", "C3", "粤B4", result="外迁")])
    assert eff.gone.to_dict() == {1: "sold"} and eff.moved == {3}
    applied = E.apply(ds_(), eff)
    v = applied.vehicles.set_index("vehicle_id")
    assert v["vehicle_status"].tolist() == ["active", "sold", "active", "active"]
    assert v["moved"].tolist() == [False, False, False, True]
    lst = month_list(prepare(applied, T("2026-09-30"), config()), "2026-10", eff)
    assert 1 not in set(lst.reminders["vehicle_id"]) and 2 in set(lst.reminders["vehicle_id"])


def test_wrong_number_customer_goes_to_fix_data_with_or_without_a_reminder():
    """The month list routes C1 (wrong number, a reminder) and C3 (wrong number, none in
    the list) to 待修正资料; C2 is called."""
    ds = ds_()
    ds.vehicles.loc[3, "delivery_date"] = T("2024-01-01")  # C3: nothing due in October
    eff, _, _ = effects_of([call("a", "C1", "粤B1", mobile="13800000001", result="空号"),
                            call("b", "C3", "粤B4", mobile="13800000003", result="错号")], ds=ds)
    lst = month_list(prepare(ds, T("2026-09-30"), config()), "2026-10", eff)
    fix = lst.fix_data[lst.fix_data["reason"] == "wrong_number"]
    assert sorted(fix["customer_key"]) == ["c:C1", "c:C3"]
    assert fix.set_index("customer_key").loc["c:C3", "kind"] is None
    assert set(lst.reminders["customer_key"]) == {"c:C2"}
    assert lst.excluded["wrong_number"] == 1


def test_the_agent_who_last_handled_the_customer():
    """A filled row beats a later row nobody touched; among filled rows the latest."""
    eff, _, _ = effects_of([
        call("a", "C1", "粤B1", agent="甲", result="reached_later", plan="2026-10-02"),
        call("b", "C1", "粤B1", agent="乙", plan="2026-10-20"),
        call("c", "C2", "粤B2", agent="甲", result="busy", plan="2026-10-02"),
        call("d", "C2", "粤B2", agent="丙", result="busy", plan="2026-10-09")])
    assert eff.previous_agents.to_dict() == {"c:C1": "甲", "c:C2": "丙"}


def test_reasons_are_kept_per_vehicle():
    """未回厂原因 and 他店信息 rows are kept with their vehicle, date, agent and result."""
    eff, _, _ = effects_of([call("a", "C1", "粤B1", result="拒绝", reason="价格贵",
                                 attempt1_date="2026-10-09")])
    r = eff.reasons.iloc[0]
    assert (r["vehicle_id"], r["reason"], r["outcome"], r["log_date"]) == (
        0, "价格贵", "reached_declined", T("2026-10-09"))


def test_no_logs_no_effects():
    """Without log rows the effects are empty and applying them changes nothing but the
    added ``moved`` column."""
    ds = ds_()
    rows, _ = read([])
    rows, issues = E.match(rows, ds)
    eff = E.compute(rows, ds, AS_OF)
    assert issues.empty and not eff.opted_out and eff.sms.empty and eff.closures.empty
    applied = E.apply(ds, eff)
    assert applied.repair_orders.equals(ds.repair_orders)
    assert not applied.vehicles["moved"].any()


def test_a_sold_car_with_a_new_owner_in_the_export_is_not_gone():
    """C1 said 已卖车 of 粤B1; the export now shows 粤B1 with C3 (who came to the shop):
    the car is C3's, not gone."""
    ds = ds_()
    ds.vehicles.loc[0, "customer_key"] = "c:C3"
    eff, _, _ = effects_of([call("a", "C1", "粤B1", result="已卖车")], ds=ds)
    assert eff.gone.empty
