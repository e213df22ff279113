"""`aftercare churn`: lapsed-customer bands (the seeds' 抓3控6), the 本地/外地 × 在保/出保
split, movement since the previous month and ranked win-back lists. The rules are in
aftercare.rules.churn; this module wires them to the loader and the workbook."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd

from aftercare.load import Dataset, load_folder
from aftercare.rules import churn as rules
from aftercare.rules.context import prepare

ISSUE_FIELDS = ["file", "sheet", "row", "field", "value", "reason", "detail"]


def previous_as_of(as_of) -> pd.Timestamp:
    """as_of minus one calendar month (31 March → 28/29 February)."""
    return pd.Timestamp(as_of).normalize() - pd.DateOffset(months=1)


def build(ds: Dataset, cfg: dict, *, as_of: dt.date, lang: str) -> dict:
    """Everything `churn` writes, as frames (no I/O): ``bands`` (one row per vehicle, from
    :func:`aftercare.rules.churn.band_vehicles`), ``previous`` (the bands one calendar month
    earlier, from the same data), ``movement``, ``matrix`` (the 90–364-day split),
    ``issues`` and ``summary`` (counts only: no personal data)."""
    ctx = prepare(ds, as_of, cfg)
    bands = rules.band_vehicles(ctx)
    prev_day = previous_as_of(ctx.as_of)
    previous = rules.bands_on(ctx, prev_day)
    mov = rules.movement(bands, previous)
    matrix = rules.split_matrix(bands)
    issues = pd.concat([_frame(ds.issues.frame()), _projection_issues(ctx.projection),
                        _frame(rules.no_date_issues(ctx, bands))], ignore_index=True)
    summary = _summary(ctx, bands, mov, matrix, prev_day, issues, lang)
    return {"stem": ctx.as_of.date().isoformat(), "bands": bands, "previous": previous,
            "movement": mov, "matrix": matrix, "issues": issues, "summary": summary,
            "context": ctx}


def _frame(f: pd.DataFrame) -> pd.DataFrame:
    return f.reindex(columns=ISSUE_FIELDS)


def _projection_issues(proj) -> pd.DataFrame:
    iss = proj.issues
    if iss is None or not len(iss):
        return pd.DataFrame(columns=ISSUE_FIELDS)
    return pd.DataFrame({"file": iss["_file"], "sheet": iss["_sheet"], "row": iss["_row"],
                         "field": iss["field"], "value": iss["value"], "reason": iss["reason"],
                         "detail": iss["detail"]})


def _summary(ctx, bands, mov, matrix, prev_day, issues, lang) -> dict:
    band = bands["band"]
    counts = band.value_counts()
    excluded = bands["excluded_reason"].value_counts()
    lapsed = band.isin(rules.LAPSED_BANDS).to_numpy()
    opted = bands["opted_out"].to_numpy()
    on_sheets = band[lapsed & ~opted].value_counts()
    prefixes = list(ctx.cfg["churn"]["local_plate_prefixes"])
    warnings = []
    if not prefixes:
        warnings.append("未配置本地车牌前缀，本地/外地均为未知：请设置 "
                        "[churn] local_plate_prefixes，如 [\"粤B\"] "
                        "(no local plate prefixes configured: local is unknown)"
                        if lang != "en" else
                        "no local plate prefixes configured, so local/non-local is unknown: "
                        "set [churn] local_plate_prefixes, e.g. [\"粤B\"]")
    return {
        "as_of": ctx.as_of.date().isoformat(),
        "previous_as_of": prev_day.date().isoformat(),
        "band_edges": [int(e) for e in rules.band_edges(ctx.cfg)],
        "local_plate_prefixes": prefixes,
        "vehicles": int(len(bands)),
        "banded": int(band.notna().sum()),
        "bands": {c: int(counts.get(c, 0)) for c in rules.BAND_CODES},
        "movement": {c: {"entered": int(mov.at[c, "entered"]), "left": int(mov.at[c, "left"])}
                     for c in rules.BAND_CODES},
        "split": {loc: {w: int(matrix.at[loc, w]) for w in rules.WARRANTY_CODES}
                  for loc in rules.LOCAL_CODES},
        "excluded": {**{r: int(excluded.get(r, 0)) for r in rules.EXCLUDED_REASONS},
                     "vehicles_after_as_of": int(ctx.counts.get("vehicles_after_as_of", 0))},
        "opted_out": int((lapsed & opted).sum()),
        "call_sheet_rows": {c: int(on_sheets.get(c, 0)) for c in rules.LAPSED_BANDS},
        "maintenance_overdue": int((lapsed & bands["maintenance_overdue"].to_numpy()).sum()),
        "data_issues": int(len(issues)),
        "warnings": warnings,
    }


def run_churn(*, data_dir: Path, out_dir: Path, cfg: dict, as_of: dt.date, lang: str,
              quiet: bool, as_json: bool, skip_bad_files: bool, show_phones: bool) -> dict:
    """Load, compute, write ``out_dir/churn-<as_of>.xlsx`` and print a summary (a rich
    table, or with ``as_json`` the summary as JSON: counts and ``files``)."""
    from aftercare.progress import loading_progress
    from aftercare.reports.churn_workbook import write_churn_workbook

    with loading_progress(enabled=not quiet and not as_json) as progress:
        ds = load_folder(data_dir, cfg, skip_bad_files=skip_bad_files, progress=progress)
    res = build(ds, cfg, as_of=as_of, lang=lang)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = write_churn_workbook(out_dir / f"churn-{res['stem']}.xlsx", res, lang=lang,
                                show_phones=show_phones)
    summary = dict(res["summary"])
    summary["files"] = [str(path)]
    if as_json:
        print(json.dumps(summary, ensure_ascii=False, indent=2))
    elif not quiet:
        _print(summary, lang)
    return summary


def _print(summary: dict, lang: str) -> None:
    import sys

    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from aftercare.i18n import pick
    from aftercare.reports.churn_workbook import (BAND_LABELS, BAND_SHEETS, EXCLUDED_LABELS,
                                                  LOCAL_LABELS, WARRANTY_LABELS, band_ranges)

    zh = lang != "en"
    con = Console(file=sys.stdout, highlight=False)
    ranges = band_ranges(summary["band_edges"])
    total = summary["banded"] or 1
    t = Table(title=("流失分段 " if zh else "Churn bands ") + summary["as_of"])
    for head, right in ((("分段", "Band"), False), (("未回厂天数", "Days"), True),
                        (("车辆", "Vehicles"), True), (("占比", "Share"), True),
                        (("本月进入", "Entered"), True), (("本月离开", "Left"), True),
                        (("列入呼叫", "To call"), True)):
        t.add_column(pick(head, lang), justify="right" if right else "left")
    for code, n in summary["bands"].items():
        mv = summary["movement"][code]
        calls = summary["call_sheet_rows"].get(code)
        label = BAND_SHEETS.get(code, BAND_LABELS[code])  # short: fits an 80-column terminal
        t.add_row(pick(label, lang), ranges[code], str(n), f"{n / total:.1%}",
                  str(mv["entered"]), str(mv["left"]), "" if calls is None else str(calls))
    con.print(t)
    m = Table(title=("90–364天 本地/外地 × 在保/出保" if zh else "90–364 days: local × warranty"))
    m.add_column("")
    for w in WARRANTY_LABELS.values():
        m.add_column(pick(w, lang), justify="right")
    for loc, row in summary["split"].items():
        m.add_row(pick(LOCAL_LABELS[loc], lang), *[str(row[w]) for w in WARRANTY_LABELS])
    con.print(m)
    ex = ", ".join(f"{pick(EXCLUDED_LABELS[k], lang)} {v}" for k, v in summary["excluded"].items()
                   if v)
    con.print(("单独计数: " if zh else "counted apart: ") + escape(ex or "0"))
    con.print(("免打扰(未列入呼叫表) " if zh else "opted out (not on call sheets) ")
              + f"{summary['opted_out']}  " + ("数据问题 " if zh else "data issues ")
              + f"{summary['data_issues']}")
    for w in summary["warnings"]:
        con.print("[yellow]注意[/yellow] " + escape(w))
    for f in summary["files"]:
        con.print(("写入 " if zh else "wrote ") + escape(f))
