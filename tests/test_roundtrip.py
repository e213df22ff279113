"""The contact-log round trip end to end (03-outputs.md "Contact log"): `due` writes the
December 2026 logs of a small hand-made folder, staff fill them in (codes and Chinese
labels, dates as text, numbers and real dates, rows left empty, a row typed in, one file
renamed), and the January list, churn and a later list show every effect."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import openpyxl
import pytest

from aftercare.cli import run
from tests.logs.folder import CUSTOMERS, add_visit, write_folder

# (customer id, plate or None for every row of the customer) → header → value
FILL = {
    ("C01", None): {"第1次结果": "拒绝联系", "第1次日期": dt.datetime(2026, 12, 4, 10, 5)},
    ("C02", None): {"第1次结果": "空号/错号"},  # dated as planned
    ("C03", None): {"第1次结果": "wrong_number", "第1次日期": "2026-12-04",
                    "新号码": "139 0000 0003"},
    ("C04", None): {"第1次结果": "考虑", "新号码": "13900000004", "备注": "换了新号"},
    ("C05", None): {"第1次结果": "no_answer", "第1次日期": "2026/12/4", "第2次结果": "占线/挂断",
                    "第2次日期": "12.7", "第3次结果": "无人接听", "第3次日期": 12.8},
    ("C06", None): {"第1次结果": "已预约", "预约日期": "2026-12-15"},
    ("C07", None): {"结果代码": "reached_booked", "第1次日期": "2026-12-04",
                    "预约日期": dt.date(2026, 12, 16)},
    ("C08", None): {"第1次结果": "已在他店保养", "他店信息": "途虎养车 宝安店 ¥380",
                    "他店日期": "2026-12-05", "他店里程": "3000公里"},
    ("C09", "粤B10009"): {"第1次结果": "已卖车"},  # the other car's row stays empty
    ("C10", None): {"第1次结果": "外迁", "未回厂原因": "工作调动"},
    ("C11", None): {"第1次结果": "拒绝", "未回厂原因": "路途远"},
    ("C12", None): {"结果代码": "scrapped"},
    ("C13", None): {"第1次结果": "打不通了", "第2次日期": "2026-13-45"},
}
TYPED_IN = {"客户编号": "X99", "手机": "13000000000", "车牌号": "粤Z99999", "结果代码": "已预约"}


def fill_logs(out: Path) -> None:
    """Fill every December log the way staff would, then rename 乙's."""
    for path in sorted(out.glob("log-2026-12-*.xlsx")):
        wb = openpyxl.load_workbook(path)
        ws = wb["联系记录"]
        header = [c.value for c in ws[1]]
        col = {h: j + 1 for j, h in enumerate(header)}
        for r in range(2, ws.max_row + 1):
            cid = ws.cell(r, col["客户编号"]).value
            plate = ws.cell(r, col["车牌号"]).value
            cells = FILL.get((cid, plate)) or FILL.get((cid, None)) or {}
            for h, v in cells.items():
                ws.cell(r, col[h], v)
        if path.name.endswith("甲.xlsx"):  # a row typed in whose keys match nobody
            r = ws.max_row + 1
            for h, v in TYPED_IN.items():
                ws.cell(r, col[h], v)
        wb.save(path)
    (out / "log-2026-12-乙.xlsx").rename(out / "12月回访-乙.xlsx")


def sheets(path: Path) -> dict[str, list[dict]]:
    wb = openpyxl.load_workbook(path, read_only=True)
    out = {}
    for ws in wb.worksheets:
        rows = list(ws.iter_rows(values_only=True))
        out[ws.title] = [dict(zip(rows[0], r)) for r in rows[1:]] if rows else []
    return out


def ids(rows: list[dict]) -> set:
    return {r.get("客户编号") for r in rows}


@pytest.fixture(scope="module")
def trip(tmp_path_factory):
    base = tmp_path_factory.mktemp("trip")
    data, out = write_folder(base / "data"), base / "out"
    common = ["--data", str(data), "--out", str(out), "--quiet"]
    assert run(["due", "--month", "2026-12", "--as-of", "2026-11-20", "--agents", "甲,乙",
                *common]) == 0
    december = sheets(out / "due-2026-12.xlsx")
    fill_logs(out)
    add_visit(data, "粤B10007", "2026-12-17")  # C07 kept the booking
    # the agents listed the other way round: round-robin alone would swap them
    assert run(["due", "--month", "2027-01", "--as-of", "2026-12-31", "--agents", "乙,甲",
                *common]) == 0
    january = sheets(out / "due-2027-01.xlsx")
    cfg = base / "aftercare.toml"
    cfg.write_text('[churn]\nlocal_plate_prefixes = ["粤B"]\n', encoding="utf-8")
    return {"data": data, "out": out, "dec": december, "jan": january, "cfg": cfg,
            "common": common, "base": base}


def test_opted_out_customer_is_never_listed_again_and_registered(trip):
    """C01 said 拒绝联系: absent from every sheet and log of the next list, and recorded in
    opt-outs.csv, which keeps working once the logs are gone."""
    jan, out = trip["jan"], trip["out"]
    assert "C01" in ids(trip["dec"]["呼叫清单"])
    for name in ("呼叫清单", "提醒明细", "待修正资料", "短信名单", "预约未到"):
        assert "C01" not in ids(jan[name]), name
    for log in out.glob("log-2027-01-*.xlsx"):
        assert "C01" not in ids(sheets(log)["联系记录"])
    register = (out / "opt-outs.csv").read_text(encoding="utf-8-sig").splitlines()
    assert register[0] == "customer_id,mobile,plate,date,source"
    assert [line.split(",")[:4] for line in register[1:]] == [
        ["C01", "13800000001", "粤B10001", "2026-12-04"]]
    clean = trip["base"] / "clean-out"
    clean.mkdir()
    shutil.copy(out / "opt-outs.csv", clean / "opt-outs.csv")  # the logs deleted
    assert run(["due", "--month", "2027-01", "--as-of", "2026-12-31", "--data",
                str(trip["data"]), "--out", str(clean), "--quiet"]) == 0
    again = sheets(clean / "due-2027-01.xlsx")
    assert "C01" not in ids(again["呼叫清单"]) | ids(again["提醒明细"])
    assert "C03" in ids(again["呼叫清单"])


def test_wrong_number_goes_to_fix_data_even_without_a_reminder(trip):
    """C02's number was marked wrong and C02 has no reminder in January: one 待修正资料
    row with reason wrong_number; C03, wrong but with a 新号码, is called on the new one."""
    jan = trip["jan"]
    wrong = [r for r in jan["待修正资料"] if r["原因代码"] == "wrong_number"]
    assert [(r["客户编号"], r["手机"], r["车牌号"]) for r in wrong] == [
        ("C02", "13800000002", "粤B10002")]
    assert "C02" not in ids(jan["提醒明细"])
    calls = {r["客户编号"]: r for r in jan["呼叫清单"]}
    assert calls["C03"]["手机"] == "13900000003"


def test_wrong_number_clears_when_the_export_changes(trip, tmp_path):
    """Once a later export brings C02 a different number, C02 leaves 待修正资料."""
    data = tmp_path / "data"
    shutil.copytree(trip["data"], data)
    write_folder(data, mobiles={"C02": "13700000002"})
    out = tmp_path / "out"
    shutil.copytree(trip["out"], out)
    assert run(["due", "--month", "2027-01", "--as-of", "2026-12-31", "--data", str(data),
                "--out", str(out), "--quiet", "--force"]) == 0
    fix = sheets(out / "due-2027-01.xlsx")["待修正资料"]
    assert not [r for r in fix if r["原因代码"] == "wrong_number"]


def test_new_number_is_used(trip):
    """C04's logged 新号码 is the number on the next call list and log."""
    calls = {r["客户编号"]: r for r in trip["jan"]["呼叫清单"]}
    assert calls["C04"]["手机"] == "13900000004"


def test_three_failed_attempts_put_the_customer_on_the_sms_list(trip):
    """C05 (无人接听, 占线, 无人接听) is on 短信名单 with the [sms] first-service text."""
    sms = trip["jan"]["短信名单"]
    assert [r["客户编号"] for r in sms] == ["C05"]
    row = sms[0]
    assert row["手机"] == "13800000005" and row["车牌号"] == "粤B10005"
    assert row["短信内容"].startswith("【客服中心】钱五您好，您的爱车粤B10005首次免费保养")
    assert row["第3次未接通日期"] == dt.datetime(2026, 12, 8)


def test_booked_customer_who_did_not_come_is_a_no_show(trip):
    """C06 booked 12-15 and never came; C07 booked 12-16 and came 12-17: only C06."""
    rows = trip["jan"]["预约未到"]
    assert [(r["客户编号"], r["预约日期"]) for r in rows] == [("C06", dt.datetime(2026, 12, 15))]


def test_done_elsewhere_closes_first_service_sold_and_scrapped_are_excluded(trip):
    """January's overdue first services: C08 (done elsewhere), C07 (came), C09's sold car
    and C12's scrapped car are gone; C09's other car stays."""
    rem = trip["jan"]["提醒明细"]
    fs = {(r["客户编号"], r["车牌号"]) for r in rem if r["类型代码"] == "first_service"}
    assert fs == {("C03", "粤B10003"), ("C04", "粤B10004"), ("C05", "粤B10005"),
                  ("C06", "粤B10006"), ("C09", "粤B10010"), ("C10", "粤B10011"),
                  ("C11", "粤B10012"), ("C13", "粤B10014")}


def test_done_elsewhere_date_and_km_become_the_maintenance_basis(trip, tmp_path):
    """C08's service elsewhere (2026-12-05, 3000 km) is the basis of its next maintenance:
    3000 km in 76 days → 8000 km on 2027-04-11, in the April list."""
    assert run(["due", "--month", "2027-04", "--as-of", "2027-03-20", "--data",
                str(trip["data"]), "--out", str(trip["out"]), "--quiet"]) == 0
    rem = sheets(trip["out"] / "due-2027-04.xlsx")["提醒明细"]
    c08 = [r for r in rem if r["客户编号"] == "C08"]
    assert [(r["类型代码"], r["到期日"], r["到期依据"]) for r in c08] == [
        ("maintenance", dt.datetime(2027, 4, 11), "mileage")]


def test_customers_keep_their_agent(trip):
    """Every customer called in December and January has the same agent, although the
    agents were listed the other way round."""
    dec = {r["客户编号"]: r["坐席"] for r in trip["dec"]["呼叫清单"]}
    jan = {r["客户编号"]: r["坐席"] for r in trip["jan"]["呼叫清单"]}
    both = set(dec) & set(jan)
    assert len(both) >= 6 and {c: jan[c] for c in both} == {c: dec[c] for c in both}
    assert len(set(dec.values())) == 2


def test_bad_cells_and_edited_keys_are_data_issues(trip):
    """An unknown code, an impossible date and a typed-in row that matches nobody are
    listed on 数据问题 with their file and row; nothing crashed."""
    issues = trip["jan"]["数据问题"]
    logged = [r for r in issues if r["文件"] in ("log-2026-12-甲.xlsx", "12月回访-乙.xlsx")]
    values = {(r["字段"], r["原始值"]) for r in logged}
    assert ("第1次结果", "打不通了") in values
    assert ("第2次日期", "2026-13-45") in values
    assert ("客户编号", "X99") in values
    unknown = next(r for r in logged if r["原始值"] == "打不通了")
    assert "已预约/reached_booked" in unknown["说明"] and unknown["行号"] >= 2


def test_moved_is_non_local_in_churn_and_reasons_are_listed(trip):
    """churn: C10 (外迁) is 外地 although its plate is local; C11's 路途远 is on 流失原因;
    the opted-out C01 is on no call sheet; the sold and scrapped cars are counted apart."""
    out = trip["out"]
    assert run(["churn", "--as-of", "2026-12-31", "--config", str(trip["cfg"]),
                *trip["common"]]) == 0
    wb = sheets(out / "churn-2026-12-31.xlsx")
    local = {r["车牌号"]: r["本地"] for r in wb["全部车辆"]}
    assert local["粤B10011"] == "外地" and local["粤B10012"] == "本地"
    reasons = {(r["车牌号"], r["未回厂原因"]) for r in wb["流失原因"]}
    assert {("粤B10012", "路途远"), ("粤B10011", "工作调动")} <= reasons
    called = set()
    for name in ("3个月未回厂", "6个月未回厂", "9个月未回厂", "流失", "长期流失"):
        called |= ids(wb[name])
    assert "C01" not in called and "C03" in called
    summary = {r["项目"]: r["值"] for r in wb["汇总"] if r.get("项目")}
    assert any("已转卖" in str(k) and v == 1 for k, v in summary.items())
    assert any("已报废" in str(k) and v == 1 for k, v in summary.items())


def test_report_counts_the_december_lists(trip, capsys):
    """report --month 2026-12 reads the filled logs: 13 calls (the typed-in row was not on
    the list), 9 reached (any code but no answer, busy, wrong number; C13's unknown code
    reads as empty), 2 of them booked; all 13 first-service reminders attempted; 2 reasons."""
    assert run(["report", "--month", "2026-12", "--json", *trip["common"][:-1]]) == 0
    by = {k["kpi"]: k for k in json.loads(capsys.readouterr().out)["kpis"]}
    assert (by["reach_rate"]["numerator"], by["reach_rate"]["denominator"]) == (9, 13)
    assert (by["booking_rate"]["numerator"], by["booking_rate"]["denominator"]) == (2, 9)
    fs = by["reminder_completion_first_service"]
    assert (fs["numerator"], fs["denominator"]) == (13, 13)
    ins = by["reminder_completion_insurance"]
    assert (ins["numerator"], ins["denominator"]) == (1, 1)
    assert by["no_return_reasons"]["value"] == 2


def test_every_customer_in_the_fill_was_in_december(trip):
    """The fixture itself: each filled customer had a December call."""
    assert set(CUSTOMERS) <= ids(trip["dec"]["呼叫清单"])


@pytest.mark.parametrize("header, value", [
    ("第1次结果", "无人接听"), ("结果代码", "opt_out"), ("第2次日期", "2026-12-07"),
    ("预约日期", dt.date(2026, 12, 9)), ("未回厂原因", "价格贵"), ("他店信息", "途虎养车"),
    ("备注", "下午再打"), ("新号码", "13900000009"),
])
def test_a_filled_log_is_never_overwritten(tmp_path, capsys, header, value):
    """Whatever staff filled in (a result, a date, a reason, a note, a new number), the
    next run stops with exit 2 naming the file and leaves it as it was; --force keeps it
    as .bak-<time> and writes an empty one."""
    data = write_folder(tmp_path / "data")
    args = ["due", "--month", "2026-12", "--as-of", "2026-11-20", "--data", str(data),
            "--out", str(tmp_path / "out"), "--quiet"]
    assert run(args) == 0
    log = tmp_path / "out" / "log-2026-12-坐席1.xlsx"
    wb = openpyxl.load_workbook(log)
    ws = wb["联系记录"]
    col = [c.value for c in ws[1]].index(header) + 1
    ws.cell(ws.max_row, col, value)
    wb.save(log)
    before = log.read_bytes()
    capsys.readouterr()
    assert run(args) == 2
    assert "log-2026-12-坐席1.xlsx" in capsys.readouterr().err
    assert log.read_bytes() == before
    assert not (tmp_path / "out" / "opt-outs.csv").exists()  # exit 2 writes nothing
    assert run([*args, "--force"]) == 0
    backups = list((tmp_path / "out").glob("log-2026-12-坐席1.xlsx.bak-*"))
    assert len(backups) == 1 and backups[0].read_bytes() == before
    rewritten = openpyxl.load_workbook(log)["联系记录"]
    assert rewritten.cell(rewritten.max_row, col).value is None


def test_entries_of_a_forced_backup_still_count(tmp_path):
    """A log moved aside by --force keeps its effects: its opt-out is still honoured."""
    data = write_folder(tmp_path / "data")
    out = tmp_path / "out"
    args = ["due", "--month", "2026-12", "--as-of", "2026-11-20", "--data", str(data),
            "--out", str(out), "--quiet"]
    assert run(args) == 0
    log = out / "log-2026-12-坐席1.xlsx"
    wb = openpyxl.load_workbook(log)
    ws = wb["联系记录"]
    header = [c.value for c in ws[1]]
    row = next(r for r in range(2, ws.max_row + 1)
               if ws.cell(r, header.index("客户编号") + 1).value == "C05")
    ws.cell(row, header.index("第1次结果") + 1, "已卖车")
    wb.save(log)
    assert run([*args, "--force"]) == 0
    assert run(["due", "--month", "2027-01", "--as-of", "2026-12-31", "--data", str(data),
                "--out", str(out), "--quiet"]) == 0
    rem = sheets(out / "due-2027-01.xlsx")["提醒明细"]
    assert "C05" not in ids(rem) and "C04" in ids(rem)


def test_logs_are_read_not_written(trip):
    """Reading logs back never changes them: the renamed log keeps its bytes and time."""
    renamed = trip["out"] / "12月回访-乙.xlsx"
    before = (renamed.read_bytes(), renamed.stat().st_mtime)
    assert run(["due", "--month", "2027-01", "--as-of", "2026-12-31", "--force",
                *trip["common"]]) == 0
    assert (renamed.read_bytes(), renamed.stat().st_mtime) == before
