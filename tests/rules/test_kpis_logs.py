"""The list KPIs of 04-kpis.md on a small worked example (October 2026): 提醒完成率 per
kind, 接通率, 预约成功率, 招揽回厂率, 3DC 回访率, 未回厂原因, the other-shop and per-agent
tables, and "no data" without logs."""

from __future__ import annotations

import openpyxl
import pandas as pd
import pytest

from aftercare.logs import effects as E
from aftercare.reports.report_workbook import report_sheets
from aftercare.rules import kpis
from aftercare.rules.list_kpis import parse_other_shop
from aftercare.writer import write_workbook
from tests.logs.helpers import call, read
from tests.rules.builders import config, dataset

T = pd.Timestamp


def _ds():
    """Five cars of four customers. Car 0 visits 10-16 (closed 10-17); car 3 on 10-05,
    before its call; car 2 on 11-20, after October."""
    plates = [("c:C1", "粤B1"), ("c:C2", "粤B2"), ("c:C2", "粤B3"), ("c:C3", "粤B4"),
              ("c:C4", "粤B5")]
    vehicles = [{"vehicle_id": i, "customer_key": k, "plate": p, "vin": f"VIN{i:014d}",
                 "delivery_date": "2025-01-10"} for i, (k, p) in enumerate(plates)]
    customers = [{"customer_key": f"c:C{i}", "customer_id": f"C{i}",
                  "mobile": f"1380000000{i}"} for i in range(1, 5)]
    ros = [{"vehicle_id": 0, "ro_no": "R1", "open_date": "2026-10-16",
            "close_date": "2026-10-17"},
           {"vehicle_id": 3, "ro_no": "R2", "open_date": "2026-10-05", "kind": "repair",
            "close_date": "2026-10-05"},
           {"vehicle_id": 2, "ro_no": "R3", "open_date": "2026-11-20"}]
    return dataset(vehicles, customers, ros)


RECORDS = [
    # call a (甲): no answer, then booked
    call("2026-10-00001", "C1", "粤B1", kinds="first_service;insurance", agent="甲",
         attempt1_result="无人接听", attempt1_date="2026-10-08", attempt2_result="已预约",
         attempt2_date="2026-10-09", booked_date="2026-10-15"),
    # call b (甲), two cars: declined, with reasons and the shop they go to
    call("2026-10-00002", "C2", "粤B2", kinds="maintenance", agent="甲", plan="2026-10-12",
         attempt1_result="拒绝", reason="价格贵、路途远", other_shop="途虎养车 宝安店 ¥380"),
    call("2026-10-00002", "C2", "粤B3", kinds="maintenance", agent="甲", plan="2026-10-12"),
    # call c (乙): three times no answer
    call("2026-10-00003", "C3", "粤B4", kinds="first_service", agent="乙",
         attempt1_result="no_answer", attempt2_result="busy", attempt3_result="no_answer"),
    # call d (乙): its only attempt is dated in November
    call("2026-10-00004", "C4", "粤B5", kinds="maintenance", agent="乙",
         attempt1_result="已预约", attempt1_date="2026-11-02"),
    # a 3DC day list: car 0's visit followed up on 10-19
    call("2026-10-19-00001", "C1", "粤B1", kinds="followup", month="2026-10-19", agent="甲",
         plan="2026-10-19", attempt1_result="reached_later"),
]


@pytest.fixture(scope="module")
def report():
    ds = _ds()
    rows, _ = read(RECORDS)
    rows, _ = E.match(rows, ds)
    return kpis.compute_report(ds, "2026-10", config(), logs=rows, trend_months=2)


def by(report):
    return report.by_code()


def frac(r):
    return (r.numerator, r.denominator)


def test_reminder_completion_per_kind(report):
    """A reminder counts when its call has an attempt logged by the end of October:
    first service 2/2, insurance 1/1, maintenance 2/3 (call d's attempt is November's),
    warranty none: "—"."""
    b = by(report)
    assert frac(b["reminder_completion_first_service"]) == (2, 2)
    assert frac(b["reminder_completion_insurance"]) == (1, 1)
    assert frac(b["reminder_completion_maintenance"]) == (2, 3)
    assert b["reminder_completion_maintenance"].status == "not_met"
    w = b["reminder_completion_warranty"]
    assert w.value is None and w.denominator == 0 and w.no_data is None


def test_reach_and_booking_rates(report):
    """Four calls, two reached (a booked, b declined), one booked: 50% and 50%."""
    b = by(report)
    assert frac(b["reach_rate"]) == (2, 4) and b["reach_rate"].value == 0.5
    assert frac(b["booking_rate"]) == (1, 2)
    assert sorted(b["reach_rate"].members["call_id"]) == [
        "2026-10-00001", "2026-10-00002", "2026-10-00003", "2026-10-00004"]


def test_reminder_return_rate(report):
    """Reminded cars 0, 1, 2, 3 (calls with an attempt); car 0 came back 8 days after its
    first attempt; car 3 came before its call; car 2 after October (cut): 1/4, 暂定."""
    r = by(report)["reminder_return_rate"]
    assert frac(r) == (1, 4) and r.provisional
    m = r.members.set_index("vehicle_id")
    assert m.loc[0, "visit_date"] == T("2026-10-16") and m.loc[0, "in_numerator"]
    assert m.loc[0, "first_attempt"] == T("2026-10-08")
    assert m.loc[3, "window_end"] == T("2026-10-31")


def test_followup_rate(report):
    """Visits closed in October: car 0 (10-17, followed up 10-19, within 3 working days)
    and car 3 (10-05, no follow-up): 1/2."""
    r = by(report)["followup_rate"]
    assert frac(r) == (1, 2)
    m = r.members.set_index("vehicle_id")
    assert m.loc[0, "followup_date"] == T("2026-10-19")
    assert m.loc[0, "followup_due"] == T("2026-10-21")


def test_reasons_other_shops_and_agents(report):
    """未回厂原因 counts the rows with a reason; the tables split 价格贵、路途远, parse the
    shop, place and price, and sum calls per agent."""
    assert by(report)["no_return_reasons"].value == 1
    t = report.log_tables
    assert t["reasons"][["reason", "count"]].values.tolist() == [["价格贵", 1], ["路途远", 1]]
    assert t["other_shops"][["shop", "place", "count", "avg_price"]].values.tolist() == [
        ["途虎养车", "宝安店", 1, 380.0]]
    a = t["agents"].set_index("agent")
    assert a.loc["甲", ["calls", "reached", "booked", "reminded", "returned"]].tolist() == [
        2, 2, 1, 3, 1]
    assert a.loc["乙", ["calls", "reached", "booked", "reminded", "returned"]].tolist() == [
        2, 0, 0, 1, 0]
    assert a.loc["甲", "reach_rate"] == 1.0


def test_a_month_without_logs_has_no_data(report):
    """September (no log of it) shows "no data" for every list KPI."""
    prev = report.prev_month
    for code in (*kpis.CONTACT_LOG_KPIS, "no_return_reasons"):
        assert prev[code].no_data == "contact_logs", code


def test_without_any_log_every_list_kpi_says_no_data():
    """No logs at all: the list KPIs are "no data: needs contact logs"."""
    res = {r.kpi: r for r in kpis.compute_month(_ds(), "2026-10", config())}
    for code in (*kpis.CONTACT_LOG_KPIS, "no_return_reasons"):
        assert res[code].no_data == "contact_logs" and res[code].value is None


def test_other_shop_text_parsing():
    """Shop, place and price from what staff type; no price, no place: missing."""
    p = parse_other_shop(pd.Series(["途虎养车 宝安店 ¥380", "小修理厂，龙华 200元",
                                         "4S店", None]))
    assert p.iloc[:2].values.tolist() == [["途虎养车", "宝安店", 380.0], ["小修理厂", "龙华", 200.0]]
    assert p.iloc[2, 0] == "4S店" and p.iloc[2, 1:].isna().all() and p.iloc[3].isna().all()


def test_report_workbook_has_the_list_sheets(report, tmp_path):
    """The report gains the list drill-downs and the contact-log tables; 首保提醒率 has a
    value on 指标."""
    sheets, extra = report_sheets(report, pd.DataFrame(), "zh")
    path = write_workbook(tmp_path / "r.xlsx", sheets, extra=extra)
    wb = openpyxl.load_workbook(path, read_only=True)
    assert {"提醒完成率明细", "接通率明细", "招揽回厂率明细", "3DC回访率明细", "未回厂原因", "他店分析",
            "坐席统计"} <= set(wb.sheetnames)
    rows = {r[1]: r for r in wb["指标"].iter_rows(min_row=2, values_only=True)}
    assert rows["reminder_completion_first_service"][2] == 1.0
    drill = list(wb["提醒完成率明细"].iter_rows(values_only=True))
    assert len(drill) - 1 == 2 + 1 + 3  # first service, insurance, maintenance reminders
