"""`aftercare due` end to end on the committed sample data."""

import json
import re
from pathlib import Path

import openpyxl
import pytest

from aftercare.cli import run

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data"
STABLE = ["客户编号", "客户名称", "手机", "车牌号", "VIN", "车型", "提醒类型", "类型代码", "到期日",
          "联系日期", "到期依据", "预估里程", "日均里程", "上次到店", "状态", "坐席"]


@pytest.fixture(scope="module")
def month_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    code = run(["due", "--month", "2026-12", "--data", str(SAMPLE), "--out", str(out),
                "--as-of", "2026-11-20", "--agents", "甲,乙", "--quiet"])
    return code, out


def test_month_list_writes_workbook_and_one_log_per_agent(month_run):
    """The month run exits 0 and writes due-2026-12.xlsx, a log per agent, and the
    opt-out register (the sample's October logs hold refusals)."""
    code, out = month_run
    assert code == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["due-2026-12.xlsx", "log-2026-12-乙.xlsx", "log-2026-12-甲.xlsx",
                     "opt-outs.csv"]
    wb = openpyxl.load_workbook(out / "due-2026-12.xlsx", read_only=True)
    assert wb.sheetnames == ["汇总", "呼叫清单", "提醒明细", "待修正资料", "短信名单", "预约未到",
                             "数据问题"]
    header = [c.value for c in next(wb["提醒明细"].iter_rows(max_row=1))]
    assert header[:16] == STABLE


def test_every_reminder_kind_and_the_calls_add_up(month_run):
    """Every month kind appears, and each reminder's call is on the call sheet exactly once."""
    _, out = month_run
    wb = openpyxl.load_workbook(out / "due-2026-12.xlsx", read_only=True)
    rows = list(wb["提醒明细"].iter_rows(min_row=2, values_only=True))
    kinds = {r[7] for r in rows}
    assert {"first_service", "maintenance", "warranty", "inspection", "insurance", "birthday",
            "declined"} <= kinds
    calls = list(wb["呼叫清单"].iter_rows(min_row=2, values_only=True))
    ids = [c[0] for c in calls]
    assert len(ids) == len(set(ids))
    # one call per customer per month, birthdays apart
    non_bd = [r for r in rows if r[7] != "birthday"]
    assert len({r[0] for r in non_bd}) + len([r for r in rows if r[7] == "birthday"]) == len(ids)


def test_log_rows_are_call_vehicle_pairs(month_run):
    """Each agent's log has one row per (call, vehicle), prefilled with three attempts."""
    _, out = month_run
    ws = openpyxl.load_workbook(out / "log-2026-12-甲.xlsx")["联系记录"]
    header = [c.value for c in ws[1]]
    assert header[:4] == ["呼叫编号", "坐席", "月份", "客户编号"]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert rows and all(r[1] == "甲" for r in rows)
    plan = header.index("第1次计划")
    assert all(re.fullmatch(r"2026-1[12]-\d\d 上午", r[plan] or "") for r in rows if r[plan])
    assert ws.data_validations.dataValidation


def test_filled_log_is_never_overwritten(tmp_path, capsys, monkeypatch):
    """A log with a result filled in stops the next run with exit 2 naming it, and the
    due workbook is not written either (the logs are written in a forked child, whose
    guard the run waits for: aftercare.aside); --force keeps the old one as a backup."""
    from aftercare import aside

    forked = []
    real_start = aside.start
    monkeypatch.setattr(aside, "start", lambda fn: forked.append(real_start(fn)) or forked[-1])
    args = ["due", "--month", "2026-12", "--data", str(SAMPLE), "--out", str(tmp_path),
            "--as-of", "2026-11-20", "--quiet"]
    assert run(args) == 0
    assert forked and forked[-1] is not None  # the CLI's run writes the logs aside
    assert run(args) == 0  # an untouched log is simply rewritten
    log = tmp_path / "log-2026-12-坐席1.xlsx"
    wb = openpyxl.load_workbook(log)
    ws = wb["联系记录"]
    col = [c.value for c in ws[1]].index("结果代码") + 1
    ws.cell(row=2, column=col, value="已预约")
    wb.save(log)
    before = log.read_bytes()
    due = tmp_path / "due-2026-12.xlsx"
    due_before = (due.read_bytes(), due.stat().st_mtime_ns)
    capsys.readouterr()
    assert run(args) == 2
    err = capsys.readouterr().err
    assert "log-2026-12-坐席1.xlsx" in err and "--force" in err
    assert log.read_bytes() == before
    assert (due.read_bytes(), due.stat().st_mtime_ns) == due_before  # nothing written
    assert run(args + ["--force"]) == 0
    backups = list(tmp_path.glob("log-2026-12-坐席1.xlsx.bak-*"))
    assert len(backups) == 1 and backups[0].read_bytes() == before


def test_day_list_and_json(tmp_path, capsys):
    """The day list holds only 3DC/7DC follow-ups; --json names the files, no phones."""
    code = run(["due", "--day", "2026-11-23", "--data", str(SAMPLE), "--out", str(tmp_path),
                "--as-of", "2026-11-20", "--json"])
    out = capsys.readouterr().out
    summary = json.loads(out)
    assert code == 0
    assert set(summary["by_kind"]) <= {"followup", "delivery_followup"}
    assert summary["by_kind"]
    assert any(f.endswith("due-2026-11-23.xlsx") for f in summary["files"])
    assert not re.search(r"1[3-9]\d{9}", out)


@pytest.mark.parametrize("argv", [["--month", "2026-13"], ["--month", "2026-12", "--day",
                                                            "2026-12-01"], []])
def test_bad_month_options_exit_2(tmp_path, argv):
    """A bad month, or both or neither of --month and --day, is a usage error."""
    assert run(["due", *argv, "--data", str(SAMPLE), "--out", str(tmp_path)]) == 2
    assert not any(tmp_path.iterdir())


def test_churn_on_sample_data(tmp_path, capsys):
    """churn bands every vehicle delivered by as_of or counts it apart, and writes the
    workbook; --json carries the counts and no phone numbers."""
    code = run(["churn", "--data", str(SAMPLE), "--out", str(tmp_path), "--as-of", "2026-11-20",
                "--config", str(ROOT / "examples" / "sample" / "aftercare.toml"), "--json"])
    out = capsys.readouterr().out
    summary = json.loads(out)
    assert code == 0
    assert sum(summary["bands"].values()) == summary["banded"]
    assert (tmp_path / "churn-2026-11-20.xlsx").exists()
    assert not re.search(r"1[3-9]\d{9}", out)


def test_report_on_sample_data(tmp_path, capsys):
    """report writes report-2026-10.xlsx with the KPI sheet first; --json has the cohort
    rates with numerator and denominator, and the list KPIs from the sample's October
    logs (3DC, with no day-list logs, needs contact logs)."""
    code = run(["report", "--month", "2026-10", "--data", str(SAMPLE), "--out", str(tmp_path),
                "--json"])
    summary = json.loads(capsys.readouterr().out)
    assert code == 0
    kpis = {k["kpi"]: k for k in summary["kpis"]}
    fs = kpis["first_service_return_rate"]
    assert fs["denominator"] > 0 and fs["value"] == fs["numerator"] / fs["denominator"]
    assert kpis["reach_rate"]["no_data"] is None and kpis["reach_rate"]["denominator"] > 0
    assert kpis["followup_rate"]["no_data"] == "contact_logs"
    wb = openpyxl.load_workbook(tmp_path / "report-2026-10.xlsx", read_only=True)
    assert wb.sheetnames[:3] == ["指标", "趋势", "进厂台次"]
    assert {"未回厂原因", "他店分析", "坐席统计"} <= set(wb.sheetnames)


def test_report_refuses_next_month(tmp_path):
    """A report for a month that has not begun is a usage error."""
    assert run(["report", "--month", "next", "--data", str(SAMPLE), "--out", str(tmp_path)]) == 2


def test_english_workbooks_have_the_english_stable_columns(tmp_path):
    """--lang en names the sheets and the stable columns in English."""
    assert run(["due", "--month", "2026-12", "--data", str(SAMPLE), "--out", str(tmp_path),
                "--as-of", "2026-11-20", "--lang", "en", "--quiet"]) == 0
    wb = openpyxl.load_workbook(tmp_path / "due-2026-12.xlsx", read_only=True)
    assert wb.sheetnames == ["Summary", "Calls", "Reminders", "Fix data", "SMS list", "No-shows",
                             "Data issues"]
    header = [c.value for c in next(wb["Reminders"].iter_rows(max_row=1))]
    assert header[:16] == ["customer_id", "customer_name", "mobile", "plate", "vin", "model",
                           "kind_label", "kind", "due_date", "contact_date", "basis",
                           "projected_km", "daily_km", "last_visit", "status", "agent"]
    log = openpyxl.load_workbook(next(tmp_path.glob("log-2026-12-*.xlsx")), read_only=True)
    assert log.sheetnames == ["Contact log"]
    assert [c.value for c in next(log["Contact log"].iter_rows(max_row=1))][:3] == [
        "call_id", "agent", "month"]
