"""The sheets of ``churn-<as_of>.xlsx`` (03-outputs.md): 汇总 (bands, the 本地/外地 ×
在保/出保 matrix, movement since the previous month and a native bar chart), one ranked
win-back call sheet per lapsed band, 全部车辆, 流失原因 and 数据问题.

:func:`build_churn_sheets` turns the frames of :func:`aftercare.commands.churn.build` into
:class:`~aftercare.writer.Sheet` objects; :func:`band_chart` is the ``extra`` callback that
adds the chart; :func:`write_churn_workbook` does both, with phones masked unless
``show_phones``. Labels (Chinese, English with ``lang='en'``) live here.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl.chart import BarChart, Reference
from openpyxl.utils import get_column_letter

from aftercare import i18n
from aftercare.frames import map_distinct
from aftercare.reports.due_workbook import issues_sheet
from aftercare.rules.churn import BAND_CODES, LAPSED_BANDS, LOCAL_CODES, WARRANTY_CODES
from aftercare.writer import Sheet, write_workbook

__all__ = [
    "BAND_LABELS", "BAND_SHEETS", "LOCAL_LABELS", "WARRANTY_LABELS", "ALL_COLUMNS",
    "CALL_COLUMNS", "REASON_COLUMNS", "SHEET_NAMES", "build_churn_sheets", "band_chart",
    "write_churn_workbook", "band_ranges",
]

BAND_LABELS: dict[str, tuple[str, str]] = {
    "active": ("活跃", "active"),
    "m3": ("3个月未回厂(拟流失)", "3 months away (at risk)"),
    "m6": ("6个月未回厂(准流失)", "6 months away (dormant)"),
    "m9": ("9个月未回厂", "9 months away"),
    "lost": ("流失", "lost"),
    "long_lost": ("长期流失", "long lost"),
}
# one call sheet per lapsed band (short names: Excel allows 31 characters)
BAND_SHEETS: dict[str, tuple[str, str]] = {
    "m3": ("3个月未回厂", "3 months"),
    "m6": ("6个月未回厂", "6 months"),
    "m9": ("9个月未回厂", "9 months"),
    "lost": ("流失", "Lost"),
    "long_lost": ("长期流失", "Long lost"),
}
LOCAL_LABELS = {"local": ("本地", "local"), "nonlocal": ("外地", "non-local"),
                "unknown": ("未知", "unknown")}
WARRANTY_LABELS = {"in": ("在保", "in warranty"), "out": ("出保", "out of warranty"),
                   "unknown": ("未知", "unknown")}
VISIT_KIND_LABELS = {
    "first_service": ("首保", "first service"),
    "maintenance": ("定保", "maintenance"),
    "repair": ("一般维修", "repair"),
    "bodyshop": ("钣喷", "bodyshop"),
    "warranty": ("保修", "warranty"),
    "campaign": ("服务活动", "campaign"),
    "other": ("其他", "other"),
    "delivery": ("交车（未回厂）", "delivery (never came back)"),
}
SERVICE_KIND_LABELS = {"first_service": ("首保", "first service"),
                       "maintenance": ("定保", "maintenance")}
SHEET_NAMES = {
    "summary": ("汇总", "Summary"),
    "all": ("全部车辆", "All vehicles"),
    "reasons": ("流失原因", "Churn reasons"),
    "data_issues": ("数据问题", "Data issues"),
}
YES_NO = {"zh": ("是", "否"), "en": ("yes", "no")}

# 全部车辆: the stable columns of 03-outputs.md first, in order, then the extras.
ALL_COLUMNS: dict[str, tuple[str, str]] = {
    "vin": ("VIN", "vin"),
    "plate": ("车牌号", "plate"),
    "band_label": ("分段", "band_label"),
    "band": ("分段代码", "band"),
    "days_since": ("未回厂天数", "days_since"),
    "last_visit": ("上次到店", "last_visit"),
    "local": ("本地", "local"),
    "warranty": ("质保", "warranty"),
    "customer_id": ("客户编号", "customer_id"),
    "customer_name": ("客户名称", "customer_name"),
    "mobile": ("手机", "mobile"),
    "brand": ("品牌", "brand"),
    "model": ("车型", "model"),
    "delivery_date": ("交车日期", "delivery_date"),
    "last_visit_kind": ("上次到店类型", "last_visit_kind"),
    "visits_24m": ("近24个月到店次数", "visits_24m"),
    "spend_24m": ("近24个月消费", "spend_24m"),
    "projected_km": ("预估里程", "projected_km"),
    "warranty_end": ("质保到期日", "warranty_end"),
    "service_kind": ("应做保养", "service_kind"),
    "service_due": ("应回厂日期", "service_due"),
    "maintenance_overdue": ("保养逾期", "maintenance_overdue"),
    "overdue_days": ("逾期天数", "overdue_days"),
    "opted_out": ("免打扰", "opted_out"),
    "rank": ("排名", "rank"),
    "reasons": ("未回厂原因", "reasons"),
}
CALL_COLUMNS: dict[str, tuple[str, str]] = {
    "rank": ("排名", "rank"),
    "customer_name": ("客户名称", "customer_name"),
    "mobile": ("手机", "mobile"),
    "plate": ("车牌号", "plate"),
    "vin": ("VIN", "vin"),
    "model": ("车型", "model"),
    "last_visit": ("上次到店", "last_visit"),
    "last_visit_kind": ("上次到店类型", "last_visit_kind"),
    "days_since": ("未回厂天数", "days_since"),
    "band_label": ("分段", "band_label"),
    "local": ("本地", "local"),
    "warranty": ("质保", "warranty"),
    "service_due": ("应回厂日期", "service_due"),
    "overdue_days": ("逾期天数", "overdue_days"),
    "visits_24m": ("近24个月到店次数", "visits_24m"),
    "spend_24m": ("近24个月消费", "spend_24m"),
    "projected_km": ("预估里程", "projected_km"),
    "reasons": ("未回厂原因", "reasons"),
    "customer_id": ("客户编号", "customer_id"),
}
REASON_COLUMNS: dict[str, tuple[str, str]] = {
    "plate": ("车牌号", "plate"),
    "vin": ("VIN", "vin"),
    "customer_name": ("客户名称", "customer_name"),
    "band_label": ("分段", "band_label"),
    "contact_date": ("联系日期", "contact_date"),
    "agent": ("坐席", "agent"),
    "result": ("结果", "result"),
    "reason": ("未回厂原因", "reason"),
    "other_shop": ("他店信息", "other_shop"),
}
SUMMARY_LABELS = {
    "item": ("项目", "item"),
    "value": ("值", "value"),
    "as_of": ("基准日期 (as_of)", "as_of"),
    "previous_as_of": ("对比日期（上月同日）", "previous as_of (one month earlier)"),
    "bands_config": ("分段下限（天）[churn] bands", "band lower edges (days) [churn] bands"),
    "prefixes": ("本地车牌前缀 [churn] local_plate_prefixes",
                 "local plate prefixes [churn] local_plate_prefixes"),
    "none": ("（未配置）", "(none)"),
    "vehicles": ("车辆总数（截至基准日期交车）", "vehicles delivered by as_of"),
    "banded": ("已分段车辆", "banded vehicles"),
    "excluded": ("单独计数", "counted apart"),
    "opted_out": ("免打扰客户的流失车辆（未列入呼叫表）",
                  "lapsed vehicles of opted-out customers (not on call sheets)"),
    "on_call_sheets": ("列入呼叫表", "on call sheets"),
    "data_issues": ("数据问题（行）", "data issues (rows)"),
    "warning": ("注意", "warning"),
    # the bands table
    "band_label": ("分段", "band"),
    "band": ("分段代码", "band code"),
    "range": ("未回厂天数", "days since last visit"),
    "count": ("车辆数", "vehicles"),
    "share": ("占比", "share"),
    "previous": ("上月", "previous month"),
    "entered": ("本月进入", "entered"),
    "left": ("本月离开", "left"),
    # the matrix
    "split": ("90–364天", "90–364 days"),
    "total": ("合计", "total"),
    "chart_title": ("各分段车辆数", "Vehicles by band"),
}
EXCLUDED_LABELS = {
    "scrapped": ("已报废", "scrapped"),
    "sold": ("已转卖", "sold on"),
    "transferred": ("已过户", "transferred"),
    "no_date": ("无交车日期且无到店记录（见数据问题）",
                "no delivery date and no visit (see Data issues)"),
    "vehicles_after_as_of": ("交车日期晚于基准日期", "delivered after as_of"),
}
CHURN_REASONS = {
    "churn_no_date": ("没有交车日期也没有到店记录，无法分段", "no delivery date and no visit: "
                      "cannot be banded"),
}
_GAP1, _GAP2 = "_gap1", "_gap2"
_TEXT = ["vin", "plate", "band_label", "band", "local", "warranty", "customer_id",
         "customer_name", "brand", "model", "last_visit_kind", "service_kind", "reasons"]


def _pick(pair, lang):
    return i18n.pick(pair, lang)


def _headers(table, lang):
    return {f: _pick(pair, lang) for f, pair in table.items()}


def _labels(codes: pd.Series, table: dict, lang: str) -> pd.Series:
    """Codes → words (each distinct code once; an unknown code as itself; missing → None)."""
    words = {k: _pick(v, lang) for k, v in table.items()}
    return map_distinct(codes, lambda c: words.get(c, c) if isinstance(c, str) else None)


def band_ranges(edges) -> dict[str, str]:
    """``{'active': '<90', 'm3': '90–179', …, 'long_lost': '≥730'}`` from the lower edges."""
    e = [int(x) for x in edges]
    out = {BAND_CODES[0]: f"<{e[0]}"}
    for code, lo, hi in zip(BAND_CODES[1:-1], e[:-1], e[1:]):
        out[code] = f"{lo}–{hi - 1}"
    out[BAND_CODES[-1]] = f"≥{e[-1]}"
    return out


# --------------------------------------------------------------------------- sheets
def build_churn_sheets(result: dict, lang: str) -> list[Sheet]:
    """汇总, one call sheet per lapsed band, 全部车辆, 流失原因, 数据问题 (English names and
    headers with ``lang='en'``)."""
    display = _display(result["bands"], lang)  # once: a dealer group's is 1M rows
    return [
        summary_sheet(result, lang),
        *[call_sheet(display, code, lang) for code in LAPSED_BANDS],
        all_vehicles_sheet(display, lang),
        reasons_sheet(lang, result.get("reasons")),
        churn_issues_sheet(result["issues"], lang),
    ]


def _display(bands: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The banded vehicles with labels in words and display-ready numbers."""
    b = bands[bands["band"].notna().to_numpy()].reset_index()
    overdue = pd.to_numeric(b["overdue_days"], errors="coerce").astype("Float64")
    return b.assign(
        band_label=_labels(b["band"], BAND_LABELS, lang),
        local=_labels(b["local"], LOCAL_LABELS, lang),
        warranty=_labels(b["warranty"], WARRANTY_LABELS, lang),
        last_visit_kind=_labels(b["last_visit_kind"], VISIT_KIND_LABELS, lang),
        service_kind=_labels(b["service_kind"], SERVICE_KIND_LABELS, lang),
        # shown only when overdue; the ranking used the signed value (due soonest next)
        overdue_days=overdue.where(overdue > 0).astype("Int64"),
        days_since=pd.to_numeric(b["days_since"]).astype("Int64"),
        projected_km=pd.to_numeric(b["projected_km"]).round(0).astype("Int64"),
        spend_24m=pd.to_numeric(b["spend_24m"]).round(2),
        rank=b["rank"].astype("Int64"),
        opted_out=b["opted_out"].astype(bool),
        maintenance_overdue=b["maintenance_overdue"].astype(bool),
    )


def _order(frame: pd.DataFrame, by: list[str], ascending: list[bool]) -> pd.DataFrame:
    return frame.sort_values(by, ascending=ascending, kind="stable",
                             na_position="last").reset_index(drop=True)


def call_sheet(display: pd.DataFrame, code: str, lang: str) -> Sheet:
    """The ranked win-back list of one lapsed band: callable customers only (opted-out
    customers are counted in the summary, never listed), rank 1 first. ``display``:
    :func:`_display` of the bands."""
    d = display[(display["band"] == code).to_numpy() & ~display["opted_out"].to_numpy()]
    d = _order(d, ["rank", "vehicle_id"], [True, True])
    frame = d.reindex(columns=list(CALL_COLUMNS))
    return Sheet(_pick(BAND_SHEETS[code], lang), frame, headers=_headers(CALL_COLUMNS, lang),
                 text_columns=_TEXT, number_formats={"spend_24m": "#,##0.00",
                                                     "projected_km": "0"})


def all_vehicles_sheet(display: pd.DataFrame, lang: str) -> Sheet:
    """Every banded vehicle: the stable columns, then the extras; by band (active first),
    then days since the last visit, then VIN. ``display``: as for :func:`call_sheet`."""
    d = display.assign(_b=display["band"].map({c: i for i, c in enumerate(BAND_CODES)}),
                       _vin=display["vin"].astype(object).where(display["vin"].notna(), ""))
    d = _order(d, ["_b", "days_since", "_vin", "vehicle_id"], [True, True, True, True])
    frame = d.reindex(columns=list(ALL_COLUMNS))
    return Sheet(_pick(SHEET_NAMES["all"], lang), frame, headers=_headers(ALL_COLUMNS, lang),
                 text_columns=_TEXT, bool_labels=YES_NO["en" if lang == "en" else "zh"],
                 number_formats={"spend_24m": "#,##0.00", "projected_km": "0"})


def reasons_sheet(lang: str, reasons: pd.DataFrame | None = None) -> Sheet:
    """流失原因: the 未回厂原因 (and other shops) recorded in contact logs for banded
    vehicles, one row per vehicle and log entry (see commands.churn.reason_rows); results
    as their labels."""
    from aftercare.reports.contact_log import RESULT_CODES

    if reasons is None or not len(reasons):
        frame = pd.DataFrame({c: pd.Series(dtype=object) for c in REASON_COLUMNS})
    else:
        labels = {code: (label, code) for code, label in RESULT_CODES}
        r = reasons.reset_index(drop=True)
        frame = r.assign(band_label=_labels(r["band"], BAND_LABELS, lang),
                         result=_labels(r["result"], labels, lang),
                         contact_date=pd.to_datetime(r["contact_date"]))
        frame = frame.reindex(columns=list(REASON_COLUMNS))
    return Sheet(_pick(SHEET_NAMES["reasons"], lang), frame,
                 headers=_headers(REASON_COLUMNS, lang),
                 text_columns=[c for c in REASON_COLUMNS if c != "contact_date"])


def churn_issues_sheet(issues: pd.DataFrame, lang: str) -> Sheet:
    """The loader's, the projection's and churn's own data issues (personal values masked,
    reasons in words)."""
    f = issues.copy()
    if len(f):
        reason = f["reason"].astype(object)
        f["reason"] = reason.map(lambda r: _pick(CHURN_REASONS[r], lang)
                                 if r in CHURN_REASONS else r)
    sheet = issues_sheet(f, lang)
    sheet.name = _pick(SHEET_NAMES["data_issues"], lang)
    return sheet


# --------------------------------------------------------------------------- summary
def summary_sheet(result: dict, lang: str) -> Sheet:
    """Three blocks side by side under one header row: 项目/值; the bands (count, share of
    all banded vehicles, last month, entered, left); the 90–364-day 本地/外地 × 在保/出保
    matrix. The bar chart is added by :func:`band_chart`."""
    L = {k: _pick(v, lang) for k, v in SUMMARY_LABELS.items()}
    s = result["summary"]
    rows: list[tuple[str, object]] = [
        (L["as_of"], pd.Timestamp(s["as_of"])),
        (L["previous_as_of"], pd.Timestamp(s["previous_as_of"])),
        (L["bands_config"], ", ".join(str(e) for e in s["band_edges"])),
        (L["prefixes"], ", ".join(s["local_plate_prefixes"]) or L["none"]),
        (L["vehicles"], int(s["vehicles"])),
        (L["banded"], int(s["banded"])),
    ]
    for code, n in s["excluded"].items():
        label = _pick(EXCLUDED_LABELS.get(code, (code, code)), lang)
        rows.append((f"{L['excluded']} · {label}", int(n)))
    rows.append((L["opted_out"], int(s["opted_out"])))
    for code, n in s["call_sheet_rows"].items():
        rows.append((f"{L['on_call_sheets']} · {_pick(BAND_SHEETS[code], lang)}", int(n)))
    rows.append((L["data_issues"], int(s["data_issues"])))
    rows += [(L["warning"], str(w)) for w in s.get("warnings") or []]
    left = pd.DataFrame({"item": [r[0] for r in rows],
                         "value": pd.Series([r[1] for r in rows], dtype=object)})

    mov = result["movement"]
    counts = pd.Series(s["bands"]).reindex(list(BAND_CODES)).fillna(0).astype("int64")
    total = int(counts.sum())
    ranges = band_ranges(s["band_edges"])
    mid = pd.DataFrame({
        "band_label": [_pick(BAND_LABELS[c], lang) for c in BAND_CODES],
        "band": list(BAND_CODES),
        "range": [ranges[c] for c in BAND_CODES],
        "count": counts.to_numpy(),
        "share": counts.to_numpy() / total if total else np.zeros(len(BAND_CODES)),
        "previous": mov["previous"].reindex(list(BAND_CODES)).to_numpy(),
        "entered": mov["entered"].reindex(list(BAND_CODES)).to_numpy(),
        "left": mov["left"].reindex(list(BAND_CODES)).to_numpy(),
    })

    m = result["matrix"].reindex(index=list(LOCAL_CODES), columns=list(WARRANTY_CODES),
                                 fill_value=0)
    right = pd.DataFrame({"split": [_pick(LOCAL_LABELS[c], lang) for c in LOCAL_CODES]})
    for w in WARRANTY_CODES:
        right[f"w_{w}"] = m[w].to_numpy()
    right["w_total"] = m.sum(axis=1).to_numpy()
    totals = {"split": L["total"], **{c: int(right[c].sum()) for c in right.columns[1:]}}
    right = pd.concat([right, pd.DataFrame([totals])], ignore_index=True)

    n = max(len(left), len(mid), len(right))
    frame = pd.concat([left.reindex(range(n)), pd.DataFrame({_GAP1: [None] * n}, dtype=object),
                       mid.reindex(range(n)), pd.DataFrame({_GAP2: [None] * n}, dtype=object),
                       right.reindex(range(n))], axis=1)
    for c in ("count", "previous", "entered", "left", *[f"w_{w}" for w in WARRANTY_CODES],
              "w_total"):
        frame[c] = frame[c].astype("Int64")
    headers = {"item": L["item"], "value": L["value"], _GAP1: "", _GAP2: "",
               **{c: L[c] for c in mid.columns}, "split": L["split"],
               **{f"w_{w}": _pick(WARRANTY_LABELS[w], lang) for w in WARRANTY_CODES},
               "w_total": L["total"]}
    return Sheet(_pick(SHEET_NAMES["summary"], lang), frame, headers=headers,
                 widths={_GAP1: 3, _GAP2: 3}, percent_columns=["share"],
                 text_columns=["item", "band_label", "band", "range", "split"])


def band_chart(summary: Sheet, lang: str) -> Callable:
    """The ``extra`` callback: a native clustered bar chart of vehicles per band, from the
    summary sheet's bands table, placed under the matrix."""
    cols = list(summary.frame.columns)
    label_col = cols.index("band_label") + 1
    count_col = cols.index("count") + 1
    anchor = f"{get_column_letter(cols.index('split') + 1)}{len(LOCAL_CODES) + 4}"
    name = summary.name
    title = _pick(SUMMARY_LABELS["chart_title"], lang)

    def add(wb) -> None:
        ws = wb[name]
        chart = BarChart()
        chart.type = "col"
        chart.title = title
        chart.legend = None
        chart.y_axis.title = _pick(SUMMARY_LABELS["count"], lang)
        chart.add_data(Reference(ws, min_col=count_col, min_row=1,
                                 max_row=len(BAND_CODES) + 1), titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=label_col, min_row=2,
                                       max_row=len(BAND_CODES) + 1))
        chart.width, chart.height = 18, 9
        ws.add_chart(chart, anchor)

    return add


def write_churn_workbook(path: Path | str, result: dict, *, lang: str,
                         show_phones: bool = False) -> Path:
    """Write ``churn-<as_of>.xlsx`` atomically; phones masked unless ``show_phones``."""
    sheets = build_churn_sheets(result, lang)
    return write_workbook(path, sheets, mask=not show_phones, extra=band_chart(sheets[0], lang))
