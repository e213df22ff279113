"""`aftercare report`: the month-end KPI workbook (report-YYYY-MM.xlsx, 04-kpis.md). The
KPIs are in aftercare.rules.kpis; this module wires them to the loader, the workbook and
the terminal."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from aftercare import memory
from aftercare.load import Dataset, load_folder
from aftercare.rules import kpis


def build(ds: Dataset, cfg: dict, *, month, lang: str, logs: pd.DataFrame | None = None,
          log_issues: pd.DataFrame | None = None) -> dict:
    """Everything `report` writes, computed (no I/O): ``stem`` (YYYY-MM), ``report`` (a
    :class:`~aftercare.rules.kpis.KpiReport`), ``issues`` (data issues: loading, the
    mileage projection behind the due cohorts, vehicles without a delivery date, the
    contact logs) and ``summary`` (the ``--json`` payload, without ``files``; no personal
    data). ``logs``: the matched contact-log rows (aftercare.logs.gather), for the list
    KPIs; the other KPIs count the data as exported (04-kpis.md "Who counts")."""
    from aftercare.rules import service

    month = kpis.month_start(month)
    report = kpis.compute_report(ds, month, cfg, logs=logs)
    ctx = report.inputs.context(month - pd.Timedelta(days=1))  # the due cohorts' context
    _, no_delivery = service.first_service(ctx)
    cols = ["file", "sheet", "row", "field", "value", "reason", "detail"]
    issues = pd.concat([ds.issues.frame(), _projection_issues(ctx.projection),
                        _no_delivery_issues(ctx.vehicles, no_delivery),
                        (log_issues if log_issues is not None else pd.DataFrame(columns=cols))
                        .reindex(columns=cols)], ignore_index=True)
    return {"stem": month.strftime("%Y-%m"), "report": report, "issues": issues,
            "summary": summary(report, issues, lang)}


def summary(report: kpis.KpiReport, issues: pd.DataFrame, lang: str) -> dict:
    """The machine-readable summary: per KPI its code, value, numerator, denominator,
    target, status, last month's and last year's values; counts only, no personal data."""
    from aftercare.reports.report_workbook import kpi_status_text

    end = report.month + pd.offsets.MonthEnd(0)
    rows = []
    for r in report.results:
        pm, py = report.prev_month.get(r.kpi), report.prev_year.get(r.kpi)
        rows.append({
            "kpi": r.kpi, "value": _num(r.value), "numerator": _num(r.numerator),
            "denominator": _num(r.denominator), "target": r.target, "status": r.status,
            "status_text": kpi_status_text(r, lang), "provisional": r.provisional,
            "no_data": r.no_data,
            "prev_month": _num(pm.value) if pm is not None else None,
            "prev_year": _num(py.value) if py is not None else None,
        })
    return {
        "month": report.month.strftime("%Y-%m"),
        "data_cutoff": end.date().isoformat(),
        "data_end": report.data_end.date().isoformat() if report.data_end is not None else None,
        "provisional": bool(report.data_end is not None and report.data_end < end),
        "kpis": rows,
        "data_issues": int(len(issues)),
    }


def _num(v):
    """A KPI number as a JSON number: counts stay whole, rates and money are floats."""
    if v is None:
        return None
    return int(v) if isinstance(v, (int, np.integer)) else float(v)


def _projection_issues(proj) -> pd.DataFrame:
    iss = proj.issues
    cols = ["file", "sheet", "row", "field", "value", "reason", "detail"]
    if iss is None or not len(iss):
        return pd.DataFrame(columns=cols)
    return pd.DataFrame({"file": iss["_file"], "sheet": iss["_sheet"], "row": iss["_row"],
                         "field": iss["field"], "value": iss["value"], "reason": iss["reason"],
                         "detail": iss["detail"]})[cols]


def _no_delivery_issues(vehicles: pd.DataFrame, missing: pd.DataFrame) -> pd.DataFrame:
    """Vehicles the first-service rule skips for want of a delivery date (not counted in
    首保回厂率), one issue each, at the vehicle's row."""
    v = vehicles.loc[missing["vehicle_id"].to_numpy()] if len(missing) else vehicles.iloc[:0]

    def col(name):
        return v[name].to_numpy() if name in v.columns else [""] * len(v)

    return pd.DataFrame({"file": col("_file"), "sheet": col("_sheet"), "row": col("_row"),
                         "field": "delivery_date", "value": "", "reason": "no_delivery_date",
                         "detail": ""})


def run_report(*, data_dir: Path, out_dir: Path, cfg: dict, month: dt.date, lang: str,
               quiet: bool, as_json: bool, skip_bad_files: bool,
               show_phones: bool = False) -> dict:
    """Load, compute, write ``out_dir/report-YYYY-MM.xlsx``; print a KPI table (or, with
    ``as_json``, the summary) and return the summary."""
    from aftercare.commands import importing
    from aftercare.progress import loading_progress

    with loading_progress(enabled=not quiet and not as_json) as progress:
        # a warm run reads only the RO columns the KPIs read: nothing else here reads
        # ROs (matching the contact logs reads the vehicles and customers)
        ds = load_folder(data_dir, cfg, skip_bad_files=skip_bad_files, progress=progress,
                         ro_columns=kpis.KPI_RO_COLUMNS,
                         meanwhile=importing("aftercare.reports.report_workbook",
                                             "aftercare.logs"))
    from aftercare.reports.report_workbook import report_sheets
    from aftercare.writer import files_written, write_workbook

    from aftercare import logs as logs_mod

    logs = logs_mod.gather(ds, out_dir, cfg)
    ds = kpis.kpi_dataset(ds)  # the other RO columns freed before the 13 months
    memory.release()
    res = build(ds, cfg, month=month, lang=lang, logs=logs.rows, log_issues=logs.issues)
    out_dir.mkdir(parents=True, exist_ok=True)
    sheets, extra = report_sheets(res["report"], res["issues"], lang)
    path = write_workbook(out_dir / f"report-{res['stem']}.xlsx", sheets,
                          mask=not show_phones, extra=extra)
    res["summary"]["contact_logs"] = logs_mod.record_and_count(out_dir, logs)
    out = dict(res["summary"])
    out["files"] = files_written(path)
    if as_json:
        print(json.dumps(out, ensure_ascii=False, indent=2))
    elif not quiet:
        print_table(res["report"], out, lang)
    return out


def print_table(report: kpis.KpiReport, summary: dict, lang: str, file=None) -> None:
    """The KPIs as a rich table: label, value, numerator, denominator, target, status,
    last month, last year (未达标 in red)."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from aftercare.reports.report_workbook import KPI_COLUMNS, format_value, kpi_rows

    zh = lang != "en"
    con = Console(file=file or sys.stdout, highlight=False)
    if not con.is_terminal:  # a log file or a pipe: wide enough for the whole table
        con.width = max(con.width, 140)
    t = Table(title=("月度指标 " if zh else "KPIs ") + summary["month"])
    for f in KPI_COLUMNS:
        if f == "kpi":
            continue
        t.add_column(KPI_COLUMNS[f][0 if zh else 1], no_wrap=True,
                     justify="left" if f in ("kpi_label", "status") else "right")
    for row in kpi_rows(report, lang, short=True):
        code = row["kpi"]

        def text(v, code=code):
            return v if isinstance(v, str) else format_value(code, v)

        num_code = code if row["_kind"] == "money" else "visits"
        status = escape(row["status"])
        if row["_status"] == "not_met":
            status = f"[red]{status}[/red]"
        target = "" if row["target"] is None else (
            ("<" if row["_lower"] else "≥") + f"{row['target']:.1%}")
        t.add_row(escape(row["kpi_label"]), text(row["value"]),
                  format_value(num_code, row["numerator"]),
                  format_value("visits", row["denominator"]), target, status,
                  text(row["prev_month"]), text(row["prev_year"]))
    con.print(t)
    if summary["provisional"]:
        con.print(("[yellow]注意[/yellow] 数据最新日期 " if zh else "[yellow]note[/yellow] data ends ")
                  + f"{summary['data_end']}" + ("，早于月末：指标为暂定" if zh else
                                                  ", before the end of the month: provisional"))
    con.print(("数据问题 " if zh else "data issues ") + str(summary["data_issues"]))
    for f in summary.get("files", []):
        con.print(("写入 " if zh else "wrote ") + escape(f))
