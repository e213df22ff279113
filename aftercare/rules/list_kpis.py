"""The list KPIs of 04-kpis.md, from the contact logs: 提醒完成率 per kind, 接通率,
预约成功率, 招揽回厂率, 3DC 回访率, 未回厂原因, and for the report the reasons, other-shop
and per-agent tables (:func:`log_tables`). :func:`aftercare.rules.kpis.compute_month`
calls :func:`list_kpis`; ``KpiInputs.logs`` holds the matched log rows
(:func:`aftercare.logs.gather`).

Each month's logs are cut at the end of M (:func:`aftercare.logs.effects.cut_at`:
attempts dated later do not count). Choices where the spec is silent:

* "M's month lists" are the rows of the logs whose 月份 is M (a month list's log, one row
  per call and vehicle, its 提醒类型 the reminders); without any, the month-list KPIs are
  "no data: needs contact logs". A reminder is one (row, kind); a call is one call id of
  one log file.
* An attempt is logged when its date or its result is filled (or the final result is).
  "Reached" is any code but no_answer, busy and wrong_number, in any result cell of the
  call; "booked" is reached_booked.
* 招揽回厂率: reminded vehicles are the vehicles of calls with a logged attempt (not
  birthday greetings; a vehicle the log names but the data does not know counts, and
  cannot return); the window is the first attempt's day to 30 days after, both included,
  cut at the end of M (then 暂定).
* 3DC 回访率: visits whose close date (else open date) is in M; the follow-up is a logged
  attempt on a log row of kind ``followup`` for the vehicle, dated from the close day to
  the 3rd working day after it; "no data" when no log row of M has that kind.
* 未回厂原因: the value is the number of rows of M's logs (month and day lists) with a
  reason; the reasons, the other shops (shop, place, price parsed from 他店信息) and the
  per-agent table are :func:`log_tables`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from aftercare.rules.kpis import (_NAT, CONTACT_LOG_KPIS, REMINDER_KINDS, KpiInputs,
                                  KpiResult, _dates, _days, _inputs, _Month, _next_visit,
                                  _rate)

__all__ = ["list_kpis", "log_tables", "parse_other_shop"]

_LIST_CODES = (*CONTACT_LOG_KPIS, "no_return_reasons")
_MONTH_LIST_KPIS = (*[f"reminder_completion_{k}" for k in REMINDER_KINDS], "reach_rate",
                    "booking_rate", "reminder_return_rate")


def _no_logs(codes=_LIST_CODES) -> dict[str, KpiResult]:
    return {c: KpiResult(c, rate=c != "no_return_reasons", no_data="contact_logs")
            for c in codes}


class _MonthLogs:
    """M's contact-log rows as known at the end of M, with per-call facts."""

    def __init__(self, inp: KpiInputs, m: _Month):
        from aftercare.logs.effects import call_groups, cut_at
        from aftercare.logs.read import ATTEMPTS, REACHED, RESULT_COLUMNS

        self.cut = cut = cut_at(inp.logs, m.end)
        # the month lists of M: rows of logs whose 月份 is M (not a day list's); a row
        # typed in without a call id was not on the list
        rows = cut[cut["list_day"].isna().to_numpy() & cut["call_id"].notna().to_numpy()
                   & (cut["month_start"] == m.start).to_numpy()].copy()
        self.rows = rows
        if not len(rows):
            return
        group = call_groups(rows)
        dates = pd.concat([rows[f"attempt{n}_date"] for n in ATTEMPTS], axis=1)
        logged = dates.notna().any(axis=1) | rows[RESULT_COLUMNS].notna().any(axis=1)
        cells = rows[RESULT_COLUMNS]
        rows["_call"] = group.to_numpy()
        rows["_logged"] = logged.groupby(group).transform("any").astype(bool).to_numpy()
        rows["_reached"] = cells.isin(REACHED).any(axis=1).groupby(group).transform(
            "any").astype(bool).to_numpy()
        rows["_booked"] = cells.isin(["reached_booked"]).any(axis=1).groupby(group).transform(
            "any").astype(bool).to_numpy()
        first = dates.min(axis=1).groupby(group).transform("min")
        # a call logged only by its final result: the day the row says it happened
        first = first.fillna(rows["log_date"].where(rows["_logged"]))
        rows["_first"] = pd.to_datetime(first).dt.normalize().to_numpy()


def list_kpis(inp: KpiInputs, m: _Month) -> dict[str, KpiResult]:
    """The list KPIs of M from the contact logs (see the module docstring)."""
    if inp.logs is None:
        return _no_logs()
    ml = _MonthLogs(inp, m)
    out = _no_logs(_MONTH_LIST_KPIS) if not len(ml.rows) else _month_list_kpis(inp, m, ml)
    out["followup_rate"] = _followup_rate(inp, m, ml.cut)
    day = ml.cut["list_day"].fillna(ml.cut["month_start"])
    if not ((day >= m.start) & (day <= m.end)).any():  # no log of M at all
        out["no_return_reasons"] = KpiResult("no_return_reasons", no_data="contact_logs")
        return out
    said = _reason_rows(ml.cut, m)
    out["no_return_reasons"] = KpiResult("no_return_reasons",
                                         value=int(said["reason"].notna().sum()))
    return out


def _kinds(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per (log row, reminder kind)."""
    k = rows.assign(reminder_kind=rows["kinds"].fillna("").astype(str).str.split(";"))
    k = k.explode("reminder_kind")
    k["reminder_kind"] = k["reminder_kind"].str.strip()
    return k[k["reminder_kind"] != ""]


def _month_list_kpis(inp: KpiInputs, m: _Month, ml: _MonthLogs) -> dict[str, KpiResult]:
    rows = ml.rows
    out: dict[str, KpiResult] = {}
    rem = _kinds(rows)
    for k in REMINDER_KINDS:
        sel = rem[rem["reminder_kind"] == k]
        members = pd.DataFrame({
            "vehicle_id": sel["vehicle_id"].astype("float64").to_numpy(),
            "plate": sel["plate"].to_numpy(dtype=object),
            "customer_id": sel["customer_id"].to_numpy(dtype=object),
            "reminder_kind": k, "call_id": sel["call_id"].to_numpy(dtype=object),
            "agent": sel["agent"].to_numpy(dtype=object),
            "first_attempt": sel["_first"].to_numpy(dtype="datetime64[ns]"),
            "in_numerator": sel["_logged"].to_numpy(dtype=bool)})
        out[f"reminder_completion_{k}"] = _rate(f"reminder_completion_{k}",
                                                members["in_numerator"].sum(), len(members),
                                                members)
    calls = rows.drop_duplicates("_call")
    call_members = pd.DataFrame({
        "vehicle_id": calls["vehicle_id"].astype("float64").to_numpy(),
        "plate": calls["plate"].to_numpy(dtype=object),
        "customer_id": calls["customer_id"].to_numpy(dtype=object),
        "call_id": calls["call_id"].to_numpy(dtype=object),
        "agent": calls["agent"].to_numpy(dtype=object),
        "first_attempt": calls["_first"].to_numpy(dtype="datetime64[ns]"),
        "reached": calls["_reached"].to_numpy(dtype=bool),
        "booked": calls["_booked"].to_numpy(dtype=bool),
        "in_numerator": calls["_reached"].to_numpy(dtype=bool)})
    out["reach_rate"] = _rate("reach_rate", int(calls["_reached"].sum()), len(calls),
                              call_members)
    out["booking_rate"] = _rate("booking_rate", int(calls["_booked"].sum()),
                                int(calls["_reached"].sum()))
    ret = _returns(inp, m, rows)
    out["reminder_return_rate"] = _rate(
        "reminder_return_rate", int(ret["in_numerator"].sum()), len(ret), ret,
        provisional=bool((ret["window_end"] < ret["window_full"]).any()))
    out["reminder_return_rate"].members = ret.drop(columns=["window_full", "_agent_key"])
    return out


def _returns(inp: KpiInputs, m: _Month, rows: pd.DataFrame) -> pd.DataFrame:
    """Reminded vehicles (calls with a logged attempt, birthdays aside), their first
    attempt, and their first visit from that day to reminder_return_days after (cut at
    the end of M)."""
    days = int(inp.cfg["kpi"]["reminder_return_days"])
    rem = _kinds(rows)
    rem = rem[(rem["reminder_kind"] != "birthday") & rem["_logged"] & rem["_first"].notna()]
    key = rem["vehicle_id"].astype("string").fillna(
        "x:" + rem["plate"].fillna("").astype(str) + "|" + rem["vin"].fillna("").astype(str))
    rem = rem.assign(_veh=key.to_numpy()).sort_values(["_first", "_call"], kind="stable")
    rem = rem.drop_duplicates("_veh")
    first = _days(rem["_first"])
    full = first + days
    last = np.minimum(full, m.end_day)
    vid = rem["vehicle_id"]
    known = vid.notna().to_numpy()
    visit = np.full(len(rem), _NAT, dtype="int64")
    if known.any():
        found = _next_visit(inp, vid[known].astype("int64").to_numpy(), first[known],
                            last[known])
        visit[known] = _days(found)
    return pd.DataFrame({
        "vehicle_id": vid.astype("float64").to_numpy(),
        "plate": rem["plate"].to_numpy(dtype=object),
        "customer_id": rem["customer_id"].to_numpy(dtype=object),
        "call_id": rem["call_id"].to_numpy(dtype=object),
        "agent": rem["agent"].to_numpy(dtype=object),
        "first_attempt": _dates(first), "window_end": _dates(last),
        "visit_date": _dates(visit), "in_numerator": visit != _NAT,
        "window_full": _dates(full),
        "_agent_key": rem["agent"].fillna("").astype(str).to_numpy(dtype=object),
    })


def _followup_rate(inp: KpiInputs, m: _Month, cut: pd.DataFrame) -> KpiResult:
    """3DC 回访率: visits closed in M with a follow-up attempt logged from the close day
    to the 3rd working day after it ÷ visits closed in M."""
    from aftercare.logs.read import ATTEMPTS

    fu = _kinds(cut)
    fu = fu[fu["reminder_kind"] == "followup"]
    day = fu["list_day"].fillna(fu["month_start"])
    if not ((day >= m.start) & (day <= m.end)).any():
        return KpiResult("followup_rate", rate=True, no_data="contact_logs")
    ros = inp.ds.repair_orders
    vis = ros[ros["is_visit"].to_numpy(dtype=bool)]
    closed = pd.Series(vis["close_date"].where(vis["close_date"].notna(), vis["open_date"])
                       .to_numpy(dtype="datetime64[ns]"), index=vis.index).dt.normalize()
    in_m = closed.between(m.start, m.end).to_numpy()
    vis, closed = vis[in_m], closed[in_m]
    cal = inp._calendar_for(m.end)
    due = cal.add_workdays(closed, 3)
    members = pd.DataFrame({"vehicle_id": vis["vehicle_id"].to_numpy("int64"),
                            "ro_no": vis["ro_no"].to_numpy(dtype=object),
                            "close_date": closed.to_numpy(),
                            "followup_due": due.to_numpy(dtype="datetime64[ns]")})
    attempts = []
    for n in ATTEMPTS:  # three attempt columns, not rows
        a = fu[fu[f"attempt{n}_date"].notna() & fu["vehicle_id"].notna()]
        attempts.append(pd.DataFrame({"vehicle_id": a["vehicle_id"].astype("int64").to_numpy(),
                                      "followup_date": a[f"attempt{n}_date"].dt.normalize()
                                      .to_numpy()}))
    done = fu[fu["result"].notna() & fu["vehicle_id"].notna()]  # only the final result
    attempts.append(pd.DataFrame({"vehicle_id": done["vehicle_id"].astype("int64").to_numpy(),
                                  "followup_date": done["log_date"].dt.normalize().to_numpy()}))
    att = pd.concat(attempts, ignore_index=True).drop_duplicates()
    pairs = members.reset_index().merge(att, on="vehicle_id")
    ok = ((pairs["followup_date"] >= pairs["close_date"])
          & (pairs["followup_date"] <= pairs["followup_due"])
          & (pairs["followup_date"] <= m.end))
    hit = pairs[ok].sort_values("followup_date").drop_duplicates("index").set_index("index")
    members["followup_date"] = hit["followup_date"].reindex(members.index).to_numpy()
    members["in_numerator"] = members["followup_date"].notna()
    members = members.sort_values(["close_date", "vehicle_id"], ignore_index=True)
    return _rate("followup_rate", int(members["in_numerator"].sum()), len(members), members,
                 provisional=bool((members["followup_due"] > m.end).any()))


def _reason_rows(cut: pd.DataFrame, m: _Month) -> pd.DataFrame:
    """Rows of M's logs (month lists of M, day lists of days in M) with a reason or an
    other shop."""
    day = cut["list_day"].fillna(cut["month_start"])
    rows = cut[(day >= m.start).to_numpy() & (day <= m.end).to_numpy()]
    return rows[(rows["reason"].notna() | rows["other_shop"].notna()).to_numpy()]


_PRICE = r"(?:[¥￥]\s*([0-9]+(?:\.[0-9]+)?)|([0-9]+(?:\.[0-9]+)?)\s*元)"


def parse_other_shop(text: pd.Series) -> pd.DataFrame:
    """他店信息 as staff write it (``途虎养车 宝安店 ¥380``) → shop, place, price: the price
    is a number after ¥ or before 元; the shop the first word of the rest, the place the
    other words (a text without spaces is all shop)."""
    t = text.astype(object).where(text.notna(), "").astype(str).str.normalize("NFKC")
    price = t.str.extract(_PRICE)
    value = pd.to_numeric(price[0].fillna(price[1]), errors="coerce")
    rest = t.str.replace(_PRICE, " ", regex=True).str.replace(r"[,，、;；/|]+", " ", regex=True)
    words = rest.str.strip().str.split(r"\s+", n=1, expand=True).reindex(columns=[0, 1])
    shop = words[0].where(words[0].notna() & (words[0] != ""), None)
    place = words[1].where(words[1].notna() & (words[1] != ""), None)
    return pd.DataFrame({"shop": shop, "place": place, "price": value.astype("float64")},
                        index=text.index)


def log_tables(source, month, cfg: dict) -> dict[str, pd.DataFrame] | None:
    """M's contact-log analysis for the report: ``reasons`` (reason, count, share; a cell
    with several reasons split at ;，、/), ``other_shops`` (shop, place, count, average /
    lowest / highest price), ``agents`` (per agent: calls, reached, booked, reminded
    vehicles, returned within the window, and the rates). None without logs."""
    inp = _inputs(source, cfg)
    if inp.logs is None:
        return None
    m = _Month.of(month)
    ml = _MonthLogs(inp, m)
    said = _reason_rows(ml.cut, m)
    reasons = said["reason"].dropna().astype(str).str.split(r"[;；,，、/]+").explode()
    reasons = reasons.str.strip()
    reasons = reasons[reasons != ""]
    counts = reasons.value_counts(sort=False)
    reason_table = pd.DataFrame({"reason": counts.index.astype(object),
                                 "count": counts.to_numpy("int64")})
    reason_table = reason_table.sort_values(["count", "reason"], ascending=[False, True],
                                            ignore_index=True)
    total = int(reason_table["count"].sum())
    reason_table["share"] = reason_table["count"] / total if total else np.nan
    shops = said[said["other_shop"].notna()]
    parsed = parse_other_shop(shops["other_shop"])
    parsed["place"] = parsed["place"].fillna("")
    g = parsed.dropna(subset=["shop"]).groupby(["shop", "place"], sort=False)
    shop_table = pd.DataFrame({"count": g.size(), "avg_price": g["price"].mean().round(2),
                               "min_price": g["price"].min(), "max_price": g["price"].max()})
    shop_table = shop_table.reset_index().sort_values(["count", "shop", "place"],
                                                      ascending=[False, True, True],
                                                      ignore_index=True)
    shop_table["place"] = shop_table["place"].replace("", None)
    agents = _agent_table(inp, m, ml)
    return {"reasons": reason_table, "other_shops": shop_table, "agents": agents}


def _agent_table(inp: KpiInputs, m: _Month, ml: _MonthLogs) -> pd.DataFrame:
    cols = ["agent", "calls", "reached", "reach_rate", "booked", "booking_rate", "reminded",
            "returned", "return_rate"]
    rows = ml.rows
    if not len(rows):
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    calls = rows.drop_duplicates("_call").assign(
        _a=lambda f: f["agent"].fillna("").astype(str))
    g = calls.groupby("_a", sort=True)
    t = pd.DataFrame({"calls": g.size(), "reached": g["_reached"].sum(),
                      "booked": g["_booked"].sum()})
    ret = _returns(inp, m, rows)
    r = ret.groupby("_agent_key")["in_numerator"].agg(["size", "sum"])
    t["reminded"] = r["size"].reindex(t.index).fillna(0)
    t["returned"] = r["sum"].reindex(t.index).fillna(0)
    t = t.astype("int64")
    t["reach_rate"] = (t["reached"] / t["calls"]).where(t["calls"] > 0)
    t["booking_rate"] = (t["booked"] / t["reached"]).where(t["reached"] > 0)
    t["return_rate"] = (t["returned"] / t["reminded"]).where(t["reminded"] > 0)
    t.index.name = "agent"
    return t.reset_index()[cols]
