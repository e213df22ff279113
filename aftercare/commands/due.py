"""`aftercare due`: the month's reminder call list (or a day's follow-up list), the calling
plan, and one prefilled contact log per agent. The rules are in aftercare.rules; this
module wires them to the loader, the contact logs read back (aftercare.logs) and the
workbooks.

Filled contact logs change the list (03-outputs.md, "Contact log"): their effects are
applied to the data before the rules run (opt-outs, new numbers, sold/scrapped vehicles,
services done elsewhere), closed reminders and wrong numbers are passed to the month
rules, agents keep their customers, and a month list gains two sheets: 短信名单 (the
SMS fallback after three failed attempts, texts from ``[sms]``) and 预约未到 (no-shows).
"""

from __future__ import annotations

import datetime as dt
import json
import string
from pathlib import Path

import numpy as np
import pandas as pd

from aftercare import i18n
from aftercare.frames import join_unique, map_distinct
from aftercare.load import Dataset, load_folder
from aftercare.rules import calls as calls_mod
from aftercare.rules import mileage
from aftercare.rules.context import GONE_STATUSES, RULE_RO_COLUMNS, RuleContext, prepare
from aftercare.rules.month import MONTH_KINDS, ReminderList, day_list, month_list

ISSUE_FIELDS = ["file", "sheet", "row", "field", "value", "reason", "detail"]
SMS_KINDS = tuple(k for k in MONTH_KINDS if k != "birthday")


def default_as_of_for_month(month: dt.date, today: dt.date) -> dt.date:
    """Today, unless the month has already ended: then the day before it starts (a past
    month is replayed as it would have been planned)."""
    end = (pd.Timestamp(month) + pd.offsets.MonthEnd(0)).date()
    return month - dt.timedelta(days=1) if end < today else today


def default_as_of_for_day(day: dt.date, today: dt.date) -> dt.date:
    return day - dt.timedelta(days=1) if day < today else today


def build(ds: Dataset, cfg: dict, *, as_of: dt.date, month: dt.date | None = None,
          day: dt.date | None = None, agents: list[str], lang: str,
          previous_agents: pd.Series | None = None, effects=None,
          log_issues: pd.DataFrame | None = None) -> dict:
    """Everything `due` writes, as frames (no I/O). ``effects``: the contact logs'
    effects at as_of (:func:`aftercare.logs.effects.compute`), already applied to ``ds``
    (:func:`aftercare.logs.effects.apply`); ``log_issues``: the logs' data issues."""
    if month is not None:
        start = pd.Timestamp(month)
        end = start + pd.offsets.MonthEnd(0)
    else:
        start = end = pd.Timestamp(day)
    horizon = end + pd.DateOffset(months=3)
    ctx = prepare(ds, as_of, cfg, horizon_end=horizon)
    lst = (month_list(ctx, start, effects) if month is not None
           else day_list(ctx, start, effects))
    if previous_agents is None and effects is not None:
        previous_agents = effects.previous_agents
    reminders = enrich(lst.reminders, ctx, lang)
    fix = enrich_fix(lst.fix_data, ctx)
    capacity = len(agents) * cfg["calling"]["calls_per_agent_per_day"]
    calls = calls_mod.merge_calls(reminders) if len(reminders) else _empty_calls()
    calls = calls_mod.plan_calls(calls, ctx.calendar, as_of=ctx.as_of, capacity=capacity,
                                 period_start=start, period_end=end)
    calls = calls_mod.assign_agents(calls, agents, previous_agents)
    stem = start.strftime("%Y-%m") if month is not None else start.strftime("%Y-%m-%d")
    calls["call_id"] = pd.Series([f"{stem}-{i + 1:05d}" for i in range(len(calls))],
                                 index=calls.index, dtype=object)
    calls = calls.join(calls_mod.attempt_plans(calls["planned_date"], ctx.calendar, lang))
    keyed = calls.set_index("call_key")
    call_key = reminders["customer_key"].astype(str) + np.where(
        reminders["kind"] == "birthday", ":birthday", "")
    reminders["call_id"] = call_key.map(keyed["call_id"]).to_numpy()
    reminders["agent"] = call_key.map(keyed["agent"]).to_numpy()
    calls = _call_details(calls, reminders, ctx, lang)
    cap = calls_mod.capacity_table(calls, ctx.calendar, max(start, ctx.as_of), end, capacity)
    issues = pd.concat([ds.issues.frame(), _projection_issues(ctx.projection),
                        _issue_frame(log_issues)], ignore_index=True)
    sms = no_shows = None
    if month is not None:  # the round trip's sheets belong to the month list
        sms = sms_list(effects, ctx, reminders, cfg)
        no_shows = no_show_list(effects, ctx)
    summary = _summary(ctx, lst, reminders, calls, cap, stem, month is not None, issues,
                       ctx.calendar.uncovered_between(start, end + pd.Timedelta(days=7)),
                       ds.input_rows)
    if sms is not None:
        summary["sms"] = int(len(sms))
        summary["no_shows"] = int(len(no_shows))
    return {"stem": stem, "reminders": reminders, "calls": calls, "fix_data": fix,
            "issues": issues, "summary": summary, "capacity": cap, "context": ctx,
            "sms": sms, "no_shows": no_shows}


def _issue_frame(f: pd.DataFrame | None) -> pd.DataFrame:
    if f is None or not len(f):
        return pd.DataFrame(columns=ISSUE_FIELDS)
    return f.reindex(columns=ISSUE_FIELDS)


SMS_COLUMNS = ["customer_key", "customer_id", "customer_name", "mobile", "plates", "kinds",
               "sms", "failed_on", "agent", "call_id"]
NO_SHOW_COLUMNS = ["customer_key", "customer_id", "customer_name", "mobile", "plate", "vin",
                   "kinds", "booked_date", "agent", "call_id"]


def _empty(columns) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="datetime64[ns]" if c in ("failed_on",
                                                                         "booked_date")
                                      else object) for c in columns})


def _still_ours(frame: pd.DataFrame, effects, ctx: RuleContext) -> pd.DataFrame:
    """Rows of customers who may be contacted (not opted out, number not marked wrong)
    whose vehicle is not gone."""
    keys = frame["customer_key"]
    ok = ~keys.isin(effects.opted_out) & ~keys.isin(effects.wrong_number_keys)
    status = ctx.customers["do_not_contact"] if "do_not_contact" in ctx.customers else None
    if status is not None:
        ok &= ~keys.map(status).eq(True)
    vst = frame["vehicle_id"].map(ctx.vehicles["vehicle_status"])
    ok &= ~vst.isin(GONE_STATUSES)
    return frame[ok.to_numpy()]


def sms_list(effects, ctx: RuleContext, reminders: pd.DataFrame, cfg: dict) -> pd.DataFrame:
    """短信名单: one row per customer whose call failed three times (effects.sms), with a
    mobile (SMS needs one), the plates and kinds of that call, and the texts from
    ``[sms]`` (one per vehicle and kind, same placeholders as ``[scripts]``; the due date
    and km when the reminder is on this list). Birthdays are not resent."""
    if effects is None or not len(effects.sms):
        return _empty(SMS_COLUMNS)
    s = _still_ours(effects.sms, effects, ctx)
    ex = s.assign(kind=s["kinds"].fillna("").astype(str).str.split(";")).explode("kind")
    ex = ex[ex["kind"].isin(SMS_KINDS)].reset_index(drop=True)
    cust = ctx.customers
    ex["customer_id"] = ex["customer_key"].map(cust["customer_id"])
    ex["customer_name"] = ex["customer_key"].map(cust["customer_name"])
    ex["mobile"] = ex["customer_key"].map(cust["mobile"])
    mobile = ex["customer_key"].map(cust["mobile_type"]).eq("mobile")
    ex = ex[mobile.to_numpy()].reset_index(drop=True)
    if not len(ex):
        return _empty(SMS_COLUMNS)
    ex["model"] = ex["vehicle_id"].map(ctx.vehicles["model"])
    listed = reminders.dropna(subset=["vehicle_id"]).drop_duplicates(["vehicle_id", "kind"])
    on = ex[["vehicle_id", "kind"]].merge(
        listed[["vehicle_id", "kind", "due_date", "due_km"]].astype({"vehicle_id": "float64"}),
        on=["vehicle_id", "kind"], how="left")
    ex["due_date"] = pd.to_datetime(on["due_date"]).to_numpy()
    ex["due_km"] = on["due_km"].astype("float64").to_numpy()
    ex["sms"] = fill_templates(ex, cfg["sms"])
    g = ex.groupby("customer_key", sort=True)

    def joined(col, sep=";"):
        return g[col].agg(lambda v: sep.join(dict.fromkeys(str(x) for x in v
                                                           if x is not None and x == x and x)))

    out = pd.DataFrame({
        "customer_id": g["customer_id"].first(), "customer_name": g["customer_name"].first(),
        "mobile": g["mobile"].first(), "plates": joined("plate"), "kinds": joined("kind"),
        "sms": joined("sms", "\n"), "failed_on": g["failed_on"].max(),
        "agent": g["agent"].first(), "call_id": g["call_id"].first(),
    }).reset_index()
    return out.sort_values(["failed_on", "customer_id", "customer_key"], kind="stable",
                           na_position="last").reset_index(drop=True)[SMS_COLUMNS]


def no_show_list(effects, ctx: RuleContext) -> pd.DataFrame:
    """预约未到: booked customers who did not come (effects.no_shows), not opted out, the
    vehicle still theirs; by booked date."""
    if effects is None or not len(effects.no_shows):
        return _empty(NO_SHOW_COLUMNS)
    n = _still_ours(effects.no_shows, effects, ctx).reset_index(drop=True)
    cust = ctx.customers
    for col in ("customer_id", "customer_name", "mobile"):
        n[col] = n["customer_key"].map(cust[col])
    return n.sort_values(["booked_date", "customer_id", "customer_key"], kind="stable",
                         na_position="last").reset_index(drop=True).reindex(
        columns=NO_SHOW_COLUMNS)


def _empty_calls() -> pd.DataFrame:
    return pd.DataFrame({"call_key": pd.Series(dtype=object),
                         "customer_key": pd.Series(dtype=object),
                         "contact_date": pd.Series(dtype="datetime64[ns]"),
                         "due_date": pd.Series(dtype="datetime64[ns]"),
                         "priority": pd.Series(dtype="int64"),
                         "kinds": pd.Series(dtype=object),
                         "is_birthday": pd.Series(dtype=bool)})


def enrich(rem: pd.DataFrame, ctx: RuleContext, lang: str) -> pd.DataFrame:
    """Add the customer's and the vehicle's details and the projection's numbers."""
    from aftercare.reports.due_workbook import KIND_LABELS

    rem = rem.copy()
    cust = ctx.customers
    for col in ("customer_id", "customer_name", "mobile"):
        rem[col] = rem["customer_key"].map(cust[col]).to_numpy()
    veh = ctx.vehicles
    vid = rem["vehicle_id"]
    for col in ("plate", "vin", "model"):
        rem[col] = vid.map(veh[col]).to_numpy()
    bd = (rem["kind"] == "birthday").to_numpy()
    if bd.any():  # a birthday row carries all the customer's vehicles
        mine = veh[veh["customer_key"].isin(rem.loc[bd, "customer_key"])]
        for col in ("plate", "vin", "model"):
            joined = join_unique(mine, "customer_key", col)
            rem.loc[bd, col] = rem.loc[bd, "customer_key"].map(joined).to_numpy()
    as_of = ctx.as_of
    has_v = ~bd
    rem["projected_km"] = np.nan
    rem.loc[has_v, "projected_km"] = mileage.km_on(
        ctx.projection, vid[has_v].to_numpy(),
        np.full(int(has_v.sum()), as_of.to_datetime64())).round().to_numpy()
    rem["daily_km"] = vid.map(ctx.projection.vehicles["daily_km"]).round(1).where(has_v)
    last = ctx.last_visit()
    rem["last_visit"] = pd.to_datetime(vid.map(last), errors="coerce") if len(last) else pd.NaT
    rem["last_visit"] = rem["last_visit"].where(has_v)
    rem["kind_label"] = map_distinct(rem["kind"], lambda k: i18n.pick(KIND_LABELS[k], lang))
    rem["script"] = scripts(rem, ctx.cfg)
    return rem


def enrich_fix(fix: pd.DataFrame, ctx: RuleContext) -> pd.DataFrame:
    fix = fix.copy()
    cust = ctx.customers
    for col in ("customer_id", "customer_name"):
        fix[col] = fix["customer_key"].map(cust[col]).to_numpy()
    # the raw number as the export holds it, so staff can see what to fix
    fix["mobile"] = fix["customer_key"].map(cust["mobile"].fillna(cust["other_phones"]))
    veh = ctx.vehicles
    for col in ("plate", "vin"):
        fix[col] = fix["vehicle_id"].map(veh[col]).to_numpy()
    whole = fix["vehicle_id"].isna() & fix["customer_key"].notna()
    if whole.any():  # a customer's own row (a wrong number): all their vehicles
        for col in ("plate", "vin"):
            joined = veh.groupby("customer_key")[col].agg(
                lambda s: ";".join(s.dropna().astype(str)))
            fix.loc[whole, col] = fix.loc[whole, "customer_key"].map(joined).to_numpy()
    if "due_date" not in fix:
        fix["due_date"] = pd.NaT
    return fix


def scripts(rem: pd.DataFrame, cfg: dict) -> pd.Series:
    """Talking points per kind from ``[scripts]``, filled with the customer's name, the
    vehicle, the due date and km — vectorised per template (≤ 9 kinds)."""
    return fill_templates(rem, cfg["scripts"])


def fill_templates(rem: pd.DataFrame, templates: dict) -> pd.Series:
    """Per-kind texts (``[scripts]``, ``[sms]``) with {name} {plate} {model} {due_date}
    {km} filled from ``rem`` (customer_name, plate, model, due_date, due_km)."""
    fields = {
        "name": rem["customer_name"].fillna("").astype(str),
        "plate": rem["plate"].fillna("").astype(str),
        "model": rem["model"].fillna("").astype(str),
        "due_date": rem["due_date"].dt.strftime("%Y-%m-%d").fillna(""),
        "km": rem["due_km"].round().astype("Int64").astype(str).replace("<NA>", "")
        if "due_km" in rem else pd.Series("", index=rem.index),
    }
    out = pd.Series("", index=rem.index, dtype=object)
    for kind, tmpl in templates.items():
        sel = rem["kind"] == kind
        if not sel.any():
            continue
        text = pd.Series("", index=rem.index[sel], dtype=object)
        for literal, name, _spec, _conv in string.Formatter().parse(tmpl):
            text = text + literal
            if name:
                text = text + (fields[name][sel] if name in fields else "{" + name + "}")
        out[sel] = text
    return out


def _call_details(calls, reminders, ctx, lang) -> pd.DataFrame:
    from aftercare.reports.due_workbook import KIND_LABELS

    r = reminders
    g = r.groupby("call_id", sort=False)
    details = pd.DataFrame({
        "customer_id": g["customer_id"].first(),
        "customer_name": g["customer_name"].first(),
        "mobile": g["mobile"].first(),
        "plates": join_unique(r, "call_id", "plate"),
        "vins": join_unique(r, "call_id", "vin"),
        "script": join_unique(r, "call_id", "script", "\n"),
    })
    details.index = details.index.astype(object)
    calls = calls.join(details, on="call_id")
    calls["topics"] = map_distinct(calls["kinds"], lambda ks: "; ".join(
        i18n.pick(KIND_LABELS[k], lang) for k in ks.split(";") if k))
    return calls


def _projection_issues(proj) -> pd.DataFrame:
    iss = proj.issues
    if iss is None or not len(iss):
        return pd.DataFrame(columns=["file", "sheet", "row", "field", "value", "reason", "detail"])
    from aftercare.logs.effects import SERVICE_RECORD_PREFIX

    # a service done elsewhere (from a contact log) is named by the log's own column
    logged = iss["ro_key"].astype(str).str.startswith(SERVICE_RECORD_PREFIX)
    field_ = iss["field"].astype(object).where(~logged, "other_shop_km")
    return pd.DataFrame({"file": iss["_file"], "sheet": iss["_sheet"], "row": iss["_row"],
                         "field": field_, "value": iss["value"], "reason": iss["reason"],
                         "detail": ""})


def _summary(ctx, lst: ReminderList, rem, calls, cap, stem, is_month, issues,
             uncovered, input_rows) -> dict:
    by_kind = rem.groupby(["kind", "status"]).size()
    warnings = []
    if uncovered:  # the list's own days fall in a year the package does not cover
        years = ", ".join(str(y) for y in uncovered)
        warnings.append(f"法定节假日日历不含 {years} 年：按周一至周五、固定假日和 [calendar] 配置计算"
                        f" (calendar package does not cover {years})")
    return {
        "as_of": ctx.as_of.date().isoformat(),
        ("month" if is_month else "day"): stem,
        "reminders": int(len(rem)),
        "calls": int(len(calls)),
        "overflow": int(calls["overflow"].sum()) if len(calls) else 0,
        "by_kind_status": {f"{k}:{s}": int(n) for (k, s), n in by_kind.items()},
        "by_kind": {str(k): int(n) for k, n in rem["kind"].value_counts().items()},
        "by_status": {str(k): int(n) for k, n in rem["status"].value_counts().items()},
        "fix_data": int(len(lst.fix_data)),
        "excluded": {k: int(v) for k, v in lst.excluded.items()},
        "data_issues": int(len(issues)),
        "input_rows": int(input_rows),
        "fleet_daily_km": round(float(ctx.projection.fleet_daily_km), 1),
        "warnings": warnings,
    }


def run_due(*, data_dir: Path, out_dir: Path, cfg: dict, config_file: str | None,
            as_of: dt.date, month: dt.date | None, day: dt.date | None, agents: list[str],
            lang: str, quiet: bool, as_json: bool, force: bool, skip_bad_files: bool,
            stamp: str) -> dict:
    """Load, compute, and write the due workbook and the contact logs."""
    from aftercare import aside as _aside
    from aftercare import i18n as _i18n
    from aftercare.commands import importing
    from aftercare.progress import loading_progress

    with loading_progress(enabled=not quiet and not as_json) as progress:
        # a warm run reads only the RO columns the rules read; a cold one drops the rest
        # after matching the contact logs (which reads the vehicles and customers)
        ds = load_folder(data_dir, cfg, skip_bad_files=skip_bad_files, progress=progress,
                         ro_columns=RULE_RO_COLUMNS,
                         meanwhile=importing("aftercare.reports.due_workbook",
                                             "aftercare.logs"))
    from aftercare.reports.due_workbook import (build_due_sheets, build_log_frame,
                                                check_contact_logs, write_contact_logs)
    from aftercare.writer import files_written, write_workbook

    from aftercare import logs as logs_mod

    logs = logs_mod.gather(ds, out_dir, cfg)
    ds = ds.with_ro_columns(RULE_RO_COLUMNS)
    effects = logs_mod.effects.compute(logs.rows, ds, as_of, register=logs.all_opt_outs)
    res = build(logs_mod.effects.apply(ds, effects), cfg, as_of=as_of, month=month, day=day,
                agents=agents, lang=lang, effects=effects, log_issues=logs.issues)
    summary = res["summary"]
    # test rows were dropped by the loader (and listed there); the summary counts them
    test_rows = ds.issues.frame()["reason"].eq("test_row").sum()
    summary["excluded"]["test_rows"] = int(test_rows)
    summary["config_file"] = config_file or "(defaults)"
    summary["capacity"] = res["capacity"]
    out_dir.mkdir(parents=True, exist_ok=True)

    def contact_logs(mark=None) -> list[Path]:
        # the guard first: on the agents of the calls (the log's rows are the calls'),
        # before the log frame is built
        plan = check_contact_logs(out_dir, res["stem"], res["calls"]["agent"], lang=lang,
                                  force=force)
        if mark is not None:
            mark("guarded")
        log = build_log_frame(res["calls"], res["reminders"], res["stem"])
        return write_contact_logs(out_dir, res["stem"], log, lang=lang, force=force,
                                  stamp=stamp, plan=plan)

    # The agents' logs are written in a forked child (aftercare.aside) while this process
    # builds and writes the due workbook: nothing is written before the child's guard
    # against overwriting filled logs has passed (a refusal still writes nothing), and
    # the opt-outs are recorded right after it. Should a log fail to be written after
    # that, the due workbook may be there already; the run still fails with the log's
    # error. Without the CLI's background switch: one after the other, as before.
    aside_logs = _aside.start(contact_logs)
    if aside_logs is None:
        written = contact_logs()
    try:
        summary["contact_logs"] = logs_mod.count(logs)
        sheets = build_due_sheets(summary, res["calls"], res["reminders"], res["fix_data"],
                                  res["issues"], lang, sms=res["sms"],
                                  no_shows=res["no_shows"])
        if aside_logs is not None:
            aside_logs.wait("guarded")  # the child's FilledLogError is raised here
        # the guard passed: record the refusals (PIPL) before anything else can fail
        logs_mod.record_opt_outs(out_dir, logs)
        path = write_workbook(out_dir / f"due-{res['stem']}.xlsx", sheets)
        if aside_logs is not None:
            written = aside_logs.result()
    finally:
        if aside_logs is not None:
            aside_logs.close()  # reaped, whatever stopped this run
    summary = {k: v for k, v in summary.items() if k != "capacity"}
    summary["files"] = [*files_written(path), *[str(p) for p in written]]
    if as_json:
        print(json.dumps(summary, ensure_ascii=False, indent=2))
    elif not quiet:
        _print(summary, lang, _i18n)
    return summary


def _print(summary: dict, lang: str, i18n_mod) -> None:
    import sys

    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from aftercare.reports.due_workbook import KIND_LABELS

    zh = lang != "en"
    con = Console(file=sys.stdout, highlight=False)
    t = Table(title=("提醒 " if zh else "Reminders ") + summary.get("month", summary.get("day", "")))
    t.add_column("类型" if zh else "Kind")
    t.add_column("状态" if zh else "Status")
    t.add_column("数量" if zh else "Count", justify="right")
    for key, n in summary["by_kind_status"].items():
        kind, status = key.split(":")
        st = {"normal": ("正常", "normal"), "overdue": ("逾期", "overdue")}[status]
        t.add_row(i18n_mod.pick(KIND_LABELS[kind], lang), i18n_mod.pick(st, lang), str(n))
    con.print(t)
    con.print(("呼叫 " if zh else "calls ") + f"{summary['calls']}  " +
              ("溢出 " if zh else "overflow ") + f"{summary['overflow']}  " +
              ("待修正资料 " if zh else "fix data ") + f"{summary['fix_data']}  " +
              ("数据问题 " if zh else "data issues ") + f"{summary['data_issues']}")
    cl = summary.get("contact_logs")
    if cl:
        line = (("联系记录 " if zh else "contact logs ") + f"{cl['files']} " +
                ("个文件 " if zh else "files ") + f"{cl['rows']} " + ("行" if zh else "rows"))
        if "sms" in summary:
            line += (("  短信名单 " if zh else "  SMS list ") + f"{summary['sms']}" +
                     ("  预约未到 " if zh else "  no-shows ") + f"{summary['no_shows']}")
        if cl["new_opt_outs"]:
            line += (("  新增拒绝联系 " if zh else "  new opt-outs ") + f"{cl['new_opt_outs']}")
        con.print(line)
    from aftercare.reports.due_workbook import EXCLUDED_LABELS

    ex = ", ".join(f"{i18n_mod.pick(EXCLUDED_LABELS.get(k, (k, k)), lang)} {v}"
                   for k, v in summary["excluded"].items())
    con.print(("未呼叫: " if zh else "not called: ") + escape(ex))
    for w in summary["warnings"]:
        con.print("[yellow]注意[/yellow] " + escape(w))
    for f in summary["files"]:
        con.print(("写入 " if zh else "wrote ") + escape(f))
