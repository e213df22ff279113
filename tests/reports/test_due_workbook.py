"""due-YYYY-MM.xlsx sheets and the per-agent contact logs (03-outputs.md)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from aftercare.errors import FilledLogError
from aftercare.reports.due_workbook import (
    KIND_LABELS,
    LOG_FIELDS,
    LOG_HEADERS,
    RESULT_CODES,
    STAFF_COLUMNS,
    build_due_sheets,
    build_log_frame,
    log_is_filled,
    check_contact_logs,
    write_contact_logs,
)
from aftercare.writer import write_workbook

T = pd.Timestamp
NAT = pd.NaT
STABLE_ZH = ["客户编号", "客户名称", "手机", "车牌号", "VIN", "车型", "提醒类型", "类型代码", "到期日",
             "联系日期", "到期依据", "预估里程", "日均里程", "上次到店", "状态", "坐席"]
STABLE_EN = ["customer_id", "customer_name", "mobile", "plate", "vin", "model", "kind_label",
             "kind", "due_date", "contact_date", "basis", "projected_km", "daily_km",
             "last_visit", "status", "agent"]
MOBILE_1, MOBILE_2, MOBILE_3 = "13812345678", "13900001111", "13700002222"


def _reminder(call_id, cid, name, mobile, plate, vin, vid, kind, due, contact, prio, agent,
              status="normal", note=""):
    return dict(customer_key=cid, customer_id=cid, customer_name=name, mobile=mobile,
                plate=plate, vin=vin, model="卡罗拉", vehicle_id=vid, kind=kind, due_date=T(due),
                contact_date=T(contact), basis="time", projected_km=23456.7, daily_km=41.26,
                last_visit=T("2026-06-01"), status=status, agent=agent, call_id=call_id,
                note=note, priority=prio)


@pytest.fixture
def reminders():
    return pd.DataFrame([
        _reminder("K1", "C001", "张三", MOBILE_1, "粤B11111", "VIN000000000000001", 1,
                  "maintenance", "2026-12-10", "2026-12-03", 2, "王五"),
        _reminder("K1", "C001", "张三", MOBILE_1, "粤B11111", "VIN000000000000001", 1,
                  "inspection", "2026-12-31", "2026-12-01", 4, "王五"),
        _reminder("K1", "C001", "张三", MOBILE_1, "粤B22222", "VIN000000000000002", 2,
                  "insurance", "2027-01-15", "2026-12-01", 5, "王五", note="estimated"),
        _reminder("K2", "C002", "李四", MOBILE_2, "粤B33333;粤B44444",
                  "VIN000000000000003;VIN000000000000004", -1, "birthday", "2026-12-08",
                  "2026-12-08", 9, "赵六"),
        _reminder("K3", "C002", "李四", MOBILE_2, "粤B33333", "VIN000000000000003", 3,
                  "first_service", "2026-12-20", "2026-12-06", 1, "赵六", status="overdue"),
        _reminder("K4", "C003", "陈七", MOBILE_3, "粤B55555", "VIN000000000000005", 5,
                  "maintenance", "2026-12-04", "2026-12-01", 2, "王五"),
    ])


def _call(call_id, agent, planned, cid, name, mobile, plates, vins, kinds, due, prio,
          overflow=False):
    day = T(planned) if planned else NAT
    plans = ["", "", ""] if overflow else [f"{day:%Y-%m-%d} 上午", "x 下午", "y 傍晚"]
    return dict(call_id=call_id, agent=agent, planned_date=day, customer_key=cid,
                customer_id=cid, customer_name=name, mobile=mobile, plates=plates, vins=vins,
                kinds=kinds, contact_date=T("2026-12-01"), due_date=T(due), priority=prio,
                overflow=overflow, attempt1_plan=plans[0], attempt2_plan=plans[1],
                attempt3_plan=plans[2], script="问候；提醒保养")


@pytest.fixture
def calls():
    # deliberately out of order
    return pd.DataFrame([
        _call("K4", "王五", None, "C003", "陈七", MOBILE_3, "粤B55555", "VIN000000000000005",
              "maintenance", "2026-12-04", 2, overflow=True),
        _call("K3", "赵六", "2026-12-01", "C002", "李四", MOBILE_2, "粤B33333",
              "VIN000000000000003", "first_service", "2026-12-20", 1),
        _call("K1", "王五", "2026-12-01", "C001", "张三", MOBILE_1, "粤B11111;粤B22222",
              "VIN000000000000001;VIN000000000000002", "maintenance;inspection;insurance",
              "2026-12-10", 2),
        _call("K2", "赵六", "2026-12-08", "C002", "李四", MOBILE_2, "粤B33333;粤B44444",
              "VIN000000000000003;VIN000000000000004", "birthday", "2026-12-08", 9),
    ])


@pytest.fixture
def fix_data():
    return pd.DataFrame([
        dict(customer_key="C009", customer_id="C009", customer_name="孙八", mobile="138****9999",
             plate="粤B99999", vin="VIN000000000000009", kind="maintenance",
             due_date=T("2026-12-15"), reason="phone_masked"),
        dict(customer_key="C010", customer_id="C010", customer_name="周九", mobile=None,
             plate="粤B10101", vin="VIN000000000000010", kind="first_service",
             due_date=NAT, reason="no_delivery_date"),
    ])


@pytest.fixture
def issues():
    return pd.DataFrame([
        dict(file="客户.xlsx", sheet="Sheet1", row=5, field="mobile", value=MOBILE_1,
             reason="phone_invalid", detail=""),
        dict(file="车辆.xlsx", sheet="Sheet1", row=7, field="plate", value="粤B12345",
             reason="no_vehicle_key", detail=""),
    ])


@pytest.fixture
def summary():
    cap = pd.DataFrame({"date": pd.to_datetime(["2026-12-01", "2026-12-02"]),
                        "capacity": [60, 60], "planned": [2, 0], "overflow": [1, 0]})
    return dict(as_of="2026-11-20", month="2026-12", config_file="aftercare.toml",
                excluded={"opted_out": 3, "vehicle_gone": 1, "test_rows": 2},
                capacity=cap, warnings=["容量不足：1 个呼叫溢出"])


@pytest.fixture
def due_book(tmp_path, summary, calls, reminders, fix_data, issues):
    def make(lang="zh"):
        path = tmp_path / f"due-{lang}.xlsx"
        write_workbook(path, build_due_sheets(summary, calls, reminders, fix_data, issues, lang))
        return openpyxl.load_workbook(path)
    return make


def _header(ws):
    return [c.value for c in ws[1]]


def _records(ws):
    head = _header(ws)
    return [dict(zip(head, row)) for row in ws.iter_rows(min_row=2, values_only=True)]


def _cells(ws, header):
    col = _header(ws).index(header)
    return [row[col] for row in ws.iter_rows(min_row=2)]


# --------------------------------------------------------------------------- due workbook
def test_sheet_names_in_both_languages(due_book):
    """The due workbook holds 汇总, 呼叫清单, 提醒明细, 待修正资料, 数据问题 (English names with en)."""
    assert due_book().sheetnames == ["汇总", "呼叫清单", "提醒明细", "待修正资料", "数据问题"]
    assert due_book("en").sheetnames == ["Summary", "Calls", "Reminders", "Fix data",
                                         "Data issues"]


def test_reminder_headers_are_the_stable_columns(due_book):
    """提醒明细's header row is the 16 stable headers in order (then 备注), in Chinese and English."""
    assert _header(due_book()["提醒明细"]) == STABLE_ZH + ["备注"]
    assert _header(due_book("en")["Reminders"]) == STABLE_EN + ["note"]


def test_reminder_values(due_book):
    """Kinds carry label and code, km are whole, daily km one decimal, status and 推定 in words."""
    rows = _records(due_book()["提醒明细"])
    ins = next(r for r in rows if r["类型代码"] == "insurance")
    assert ins["提醒类型"] == "续保提醒" and ins["备注"].startswith("推定")
    assert ins["预估里程"] == 23457 and ins["日均里程"] == 41.3
    assert {r["状态"] for r in rows} == {"正常", "逾期"}
    bd = next(r for r in rows if r["类型代码"] == "birthday")
    assert bd["车牌号"] == "粤B33333;粤B44444"


def test_reminders_sorted_by_contact_date_priority_customer(due_book):
    """提醒明细 is sorted by contact date, then priority, then customer id."""
    rows = _records(due_book()["提醒明细"])
    got = [(r["联系日期"], r["类型代码"], r["客户编号"]) for r in rows]
    assert [g[1] for g in got] == ["maintenance", "inspection", "insurance", "maintenance",
                                   "first_service", "birthday"]
    assert [g[2] for g in got][:4] == ["C003", "C001", "C001", "C001"]  # priority 2 before 4
    assert got == sorted(got, key=lambda g: g[0])


def test_dates_are_real_dates(due_book):
    """Due, contact, last-visit and planned dates are Excel dates (yyyy-mm-dd), not text."""
    wb = due_book()
    for sheet, header in (("提醒明细", "到期日"), ("提醒明细", "联系日期"), ("提醒明细", "上次到店"),
                          ("呼叫清单", "计划日期"), ("呼叫清单", "最早到期日"), ("汇总", "工作日")):
        cells = [c for c in _cells(wb[sheet], header) if c.value is not None]
        assert cells, (sheet, header)
        for c in cells:
            assert isinstance(c.value, dt.datetime) and c.number_format == "yyyy-mm-dd"
    as_of = next(r for r in _records(wb["汇总"]) if r["项目"] == "基准日期 (as_of)")
    assert as_of["值"] == dt.datetime(2026, 11, 20)


@pytest.mark.parametrize("sheet", ["呼叫清单", "提醒明细"])
def test_phones_are_full_text_on_call_sheets(due_book, sheet):
    """Phones on 呼叫清单 and 提醒明细 are text cells holding the full number."""
    cells = _cells(due_book()[sheet], "手机")
    assert {c.value for c in cells} == {MOBILE_1, MOBILE_2, MOBILE_3}
    assert all(c.data_type == "s" for c in cells)


def test_fix_data_keeps_raw_numbers_and_reasons_in_words(due_book):
    """待修正资料 shows the number as exported (not masked further) and the reason in words."""
    rows = _records(due_book()["待修正资料"])
    masked = next(r for r in rows if r["原因代码"] == "phone_masked")
    assert masked["手机"] == "138****9999" and "打码" in masked["原因"]
    nd = next(r for r in rows if r["原因代码"] == "no_delivery_date")
    assert nd["手机"] is None and "交车日期" in nd["原因"] and nd["提醒类型"] == "首保提醒"


def test_fix_data_phone_unmasked(tmp_path, summary, calls, reminders, fix_data, issues):
    """A full number on 待修正资料 is written in full, as text."""
    fix = fix_data.assign(mobile=[MOBILE_1, None], reason=["no_callable_number"] * 2)
    path = tmp_path / "due.xlsx"
    write_workbook(path, build_due_sheets(summary, calls, reminders, fix, issues, "zh"))
    cells = _cells(openpyxl.load_workbook(path)["待修正资料"], "手机")
    assert cells[0].value == MOBILE_1 and cells[0].data_type == "s"


def test_data_issues_masks_personal_values(due_book):
    """数据问题 masks phone values and renders reasons in words; other values stay."""
    rows = _records(due_book()["数据问题"])
    phone = next(r for r in rows if r["字段"] == "手机")
    assert phone["原始值"] == "138****5678" and MOBILE_1 not in str(phone)
    assert next(r for r in rows if r["字段"] == "车牌号")["原始值"] == "粤B12345"
    assert all(r["原因"] not in ("phone_invalid", "no_vehicle_key") for r in rows)


def test_calls_sorted_by_planned_date_agent_priority(due_book):
    """呼叫清单 is sorted by planned date, then agent, then priority."""
    rows = _records(due_book()["呼叫清单"])
    assert [r["呼叫编号"] for r in rows] == ["K1", "K3", "K2", "K4"]
    assert rows[0]["提醒类型"] == "定保提醒; 年检提醒; 续保提醒"


def test_overflow_calls_last_with_mark(due_book):
    """Overflow calls come last with an empty planned date and the 溢出 mark."""
    rows = _records(due_book()["呼叫清单"])
    assert rows[-1]["呼叫编号"] == "K4"
    assert rows[-1]["计划日期"] is None and rows[-1]["溢出"] == "溢出"
    assert all(r["溢出"] is None and r["计划日期"] for r in rows[:-1])


def test_summary_lists_counts_and_capacity(due_book):
    """汇总 holds as_of, config, counts by kind, exclusions, warnings and the per-day table."""
    ws = due_book()["汇总"]
    items = {r["项目"]: r["值"] for r in _records(ws) if r["项目"]}
    assert items["月份"] == "2026-12" and items["配置文件"] == "aftercare.toml"
    assert items["按类型 · 定保提醒"] == 2 and items["按状态 · 逾期"] == 1
    assert items["溢出呼叫（容量不足，未排期）"] == 1
    assert items["未列入 · 免打扰/拒绝联系的客户"] == 3 and items["未列入 · 测试数据"] == 2
    assert items["注意"].startswith("容量不足")
    assert _header(ws)[3:] == ["工作日", "容量（首拨）", "已排呼叫", "溢出"]


def test_kind_labels_cover_every_code():
    """Every reminder kind code has a Chinese and an English label."""
    assert KIND_LABELS["followup"][0] == "维修回访(3DC)" and len(KIND_LABELS) == 9


# --------------------------------------------------------------------------- log frame
def test_log_frame_one_row_per_call_and_vehicle(calls, reminders):
    """A two-vehicle customer's call gives two log rows, each with its own vehicle's kinds."""
    log = build_log_frame(calls, reminders, "2026-12")
    assert list(log.columns) == LOG_FIELDS
    k1 = log[log["call_id"] == "K1"]
    assert list(zip(k1["plate"], k1["vin"], k1["kinds"])) == [
        ("粤B11111", "VIN000000000000001", "maintenance;inspection"),
        ("粤B22222", "VIN000000000000002", "insurance"),
    ]
    assert set(k1["mobile"]) == {MOBILE_1} and set(log["month"]) == {"2026-12"}
    bd = log[log["call_id"] == "K2"]
    assert len(bd) == 1 and bd["plate"].iloc[0] == "粤B33333;粤B44444"
    assert log[STAFF_COLUMNS].isna().all().all()
    assert list(log["call_id"]) == ["K1", "K1", "K3", "K2", "K4"]


def test_log_headers_match_spec():
    """The log's Chinese headers are the spec's, in order."""
    assert [LOG_HEADERS[f][0] for f in LOG_FIELDS] == [
        "呼叫编号", "坐席", "月份", "客户编号", "客户名称", "手机", "车牌号", "VIN", "提醒类型",
        "第1次计划", "第1次日期", "第1次结果", "第2次计划", "第2次日期", "第2次结果",
        "第3次计划", "第3次日期", "第3次结果", "结果代码", "预约日期", "未回厂原因", "他店信息",
        "他店日期", "他店里程", "新号码", "备注"]


# --------------------------------------------------------------------------- log files
@pytest.fixture
def log(calls, reminders):
    return build_log_frame(calls, reminders, "2026-12")


def _write(tmp_path, log, *, lang="zh", force=False, stamp="20261201-080000"):
    return write_contact_logs(tmp_path, "2026-12", log, lang=lang, force=force, stamp=stamp)


def test_one_log_per_agent_with_result_dropdowns(tmp_path, log):
    """Each agent gets log-<stem>-<agent>.xlsx (联系记录) with drop-downs on the 4 result columns."""
    paths = _write(tmp_path, log)
    assert [p.name for p in paths] == ["log-2026-12-王五.xlsx", "log-2026-12-赵六.xlsx"]
    wb = openpyxl.load_workbook(paths[0])
    ws = wb["联系记录"]
    head = _header(ws)
    assert head == [LOG_HEADERS[f][0] for f in LOG_FIELDS]
    assert {r["呼叫编号"] for r in _records(ws)} == {"K1", "K4"}
    assert _cells(ws, "手机")[0].data_type == "s"
    letters = {openpyxl.utils.get_column_letter(head.index(h) + 1)
               for h in ("第1次结果", "第2次结果", "第3次结果", "结果代码")}
    dvs = ws.data_validations.dataValidation
    covered = {str(dv.sqref).split(":")[0].rstrip("0123456789") for dv in dvs}
    assert covered == letters
    for dv in dvs:
        assert dv.type == "list"
        for code, label in RESULT_CODES:
            assert code in dv.formula1 and label in dv.formula1


def test_agent_name_made_filename_safe(tmp_path, log):
    """An agent name with a slash or spaces becomes a safe file name part."""
    paths = _write(tmp_path, log.assign(agent="王/五 A"))
    assert [p.name for p in paths] == ["log-2026-12-王_五_A.xlsx"]


def test_untouched_log_is_rewritten(tmp_path, log):
    """An existing log with no staff entries is simply rewritten."""
    first = _write(tmp_path, log)
    assert not log_is_filled(first[0])
    again = _write(tmp_path, log.assign(customer_name="新名字"))
    assert again == first
    assert {r["客户名称"] for r in _records(openpyxl.load_workbook(first[0]).active)} == {"新名字"}
    assert not list(tmp_path.glob("*.bak-*"))


def _fill(path: Path, header: str, value) -> bytes:
    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[0]
    col = _header(ws).index(header) + 1
    ws.cell(row=2, column=col, value=value)
    wb.save(path)
    return path.read_bytes()


@pytest.mark.parametrize("header,value", [
    ("结果代码", "reached_booked"),
    ("第1次结果", "无人接听"),
    ("备注", "客户下周再联系"),
    ("新号码", "13911112222"),
    ("第1次日期", dt.datetime(2026, 12, 2)),
], ids=["result_code", "attempt_result_label", "note_only", "new_mobile_only", "attempt_date_only"])
def test_filled_log_is_never_overwritten(tmp_path, log, header, value):
    """A log with any staff cell filled stops the run: file unchanged, no other log written."""
    path = _write(tmp_path, log)[0]
    (tmp_path / "log-2026-12-赵六.xlsx").unlink()
    before = _fill(path, header, value)
    assert log_is_filled(path)
    with pytest.raises(FilledLogError) as err:
        _write(tmp_path, log)
    assert path.name in str(err.value) and "--force" in str(err.value)
    assert "\n" not in str(err.value) and err.value.exit_code == 2
    assert path.read_bytes() == before
    assert not (tmp_path / "log-2026-12-赵六.xlsx").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_force_keeps_a_backup(tmp_path, log):
    """With force the filled log is renamed to .bak-<stamp> intact and the new one written."""
    path = _write(tmp_path, log)[0]
    before = _fill(path, "结果代码", "sold")
    paths = _write(tmp_path, log, force=True, stamp="20261205-093000")
    backup = tmp_path / f"{path.name}.bak-20261205-093000"
    assert backup.read_bytes() == before
    assert path in paths and not log_is_filled(path)
    assert len(_records(openpyxl.load_workbook(path).active)) == 3


def test_english_log_recognised_as_filled(tmp_path, log):
    """A log written with English headers and filled in is recognised as filled."""
    path = _write(tmp_path, log, lang="en")[0]
    assert path.name == "log-2026-12-王五.xlsx"
    assert openpyxl.load_workbook(path).sheetnames == ["Contact log"]
    assert not log_is_filled(path)
    before = _fill(path, "note", "call back Friday")
    with pytest.raises(FilledLogError):
        _write(tmp_path, log, lang="zh")
    assert path.read_bytes() == before


def test_unreadable_existing_log_counts_as_filled(tmp_path, log):
    """An existing target that cannot be read as a log is never overwritten."""
    path = tmp_path / "log-2026-12-王五.xlsx"
    path.write_bytes(b"not a workbook")
    with pytest.raises(FilledLogError, match="无法读取"):
        _write(tmp_path, log)
    assert path.read_bytes() == b"not a workbook"


def test_guard_on_the_calls_agents_then_the_frame(tmp_path, calls, reminders, log, monkeypatch):
    """`due` checks for filled logs on the calls' agents before it builds the log frame
    (check_contact_logs), then writes with that plan: the same files, the guard not run
    twice; a plan for other agents is checked again. A refusal comes from the check."""
    import aftercare.reports.contact_log as cl

    plan = check_contact_logs(tmp_path, "2026-12", calls["agent"], lang="zh", force=False)
    assert plan.agents() == set(log["agent"].astype(object).where(log["agent"].notna(), ""))
    looked: list[Path] = []
    real_state = cl._log_state
    monkeypatch.setattr(cl, "_log_state", lambda p: looked.append(p) or real_state(p))
    first = write_contact_logs(tmp_path, "2026-12", log, lang="zh", force=False,
                               stamp="x", plan=plan)
    assert [p for p, _ in plan.files] == first and looked == []  # no file existed yet
    plan = check_contact_logs(tmp_path, "2026-12", calls["agent"], lang="zh", force=False)
    assert looked == first  # each existing log read once, by the check
    looked.clear()
    write_contact_logs(tmp_path, "2026-12", log, lang="zh", force=False, stamp="x", plan=plan)
    assert looked == []  # the plan's guard stands
    other = check_contact_logs(tmp_path / "elsewhere", "2026-12",
                               pd.Series(["王五"]), lang="zh", force=False)
    write_contact_logs(tmp_path, "2026-12", log, lang="zh", force=False, stamp="x", plan=other)
    assert looked == first  # agents differ from the log's: checked again
    _fill(first[0], "结果代码", "sold")
    with pytest.raises(FilledLogError):
        check_contact_logs(tmp_path, "2026-12", calls["agent"], lang="zh", force=False)


def test_issue_rows_are_whole_numbers_and_other_rows_stay(tmp_path):
    """The data-issues sheet's Excel row numbers (objects: some issues have no row) are
    written as numbers through the vectorised number path (a nullable integer column);
    a row column holding anything but whole numbers is left as it is."""
    from aftercare.reports.due_workbook import issues_sheet

    issues = pd.DataFrame({"file": ["a.xlsx", "a.xlsx", "b.csv"], "sheet": ["S", "S", ""],
                           "row": pd.Series([5, None, 1048576], dtype=object),
                           "field": ["vin", "mobile", ""], "value": ["X", "13812345678", ""],
                           "reason": ["bad_vin", "bad_phone", "no_ros"], "detail": ""})
    sheet = issues_sheet(issues, "zh")
    assert str(sheet.frame["row"].dtype) == "Int64"
    ws = openpyxl.load_workbook(write_workbook(tmp_path / "i.xlsx", [sheet]))[sheet.name]
    assert [ws.cell(r, 3).value for r in (2, 3, 4)] == [5, None, 1048576]
    assert ws.cell(2, 3).data_type == "n"
    odd = issues.assign(row=pd.Series([5, "汇总", None], dtype=object))
    assert issues_sheet(odd, "zh").frame["row"].tolist()[:2] == [5, "汇总"]
