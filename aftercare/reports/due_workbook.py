"""The sheets of ``due-YYYY-MM.xlsx`` / ``due-YYYY-MM-DD.xlsx`` (03-outputs.md).

:func:`build_due_sheets` turns the lead's frames into :class:`~aftercare.writer.Sheet`
objects: 汇总, 呼叫清单, 提醒明细, 待修正资料, then for a month list 短信名单 (SMS
fallback) and 预约未到 (no-shows) from the contact logs read back, and 数据问题. Write them with
``write_workbook(path, sheets)`` (``mask=False``: call lists need the full number; the
data-issues sheet masks its personal values itself). The contact logs live in
:mod:`aftercare.reports.contact_log` and are re-exported here.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from aftercare import i18n
from aftercare.frames import map_distinct
from aftercare.masking import ID_FIELDS, NAME_FIELDS, PHONE_FIELDS, mask_value
from aftercare.reports.contact_log import (  # noqa: F401 — re-exported
    LOG_FIELDS,
    LOG_HEADERS,
    RESULT_CODES,
    STAFF_COLUMNS,
    build_log_frame,
    check_contact_logs,
    log_is_filled,
    write_contact_logs,
)
from aftercare.writer import Sheet

__all__ = [
    "KIND_LABELS", "RESULT_CODES", "REMINDER_COLUMNS", "SHEET_NAMES", "build_due_sheets",
    "sms_sheet", "no_shows_sheet", "SMS_COLUMNS", "NO_SHOW_COLUMNS",
    "kind_label", "topics", "LOG_FIELDS", "LOG_HEADERS", "STAFF_COLUMNS", "build_log_frame",
    "check_contact_logs", "write_contact_logs", "log_is_filled",
]

KIND_LABELS: dict[str, tuple[str, str]] = {
    "first_service": ("首保提醒", "first service"),
    "maintenance": ("定保提醒", "maintenance"),
    "warranty": ("质保到期提醒", "warranty expiry"),
    "inspection": ("年检提醒", "annual inspection"),
    "insurance": ("续保提醒", "insurance renewal"),
    "birthday": ("生日祝福", "birthday greeting"),
    "declined": ("建议维修跟进", "declined repair follow-up"),
    "followup": ("维修回访(3DC)", "repair follow-up (3DC)"),
    "delivery_followup": ("新车回访(7DC)", "new car follow-up (7DC)"),
}
STATUS_LABELS = {"normal": ("正常", "normal"), "overdue": ("逾期", "overdue")}
NOTE_LABELS = {
    "estimated": ("推定（假定每年续保）", "estimated (assumed renewed yearly)"),
    "label_only": ("仅需网上申领检验标志", "label only (apply online)"),
}
SHEET_NAMES = {
    "summary": ("汇总", "Summary"),
    "calls": ("呼叫清单", "Calls"),
    "reminders": ("提醒明细", "Reminders"),
    "fix_data": ("待修正资料", "Fix data"),
    "sms": ("短信名单", "SMS list"),
    "no_shows": ("预约未到", "No-shows"),
    "data_issues": ("数据问题", "Data issues"),
}
SMS_COLUMNS: dict[str, tuple[str, str]] = {
    "customer_id": ("客户编号", "customer_id"),
    "customer_name": ("客户名称", "customer_name"),
    "mobile": ("手机", "mobile"),
    "plates": ("车牌号", "plates"),
    "topics": ("提醒类型", "topics"),
    "sms": ("短信内容", "sms_text"),
    "failed_on": ("第3次未接通日期", "failed_on"),
    "agent": ("坐席", "agent"),
    "call_id": ("呼叫编号", "call_id"),
}
NO_SHOW_COLUMNS: dict[str, tuple[str, str]] = {
    "customer_id": ("客户编号", "customer_id"),
    "customer_name": ("客户名称", "customer_name"),
    "mobile": ("手机", "mobile"),
    "plate": ("车牌号", "plate"),
    "vin": ("VIN", "vin"),
    "topics": ("提醒类型", "topics"),
    "booked_date": ("预约日期", "booked_date"),
    "agent": ("坐席", "agent"),
    "call_id": ("呼叫编号", "call_id"),
}

# 提醒明细: the stable columns of 03-outputs.md, in order, then 备注.
REMINDER_COLUMNS: dict[str, tuple[str, str]] = {
    "customer_id": ("客户编号", "customer_id"),
    "customer_name": ("客户名称", "customer_name"),
    "mobile": ("手机", "mobile"),
    "plate": ("车牌号", "plate"),
    "vin": ("VIN", "vin"),
    "model": ("车型", "model"),
    "kind_label": ("提醒类型", "kind_label"),
    "kind": ("类型代码", "kind"),
    "due_date": ("到期日", "due_date"),
    "contact_date": ("联系日期", "contact_date"),
    "basis": ("到期依据", "basis"),
    "projected_km": ("预估里程", "projected_km"),
    "daily_km": ("日均里程", "daily_km"),
    "last_visit": ("上次到店", "last_visit"),
    "status": ("状态", "status"),
    "agent": ("坐席", "agent"),
    "note": ("备注", "note"),
}
CALL_COLUMNS: dict[str, tuple[str, str]] = {
    "call_id": ("呼叫编号", "call_id"),
    "agent": ("坐席", "agent"),
    "planned_date": ("计划日期", "planned_date"),
    "overflow": ("溢出", "overflow"),
    "customer_id": ("客户编号", "customer_id"),
    "customer_name": ("客户名称", "customer_name"),
    "mobile": ("手机", "mobile"),
    "plates": ("车牌号", "plates"),
    "topics": ("提醒类型", "topics"),
    "due_date": ("最早到期日", "due_date"),
    "priority": ("优先级", "priority"),
    "script": ("话术要点", "script"),
}
OVERFLOW_MARK = ("溢出", "overflow")
FIX_COLUMNS: dict[str, tuple[str, str]] = {
    "customer_id": ("客户编号", "customer_id"),
    "customer_name": ("客户名称", "customer_name"),
    "mobile": ("手机", "mobile"),
    "plate": ("车牌号", "plate"),
    "vin": ("VIN", "vin"),
    "kind_label": ("提醒类型", "kind_label"),
    "due_date": ("到期日", "due_date"),
    "reason_text": ("原因", "reason"),
    "reason": ("原因代码", "reason_code"),
}
FIX_REASONS = {
    "no_callable_number": ("没有可拨打的号码（手机或带区号的座机），请补充",
                           "no callable number (a mobile, or a landline with area code)"),
    "phone_masked": ("号码被打码（*），无法拨打，请导出完整号码",
                     "number is masked (*): export the full number"),
    "no_delivery_date": ("缺少交车日期，无法计算首保/质保等提醒",
                         "no delivery date: first service, warranty … cannot be computed"),
    "wrong_number": ("联系记录标记为空号/错号，请更正号码", "a contact log marked the number wrong"),
}
SUMMARY_LABELS = {
    "item": ("项目", "item"),
    "value": ("值", "value"),
    "as_of": ("基准日期 (as_of)", "as_of"),
    "month": ("月份", "month"),
    "day": ("日期", "day"),
    "config_file": ("配置文件", "config file"),
    "default_config": ("（默认配置）", "(defaults)"),
    "reminders": ("提醒数", "reminders"),
    "calls": ("呼叫数", "calls"),
    "planned": ("已排期呼叫", "calls planned"),
    "overflow": ("溢出呼叫（容量不足，未排期）", "overflow calls (no capacity, not planned)"),
    "kind": ("按类型", "by kind"),
    "status": ("按状态", "by status"),
    "excluded": ("未列入", "excluded"),
    "fix_data": ("待修正资料（行）", "fix-data rows"),
    "data_issues": ("数据问题（行）", "data issues (rows)"),
    "warning": ("注意", "warning"),
    "log_files": ("读取的联系记录（文件）", "contact logs read (files)"),
    "log_rows": ("联系记录（行）", "contact-log rows"),
    "new_opt_outs": ("新增拒绝联系（已登记 opt-outs.csv）", "new opt-outs (added to opt-outs.csv)"),
    "sms": ("短信名单（人）", "SMS list (customers)"),
    "no_shows": ("预约未到（行）", "no-shows (rows)"),
}
EXCLUDED_LABELS = {
    "opted_out": ("免打扰/拒绝联系的客户", "customers who opted out"),
    "vehicle_gone": ("已报废/已转卖/已过户的车辆", "vehicles scrapped, sold on or transferred"),
    "no_number": ("无可拨打号码（见待修正资料）", "no callable number (see Fix data)"),
    "wrong_number": ("联系记录标记为空号/错号（见待修正资料）", "wrong number per a contact log (see Fix data)"),
    "test_row": ("测试数据", "test rows"),
    "test_rows": ("测试数据", "test rows"),
    "vehicles_after_as_of": ("交车日期晚于基准日期的车辆", "vehicles delivered after as_of"),
    "ros_after_as_of": ("基准日期之后的工单（不计）", "ROs after as_of (not counted)"),
}
CAPACITY_LABELS = {
    "date": ("工作日", "date"),
    "capacity": ("容量（首拨）", "capacity"),
    "wanted": ("按联系日期应呼", "wanted"),
    "planned": ("已排呼叫", "planned"),
    "overflow": ("溢出", "overflow"),
}
_GAP = "_gap"
ISSUE_FIELDS = ["file", "sheet", "row", "field", "value", "reason", "detail"]
_PERSONAL = PHONE_FIELDS | ID_FIELDS | NAME_FIELDS
_IDENTIFIERS = ["call_id", "customer_id", "plate", "plates", "vin", "kind", "reason"]


def _pick(pair: tuple[str, str], lang: str) -> str:
    return i18n.pick(pair, lang)


def _headers(table: dict[str, tuple[str, str]], lang: str) -> dict[str, str]:
    return {f: _pick(pair, lang) for f, pair in table.items()}


def kind_label(code, lang: str) -> str:
    """A kind code's label (the code itself when unknown; '' when missing)."""
    if code is None or (isinstance(code, float) and code != code) or code == "":
        return ""
    pair = KIND_LABELS.get(str(code))
    return _pick(pair, lang) if pair else str(code)


def topics(kinds: pd.Series, lang: str) -> pd.Series:
    """``first_service;insurance`` → ``首保提醒; 续保提醒`` (each distinct value once)."""
    text = kinds.astype(object).where(kinds.notna(), "").astype(str)
    table = {k: "; ".join(kind_label(p, lang) for p in k.split(";") if p)
             for k in text.unique()}
    return text.map(table)


def _dates(s: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        return s
    return pd.to_datetime(s, errors="coerce")


def _overflow(calls: pd.DataFrame) -> pd.Series:
    """Overflow calls: no planned date, or flagged ``overflow``."""
    out = _dates(calls["planned_date"]).isna()
    if "overflow" in calls:
        out = out | calls["overflow"].astype(object).fillna(False).astype(bool)
    return out


def _text_key(s: pd.Series) -> pd.Series:
    return s.astype(object).where(s.notna(), "").astype(str)


# --------------------------------------------------------------------------- sheets
def build_due_sheets(summary: dict, calls: pd.DataFrame, reminders: pd.DataFrame,
                     fix_data: pd.DataFrame, issues: pd.DataFrame, lang: str, *,
                     sms: pd.DataFrame | None = None,
                     no_shows: pd.DataFrame | None = None) -> list[Sheet]:
    """汇总, 呼叫清单, 提醒明细, 待修正资料, [短信名单, 预约未到,] 数据问题 (English names
    with ``lang='en'``). The two bracketed sheets are written when given (month lists)."""
    sheets = [
        summary_sheet(summary, calls, reminders, fix_data, issues, lang),
        calls_sheet(calls, lang),
        reminders_sheet(reminders, lang),
        fix_data_sheet(fix_data, lang),
    ]
    if sms is not None:
        sheets.append(sms_sheet(sms, lang))
    if no_shows is not None:
        sheets.append(no_shows_sheet(no_shows, lang))
    return [*sheets, issues_sheet(issues, lang)]


def sms_sheet(sms: pd.DataFrame, lang: str) -> Sheet:
    """短信名单: customers to text after three failed attempts, with the text to send."""
    f = sms.reset_index(drop=True)
    frame = pd.DataFrame({c: f[c] if c in f else None for c in SMS_COLUMNS if c != "topics"})
    frame.insert(list(SMS_COLUMNS).index("topics"), "topics",
                 topics(f["kinds"], lang) if "kinds" in f else None)
    frame["failed_on"] = _dates(frame["failed_on"])
    return Sheet(_pick(SHEET_NAMES["sms"], lang), frame, headers=_headers(SMS_COLUMNS, lang),
                 text_columns=_IDENTIFIERS + ["agent", "sms", "topics"], widths={"sms": 60})


def no_shows_sheet(no_shows: pd.DataFrame, lang: str) -> Sheet:
    """预约未到: customers who booked on a call and did not come within 3 days."""
    f = no_shows.reset_index(drop=True)
    frame = pd.DataFrame({c: f[c] if c in f else None for c in NO_SHOW_COLUMNS if c != "topics"})
    frame.insert(list(NO_SHOW_COLUMNS).index("topics"), "topics",
                 topics(f["kinds"], lang) if "kinds" in f else None)
    frame["booked_date"] = _dates(frame["booked_date"])
    return Sheet(_pick(SHEET_NAMES["no_shows"], lang), frame,
                 headers=_headers(NO_SHOW_COLUMNS, lang),
                 text_columns=_IDENTIFIERS + ["agent", "topics"])


def calls_sheet(calls: pd.DataFrame, lang: str) -> Sheet:
    """One row per call, sorted by planned date, agent, priority; overflow calls last,
    with an empty planned date and the 溢出 mark."""
    c = calls.reset_index(drop=True)
    planned = _dates(c["planned_date"])
    overflow = _overflow(c)
    frame = pd.DataFrame({
        "call_id": c["call_id"],
        "agent": c["agent"],
        "planned_date": planned.where(~overflow),
        "overflow": pd.Series(_pick(OVERFLOW_MARK, lang), index=c.index).where(overflow),
        "customer_id": c["customer_id"],
        "customer_name": c["customer_name"],
        "mobile": c["mobile"],
        "plates": c["plates"],
        "topics": topics(c["kinds"], lang),
        "due_date": _dates(c["due_date"]),
        "priority": c["priority"],
        "script": c["script"] if "script" in c else "",
    })
    keys = pd.DataFrame({"o": overflow, "d": frame["planned_date"], "a": _text_key(c["agent"]),
                         "p": c["priority"], "due": frame["due_date"],
                         "cid": _text_key(c["customer_id"]), "call": _text_key(c["call_id"])})
    order = keys.sort_values(list(keys.columns), kind="stable", na_position="last").index
    return Sheet(_pick(SHEET_NAMES["calls"], lang), frame.loc[order].reset_index(drop=True),
                 headers=_headers(CALL_COLUMNS, lang), text_columns=_IDENTIFIERS + ["agent"])


def reminders_sheet(reminders: pd.DataFrame, lang: str) -> Sheet:
    """The stable columns of 提醒明细 in order (then 备注), by contact date, priority,
    customer id."""
    r = reminders.reset_index(drop=True)
    note = r["note"] if "note" in r else pd.Series("", index=r.index)
    note = _text_key(note)
    note = map_distinct(note, lambda v: _pick(NOTE_LABELS[v], lang) if v in NOTE_LABELS else v)
    status = _text_key(r["status"])
    frame = pd.DataFrame({
        "customer_id": r["customer_id"],
        "customer_name": r["customer_name"],
        "mobile": r["mobile"],
        "plate": r["plate"],
        "vin": r["vin"],
        "model": r["model"],
        "kind_label": map_distinct(r["kind"], lambda k: kind_label(k, lang)),
        "kind": r["kind"],
        "due_date": _dates(r["due_date"]),
        "contact_date": _dates(r["contact_date"]),
        "basis": r["basis"],
        "projected_km": pd.to_numeric(r["projected_km"], errors="coerce").round(0).astype("Int64"),
        "daily_km": pd.to_numeric(r["daily_km"], errors="coerce").round(1),
        "last_visit": _dates(r["last_visit"]),
        "status": map_distinct(status, lambda v: _pick(STATUS_LABELS[v], lang)
                               if v in STATUS_LABELS else v),
        "agent": r["agent"],
        "note": note.replace("", None),
    })
    keys = pd.DataFrame({"d": frame["contact_date"], "p": r["priority"],
                         "cid": _text_key(r["customer_id"]),
                         "ck": _text_key(r["customer_key"]) if "customer_key" in r else "",
                         "plate": _text_key(r["plate"]), "due": frame["due_date"],
                         "kind": _text_key(r["kind"])})
    order = keys.sort_values(list(keys.columns), kind="stable", na_position="last").index
    return Sheet(_pick(SHEET_NAMES["reminders"], lang), frame.loc[order].reset_index(drop=True),
                 headers=_headers(REMINDER_COLUMNS, lang),
                 text_columns=_IDENTIFIERS + ["model", "basis", "agent"],
                 number_formats={"projected_km": "0", "daily_km": "0.0"})


def fix_data_sheet(fix_data: pd.DataFrame, lang: str) -> Sheet:
    """Reminders and vehicles that cannot be called or computed, with the reason in words;
    numbers unmasked (this sheet exists to fix them)."""
    f = fix_data.reset_index(drop=True)

    def col(name):
        return f[name] if name in f else pd.Series(None, index=f.index, dtype=object)

    reason = _text_key(col("reason"))
    words = {code: (_pick(FIX_REASONS[code], lang) if code in FIX_REASONS
                    else i18n.reason_text(code, lang)) for code in reason.unique()}
    frame = pd.DataFrame({
        "customer_id": col("customer_id"),
        "customer_name": col("customer_name"),
        "mobile": col("mobile"),
        "plate": col("plate"),
        "vin": col("vin"),
        "kind_label": map_distinct(col("kind"), lambda k: kind_label(k, lang)),
        "due_date": _dates(col("due_date")),
        "reason_text": reason.map(words),
        "reason": reason,
    })
    keys = pd.DataFrame({"r": reason, "cid": _text_key(frame["customer_id"]),
                         "plate": _text_key(frame["plate"]), "vin": _text_key(frame["vin"]),
                         "due": frame["due_date"]})
    order = keys.sort_values(list(keys.columns), kind="stable", na_position="last").index
    return Sheet(_pick(SHEET_NAMES["fix_data"], lang), frame.loc[order].reset_index(drop=True),
                 headers=_headers(FIX_COLUMNS, lang), text_columns=_IDENTIFIERS)


def _whole_numbers(s: pd.Series) -> pd.Series:
    """Excel row numbers held as objects (whole numbers, some missing) as a nullable
    integer column, written as numbers without a look at each cell (a dealer group's
    ~230k data issues); the column as it is when it holds anything else."""
    if s.dtype == object and pd.api.types.infer_dtype(s, skipna=True) == "integer":
        return s.astype("Int64")
    return s


def issues_sheet(issues: pd.DataFrame, lang: str) -> Sheet:
    """Every data issue, reason in words, personal values masked."""
    f = issues.reindex(columns=ISSUE_FIELDS).reset_index(drop=True)
    fields = _text_key(f["field"])
    values = f["value"].astype(object).where(f["value"].notna(), None)
    personal = fields.isin(_PERSONAL)
    if personal.any():
        values = values.copy()
        values[personal] = [mask_value(fl, v) for fl, v in
                            zip(fields[personal].tolist(), values[personal].tolist())]
    reason = _text_key(f["reason"])
    words = {code: i18n.reason_text(code, lang) if code else "" for code in reason.unique()}
    frame = f.assign(field=fields.map({x: i18n.column(x, lang) if x else "" for x in
                                       fields.unique()}),
                     value=values, reason=reason.map(words), row=_whole_numbers(f["row"]))
    return Sheet(_pick(SHEET_NAMES["data_issues"], lang), frame,
                 headers=i18n.headers(ISSUE_FIELDS, lang),
                 text_columns=["file", "sheet", "field", "value", "reason", "detail"])


# --------------------------------------------------------------------------- summary
def summary_sheet(summary: dict, calls: pd.DataFrame, reminders: pd.DataFrame,
                  fix_data: pd.DataFrame, issues: pd.DataFrame, lang: str) -> Sheet:
    """Two column groups side by side: 项目/值 rows on the left, the per-day capacity
    table on the right (one header row for both, so the frozen header serves both)."""
    L = {k: _pick(v, lang) for k, v in SUMMARY_LABELS.items()}
    rows: list[tuple[str, object]] = [(L["as_of"], _as_date(summary.get("as_of")))]
    if summary.get("month") is not None:
        rows.append((L["month"], str(summary["month"])))
    if summary.get("day") is not None:
        rows.append((L["day"], _as_date(summary["day"])))
    rows.append((L["config_file"], str(summary.get("config_file") or L["default_config"])))
    overflow = _overflow(calls)
    rows += [(L["reminders"], len(reminders)), (L["calls"], len(calls)),
             (L["planned"], int((~overflow).sum())), (L["overflow"], int(overflow.sum()))]
    by_kind = summary.get("by_kind")
    if by_kind is None:
        by_kind = reminders["kind"].value_counts().to_dict() if len(reminders) else {}
    extra = [k for k in by_kind if k not in KIND_LABELS]
    for k in [*KIND_LABELS, *extra]:
        rows.append((f"{L['kind']} · {kind_label(k, lang)}", int(by_kind.get(k, 0))))
    by_status = summary.get("by_status")
    if by_status is None:
        by_status = reminders["status"].value_counts().to_dict() if len(reminders) else {}
    for s in [*STATUS_LABELS, *[s for s in by_status if s not in STATUS_LABELS]]:
        label = _pick(STATUS_LABELS[s], lang) if s in STATUS_LABELS else str(s)
        rows.append((f"{L['status']} · {label}", int(by_status.get(s, 0))))
    for code, n in (summary.get("excluded") or {}).items():
        label = _pick(EXCLUDED_LABELS[code], lang) if code in EXCLUDED_LABELS else str(code)
        rows.append((f"{L['excluded']} · {label}", int(n)))
    rows += [(L["fix_data"], len(fix_data)), (L["data_issues"], len(issues))]
    for key in ("sms", "no_shows"):
        if key in summary:
            rows.append((L[key], int(summary[key])))
    cl = summary.get("contact_logs")
    if cl:
        rows += [(L["log_files"], int(cl.get("files", 0))), (L["log_rows"], int(cl.get("rows", 0))),
                 (L["new_opt_outs"], int(cl.get("new_opt_outs", 0)))]
    rows += [(L["warning"], str(w)) for w in summary.get("warnings") or []]
    left = pd.DataFrame({"item": [r[0] for r in rows],
                         "value": pd.Series([r[1] for r in rows], dtype=object)})

    cap = summary.get("capacity")
    cap = cap.reset_index(drop=True) if isinstance(cap, pd.DataFrame) else pd.DataFrame()
    right = pd.DataFrame({f"cap_{c}": (_dates(cap[c]) if c == "date" else _whole(cap[c]))
                          for c in cap.columns})
    headers = {"item": L["item"], "value": L["value"], _GAP: ""}
    headers |= {f"cap_{c}": _pick(CAPACITY_LABELS.get(c, (str(c), str(c))), lang)
                for c in cap.columns}
    n = max(len(left), len(right))
    frame = pd.concat([left.reindex(range(n)),
                       pd.DataFrame({_GAP: [None] * n}, dtype=object),
                       right.reindex(range(n))], axis=1)
    return Sheet(_pick(SHEET_NAMES["summary"], lang), frame, headers=headers,
                 widths={_GAP: 3}, text_columns=["item"])


def _whole(s: pd.Series) -> pd.Series:
    """Integer counts stay integers when the column is padded with blanks."""
    return s.astype("Int64") if pd.api.types.is_integer_dtype(s.dtype) else s


def _as_date(value):
    """A date-like value as a Timestamp (a real Excel date); anything else unchanged."""
    if value is None or isinstance(value, (pd.Timestamp, dt.date)):
        return value
    try:
        return pd.Timestamp(str(value))
    except (ValueError, TypeError):
        return str(value)
