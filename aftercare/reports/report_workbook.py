"""The sheets of ``report-YYYY-MM.xlsx`` (03-outputs.md, 04-kpis.md).

:func:`report_sheets` turns a :class:`~aftercare.rules.kpis.KpiReport` into
``(sheets, extra)`` for :func:`~aftercare.writer.write_workbook`:

- 指标 (KPIs): one row per KPI with the stable columns of 04-kpis.md. Its rows mix
  rates, money and counts in one 值 column, so the writer's per-column formats cannot
  serve it: ``extra`` writes it (first in the workbook) cell by cell, rates as fractions
  formatted ``0.0%``, "—" for a zero denominator, and 未达标 status cells filled red. All
  of its text is ours (labels, codes, statuses), never input data;
- 趋势 (trend): the main rates for the 12 months ending M, with numerators and
  denominators, and one native Excel line chart per rate that has values (``extra``);
- 进厂台次 (visits): by ISO week within M and by kind, with a 合计 row;
- one drill-down sheet per rate KPI (and 流失召回): every member of the denominator, its
  vehicle status, and whether it is in the numerator; the list KPIs from contact logs
  too (提醒完成率 of every kind on one sheet, 接通率, 招揽回厂率, 3DC 回访率);
- from the contact logs of M: 未回厂原因 (reasons counted), 他店分析 (which shops, where,
  at what price) and 坐席统计 (per agent: calls, reached, booked, returned);
- 口径说明 (definitions): each KPI in words and the config values used;
- 数据问题 (data issues), as ``due`` writes it.

Phones are masked by the writer (``mask=True``) unless the caller passes ``--show-phones``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from openpyxl.cell import WriteOnlyCell
from openpyxl.chart import LineChart, Reference
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from aftercare import i18n
from aftercare.reports.churn_workbook import BAND_LABELS
from aftercare.reports.due_workbook import KIND_LABELS, issues_sheet
from aftercare.rules import kpis as K
from aftercare.writer import Sheet, display_width

__all__ = ["KPI_COLUMNS", "SHEET_NAMES", "kpi_label", "kpi_rows", "kpi_status_text",
           "report_sheets", "definitions", "format_value"]

T = tuple[str, str]

SHEET_NAMES: dict[str, T] = {
    "kpis": ("指标", "KPIs"),
    "trend": ("趋势", "Trend"),
    "visits": ("进厂台次", "Visits"),
    "definitions": ("口径说明", "Definitions"),
    "data_issues": ("数据问题", "Data issues"),
}
DRILL_SHEETS: dict[str, T] = {
    "first_service_return_rate": ("首保回厂率明细", "First-service return"),
    "maintenance_return_rate": ("定保回厂率明细", "Maintenance return"),
    "first_service_rate_12m": ("销售客户首保率明细", "First service 12m"),
    "appointment_rate": ("预约率明细", "Appointments"),
    "churn_rate": ("当月流失率明细", "Churn"),
    "retention_rate": ("客户保持率明细", "Retention"),
    "winback": ("流失召回明细", "Win-backs"),
    "holdover_rate": ("滞留车率明细", "Holdover"),
}
# drill-downs of the list KPIs (contact logs); 提醒完成率 of every kind on one sheet
LIST_DRILL_SHEETS: dict[str, T] = {
    "reminder_completion": ("提醒完成率明细", "Reminder completion"),
    "reach_rate": ("接通率明细", "Reach"),
    "reminder_return_rate": ("招揽回厂率明细", "Reminder return"),
    "followup_rate": ("3DC回访率明细", "3DC follow-up"),
}
LOG_SHEETS: dict[str, T] = {
    "reasons": ("未回厂原因", "No-return reasons"),
    "other_shops": ("他店分析", "Other shops"),
    "agents": ("坐席统计", "Agents"),
}
LOG_TABLE_COLUMNS: dict[str, dict[str, T]] = {
    "reasons": {"reason": ("未回厂原因", "reason"), "count": ("次数", "count"),
                "share": ("占比", "share")},
    "other_shops": {"shop": ("他店", "shop"), "place": ("位置", "place"),
                    "count": ("次数", "count"), "avg_price": ("平均价格", "avg_price"),
                    "min_price": ("最低价格", "min_price"), "max_price": ("最高价格", "max_price")},
    "agents": {"agent": ("坐席", "agent"), "calls": ("呼叫数", "calls"),
               "reached": ("接通", "reached"), "reach_rate": ("接通率", "reach_rate"),
               "booked": ("预约成功", "booked"), "booking_rate": ("预约成功率", "booking_rate"),
               "reminded": ("已提醒车辆", "reminded"), "returned": ("招揽回厂", "returned"),
               "return_rate": ("招揽回厂率", "return_rate")},
}
# 指标: the stable columns of 04-kpis.md, in order
KPI_COLUMNS: dict[str, T] = {
    "kpi_label": ("指标", "kpi_label"),
    "kpi": ("代码", "kpi"),
    "value": ("值", "value"),
    "numerator": ("分子", "numerator"),
    "denominator": ("分母", "denominator"),
    "target": ("目标", "target"),
    "status": ("状态", "status"),
    "prev_month": ("上月", "prev_month"),
    "prev_year": ("去年同月", "prev_year"),
}
VISIT_KIND_LABELS: dict[str, T] = {
    "first_service": ("首保", "first service"),
    "maintenance": ("定保", "maintenance"),
    "repair": ("一般维修", "repair"),
    "bodyshop": ("钣喷/事故", "bodyshop"),
    "warranty": ("保修/索赔", "warranty"),
    "campaign": ("召回/服务活动", "campaign"),
    "other": ("其他(洗车/美容等)", "other"),
}
BASE_LABELS: dict[str, T] = {
    "visits": ("进厂台次", "visits"),
    "revenue": ("产值", "revenue"),
    "revenue_per_visit": ("单车产值", "revenue per visit"),
    "first_service_return_rate": ("首保回厂率", "first-service return rate"),
    "maintenance_return_rate": ("定保回厂率", "maintenance return rate"),
    "first_service_rate_12m": ("销售客户首保率", "first-service rate of cars sold a year ago"),
    "appointment_rate": ("预约率", "appointment rate"),
    "active_base": ("保有客户数", "active base"),
    "churn_rate": ("当月流失率", "churn rate"),
    "retention_rate": ("客户保持率", "retention rate"),
    "winback": ("流失召回", "win-backs"),
    "reminder_completion": ("提醒完成率", "reminder completion"),
    "reach_rate": ("接通率", "reach rate"),
    "booking_rate": ("预约成功率", "booking rate"),
    "reminder_return_rate": ("招揽回厂率", "reminder return rate"),
    "followup_rate": ("3DC 回访率", "3DC follow-up rate"),
    "holdover_rate": ("滞留车率", "holdover rate"),
    "no_return_reasons": ("未回厂原因", "reasons for not returning"),
}
STATUS_LABELS: dict[str, T] = {"met": ("达标", "met"), "not_met": ("未达标", "not met")}
PROVISIONAL: T = ("（暂定）", " (provisional)")
NO_DATA: dict[str, T] = {
    "contact_logs": ("无数据：需要联系记录 (no data: needs contact logs)",
                     "no data: needs contact logs"),
    "appointment": ("无数据：需要工单的是否预约标识 (no data: needs the appointment flag)",
                    "no data: needs the appointment flag (是否预约)"),
    "promised_at": ("无数据：需要预计交车时间和实际交车时间 (no data: needs promised times)",
                    "no data: needs promised and actual hand-back times"),
}
VEHICLE_STATUS_LABELS: dict[str, T] = {
    "active": ("正常", "active"), "scrapped": ("已报废", "scrapped"),
    "sold": ("已转卖", "sold on"), "transferred": ("已过户", "transferred"),
}
BASIS_LABELS: dict[str, T] = {"time": ("时间", "time"), "mileage": ("里程", "mileage"),
                              "date": ("日期", "date")}
YES_NO: dict[str, T] = {"yes": ("是", "yes"), "no": ("否", "no")}
DASH = "—"
RED_FILL = PatternFill(fill_type="solid", fgColor="FFFFC7CE")  # Excel's light red ("bad")
RED_FONT = Font(color="FF9C0006")
PERCENT, MONEY, WHOLE = "0.0%", "#,##0.00", "0"

# drill-down columns: the vehicle first, then what each KPI adds
VEHICLE_COLUMNS: dict[str, T] = {
    "plate": ("车牌号", "plate"),
    "vin": ("VIN", "vin"),
    "customer_id": ("客户编号", "customer_id"),
    "customer_name": ("客户名称", "customer_name"),
    "mobile": ("手机", "mobile"),
    "model": ("车型", "model"),
    "delivery_date": ("交车日期", "delivery_date"),
    "vehicle_status": ("车辆状态", "vehicle_status"),
    "in_numerator": ("计入分子", "in_numerator"),
}
MEMBER_COLUMNS: dict[str, T] = {
    "due_date": ("到期日", "due_date"),
    "basis": ("到期依据", "basis"),
    "due_km": ("到期里程", "due_km"),
    "visit_date": ("回厂日期", "visit_date"),
    "visit_kind": ("回厂类型", "visit_kind"),
    "visit_ro_no": ("回厂工单号", "visit_ro_no"),
    "window_end": ("统计截止日", "window_end"),
    "ro_no": ("工单号", "ro_no"),
    "open_date": ("进厂日期", "open_date"),
    "kind": ("维修类型", "kind"),
    "appointment": ("是否预约", "appointment"),
    "last_visit": ("去年同月最后到店", "last_visit"),
    "next_visit": ("之后首次到店", "next_visit"),
    "last_visit_13_24": ("第13–24个月最后到店", "last_visit_13_24"),
    "last_visit_12": ("近12个月最后到店", "last_visit_12"),
    "previous_visit": ("上次到店", "previous_visit"),
    "days_since": ("间隔天数", "days_since"),
    "band": ("分段", "band"),
    "promised_at": ("预计交车时间", "promised_at"),
    "delivered_at": ("实际交车时间", "delivered_at"),
    "days_late": ("延误天数", "days_late"),
    "reminder_kind": ("提醒类型", "reminder_kind"),
    "call_id": ("呼叫编号", "call_id"),
    "agent": ("坐席", "agent"),
    "first_attempt": ("首次拨打日期", "first_attempt"),
    "reached": ("已接通", "reached"),
    "booked": ("已预约", "booked"),
    "close_date": ("结算日期", "close_date"),
    "followup_due": ("回访截止日", "followup_due"),
    "followup_date": ("回访日期", "followup_date"),
}
_TEXT_COLUMNS = ["plate", "vin", "customer_id", "ro_no", "visit_ro_no", "kpi", "call_id",
                 "agent"]


def _pick(pair: T, lang: str) -> str:
    return i18n.pick(pair, lang)


# --------------------------------------------------------------------------- labels
def kpi_label(code: str, lang: str) -> str:
    """The KPI's name for people: 首保回厂率, 进厂台次·定保, 首保提醒率 …"""
    if code in BASE_LABELS:
        return _pick(BASE_LABELS[code], lang)
    sep = "·" if lang != "en" else ": "
    for base, table in (("visits", VISIT_KIND_LABELS), ("revenue", VISIT_KIND_LABELS),
                        ("winback", BAND_LABELS)):
        part = code.removeprefix(base + "_")
        if part != code and part in table:
            return _pick(BASE_LABELS[base], lang) + sep + _pick(table[part], lang)
    kind = code.removeprefix("reminder_completion_")
    if kind != code:
        if kind == "first_service":
            return _pick(("首保提醒率", "first-service reminder rate"), lang)
        label = KIND_LABELS.get(kind, (kind, kind))
        return _pick(BASE_LABELS["reminder_completion"], lang) + sep + _pick(label, lang)
    return code


def _kind(code: str) -> str:
    """How a KPI's value reads: rate, money, ratio (money per visit) or count."""
    if code == "revenue_per_visit" or code == "revenue" or code.startswith("revenue_"):
        return "money"
    if code in K.RATE_KPIS:
        return "rate"
    return "count"


def format_value(code: str, value) -> str:
    """A value as text for the terminal: 62.5%, 1,234.00, 473."""
    if value is None:
        return ""
    kind = _kind(code)
    if kind == "rate":
        return f"{value:.1%}"
    if kind == "money":
        return f"{value:,.2f}"
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,}"


def _shown(r: K.KpiResult | None):
    """The 值 cell of a result: the number, "—" for a zero denominator, empty without data."""
    if r is None or r.no_data is not None:
        return None
    return DASH if r.value is None else r.value


def kpi_status_text(r: K.KpiResult, lang: str, *, short: bool = False) -> str:
    """达标 / 未达标 (with （暂定）), "—" when there is no value to judge, or no-data text
    (``short``: without the English gloss, for the terminal)."""
    if r.no_data is not None:
        text = _pick(NO_DATA.get(r.no_data, (r.no_data, r.no_data)), lang)
        return text.split(" (")[0] if short and lang != "en" else text
    text = ""
    if r.status is not None:
        text = _pick(STATUS_LABELS[r.status], lang)
    elif r.target is not None:
        text = DASH
    if r.provisional:
        text = (text + _pick(PROVISIONAL, lang)).strip() if text else _pick(
            ("暂定", "provisional"), lang)
    return text


def kpi_rows(report: K.KpiReport, lang: str, *, short: bool = False) -> list[dict]:
    """One dict per 指标 row: the stable columns (value cells as :func:`_shown`), plus
    ``_kind`` (rate/money/count), ``_status`` (met/not_met/None) and ``_lower``."""
    rows = []
    for r in report.results:
        rows.append({
            "kpi_label": kpi_label(r.kpi, lang),
            "kpi": r.kpi,
            "value": _shown(r),
            "numerator": r.numerator,
            "denominator": r.denominator,
            "target": r.target,
            "status": kpi_status_text(r, lang, short=short),
            "prev_month": _shown(report.prev_month.get(r.kpi)),
            "prev_year": _shown(report.prev_year.get(r.kpi)),
            "_kind": _kind(r.kpi),
            "_status": r.status,
            "_lower": r.lower_is_better,
        })
    return rows


# --------------------------------------------------------------------------- sheets
def report_sheets(report: K.KpiReport, issues: pd.DataFrame, lang: str):
    """``(sheets, extra)`` for ``write_workbook(path, sheets, mask=..., extra=extra)``."""
    names = {k: _pick(v, lang) for k, v in SHEET_NAMES.items()}
    trend = _trend_sheet(report, names["trend"], lang)
    sheets = [trend, _visits_sheet(report, names["visits"], lang)]
    by = report.by_code()
    lookup = _Rows(report)  # the members' vehicles and customers, for every drill-down
    for code in K.DRILL_DOWN_KPIS:
        r = by[code]
        if r.members is not None:
            sheets.append(_drill_sheet(report, r, _pick(DRILL_SHEETS[code], lang), lang,
                                       lookup))
    sheets += _list_sheets(report, by, lang, lookup)
    sheets.append(_definitions_sheet(report, names["definitions"], lang))
    sheets.append(issues_sheet(issues, lang))
    rows = kpi_rows(report, lang)

    def extra(wb) -> None:
        _write_kpi_sheet(wb, names["kpis"], rows, lang)
        _add_trend_charts(wb[trend.name], trend.frame, lang)

    return sheets, extra


def _write_kpi_sheet(wb, name: str, rows: list[dict], lang: str) -> None:
    """指标, cell by cell: first sheet, frozen bold header, autofilter, formats per row."""
    ws = wb.create_sheet(name, 0)
    fields = list(KPI_COLUMNS)
    headers = [_pick(KPI_COLUMNS[f], lang) for f in fields]
    widths = [display_width(h) for h in headers]
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(fields))}{len(rows) + 1}"
    cells = []
    for h in headers:
        c = WriteOnlyCell(ws, value=h)
        c.font = Font(bold=True)
        cells.append(c)
    body = []
    for row in rows:
        line = []
        fmt = {"rate": PERCENT, "money": MONEY}.get(row["_kind"], WHOLE)
        for j, f in enumerate(fields):
            v = row[f]
            c = WriteOnlyCell(ws, value=v)
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                if f in ("value", "prev_month", "prev_year"):
                    c.number_format = fmt
                elif f == "target":
                    c.number_format = ('"<"' if row["_lower"] else '"≥"') + PERCENT
                elif f == "numerator":
                    c.number_format = MONEY if row["_kind"] == "money" else WHOLE
                else:
                    c.number_format = WHOLE
            if f == "status" and row["_status"] == "not_met":
                c.fill, c.font = RED_FILL, RED_FONT
            shown = v if not isinstance(v, float) else format_value(row["kpi"], v)
            widths[j] = max(widths[j], display_width(str(shown if shown is not None else "")))
            line.append(c)
        body.append(line)
    for j, w in enumerate(widths):
        ws.column_dimensions[get_column_letter(j + 1)].width = min(60, max(8, w + 2))
    ws.append(cells)
    for line in body:
        ws.append(line)


def _trend_sheet(report: K.KpiReport, name: str, lang: str) -> Sheet:
    frame = report.trend_frame()
    headers = {"month": _pick(("月份", "month"), lang)}
    sep = "·" if lang != "en" else " "
    for code in K.TREND_KPIS:
        label = kpi_label(code, lang)
        headers[code] = label
        headers[f"{code}__num"] = label + sep + _pick(KPI_COLUMNS["numerator"], lang)
        headers[f"{code}__den"] = label + sep + _pick(KPI_COLUMNS["denominator"], lang)
    return Sheet(name, frame, headers=headers, percent_columns=list(K.TREND_KPIS),
                 text_columns=["month"])


def _add_trend_charts(ws, frame: pd.DataFrame, lang: str) -> None:
    """One line chart per main rate that has a value in some month, in a grid below the
    table (two per row)."""
    n = len(frame)
    cols = list(frame.columns)
    cats = Reference(ws, min_col=1, min_row=2, max_row=n + 1)
    placed = 0
    for code in K.TREND_KPIS:
        if not frame[code].notna().any():
            continue
        j = cols.index(code) + 1
        chart = LineChart()
        chart.title = kpi_label(code, lang)
        chart.style = 2
        chart.height, chart.width = 7.5, 15
        chart.y_axis.number_format = "0%"
        chart.y_axis.scaling.min = 0
        chart.x_axis.delete = False
        chart.y_axis.delete = False
        chart.legend = None
        chart.add_data(Reference(ws, min_col=j, min_row=1, max_row=n + 1), titles_from_data=True)
        chart.set_categories(cats)
        row = n + 3 + (placed // 2) * 16
        col = 1 + (placed % 2) * 9
        ws.add_chart(chart, f"{get_column_letter(col)}{row}")
        placed += 1


def _list_sheets(report: K.KpiReport, by: dict, lang: str, lookup: _Rows) -> list[Sheet]:
    """The list KPIs' drill-downs and the contact-log tables (when there are logs)."""
    out = []
    parts = [by[f"reminder_completion_{k}"].members for k in K.REMINDER_KINDS]
    parts = [p for p in parts if p is not None and len(p)]
    if parts:
        merged = K.KpiResult("reminder_completion", members=pd.concat(parts, ignore_index=True))
        out.append(_drill_sheet(report, merged,
                                _pick(LIST_DRILL_SHEETS["reminder_completion"], lang), lang,
                                lookup))
    for code in ("reach_rate", "reminder_return_rate", "followup_rate"):
        r = by[code]
        if r.members is not None:
            out.append(_drill_sheet(report, r, _pick(LIST_DRILL_SHEETS[code], lang), lang,
                                    lookup))
    tables = report.log_tables
    if tables:
        for key, frame in tables.items():
            cols = LOG_TABLE_COLUMNS[key]
            rates = [c for c in frame.columns if c.endswith("rate") or c == "share"]
            money = [c for c in frame.columns if c.endswith("price")]
            out.append(Sheet(_pick(LOG_SHEETS[key], lang), frame.reindex(columns=list(cols)),
                             headers={f: _pick(p, lang) for f, p in cols.items()},
                             percent_columns=rates,
                             number_formats={c: MONEY for c in money},
                             text_columns=[c for c in ("reason", "shop", "place", "agent")
                                           if c in cols]))
    return out


def _visits_sheet(report: K.KpiReport, name: str, lang: str) -> Sheet:
    weeks = K.visits_by_week(report.inputs, report.month, report.inputs.cfg)
    total = {"iso_week": _pick(("合计", "total"), lang), "week_start": pd.NaT,
             "week_end": pd.NaT}
    total |= {c: int(weeks[c].sum()) for c in weeks.columns if c.startswith("visits")}
    frame = pd.concat([weeks, pd.DataFrame([total])], ignore_index=True)
    frame["week_start"] = pd.to_datetime(frame["week_start"])
    frame["week_end"] = pd.to_datetime(frame["week_end"])
    headers = {"iso_week": _pick(("周(ISO)", "iso_week"), lang),
               "week_start": _pick(("本月内起始日", "week_start"), lang),
               "week_end": _pick(("本月内结束日", "week_end"), lang),
               "visits": _pick(("进厂台次", "visits"), lang)}
    headers |= {f"visits_{k}": _pick(VISIT_KIND_LABELS[k], lang) for k in K.VISIT_KINDS}
    return Sheet(name, frame, headers=headers, text_columns=["iso_week"])


def _labels(s: pd.Series, table: dict[str, T], lang: str) -> pd.Series:
    """Each value's label from ``table``, other values as they are: looked up once per
    distinct value (a dealer group's drill-down sheets hold ~800k cells of them)."""
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    out = s.to_numpy(dtype=object, copy=True)
    if len(uniques):
        labels = np.array([_pick(table[x], lang) if x in table else x
                           for x in uniques.tolist()] + [None], dtype=object)
        found = codes >= 0  # missing values stay as they are
        out[found] = labels[codes[found]]
    return pd.Series(out, index=s.index, name=s.name, dtype=object)


class _Rows:
    """Where a drill-down sheet's members are among the vehicles and the customers, for
    every sheet of one report: each vehicle's customer row is found once (a dealer
    group's 8 drill-down sheets hold ~650k members: hashing their customers' text keys
    against 860k customers for each sheet and column took ~1.5 s)."""

    def __init__(self, report: K.KpiReport):
        self.veh = report.inputs.vehicles  # indexed by vehicle_id
        self.cust = report.inputs.ds.customers.set_index("customer_key")
        # per vehicle row, its customer's row (-1: none). Choice: a vehicle without a
        # customer key has no customer, even where a customer lacks a key too (pandas'
        # Series.map had matched the two when the keys were Arrow text)
        keys = self.veh["customer_key"]
        self._cust_row = np.where(keys.notna().to_numpy(),
                                  self.cust.index.get_indexer(keys), -1)

    def of(self, vid: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        """Each member's vehicle row and customer row (-1: none)."""
        vrow = self.veh.index.get_indexer(vid.to_numpy())
        crow = np.full(len(vrow), -1, dtype="int64")
        known = vrow >= 0
        crow[known] = self._cust_row[vrow[known]]
        return vrow, crow


def _taken(col: pd.Series, rows: np.ndarray) -> pd.Series:
    """``col``'s values at ``rows`` (-1: missing), Arrow-backed text staying Arrow."""
    return pd.Series(pd.api.extensions.take(col.array, rows, allow_fill=True), name=col.name)


def _drill_sheet(report: K.KpiReport, r: K.KpiResult, name: str, lang: str,
                 lookup: _Rows) -> Sheet:
    """Every member of ``r``'s denominator with its vehicle, status and 计入分子.
    ``lookup``: the report's :class:`_Rows`, shared by its drill-down sheets."""
    m = r.members.reset_index(drop=True)
    veh, cust = lookup.veh, lookup.cust
    vrow, crow = lookup.of(m["vehicle_id"])
    out = pd.DataFrame(index=m.index)
    for c in ("plate", "vin", "customer_id", "customer_name", "mobile", "model"):
        src, at = (cust, crow) if c in ("customer_id", "customer_name", "mobile") else (veh, vrow)
        out[c] = _taken(src[c], at).array if c in src.columns else None
    for c in ("plate", "customer_id"):  # a log row's own, when its vehicle is unknown
        if c in m.columns:
            out[c] = out[c].astype(object).where(out[c].notna(), m[c].astype(object))
    out["delivery_date"] = pd.to_datetime(_taken(veh["delivery_date"], vrow).array)
    out["vehicle_status"] = _labels(_taken(veh["vehicle_status"], vrow), VEHICLE_STATUS_LABELS,
                                    lang).to_numpy()
    out["in_numerator"] = m["in_numerator"].astype(bool)
    for c in m.columns:
        if c in ("vehicle_id", "in_numerator") or c in out.columns:
            continue
        col = m[c]
        if c in ("visit_kind", "kind"):
            col = _labels(col, VISIT_KIND_LABELS, lang)
        elif c == "reminder_kind":
            col = _labels(col, KIND_LABELS, lang)
        elif c == "basis":
            col = _labels(col, BASIS_LABELS, lang)
        elif c == "band":
            col = _labels(col, BAND_LABELS, lang)
        elif c == "due_km":
            col = col.round()
        out[c] = col.to_numpy()
    if "delivery_date" in m.columns:
        out["delivery_date"] = pd.to_datetime(m["delivery_date"])
    headers = {f: _pick(p, lang) for f, p in {**VEHICLE_COLUMNS, **MEMBER_COLUMNS}.items()}
    if r.kpi == "churn_rate":
        headers["last_visit"] = _pick(("去年同月最后到店", "last visit in M−12"), lang)
    return Sheet(name, out, headers=headers, text_columns=_TEXT_COLUMNS,
                 bool_labels=(_pick(YES_NO["yes"], lang), _pick(YES_NO["no"], lang)))


# --------------------------------------------------------------------------- definitions
def definitions(cfg: dict, lang: str) -> dict[str, tuple[str, str]]:
    """Base KPI code → (definition in words, config values used)."""
    kpi, sch, rem = cfg["kpi"], cfg["schedule"], cfg["reminders"]
    tg = kpi["targets"]
    zh = lang != "en"
    fs_cfg = (f"schedule.first_service_months = {sch['first_service_months']}; "
              f"schedule.first_service_km = {sch['first_service_km']}; "
              f"schedule.first_service_max_age_months = {sch['first_service_max_age_months']}; "
              "[schedule.brands] per brand")
    mt_cfg = (f"schedule.interval_months = {sch['interval_months']}; "
              f"schedule.interval_km = {sch['interval_km']}; "
              f"reminders.maintenance_max_lapse_months = {rem['maintenance_max_lapse_months']};"
              " [schedule.brands] per brand")
    visit_zh = "到店 = 未删除、非内部(internal)的工单，按进厂日期计"
    visit_en = "visit = an RO not deleted and not internal, counted by open date"
    d = {
        "visits": ("本月到店工单数（同车同日两张工单算两台次），按类型和 ISO 周拆分；" + visit_zh,
                   "ROs opened in M (two ROs of one car on one day are two), by kind and "
                   "by ISO week; " + visit_en, ""),
        "revenue": ("本月到店工单的结算金额合计，按类型拆分；缺失或为负的金额不计",
                    "sum of the amounts of M's visits, by kind; a missing or negative "
                    "amount adds nothing", ""),
        "revenue_per_visit": ("产值 ÷ 进厂台次", "revenue ÷ visits", ""),
        "first_service_return_rate": (
            "首保到期日（以本月前一天为基准日按 due 的首保规则推算）落在本月的车辆中，本月有首保"
            "或定保到店的车辆数 ÷ 这些车辆数",
            "vehicles whose first service fell due in M (due dates projected by due's "
            "first-service rule with as_of = the day before M) with a first-service or "
            "maintenance visit in M ÷ those vehicles",
            f"kpi.targets.first_service_return_rate = {tg['first_service_return_rate']}; "
            + fs_cfg),
        "maintenance_return_rate": (
            "定保到期日（同上，按 due 的定保规则）落在本月的车辆中，本月有首保或定保到店的车辆数"
            " ÷ 这些车辆数",
            "the same for maintenance (due's maintenance rule)",
            f"kpi.targets.maintenance_return_rate = {tg['maintenance_return_rate']}; "
            + mt_cfg),
        "first_service_rate_12m": (
            "去年同月交车的车辆中，交车后 12 个月内（首尾两天都算）有首保或定保到店的车辆数 ÷ "
            "去年同月交车的车辆数",
            "vehicles delivered in M−12 with a first-service or maintenance visit within "
            "12 months of delivery (both days included) ÷ vehicles delivered in M−12", ""),
        "appointment_rate": (
            "本月标记为预约的到店工单数 ÷ 本月到店工单数（未标记的工单算未预约）",
            "visits in M flagged as appointment ÷ visits in M (a visit without a flag "
            "counts as not booked)",
            f"kpi.targets.appointment_rate = {tg['appointment_rate']}"),
        "active_base": (
            f"截至月末前 {kpi['base_months']} 个月内（月末减 {kpi['base_months']} 个自然月之后，"
            "至月末）至少到店一次的车辆数",
            f"vehicles with a visit in the {kpi['base_months']} months ending the last "
            "day of M", f"kpi.base_months = {kpi['base_months']}"),
        "churn_rate": (
            "去年同月到店的车辆中，去年同月之后至本月末再未到店的车辆数 ÷ 去年同月到店的车辆数",
            "vehicles with a visit in M−12 and no visit after the end of M−12 up to the end "
            "of M ÷ vehicles with a visit in M−12", ""),
        "retention_rate": (
            "第 13–24 个月（截至去年同月末的 12 个月）到店、且近 12 个月（截至本月末）也到店的"
            "车辆数 ÷ 第 13–24 个月到店的车辆数",
            "vehicles with visits both in the 12 months ending M and in months 13–24 ÷ "
            "vehicles with a visit in months 13–24", ""),
        "winback": (
            f"本月到店、且上一次到店（上一张到店工单，交车不算）在 {kpi['winback_days']} 天或更早"
            "之前的车辆数，按间隔天数分段",
            f"vehicles with a visit in M whose previous visit (the delivery does not count) "
            f"was {kpi['winback_days']} days or more earlier, by churn band",
            f"kpi.winback_days = {kpi['winback_days']}; churn.bands = {cfg['churn']['bands']}"),
        "reminder_completion": (
            "本月提醒名单中至少有一次拨打记录的提醒数 ÷ 本月名单提醒数（首保提醒率为首保一行）"
            "；需要联系记录",
            "reminders on M's month lists whose call has a logged attempt ÷ reminders on "
            "M's lists; needs contact logs",
            f"kpi.targets.reminder_completion = {tg['reminder_completion']}"),
        "reach_rate": ("接通的呼叫 ÷ 名单呼叫；需要联系记录",
                       "calls reached ÷ calls listed; needs contact logs", ""),
        "booking_rate": ("预约成功的呼叫 ÷ 接通的呼叫；需要联系记录",
                         "calls booked ÷ calls reached; needs contact logs", ""),
        "reminder_return_rate": (
            f"首次拨打后 {kpi['reminder_return_days']} 天内到店的已提醒车辆 ÷ 已提醒车辆；"
            "需要联系记录",
            f"reminded vehicles with a visit within {kpi['reminder_return_days']} days "
            "after the first attempt ÷ reminded vehicles; needs contact logs",
            f"kpi.reminder_return_days = {kpi['reminder_return_days']}"),
        "followup_rate": ("本月结算的到店工单中，结算后 3 个工作日内有回访记录的 ÷ 本月结算的到店"
                          "工单；需要联系记录",
                          "visits closed in M with a follow-up logged within 3 working days "
                          "÷ visits closed in M; needs contact logs",
                          f"kpi.targets.followup_rate = {tg['followup_rate']}"),
        "holdover_rate": ("本月到店工单中实际交车日期晚于预计交车日期的 ÷ 本月两个时间都有的到店"
                          "工单（按日期比较）",
                          "visits in M handed back on a later day than promised ÷ visits in "
                          "M with both times (compared by day)",
                          f"kpi.targets.holdover_rate = {tg['holdover_rate']} (低于为达标)"),
        "no_return_reasons": ("本月联系记录中的未回厂原因和他店信息计数；需要联系记录",
                              "counts of the reasons and other shops in M's logs; needs "
                              "contact logs", ""),
    }
    return {k: ((zh_ if zh else en_), c) for k, (zh_, en_, c) in d.items()}


def _definitions_sheet(report: K.KpiReport, name: str, lang: str) -> Sheet:
    cfg = report.inputs.cfg
    defs = definitions(cfg, lang)
    m = report.month
    end = m + pd.offsets.MonthEnd(0)
    zh = lang != "en"
    general = [
        ("月份" if zh else "month", m.strftime("%Y-%m"), ""),
        ("数据截止" if zh else "data cutoff", end.strftime("%Y-%m-%d"),
         "月末之后的数据不用" if zh else "nothing dated after the end of M is used"),
        ("数据最新日期" if zh else "newest RO in the data",
         report.data_end.strftime("%Y-%m-%d") if report.data_end is not None else "",
         ("早于月末：本月指标为暂定" if zh else "before the end of M: M's KPIs are provisional")
         if report.data_end is not None and report.data_end < end else ""),
        ("统计对象" if zh else "who counts",
         "数据中的全部车辆（已报废/已转卖也计入，明细表中显示车辆状态）" if zh else
         "every vehicle in the data (scrapped and sold ones too; drill-downs show the status)",
         ""),
        ("“—”", "分母为 0" if zh else "zero denominator",
         "趋势表中空白 = 分母为 0 或无数据" if zh else "a blank in Trend: zero denominator or no data"),
    ]
    rows = [{"kpi_label": a, "kpi": "", "definition": b, "config": c} for a, b, c in general]
    for code, (text, conf) in defs.items():
        rows.append({"kpi_label": kpi_label(code, lang), "kpi": code, "definition": text,
                     "config": conf})
    headers = {"kpi_label": _pick(KPI_COLUMNS["kpi_label"], lang),
               "kpi": _pick(KPI_COLUMNS["kpi"], lang),
               "definition": _pick(("口径", "definition"), lang),
               "config": _pick(("配置", "config"), lang)}
    return Sheet(name, pd.DataFrame(rows), headers=headers,
                 text_columns=["kpi_label", "kpi", "definition", "config"],
                 widths={"definition": 60, "config": 50})
