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
from aftercare.rules.context import RULE_RO_COLUMNS, prepare

ISSUE_FIELDS = ["file", "sheet", "row", "field", "value", "reason", "detail"]


def previous_as_of(as_of) -> pd.Timestamp:
    """as_of minus one calendar month (31 March → 28/29 February)."""
    return pd.Timestamp(as_of).normalize() - pd.DateOffset(months=1)


def build(ds: Dataset, cfg: dict, *, as_of: dt.date, lang: str, effects=None,
          log_issues: pd.DataFrame | None = None) -> dict:
    """Everything `churn` writes, as frames (no I/O): ``bands`` (one row per vehicle, from
    :func:`aftercare.rules.churn.band_vehicles`), ``previous`` (the bands one calendar month
    earlier, from the same data), ``movement``, ``matrix`` (the 90–364-day split),
    ``reasons`` (未回厂原因 from contact logs, one row per vehicle and log entry),
    ``issues`` and ``summary`` (counts only: no personal data). ``effects``: the contact
    logs' effects, already applied to ``ds`` (see aftercare.logs)."""
    ctx = prepare(ds, as_of, cfg)
    logged = effects.reasons if effects is not None else None
    bands = rules.band_vehicles(ctx, logged)
    prev_day = previous_as_of(ctx.as_of)
    previous = rules.bands_on(ctx, prev_day)
    mov = rules.movement(bands, previous)
    matrix = rules.split_matrix(bands)
    issues = pd.concat([_frame(ds.issues.frame()), _projection_issues(ctx.projection),
                        _frame(rules.no_date_issues(ctx, bands)),
                        _frame(log_issues if log_issues is not None else
                               pd.DataFrame(columns=ISSUE_FIELDS))], ignore_index=True)
    summary = _summary(ctx, bands, mov, matrix, prev_day, issues, lang)
    reasons = reason_rows(ctx, logged, bands)
    summary["reasons"] = int(len(reasons))
    return {"stem": ctx.as_of.date().isoformat(), "bands": bands, "previous": previous,
            "movement": mov, "matrix": matrix, "issues": issues, "summary": summary,
            "context": ctx, "reasons": reasons}


REASON_FIELDS = ["vehicle_id", "plate", "vin", "customer_name", "band", "contact_date", "agent",
                 "result", "reason", "other_shop"]


def reason_rows(ctx, logged: pd.DataFrame | None, bands: pd.DataFrame) -> pd.DataFrame:
    """流失原因: each logged reason (or other shop) of a banded vehicle, by band (lapsed
    first, longest away first), then date; a row without a vehicle of its own (a birthday
    call) is shown for each of the customer's vehicles."""
    if logged is None or not len(logged):
        return pd.DataFrame({c: pd.Series(dtype=object) for c in REASON_FIELDS})
    v = ctx.vehicles
    whole = logged["vehicle_id"].isna()
    spread = logged[whole].merge(pd.DataFrame({"customer_key": v["customer_key"].to_numpy(),
                                               "_vid": v.index.to_numpy()}), on="customer_key")
    spread = spread.assign(vehicle_id=spread["_vid"]).drop(columns="_vid")
    r = pd.concat([logged[~whole], spread], ignore_index=True)
    r["vehicle_id"] = r["vehicle_id"].astype("int64")
    banded = bands[bands["band"].notna()]
    r = r[r["vehicle_id"].isin(banded.index)].reset_index(drop=True)
    vid = r["vehicle_id"]
    out = pd.DataFrame({
        "vehicle_id": vid, "plate": vid.map(banded["plate"]), "vin": vid.map(banded["vin"]),
        "customer_name": vid.map(banded["customer_name"]), "band": vid.map(banded["band"]),
        "contact_date": pd.to_datetime(r["log_date"]), "agent": r["agent"],
        "result": r["outcome"], "reason": r["reason"], "other_shop": r["other_shop"],
    })
    order = out.assign(_b=-out["band"].map({c: i for i, c in enumerate(rules.BAND_CODES)}))
    order = order.sort_values(["_b", "contact_date", "vehicle_id"],
                              ascending=[True, False, True], kind="stable")
    return order.drop(columns="_b").reset_index(drop=True)


def _frame(f: pd.DataFrame) -> pd.DataFrame:
    return f.reindex(columns=ISSUE_FIELDS)


def _projection_issues(proj) -> pd.DataFrame:
    iss = proj.issues
    if iss is None or not len(iss):
        return pd.DataFrame(columns=ISSUE_FIELDS)
    from aftercare.logs.effects import SERVICE_RECORD_PREFIX

    # a service done elsewhere (from a contact log) is named by the log's own column
    logged = iss["ro_key"].astype(str).str.startswith(SERVICE_RECORD_PREFIX)
    field_ = iss["field"].astype(object).where(~logged, "other_shop_km")
    return pd.DataFrame({"file": iss["_file"], "sheet": iss["_sheet"], "row": iss["_row"],
                         "field": field_, "value": iss["value"], "reason": iss["reason"],
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
    from aftercare.commands import importing
    from aftercare.progress import loading_progress

    with loading_progress(enabled=not quiet and not as_json) as progress:
        # a warm run reads only the RO columns the rules read; a cold one drops the rest
        # after matching the contact logs (which reads the vehicles and customers)
        ds = load_folder(data_dir, cfg, skip_bad_files=skip_bad_files, progress=progress,
                         ro_columns=RULE_RO_COLUMNS,
                         meanwhile=importing("aftercare.reports.churn_workbook",
                                             "aftercare.logs"))
    from aftercare.reports.churn_workbook import write_churn_workbook
    from aftercare.writer import files_written

    from aftercare import logs as logs_mod

    logs = logs_mod.gather(ds, out_dir, cfg)
    ds = ds.with_ro_columns(RULE_RO_COLUMNS)
    effects = logs_mod.effects.compute(logs.rows, ds, as_of, register=logs.all_opt_outs)
    res = build(logs_mod.effects.apply(ds, effects), cfg, as_of=as_of, lang=lang,
                effects=effects, log_issues=logs.issues)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = write_churn_workbook(out_dir / f"churn-{res['stem']}.xlsx", res, lang=lang,
                                show_phones=show_phones)
    res["summary"]["contact_logs"] = logs_mod.record_and_count(out_dir, logs)
    summary = dict(res["summary"])
    summary["files"] = files_written(path)
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
