"""churn-<as_of>.xlsx (03-outputs.md): sheets, stable headers, chart, masking and who is
listed, written to tmp_path and read back with openpyxl. as_of 2026-11-20."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest

from aftercare.commands.churn import build
from aftercare.reports.churn_workbook import write_churn_workbook
from tests.rules.builders import config, dataset

AS_OF = dt.date(2026, 11, 20)
STABLE_ZH = ["VIN", "车牌号", "分段", "分段代码", "未回厂天数", "上次到店", "本地", "质保"]
STABLE_EN = ["vin", "plate", "band_label", "band", "days_since", "last_visit", "local",
             "warranty"]
BAND_SHEETS_ZH = ["3个月未回厂", "6个月未回厂", "9个月未回厂", "流失", "长期流失"]
BAND_SHEETS_EN = ["3 months", "6 months", "9 months", "Lost", "Long lost"]


def veh(i, **kw):
    return {"vehicle_id": i, "customer_key": f"c:{i}", "plate": f"粤B{i:05d}",
            "vin": f"VIN{i:014d}", "delivery_date": "2020-01-01", **kw}


def visit(i, date, **kw):
    return {"vehicle_id": i, "ro_no": f"R{i}-{date}", "open_date": date, "kind": "repair",
            "amount": 500.0, **kw}


@pytest.fixture
def ds():
    """Vehicle 1 active (visit 2026-11-01), 2 m3 (07-01), 3 m6 (04-20), 4 m9 (01-10),
    5 lost (2025-06-01), 6 long_lost (never back since 2020), 7 m3 but opted out,
    8 scrapped, 9 no date at all."""
    vs = [veh(i) for i in range(1, 8)] + [veh(8, vehicle_status="scrapped"),
                                           veh(9, delivery_date=None)]
    customers = [{"customer_key": f"c:{i}", "customer_name": f"客户{i}",
                  "mobile": f"1381234{i:04d}", "do_not_contact": i == 7} for i in range(1, 10)]
    ros = [visit(1, "2026-11-01"), visit(2, "2026-07-01"), visit(3, "2026-04-20"),
           visit(4, "2026-01-10"), visit(5, "2025-06-01"), visit(7, "2026-07-01")]
    return dataset(vs, customers, ros)


def write(ds, tmp_path, lang="zh", show_phones=False, cfg=None):
    res = build(ds, cfg or config(), as_of=AS_OF, lang=lang)
    path = write_churn_workbook(tmp_path / f"churn-{res['stem']}.xlsx", res, lang=lang,
                                show_phones=show_phones)
    return res, openpyxl.load_workbook(path)


def rows(ws):
    return list(ws.iter_rows(values_only=True))


def column(ws, header):
    values = rows(ws)
    j = values[0].index(header)
    return [r[j] for r in values[1:]]


def test_sheets_in_order(ds, tmp_path):
    """汇总, one call sheet per lapsed band, 全部车辆, 流失原因, 数据问题."""
    _, wb = write(ds, tmp_path)
    assert wb.sheetnames == ["汇总", *BAND_SHEETS_ZH, "全部车辆", "流失原因", "数据问题"]


def test_all_vehicles_stable_headers_first(ds, tmp_path):
    """全部车辆 starts with the stable columns of 03-outputs.md, in order."""
    _, wb = write(ds, tmp_path)
    assert list(rows(wb["全部车辆"])[0][:8]) == STABLE_ZH


def test_all_vehicles_lists_every_banded_vehicle_in_its_band(ds, tmp_path):
    """Every banded vehicle (the opted-out one too) is on 全部车辆 with its band code; the
    scrapped and the undated vehicle are not."""
    _, wb = write(ds, tmp_path)
    ws = wb["全部车辆"]
    bands = dict(zip(column(ws, "VIN"), column(ws, "分段代码")))
    assert bands == {f"VIN{1:014d}": "active", f"VIN{2:014d}": "m3", f"VIN{3:014d}": "m6",
                     f"VIN{4:014d}": "m9", f"VIN{5:014d}": "lost", f"VIN{6:014d}": "long_lost",
                     f"VIN{7:014d}": "m3"}
    days = dict(zip(column(ws, "VIN"), column(ws, "未回厂天数")))
    assert days[f"VIN{2:014d}"] == 142
    assert set(column(ws, "本地")) == {"未知"}  # no prefixes configured


def test_one_call_sheet_per_lapsed_band_without_opted_out(ds, tmp_path):
    """Each lapsed band's sheet lists its vehicles ranked from 1; the opted-out customer's
    m3 car is on no call sheet."""
    _, wb = write(ds, tmp_path)
    assert column(wb["3个月未回厂"], "车牌号") == ["粤B00002"]
    assert column(wb["3个月未回厂"], "排名") == [1]
    for name, plate in zip(BAND_SHEETS_ZH[1:], ["粤B00003", "粤B00004", "粤B00005",
                                                "粤B00006"]):
        assert column(wb[name], "车牌号") == [plate]
    listed = {p for name in BAND_SHEETS_ZH for p in column(wb[name], "车牌号")}
    assert "粤B00007" not in listed


def test_summary_counts_share_and_chart(ds, tmp_path):
    """汇总 has each band's count and share of the 7 banded vehicles, the opted-out and
    the counted-apart vehicles, and a native bar chart."""
    res, wb = write(ds, tmp_path)
    ws = wb["汇总"]
    counts = dict(zip(column(ws, "分段代码"), column(ws, "车辆数")))
    assert {k: counts[k] for k in ("active", "m3", "long_lost")} == {
        "active": 1, "m3": 2, "long_lost": 1}
    share = dict(zip(column(ws, "分段代码"), column(ws, "占比")))
    assert share["m3"] == pytest.approx(2 / 7)
    assert len(ws._charts) == 1
    s = res["summary"]
    assert (s["banded"], s["opted_out"], s["excluded"]["scrapped"],
            s["excluded"]["no_date"]) == (7, 1, 1, 1)


def test_phones_masked_unless_show_phones(ds, tmp_path):
    """Mobiles read 138****0002 on call sheets and 全部车辆; in full with show_phones."""
    _, wb = write(ds, tmp_path)
    assert column(wb["3个月未回厂"], "手机") == ["138****0002"]
    assert "13812340002" not in column(wb["全部车辆"], "手机")
    _, wb = write(ds, tmp_path, show_phones=True)
    assert column(wb["3个月未回厂"], "手机") == ["13812340002"]


def test_reasons_sheet_is_a_header_row(ds, tmp_path):
    """流失原因 has its header row and no rows until contact logs are read."""
    _, wb = write(ds, tmp_path)
    values = rows(wb["流失原因"])
    assert len(values) == 1 and "未回厂原因" in values[0]


def test_undated_vehicle_is_a_data_issue(ds, tmp_path):
    """The vehicle with neither a visit nor a delivery date is listed on 数据问题 in words."""
    _, wb = write(ds, tmp_path)
    reasons = column(wb["数据问题"], "原因")
    assert "没有交车日期也没有到店记录，无法分段" in reasons


def test_english_sheets_and_headers(ds, tmp_path):
    """lang='en': English sheet names, the stable English headers, English labels."""
    _, wb = write(ds, tmp_path, lang="en")
    assert wb.sheetnames == ["Summary", *BAND_SHEETS_EN, "All vehicles", "Churn reasons",
                             "Data issues"]
    ws = wb["All vehicles"]
    assert list(rows(ws)[0][:8]) == STABLE_EN
    assert set(column(ws, "local")) == {"unknown"}


def test_local_split_in_summary(ds, tmp_path):
    """With 粤B configured all 90–364-day cars (m3 ×2, m6, m9) are 本地 and out of
    warranty (delivered 2020-01-01): the matrix's 本地 × 出保 cell is 4."""
    _, wb = write(ds, tmp_path, cfg=config(churn={"local_plate_prefixes": ["粤B"]}))
    ws = wb["汇总"]
    labels, out = column(ws, "90–364天"), column(ws, "出保")
    assert out[labels.index("本地")] == 4
