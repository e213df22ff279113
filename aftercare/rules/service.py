"""Reminders that follow the service schedule and the odometer (02-rules.md):
first service (首保), periodic maintenance (定保), warranty expiry (质保到期) and declined
repairs (建议维修跟进). Each function returns candidate reminders, one row each:

    vehicle_id, kind, due_date, basis ('time' | 'mileage' | 'date'), due_km, note

The month-list logic (month.py) turns candidates into a list: lead times, working
days, membership, carry-over.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from aftercare.frames import latest_rows
from aftercare.rules import mileage
from aftercare.rules.arrays import int_members
from aftercare.rules.context import RuleContext, add_months, add_years

CANDIDATE_COLUMNS = ["vehicle_id", "kind", "due_date", "basis", "due_km", "note"]
SERVICE_KINDS = ("first_service", "maintenance")


def _earliest(time_due: pd.Series, km_due: pd.Series) -> tuple[pd.Series, pd.Series]:
    """min(time, mileage) and which gave it; a tie is `time` (the first listed)."""
    use_km = km_due.notna() & (time_due.isna() | (km_due < time_due))
    due = time_due.where(~use_km, km_due)
    basis = pd.Series(np.where(use_km, "mileage", "time"), index=time_due.index, dtype=object)
    basis[due.isna()] = None
    return due, basis


def _frame(vid, kind, due, basis, due_km=np.nan, note="") -> pd.DataFrame:
    out = pd.DataFrame({"vehicle_id": np.asarray(vid), "kind": kind,
                        "due_date": pd.to_datetime(np.asarray(due)),
                        "basis": np.asarray(basis, dtype=object)})
    out["due_km"] = np.asarray(due_km, dtype="float64") if not np.isscalar(due_km) else due_km
    out["note"] = note
    return out[CANDIDATE_COLUMNS]


def service_ros(ctx: RuleContext) -> pd.DataFrame:
    """First-service and maintenance ROs (not deleted) on or before as_of: the columns the
    rules read, and ``_pos``, the RO's row position in ``ctx.ros``. Once per context:
    callers do not modify it."""
    return ctx.from_ros("service_ros", _service_ros)


def _service_ros(ctx: RuleContext) -> pd.DataFrame:
    ros = ctx.ros
    keep = (~ros["deleted"] & ros["kind"].isin(SERVICE_KINDS)).to_numpy()
    out = ros.loc[keep, ["vehicle_id", "open_date", "ro_key", "kind"]]
    return out.assign(_pos=np.flatnonzero(keep))


def first_service(ctx: RuleContext) -> tuple[pd.DataFrame, pd.DataFrame]:
    """首保: delivered within first_service_max_age_months, no first service or maintenance
    yet. Due = min(delivery + first_service_months, date reaching first_service_km).

    Returns (candidates, not_computable) — the second lists vehicles without a
    delivery date that would otherwise be eligible (for 待修正资料)."""
    v, s = ctx.vehicles, ctx.schedule
    served = service_ros(ctx)["vehicle_id"].to_numpy()
    known = int_members(v.index.to_numpy(), served)  # None: ids for a hashing isin
    never = ~(known if known is not None else v.index.isin(pd.unique(served)))
    oldest = add_months(pd.Series(ctx.as_of, index=v.index), -s["first_service_max_age_months"])
    has_date = v["delivery_date"].notna()
    eligible = never & has_date & (v["delivery_date"] >= oldest)
    missing = never & ~has_date & ~v["from_ros"].astype(bool)
    e = v.index[eligible]
    time_due = add_months(v.loc[e, "delivery_date"], s.loc[e, "first_service_months"])
    km = s.loc[e, "first_service_km"].astype("float64")
    km_due = pd.Series(mileage.date_reaching(ctx.projection, e, km.to_numpy()).to_numpy(),
                       index=e)
    due, basis = _earliest(time_due, km_due)
    cands = _frame(e, "first_service", due, basis, km.to_numpy())
    return cands.dropna(subset=["due_date"]), pd.DataFrame(
        {"vehicle_id": v.index[missing], "reason": "no_delivery_date"})


def maintenance(ctx: RuleContext) -> pd.DataFrame:
    """定保: the last first-service/maintenance RO (several that day: the highest km) +
    interval_months, or the date reaching its km + interval_km, whichever comes first;
    only while the last customer visit (else delivery) is within
    maintenance_max_lapse_months of as_of."""
    ros = service_ros(ctx)
    if ros.empty:
        return _frame([], "maintenance", [], [])
    proj = ctx.projection
    kept_km = proj.kept_ro_km(len(ctx.ros))  # by RO row position: no key hashing
    ros = ros.assign(basis_km=kept_km[ros["_pos"].to_numpy()])
    need = ros["basis_km"].isna()
    if need.any():  # no kept reading: the projected km on its date
        ros.loc[need, "basis_km"] = mileage.km_on(
            proj, ros.loc[need, "vehicle_id"].to_numpy(),
            ros.loc[need, "open_date"].to_numpy()).to_numpy()
    # the basis: each vehicle's latest service day, then its highest km that day
    last = latest_rows(ros, "vehicle_id", "open_date", "basis_km")
    vid = last.index
    lapse = ctx.cfg["reminders"]["maintenance_max_lapse_months"]
    last_seen = ctx.last_visit().reindex(vid)
    last_seen = last_seen.fillna(ctx.vehicles.loc[vid, "delivery_date"])
    recent = last_seen >= ctx.as_of - pd.DateOffset(months=lapse)
    last = last[recent.to_numpy()]
    vid = last.index
    sched = ctx.schedule.loc[vid]
    time_due = add_months(last["open_date"], sched["interval_months"])
    target = last["basis_km"] + sched["interval_km"]
    km_due = pd.Series(mileage.date_reaching(proj, vid, target.to_numpy()).to_numpy(), index=vid)
    due, basis = _earliest(time_due, km_due)
    return _frame(vid, "maintenance", due, basis, target.to_numpy()).dropna(subset=["due_date"])


def warranty(ctx: RuleContext) -> pd.DataFrame:
    """质保到期: warranty_end, else min(delivery + warranty_years, date reaching
    warranty_km); only when the end is on or after as_of."""
    v, s = ctx.vehicles, ctx.schedule
    explicit = v["warranty_end"]
    km = v["warranty_km"].fillna(s["warranty_km"]).astype("float64")
    time_due = add_years(v["delivery_date"], s["warranty_years"])
    km_due = pd.Series(mileage.date_reaching(ctx.projection, v.index, km.to_numpy()).to_numpy(),
                       index=v.index)
    km_due = km_due.where(v["delivery_date"].notna())  # the km rule needs the start too
    computed, basis = _earliest(time_due, km_due)
    due = explicit.where(explicit.notna(), computed)
    basis = basis.where(explicit.isna(), "date")
    keep = due.notna() & (due >= ctx.as_of)
    return _frame(v.index[keep], "warranty", due[keep], basis[keep], km[keep].to_numpy())


def declined(ctx: RuleContext) -> pd.DataFrame:
    """建议维修跟进: an RO with declined items and no later customer visit. Due = the
    item's due date, else the date reaching its due km, else RO date + 90 days."""
    ros = ctx.ros
    items = ros[~ros["deleted"] & ros["declined_items"].notna()]
    if items.empty:
        return _frame([], "declined", [], [])
    last = ctx.last_visit()
    open_ = items["open_date"]
    later = last.reindex(items["vehicle_id"]).to_numpy() > open_.to_numpy()
    items = items[~later]
    default = items["open_date"] + pd.Timedelta(days=ctx.cfg["reminders"]["declined_default_days"])
    by_km = pd.Series(mileage.date_reaching(ctx.projection, items["vehicle_id"].to_numpy(),
                                            items["declined_due_km"].to_numpy()).to_numpy(),
                      index=items.index)
    explicit = items["declined_due_date"]
    due = explicit.where(explicit.notna(), by_km.where(by_km.notna(), default))
    basis = np.where(explicit.notna(), "date", np.where(by_km.notna(), "mileage", "time"))
    return _frame(items["vehicle_id"], "declined", due, basis, items["declined_due_km"],
                  note=items["declined_items"].to_numpy())
