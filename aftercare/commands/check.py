"""`aftercare check`: load the data folder and report what was found. Writes nothing."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import pandas as pd

from aftercare import i18n
from aftercare.load import Dataset, load_folder, require_data
from aftercare.masking import mask_value

EXAMPLES_PER_REASON = 3


def run_check(*, data_dir: Path, cfg: dict, as_of: dt.date, lang: str, quiet: bool,
              as_json: bool, skip_bad_files: bool) -> dict:
    from aftercare.progress import loading_progress

    with loading_progress(enabled=not quiet and not as_json) as progress:
        ds = load_folder(data_dir, cfg, skip_bad_files=skip_bad_files, progress=progress,
                         require=False)
    summary = summarise(ds, as_of, lang)
    if as_json:
        print(json.dumps(summary, ensure_ascii=False, indent=2, default=str))
    elif not quiet:
        _print(summary, lang)
    require_data(ds, data_dir)  # after the report: it shows what was (not) recognised
    return summary


def summarise(ds: Dataset, as_of: dt.date, lang: str) -> dict:
    """What check reports, as plain data (the --json output): no personal values."""
    issues = ds.issues.frame()
    by_reason = []
    if len(issues):
        for (reason, fld), grp in issues.groupby(["reason", "field"], sort=False):
            examples = [
                {"file": r.file, "sheet": r.sheet, "row": None if pd.isna(r.row) else int(r.row),
                 "value": mask_value(fld, r.value)}
                for r in grp.head(EXAMPLES_PER_REASON).itertuples()
            ]
            by_reason.append({"reason": reason, "text": i18n.reason_text(reason, lang),
                              "field": fld, "count": int(len(grp)), "examples": examples})
        by_reason.sort(key=lambda d: -d["count"])
    first, last = ds.date_range()
    ros = ds.repair_orders
    after = int((ros["open_date"] > pd.Timestamp(as_of)).sum()) if len(ros) else 0
    return {
        "as_of": as_of.isoformat(),
        "sheets": [
            {"file": s.file, "sheet": s.sheet, "table": s.table, "rows": s.rows,
             "header_row": s.header_row, "format": s.kind, "encoding": s.encoding,
             "ignored_reason": i18n.reason_text(s.reason, lang) if s.reason else None}
            for s in ds.sheets
        ],
        "skipped_files": [{"file": f, "reason": i18n.reason_text(r, lang)}
                          for f, r in ds.skipped_files],
        "bad_files": [{"file": f, "reason": r} for f, r in ds.bad_files],
        "counts": {
            "vehicles": int(len(ds.vehicles)),
            "vehicles_only_in_ros": int(ds.vehicles["from_ros"].sum()) if len(ds.vehicles) else 0,
            "customers": int(len(ds.customers)),
            "repair_orders": int(len(ros)),
            "repair_orders_deleted": int(ros["deleted"].sum()) if len(ros) else 0,
            "repair_orders_after_as_of": after,
            "ro_duplicates_across_files": int(ds.ro_duplicates),
            "contact_log_sheets": len(ds.log_sheets),
            "input_rows": int(ds.input_rows),
            "data_issues": int(len(issues)),
        },
        "ro_kinds": {str(k): int(v) for k, v in ros["kind"].value_counts().items()}
        if len(ros) else {},
        "date_range": {"first": None if first is None else first.date().isoformat(),
                       "last": None if last is None else last.date().isoformat()},
        "issues_by_reason": by_reason,
        "warnings": _warnings(ds, lang),
        # top-level copies for --max-issue-rate and --log-file
        "data_issues": int(len(issues)),
        "input_rows": int(ds.input_rows),
    }


RECOMMENDED = {"vehicles": ("delivery_date",)}


def _warnings(ds: Dataset, lang: str) -> list[str]:
    """Recommended columns missing from a whole table: a warning, not an error."""
    out = []
    for table, fields in RECOMMENDED.items():
        sheets = [s for s in ds.sheets if s.table == table]
        for fname in fields:
            if sheets and not any(fname in s.columns for s in sheets):
                label = i18n.column(fname, lang)
                out.append(
                    f"{i18n.table_label(table, lang)}没有「{label}」列：首保、质保、年检（无登记日期时）"
                    f"和新车回访会跳过这些车辆。可在 [aliases.{table}] {fname} 中添加列名。"
                    if lang != "en" else
                    f"{table} have no {fname} column: first service, warranty, inspection "
                    f"(without a registration date) and 7DC skip them. Add the header to "
                    f"[aliases.{table}] {fname} if it has another name."
                )
    return out


def _print(summary: dict, lang: str) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    zh = lang != "en"
    con = Console(file=sys.stdout, highlight=False)
    t = Table(title="读取的文件与工作表" if zh else "Files and sheets read")
    for col in (("文件", "File"), ("工作表", "Sheet"), ("数据表", "Table"), ("行数", "Rows"),
                ("表头行", "Header row"), ("格式", "Format")):
        t.add_column(col[0] if zh else col[1])
    for s in summary["sheets"]:
        table = i18n.table_label(s["table"], lang) if s["table"] else (
            ("忽略: " if zh else "ignored: ") + (s["ignored_reason"] or ""))
        fmt = s["format"] + (f" ({s['encoding']})" if s["encoding"] else "")
        t.add_row(s["file"], s["sheet"], table, str(s["rows"]), str(s["header_row"] or "—"), fmt)
    con.print(t)
    for f in summary["skipped_files"]:
        con.print(("跳过 " if zh else "skipped ") + escape(f"{f['file']}: {f['reason']}"))
    for f in summary["bad_files"]:
        con.print(("[red]无法读取[/red] " if zh else "[red]unreadable[/red] ")
                  + escape(f"{f['file']}: {f['reason']}"))
    c = summary["counts"]
    labels = {
        "vehicles": ("车辆", "vehicles"), "vehicles_only_in_ros": ("仅见于工单的车辆",
                                                                "vehicles seen only in ROs"),
        "customers": ("客户", "customers"), "repair_orders": ("工单", "repair orders"),
        "repair_orders_deleted": ("已删除/作废工单", "deleted ROs"),
        "repair_orders_after_as_of": ("截止日之后的工单(不计)", "ROs after as_of (ignored)"),
        "ro_duplicates_across_files": ("跨文件重复的工单(已去重)",
                                       "ROs deduplicated across files"),
        "contact_log_sheets": ("联系记录表", "contact-log sheets"),
        "input_rows": ("读取的数据行", "data rows read"),
        "data_issues": ("数据问题", "data issues"),
    }
    ct = Table(title="汇总" if zh else "Counts")
    ct.add_column("项目" if zh else "What")
    ct.add_column("数量" if zh else "Count", justify="right")
    for k, v in c.items():
        ct.add_row(i18n.pick(labels[k], lang), f"{v:,}")
    con.print(ct)
    for w in summary["warnings"]:
        con.print(("[yellow]注意[/yellow] " if zh else "[yellow]warning[/yellow] ") + escape(w))
    dr = summary["date_range"]
    con.print(("工单日期范围: " if zh else "RO dates covered: ") + f"{dr['first']} — {dr['last']}")
    if summary["issues_by_reason"]:
        it = Table(title="数据问题（按原因）" if zh else "Data issues by reason")
        for col in (("原因", "Reason"), ("字段", "Field"), ("数量", "Count"), ("示例", "Examples")):
            it.add_column(col[0] if zh else col[1])
        for r in summary["issues_by_reason"]:
            ex = "; ".join(f"{e['file']}:{e['row']} {e['value']}".strip()
                           for e in r["examples"])
            it.add_row(r["text"], i18n.column(r["field"], lang) if r["field"] else "",
                       f"{r['count']:,}", ex)
        con.print(it)
