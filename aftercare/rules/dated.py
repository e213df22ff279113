"""Reminders fixed by calendar dates (02-rules.md): annual inspection (年检), insurance
renewal (续保), birthdays (生日祝福), and the daily follow-ups: after a visit (3DC) and after
a delivery (7DC). Candidates have the columns of service.CANDIDATE_COLUMNS."""

from __future__ import annotations

import numpy as np
import pandas as pd

from aftercare import parse
from aftercare.rules.context import RuleContext, add_years
from aftercare.rules.service import _frame

MAX_YEARS = 60


def inspection_offsets(cfg: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inspection due offsets in months after registration, per vehicle class.

    Returns (private, label_only, operating) boolean lookups indexed by month offset.
    Private small passenger cars since the 2022 reform: on site in years 6 and 10, the
    label alone in years 2, 4 and 8 (switchable), yearly after year 10 (every 6 months
    after 15 with the older statute's switch). Operating vehicles: yearly for 5 years,
    then every 6 months."""
    n = MAX_YEARS * 12 + 1
    private = np.zeros(n, dtype=bool)
    label = np.zeros(n, dtype=bool)
    rem = cfg["reminders"]
    for year in (6, 10):
        private[year * 12] = True
    if rem["inspection_label_years"]:
        for year in (2, 4, 8):
            private[year * 12] = label[year * 12] = True
    private[11 * 12::12] = True
    if rem["inspection_semiannual_after_15"]:
        private[15 * 12::6] = True
    operating = np.zeros(n, dtype=bool)
    operating[12:5 * 12 + 1:12] = True
    operating[5 * 12 + 6::6] = True
    return private, label, operating


def _month_index(dates: pd.Series) -> pd.Series:
    return dates.dt.year * 12 + dates.dt.month - 1


def inspection(ctx: RuleContext, month_start: pd.Timestamp) -> pd.DataFrame:
    """年检: the schedule's due dates near the month (the last day of the registration
    month in the due year), or an explicit 年审到期日 on or after as_of."""
    v = ctx.vehicles
    base = v["registration_date"].fillna(v["delivery_date"])
    explicit = v["inspection_due"]
    use_explicit = explicit.notna() & (explicit >= ctx.as_of)
    sched = v.index[base.notna() & ~use_explicit]
    private, label, operating = inspection_offsets(ctx.cfg)
    reg = _month_index(base[sched])
    op = v.loc[sched, "operating"].fillna(False).astype(bool).to_numpy()
    target = month_start.year * 12 + month_start.month - 1
    lead_months = int(np.ceil(ctx.cfg["reminders"]["inspection"] / 28)) + 1
    parts = []
    # a contact date in the month means a due month from M-1 to M+lead: try each
    for shift in range(-1, lead_months + 1):  # a handful of constant shifts, not rows
        off = (target + shift - reg).to_numpy()
        ok = (off > 0) & (off < len(private))
        offc = np.clip(off, 0, len(private) - 1)
        hit = ok & np.where(op, operating[offc], private[offc])
        if not hit.any():
            continue
        due_month = reg[hit] + off[hit]
        first = pd.to_datetime(pd.DataFrame({"year": due_month // 12, "month": due_month % 12 + 1,
                                             "day": 1}))
        due = first + pd.offsets.MonthEnd(0)
        note = np.where(~op[hit] & label[offc[hit]], "label_only", "")
        parts.append(_frame(sched[hit], "inspection", due, "time", note=note))
    e = v.index[use_explicit]
    parts.append(_frame(e, "inspection", explicit[use_explicit], "date"))
    return pd.concat(parts, ignore_index=True) if parts else _frame([], "inspection", [], [])


def roll_forward(expiry: pd.Series, as_of: pd.Timestamp) -> tuple[pd.Series, pd.Series]:
    """An expiry already past is assumed renewed yearly: the same day in the first year
    that puts it on or after as_of. Returns (date, estimated)."""
    years = (as_of.year - expiry.dt.year).clip(lower=0)
    rolled = add_years(expiry, years.fillna(0).astype(int))
    behind = rolled < as_of
    rolled = rolled.where(~behind, add_years(rolled, 1))
    estimated = expiry.notna() & (rolled != expiry)
    return rolled.where(expiry.notna()), estimated


def insurance(ctx: RuleContext) -> pd.DataFrame:
    """续保: the earlier of the insurance and compulsory-insurance expiry on or after
    as_of; a past expiry is rolled forward yearly and marked 推定 (estimated)."""
    v = ctx.vehicles
    a, a_est = roll_forward(v["insurance_expiry"], ctx.as_of)
    b, b_est = roll_forward(v["compulsory_expiry"], ctx.as_of)
    use_b = b.notna() & (a.isna() | (b < a))
    due = a.where(~use_b, b)
    est = a_est.where(~use_b, b_est)
    keep = due.notna()
    note = np.where(est[keep], "estimated", "")
    return _frame(v.index[keep], "insurance", due[keep], "date", note=note)


def birthday(ctx: RuleContext, month_start: pd.Timestamp, callable_vehicles) -> pd.DataFrame:
    """生日祝福: one per person (not an organisation) with at least one vehicle not
    excluded, birthday known (the column, else the ID number). Due = the birthday in the
    month's year (29 Feb → 28 Feb). Rows carry ``customer_key`` and vehicle_id -1."""
    c = ctx.customers
    owners = ctx.vehicles["customer_key"].reindex(callable_vehicles)
    bday = pd.to_datetime(c["birthday"])
    # object keys: isin on an Arrow-backed str index is ~7x slower
    keep = c.index.astype(object).isin(owners.unique()) & bday.notna().to_numpy() & (
        bday.dt.month == month_start.month).to_numpy()
    some = c[keep]  # names are read only for this month's birthdays
    person = ~parse.is_organisation(some["customer_name"].astype("string"),
                                    some["customer_type"].astype("string")
                                    if "customer_type" in c else None).to_numpy()
    keep[keep] = person
    sel = c[keep]
    b = bday[keep]
    day = np.where((b.dt.month == 2) & (b.dt.day == 29) & ~_leap(month_start.year), 28, b.dt.day)
    due = pd.to_datetime(pd.DataFrame({"year": month_start.year, "month": b.dt.month.to_numpy(),
                                       "day": day}))
    out = _frame(np.full(len(sel), -1), "birthday", due, "date")
    out["customer_key"] = sel.index.to_numpy()
    return out


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def followup(ctx: RuleContext) -> pd.DataFrame:
    """维修回访 (3DC): each customer-visit RO, due on its close date (else open date)."""
    v = ctx.visits
    due = v["close_date"].where(v["close_date"].notna(), v["open_date"])
    out = _frame(v["vehicle_id"], "followup", due, "date")
    out["ro_no"] = v["ro_no"].to_numpy()
    return out


def delivery_followup(ctx: RuleContext) -> pd.DataFrame:
    """新车回访 (7DC): each delivery, due on the delivery date."""
    v = ctx.vehicles[ctx.vehicles["delivery_date"].notna()]
    return _frame(v.index, "delivery_followup", v["delivery_date"], "date")
