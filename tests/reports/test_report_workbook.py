"""report-YYYY-MM.xlsx (03-outputs.md, 04-kpis.md): sheets, stable 指标 columns, formats,
"—" and no-data rows, red 未达标, drill-downs that add up, the trend with its charts,
masking, and the command's --json. Month 2026-10; written to tmp_path and read back."""

from __future__ import annotations

import json
import re
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aftercare.commands.report import build, run_report
from aftercare.config import defaults
from aftercare.reports.report_workbook import DRILL_SHEETS, KPI_COLUMNS, report_sheets
from aftercare.rules import kpis
from aftercare.writer import write_workbook
from tests.rules.builders import config, dataset

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"
MOBILES = {1: "13812345678", 2: "13900001111", 3: "13700002222"}
STABLE_ZH = ["指标", "代码", "值", "分子", "分母", "目标", "状态", "上月", "去年同月"]
STABLE_EN = ["kpi_label", "kpi", "value", "numerator", "denominator", "target", "status",
             "prev_month", "prev_year"]


def veh(i, **kw):
    return {"vehicle_id": i, "customer_key": f"c:{i}", "plate": f"粤B{i:05d}",
            "vin": f"VIN{i:014d}", **kw}


def ro(i, date, kind="repair", **kw):
    return {"vehicle_id": i, "ro_no": f"R{i}-{date}", "open_date": date, "kind": kind, **kw}


@pytest.fixture(scope="module")
def ds():
    """Car 1 (delivered 07-05, first service due 10-05) has a booked maintenance visit on
    10-20 handed back a day late; car 2 (due 10-20) never comes; car 3 (2020) visits
    2025-09-15, then 2026-10-03 (not booked, on time), 10-25 (no flag, no times) and
    11-05 (so the data covers October: nothing is provisional). October: 首保回厂率 1/2,
    预约率 1/3, 滞留车率 1/2 (all 未达标), 销售客户首保率 and 定保回厂率 0/0 ("—"),
    客户保持率 1/1, one win-back (383 days)."""
    customers = [{"customer_key": f"c:{i}", "customer_id": f"C{i:03d}",
                  "customer_name": f"客户{i}", "mobile": m} for i, m in MOBILES.items()]
    return dataset(
        [veh(1, delivery_date="2026-07-05"), veh(2, delivery_date="2026-07-20"),
         veh(3, delivery_date="2020-01-01", vehicle_status="sold")], customers,
        [ro(1, "2026-10-20", "maintenance", appointment=True,
            promised_at="2026-10-20 17:00", delivered_at="2026-10-21 10:00"),
         ro(3, "2025-09-15"),
         ro(3, "2026-10-03", appointment=False, promised_at="2026-10-03 17:00",
            delivered_at="2026-10-03 18:00"),
         ro(3, "2026-10-25", "other"), ro(3, "2026-11-05")])


_BOOKS: dict = {}


def write(ds, tmp_path, lang="zh", mask=True):
    """The fixture's workbook for 2026-10 (written once per language and masking)."""
    key = (id(ds), lang, mask)
    if key not in _BOOKS:
        res = build(ds, config(), month="2026-10", lang=lang)
        sheets, extra = report_sheets(res["report"], res["issues"], lang)
        path = write_workbook(tmp_path / f"report-2026-10-{lang}-{mask}.xlsx", sheets,
                              mask=mask, extra=extra)
        _BOOKS[key] = (openpyxl.load_workbook(path), res)
    return _BOOKS[key]


def kpi_rows(wb, name="指标"):
    ws = wb[name]
    rows = list(ws.iter_rows(min_row=2))
    return {r[1].value: r for r in rows}


def test_sheets_in_order(ds, tmp_path):
    """指标, 趋势, 进厂台次, one drill-down per rate KPI (and 流失召回), 口径说明, 数据问题."""
    wb, _ = write(ds, tmp_path)
    drills = [DRILL_SHEETS[c][0] for c in kpis.DRILL_DOWN_KPIS]
    assert wb.sheetnames == ["指标", "趋势", "进厂台次", *drills, "口径说明", "数据问题"]
    wb_en, _ = write(ds, tmp_path, lang="en")
    assert wb_en.sheetnames[:3] == ["KPIs", "Trend", "Visits"]
    assert wb_en.sheetnames[-2:] == ["Definitions", "Data issues"]


def test_kpi_sheet_has_the_stable_columns(ds, tmp_path):
    """The 指标 header is the stable columns in order, Chinese or English; frozen, filtered."""
    wb, _ = write(ds, tmp_path)
    ws = wb["指标"]
    assert [c.value for c in ws[1]] == STABLE_ZH == [p[0] for p in KPI_COLUMNS.values()]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref.startswith("A1:I")
    wb_en, _ = write(ds, tmp_path, lang="en")
    assert [c.value for c in wb_en["KPIs"][1]] == STABLE_EN


def test_rate_is_a_fraction_shown_as_percent_and_misses_in_red(ds, tmp_path):
    """首保回厂率 1/2: value 0.5 formatted as a percentage, numerator 1, denominator 2,
    target 0.95, status 未达标 filled red; 客户保持率 1/1 has no target and no status."""
    wb, _ = write(ds, tmp_path)
    rows = kpi_rows(wb)
    r = rows["first_service_return_rate"]
    assert [c.value for c in r] == ["首保回厂率", "first_service_return_rate", 0.5, 1, 2, 0.95,
                                    "未达标", "—", "—"]
    assert "%" in r[2].number_format and "%" in r[5].number_format
    assert r[6].fill.fgColor.rgb == "FFFFC7CE"
    assert rows["visits"][2].value == 3 and "%" not in rows["visits"][2].number_format
    ok = rows["retention_rate"]
    assert (ok[2].value, ok[6].value, ok[6].fill.fill_type) == (1.0, None, None)
    met = [rows[c][6].value for c in ("appointment_rate", "holdover_rate")]
    assert met == ["未达标", "未达标"]


def test_zero_denominator_shows_a_dash(ds, tmp_path):
    """销售客户首保率 (nobody delivered in 2025-10) and 定保回厂率 (no maintenance due) show
    "—" with 0 as denominator, never 0%; 定保回厂率's status is "—" too."""
    wb, _ = write(ds, tmp_path)
    rows = kpi_rows(wb)
    for code in ("first_service_rate_12m", "maintenance_return_rate"):
        r = rows[code]
        assert (r[2].value, r[3].value, r[4].value) == ("—", 0, 0), code
    assert rows["maintenance_return_rate"][6].value == "—"


def test_list_kpis_are_rows_saying_no_data(ds, tmp_path):
    """提醒完成率 (one row per kind), 接通率 … 未回厂原因: rows present, value empty, status
    "no data: needs contact logs"."""
    wb, _ = write(ds, tmp_path)
    rows = kpi_rows(wb)
    for code in (*kpis.CONTACT_LOG_KPIS, "no_return_reasons"):
        r = rows[code]
        assert r[2].value is None and "no data: needs contact logs" in r[6].value, code
    assert rows["reminder_completion_first_service"][0].value == "首保提醒率"


def test_drill_downs_sum_to_numerator_and_denominator(ds, tmp_path):
    """Each drill-down lists the denominator's members (vehicle status shown, sold cars
    included) and its 计入分子 = 是 rows are the numerator."""
    wb, _ = write(ds, tmp_path)
    rows = kpi_rows(wb)
    for code in kpis.DRILL_DOWN_KPIS:
        ws = wb[DRILL_SHEETS[code][0]]
        header = [c.value for c in ws[1]]
        col = header.index("计入分子")
        body = list(ws.iter_rows(min_row=2, values_only=True))
        yes = sum(1 for b in body if b[col] == "是")
        if code == "winback":
            assert len(body) == yes == rows[code][2].value == 1
            continue
        assert len(body) == rows[code][4].value, code
        assert yes == rows[code][3].value, code
    ws = wb["客户保持率明细"]
    header = [c.value for c in ws[1]]
    assert list(ws.iter_rows(min_row=2, values_only=True))[0][header.index("车辆状态")] == "已转卖"


def test_trend_has_twelve_months_and_line_charts(ds, tmp_path):
    """趋势: one row per month 2025-11..2026-10, rates as percentages, one line chart per
    rate with a value in some month: 首保回厂率, 预约率, 当月流失率 (2026-09: car 3, seen
    2025-09, not back by 2026-09-30) and 客户保持率; none for 定保回厂率 (never due) and the
    contact-log rates."""
    wb, res = write(ds, tmp_path)
    ws = wb["趋势"]
    months = [r[0] for r in ws.iter_rows(min_row=2, values_only=True)]
    assert months[0] == "2025-11" and months[-1] == "2026-10" and len(months) == 12
    header = [c.value for c in ws[1]]
    j = header.index("首保回厂率")
    assert ws.cell(13, j + 1).value == 0.5 and "%" in ws.cell(13, j + 1).number_format
    charts = ws._charts
    assert len(charts) == 4 and all(c.tagname == "lineChart" for c in charts)
    assert [c.title.tx.rich.p[0].r[0].t for c in charts] == ["首保回厂率", "预约率", "当月流失率",
                                                            "客户保持率"]
    frame = res["report"].trend_frame()
    assert ws.cell(13, header.index("客户保持率·分母") + 1).value == frame[
        "retention_rate__den"].iloc[-1]


def test_visits_sheet_by_week_and_kind(ds, tmp_path):
    """进厂台次: ISO weeks of October, a 合计 row equal to the 进厂台次 KPI, kinds summing
    to it."""
    wb, _ = write(ds, tmp_path)
    body = list(wb["进厂台次"].iter_rows(min_row=2, values_only=True))
    assert [b[0] for b in body] == ["2026-W40", "2026-W41", "2026-W42", "2026-W43",
                                    "2026-W44", "合计"]
    total = body[-1]
    assert total[3] == 3 and sum(total[4:]) == 3


def test_phones_masked_unless_show_phones(ds, tmp_path):
    """Drill-downs show 138****5678 by default; the full number only with --show-phones."""
    wb, _ = write(ds, tmp_path)
    cells = [str(v) for ws in wb.worksheets for r in ws.iter_rows(values_only=True)
             for v in r if v is not None]
    assert "138****5678" in cells and not any(MOBILES[1] in c for c in cells)
    wb2, _ = write(ds, tmp_path, mask=False)
    cells2 = [str(v) for r in wb2["首保回厂率明细"].iter_rows(values_only=True) for v in r]
    assert MOBILES[1] in cells2


def test_definitions_name_every_kpi_and_the_config(ds, tmp_path):
    """口径说明 defines each KPI in words and names the config values used."""
    wb, _ = write(ds, tmp_path)
    rows = list(wb["口径说明"].iter_rows(min_row=2, values_only=True))
    codes = {r[1] for r in rows}
    assert {"visits", "first_service_return_rate", "retention_rate", "winback",
            "holdover_rate", "reminder_completion"} <= codes
    text = " ".join(str(v) for r in rows for v in r if v)
    assert "kpi.base_months = 12" in text and "kpi.winback_days = 180" in text


def test_run_report_on_sample_data_json(tmp_path, capsys):
    """`report --month 2026-10 --json` on sample_data writes report-2026-10.xlsx and prints
    the KPIs (codes, values, numerators, denominators, statuses, files), no phone numbers;
    the list KPIs come from the sample's filled October logs, 3DC has none."""
    out = run_report(data_dir=SAMPLE, out_dir=tmp_path, cfg=defaults(),
                     month=kpis.month_start("2026-10").date(), lang="zh", quiet=False,
                     as_json=True, skip_bad_files=False, show_phones=False)
    printed = capsys.readouterr().out
    assert json.loads(printed) == out
    assert out["files"] == [str(tmp_path / "report-2026-10.xlsx")]
    assert (tmp_path / "report-2026-10.xlsx").is_file()
    by = {k["kpi"]: k for k in out["kpis"]}
    assert {"visits", "first_service_return_rate", "winback", "holdover_rate"} <= set(by)
    fs = by["first_service_return_rate"]
    assert fs["value"] == fs["numerator"] / fs["denominator"]
    assert fs["status"] in ("met", "not_met")
    reach = by["reach_rate"]
    assert reach["no_data"] is None and 0 < reach["numerator"] < reach["denominator"]
    assert by["followup_rate"]["no_data"] == "contact_logs"
    assert not re.search(r"(?<![\d.])1[3-9]\d{9}(?!\d)", printed)  # no mobile numbers


def test_run_report_prints_a_table(tmp_path, capsys):
    """Without --json the KPIs are printed as a table (label, value, numerator …)."""
    ds_dir = tmp_path / "data"
    ds_dir.mkdir()
    for f in SAMPLE.glob("*.xlsx"):
        (ds_dir / f.name).write_bytes(f.read_bytes())
    run_report(data_dir=ds_dir, out_dir=tmp_path / "out", cfg=defaults(),
               month=kpis.month_start("2026-10").date(), lang="en", quiet=False,
               as_json=False, skip_bad_files=False)
    printed = capsys.readouterr().out
    assert "first-service return rate" in printed and "report-2026-10.xlsx" in printed


def _cells(path: Path) -> dict:
    wb = openpyxl.load_workbook(path, read_only=True)
    return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in wb}


def test_a_warm_report_reads_only_the_kpis_ro_columns_and_gives_the_same_workbook(
        tmp_path, monkeypatch):
    """The sample's data files (no contact logs: the whole dataset is cached) reported
    cold and then warm: the warm run reads only kpis.KPI_RO_COLUMNS of the ROs from the
    cache, and both workbooks hold the same cells."""
    import aftercare.load as loader
    from aftercare.load import cache

    data = tmp_path / "data"
    data.mkdir()
    for name in ("车辆档案.xlsx", "客户档案.xlsx", "维修工单_2021-2024.csv",
                 "维修工单_2024-2026.xlsx"):
        (data / name).write_bytes((SAMPLE / name).read_bytes())
    monkeypatch.setattr(cache, "get_default", lambda: tmp_path / "cache")
    loaded = []
    load = loader.load_folder

    def spy(*a, **kw):
        ds = load(*a, **kw)
        loaded.append(list(ds.repair_orders.columns))
        return ds

    monkeypatch.setattr("aftercare.commands.report.load_folder", spy)
    cells = []
    for run in ("cold", "warm"):
        out = tmp_path / run
        run_report(data_dir=data, out_dir=out, cfg=defaults(),
                   month=kpis.month_start("2026-10").date(), lang="zh", quiet=True,
                   as_json=False, skip_bad_files=False)
        cells.append(_cells(out / "report-2026-10.xlsx"))
    cold_cols, warm_cols = loaded
    assert set(warm_cols) == set(kpis.KPI_RO_COLUMNS) & set(cold_cols)
    assert {"vin", "plate", "customer_name"} <= set(cold_cols) - set(warm_cols)
    assert cells[0] == cells[1]


def test_the_reports_mileage_issues_are_those_of_a_plain_rule_context():
    """The report cuts its month's rule context to a few RO columns and numbers its ROs;
    its mileage issues (the sample's typos, rollbacks, suspect rates) still carry each
    reading's file, sheet and row, as a context of every column gives them."""
    from aftercare.commands.report import _projection_issues
    from aftercare.load import load_folder
    from aftercare.rules.context import prepare

    cfg = defaults()
    ds = load_folder(SAMPLE, cfg, cache_dir=None)
    res = build(kpis.kpi_dataset(ds), cfg, month="2026-10", lang="zh")
    ctx = res["report"].inputs.context(pd.Timestamp("2026-09-30"))
    got = _projection_issues(ctx.projection)
    want = _projection_issues(prepare(ds, pd.Timestamp("2026-09-30"), cfg).projection)
    assert len(want) > 10 and want["row"].notna().all()
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True))


# ------------------------------------------- drill-down lookups = Series.map lookups
_KEYS = st.one_of(st.none(), st.sampled_from(["C1", "C2", "C3", "王丽", ""]))


@settings(max_examples=60, deadline=None)
@given(owners=st.lists(_KEYS, min_size=0, max_size=8),
       customers=st.lists(_KEYS, min_size=0, max_size=6, unique=True),
       members=st.lists(st.integers(0, 10), min_size=0, max_size=12),
       arrow=st.booleans())
def test_drill_down_rows_look_up_as_series_map(owners, customers, members, arrow):
    """The drill-down sheets find each member's vehicle and customer by positions found
    once per report (report_workbook._Rows): the values of a known vehicle and of its
    customer, as ``Series.map`` found them; nothing for an unknown vehicle, an unknown
    customer or a vehicle without a customer key, even where a customer lacks one too
    (pandas' map matched a missing key to such a customer when the keys were Arrow text,
    not when they were objects: a choice, written down in _Rows)."""
    from types import SimpleNamespace

    import numpy as np

    from aftercare.frames import TEXT
    from aftercare.reports.report_workbook import _Rows, _taken

    text = TEXT if arrow else object
    veh = pd.DataFrame({"vehicle_id": np.arange(len(owners), dtype="int64"),
                        "customer_key": pd.Series(owners, dtype=text),
                        "model": pd.Series([f"M{i}" for i in range(len(owners))], dtype=text)}
                       ).set_index("vehicle_id", drop=False)
    cust = pd.DataFrame({"customer_key": pd.Series(customers, dtype=text),
                         "customer_name": pd.Series([f"N{i}" for i in range(len(customers))],
                                                    dtype=text)})
    report = SimpleNamespace(inputs=SimpleNamespace(vehicles=veh,
                                                    ds=SimpleNamespace(customers=cust)))
    rows = _Rows(report)
    vid = pd.Series(members, dtype="int64")
    vrow, crow = rows.of(vid)

    def same(got, want):
        return [None if pd.isna(x) else x for x in got] == \
            [None if pd.isna(x) else x for x in want]

    assert same(_taken(veh["model"], vrow), vid.map(veh["model"]))
    names = {k: n for k, n in zip(cust["customer_key"], cust["customer_name"]) if pd.notna(k)}
    keys = vid.map(veh["customer_key"])
    assert same(_taken(rows.cust["customer_name"], crow),
                [None if pd.isna(k) else names.get(k) for k in keys])


def test_the_reports_no_delivery_issues_name_the_vehicles_rows():
    """The report's rule contexts cut only a few vehicle columns; its issues for vehicles
    without a delivery date (not counted in 首保回厂率) still name each vehicle's file,
    sheet and row, as a context of every column gives them."""
    from aftercare.commands.report import _no_delivery_issues
    from aftercare.rules import service
    from aftercare.rules.context import prepare

    cfg = config()
    ds = dataset([veh(1, delivery_date="2025-06-01"),
                  veh(2, _file="车辆档案.xlsx", _sheet="车辆", _row=7),
                  veh(3, _file="车辆档案.xlsx", _sheet="车辆", _row=9)],
                 ros=[ro(1, "2026-01-05", "maintenance")])
    res = build(ds, cfg, month="2026-10", lang="zh")
    got = res["issues"][res["issues"]["reason"] == "no_delivery_date"]
    ctx = prepare(ds, pd.Timestamp("2026-09-30"), cfg)
    want = _no_delivery_issues(ctx.vehicles, service.first_service(ctx)[1])
    assert want[["file", "sheet", "row"]].values.tolist() == [["车辆档案.xlsx", "车辆", 7],
                                                               ["车辆档案.xlsx", "车辆", 9]]
    pd.testing.assert_frame_equal(got.reset_index(drop=True).astype(object),
                                  want.reset_index(drop=True).astype(object))
