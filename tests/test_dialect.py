"""An export in a DMS dialect the built-in samples do not use (BHMC-style headers under a
title row, yonyou-style compact dates, a GBK CSV plus an overlapping xlsx) gives exactly
the reminders the spec defines, in a month with national holidays and in a December that
reaches into a year the calendar package does not cover."""

import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from aftercare.cli import run


def write_xlsx(path: Path, rows):
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    wb.save(path)


@pytest.fixture()
def folder(tmp_path):
    data = tmp_path / "导出"
    data.mkdir()
    write_xlsx(data / "VehicleBaseinfoList.xlsx", [
        ["车辆基准信息"], [],
        ["序号", "车辆识别码", "车牌号码", "车辆品牌", "车种名称", "零售日期", "保修结束日期",
         "客户编号", "客户名", "移动电话", "商业险到期日期"],
        ["${item.rnum}", "${item.vinNo}", "${item.carRegNo}", "", "", "", "", "", "", "", ""],
        [1, "", "粤B10001", "奇瑞", "艾瑞泽", "20260725", "", "K1", "赵一", "13900000001", ""],
        [2, "", "粤B10002", "奇瑞", "瑞虎", "20250801", "", "K2", "钱二", "13900000002", ""],
        [3, "", "粤B10003", "奇瑞", "瑞虎", "20190301", "", "K3", "孙三", "13900000003",
         "2024-11-20"],
        [4, "", "粤B10004", "奇瑞", "瑞虎", "20190301", "", "K4", "李四", "13900000004",
         "2026-11-24"],
        [5, "", "粤B10005", "奇瑞", "瑞虎", "20240131", "20270131", "K5", "周五",
         "13900000005", ""],
    ])
    csv = ("服务历史查询\n"
           "维修委托号码,车牌号码,维修委托时间,接车行驶里程,维修委托类型,最终结算金额\n"
           "W001,粤B10002,2025/11/1 10:20,5000,首次保养,0\n"
           "W002,粤B10002,2026/4/15 09:00,0.6万,定期保养,500\n"
           "合计,,,,,500\n")
    (data / "服务历史_2025.csv").write_bytes(csv.encode("gbk"))
    write_xlsx(data / "服务历史_2026.xlsx", [
        ["维修委托号码", "车牌号码", "维修委托时间", "接车行驶里程", "维修委托类型", "最终结算金额"],
        ["W002", "粤B10002", dt.datetime(2026, 4, 15, 9), 6000, "定期保养", 520],
    ])
    return data


def reminders(out: Path, stem: str):
    wb = openpyxl.load_workbook(out / f"due-{stem}.xlsx", read_only=True)
    rows = list(wb["提醒明细"].iter_rows(min_row=2, values_only=True))
    # (plate, kind, due date, contact date, basis)
    return sorted((r[3], r[7], r[8].date(), r[9].date(), r[10]) for r in rows)


def test_october_with_national_day(folder, tmp_path):
    """October 2026, planned 09-20: a first service due 10-25 (contact Sunday 10-11 → the
    make-up Saturday 10-10); a maintenance due 10-15 (6 months after 04-15; 11,000 km only
    on 11-16 at 6,000 km / 257 days) contacted 10-08; insurance expiring 11-24 contacted
    10-10; insurance expiring 11-20 would be contacted on the holiday 10-06, so it moved back
    to 09-30 and belongs to September."""
    out = tmp_path / "out"
    assert run(["due", "--month", "2026-10", "--data", str(folder), "--out", str(out),
                "--as-of", "2026-09-20", "--quiet"]) == 0
    D = dt.date
    assert reminders(out, "2026-10") == [
        ("粤B10001", "first_service", D(2026, 10, 25), D(2026, 10, 10), "time"),
        ("粤B10002", "maintenance", D(2026, 10, 15), D(2026, 10, 8), "time"),
        ("粤B10004", "insurance", D(2026, 11, 24), D(2026, 10, 10), "date"),
    ]


def test_december_reaching_into_2027(folder, tmp_path):
    """December 2026, planned 11-20: a warranty ending 2027-01-31 would be contacted on
    2027-01-01, a holiday in the fallback calendar, so on 2026-12-31; nothing else is due."""
    out = tmp_path / "out"
    assert run(["due", "--month", "2026-12", "--data", str(folder), "--out", str(out),
                "--as-of", "2026-11-20", "--quiet"]) == 0
    assert reminders(out, "2026-12") == [
        ("粤B10005", "warranty", dt.date(2027, 1, 31), dt.date(2026, 12, 31), "date")]
