"""Churn (流失) segments (02-rules.md, "Churn (流失) segments"): every vehicle delivered by
``as_of`` gets a band by the days since its last customer visit (the delivery date when it
never came back), or is counted apart (scrapped, sold on, transferred; or ``no_date``).

:func:`band_vehicles` gives one row per vehicle with the band and what a win-back caller
needs (last visit and kind, 24-month visits and spend, projected km, warranty, whether the
car is overdue against its own service schedule, a rank within its band).
:func:`bands_on` is the cheap part alone (bands on any day up to ``as_of``, from the same
data), used for the movement since the previous month (:func:`movement`).

Pure and vectorised: no I/O, no clock, no loop over rows.

Choices where the spec is silent (each marked ``# choice:`` below):

* The overdue check uses the *same* candidate functions as ``due``
  (:func:`~aftercare.rules.service.maintenance` and
  :func:`~aftercare.rules.service.first_service`) with their eligibility windows opened
  (the 24-month lapse and the 12-month first-service age are what hand these cars over to
  churn; here we want the due date itself). A car that never had a first-service or
  maintenance RO is measured against its first service (首保流失).
* ``overdue_days`` = as_of − that due date, signed (negative: not due yet); a vehicle
  without any computable due date has none and ranks last in its band.
* "Visits and spend in the last 24 months": customer visits (ROs, not distinct days, as
  进厂台次 counts them) opened in (as_of − 24 calendar months, as_of]; spend is the sum of
  their amounts (a missing or negative amount counts 0).
* Last visit kind: the RO kind of the latest visit; several that day, the last by
  ``ro_key``. ``delivery`` when the date is the delivery date.
* Vehicle status has no history: a vehicle scrapped, sold or transferred now is counted
  apart on the previous month's date too (so it never shows as movement).
* Ranks are given to lapsed vehicles (every band but ``active``) whose customer did not opt
  out: ranks 1..n are exactly the rows of each call sheet.
* Contact logs: a vehicle whose customer's call said 外迁 (``moved``, a column the log
  effects add to the vehicles) is 外地 whatever its plate; ``reasons`` lists the distinct
  未回厂原因 recorded for the vehicle (the latest first, joined by ``;``); a reason on a
  row whose vehicle could not be told (a birthday call's row) goes to every vehicle of
  the customer.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from aftercare.errors import ConfigError
from aftercare.frames import latest_rows
from aftercare.rules import mileage, service
from aftercare.rules.context import GONE_STATUSES, RuleContext

__all__ = [
    "BAND_CODES", "LAPSED_BANDS", "SPLIT_BANDS", "LOCAL_CODES", "WARRANTY_CODES",
    "band_edges", "bands_on", "band_vehicles", "local_flag", "rank_within_band", "movement",
    "split_matrix", "no_date_issues",
]

BAND_CODES = ("active", "m3", "m6", "m9", "lost", "long_lost")
LAPSED_BANDS = BAND_CODES[1:]  # one win-back call sheet each
SPLIT_BANDS = ("m3", "m6", "m9")  # the 90–364-day group split 本地/外地 × 在保/出保
LOCAL_CODES = ("local", "nonlocal", "unknown")
WARRANTY_CODES = ("in", "out", "unknown")
EXCLUDED_REASONS = (*GONE_STATUSES, "no_date")
SPEND_MONTHS = 24
_OPEN_WINDOW_MONTHS = 1200  # "no limit" for the due rules' eligibility windows (100 years)
_EARLIEST = pd.Timestamp("1900-01-01")


def band_edges(cfg: dict) -> np.ndarray:
    """``[churn] bands``: the lower edges (days) of m3, m6, m9, lost and long_lost."""
    edges = cfg["churn"]["bands"]
    ok = (isinstance(edges, list) and len(edges) == len(BAND_CODES) - 1
          and all(isinstance(e, int) and not isinstance(e, bool) for e in edges)
          and edges[0] > 0 and all(a < b for a, b in zip(edges, edges[1:])))
    if not ok:
        raise ConfigError(
            f"[churn] bands = {edges!r}: expected 5 increasing whole numbers of days "
            "(the lower edges of m3, m6, m9, lost, long_lost), e.g. [90, 180, 270, 365, 730]")
    return np.asarray(edges, dtype="int64")


def _day(values) -> pd.Series:
    """Dates as datetime64[ns] at midnight (a time of day never matters here)."""
    s = pd.Series(values)
    return pd.Series(s.to_numpy(dtype="datetime64[ns]"), index=s.index).dt.normalize()


# ---- bands --------------------------------------------------------------------------------
def bands_on(ctx: RuleContext, day=None) -> pd.DataFrame:
    """Bands on ``day`` (default ``ctx.as_of``; an earlier day uses the same data cut there:
    vehicles delivered by it, visits opened by it). Index vehicle_id; columns
    ``last_visit``, ``last_visit_kind``, ``days_since``, ``band`` (None when excluded),
    ``excluded_reason`` (scrapped | sold | transferred | no_date | None)."""
    day = ctx.as_of if day is None else pd.Timestamp(day).normalize()
    edges = band_edges(ctx.cfg)
    v = ctx.vehicles
    delivery = _day(v["delivery_date"])
    # not yet delivered on that day; the one column read below (all of a dealer group's
    # vehicle columns, their text in Arrow, took ~0.7 s to copy)
    v = v.loc[~(delivery > day).to_numpy(), ["vehicle_status"]]
    delivery = delivery[v.index]
    visits = ctx.visits[["vehicle_id", "open_date", "ro_key", "kind"]]
    opened = _day(visits["open_date"]).to_numpy()
    by_day = opened <= day.to_datetime64()
    # each vehicle's last visit: its latest day, then the greatest ro_key that day
    latest = latest_rows(visits[by_day].assign(_d=opened[by_day]), "vehicle_id", "_d", "ro_key")
    seen = latest["_d"].reindex(v.index)
    kind = latest["kind"].reindex(v.index).astype(object)
    from_delivery = seen.isna() & delivery.notna()
    last = seen.where(seen.notna(), delivery)
    kind = kind.where(~from_delivery, "delivery")
    days = (day - last).dt.days  # float with NaN for no date
    gone = v["vehicle_status"].where(v["vehicle_status"].isin(GONE_STATUSES))
    reason = gone.astype(object).where(gone.notna(), np.where(last.isna(), "no_date", None))
    reason = reason.where(reason.notna(), None)
    pos = np.searchsorted(edges, days.fillna(0).to_numpy(dtype="int64"), side="right")
    band = pd.Series(np.asarray(BAND_CODES, dtype=object)[pos], index=v.index, dtype=object)
    band = band.where(reason.isna(), None)
    return pd.DataFrame({
        "last_visit": last.to_numpy(dtype="datetime64[ns]"),
        "last_visit_kind": kind.where(kind.notna(), None).to_numpy(dtype=object),
        "days_since": days.astype("Int64").to_numpy(),
        "band": band.to_numpy(dtype=object),
        "excluded_reason": reason.to_numpy(dtype=object),
    }, index=v.index)


def local_flag(plates: pd.Series, prefixes) -> pd.Series:
    """``local`` when the plate starts with one of the dealer's prefixes (e.g. 粤B),
    ``nonlocal`` otherwise; ``unknown`` for a missing plate or when none is configured.
    Spaces and letter case are ignored on both sides."""
    plates = pd.Series(plates)
    norm = [str(p).replace(" ", "").upper() for p in (prefixes or []) if str(p).strip()]
    out = pd.Series("unknown", index=plates.index, dtype=object)
    if not norm:
        return out
    text = plates.astype(object).where(plates.notna(), "").astype(str)
    text = text.str.replace(r"\s+", "", regex=True).str.upper()
    has = text != ""
    local = text.str.startswith(tuple(norm))
    out[has & local] = "local"
    out[has & ~local] = "nonlocal"
    return out


def _warranty(ctx: RuleContext) -> tuple[pd.Series, pd.Series]:
    """(end date, in/out/unknown) per vehicle, by the function `due` uses.

    ``service.warranty`` keeps the ends on or after as_of; asked with an early as_of it
    gives every computable end (explicit, else min(delivery + years, date reaching km))."""
    # choice: the same function with its as_of filter opened, then compared with as_of
    every = service.warranty(ctx.replace(as_of=_EARLIEST))
    end = pd.Series(every["due_date"].to_numpy(dtype="datetime64[ns]"),
                    index=every["vehicle_id"].to_numpy()).reindex(ctx.vehicles.index)
    state = np.where(end.isna(), "unknown", np.where(end >= ctx.as_of, "in", "out"))
    return end, pd.Series(state, index=ctx.vehicles.index, dtype=object)


def _service_due(ctx: RuleContext) -> pd.DataFrame:
    """Each vehicle's next first-service or maintenance due date, from the due rules with
    their eligibility windows opened. Index vehicle_id; service_kind, service_due."""
    cfg = {**ctx.cfg, "reminders": {**ctx.cfg["reminders"],
                                    "maintenance_max_lapse_months": _OPEN_WINDOW_MONTHS}}
    sched = ctx.schedule.assign(first_service_max_age_months=_OPEN_WINDOW_MONTHS)
    opened = ctx.replace(cfg=cfg, schedule=sched)
    maint = service.maintenance(opened)
    first, _ = service.first_service(opened)
    both = pd.concat([maint, first], ignore_index=True)
    both = both.drop_duplicates("vehicle_id", keep="first").set_index("vehicle_id")
    return pd.DataFrame({
        "service_kind": both["kind"].reindex(ctx.vehicles.index).astype(object),
        "service_due": both["due_date"].reindex(ctx.vehicles.index).to_numpy(
            dtype="datetime64[ns]"),
    }, index=ctx.vehicles.index)


def _recent_visits(ctx: RuleContext) -> pd.DataFrame:
    """Visits and spend in the SPEND_MONTHS months ending as_of, per vehicle."""
    visits = ctx.visits
    start = ctx.as_of - pd.DateOffset(months=SPEND_MONTHS)
    recent = visits[(_day(visits["open_date"]) > start).to_numpy()]
    spend = recent["amount"].where(recent["amount"] > 0, 0.0).fillna(0.0)
    g = recent.assign(_spend=spend.to_numpy()).groupby("vehicle_id")
    out = pd.DataFrame({"visits_24m": g.size(), "spend_24m": g["_spend"].sum()})
    out = out.reindex(ctx.vehicles.index)
    return out.fillna({"visits_24m": 0, "spend_24m": 0.0}).astype(
        {"visits_24m": "int64", "spend_24m": "float64"})


def vehicle_reasons(ctx: RuleContext, reasons: pd.DataFrame | None) -> pd.Series:
    """vehicle_id → the distinct reasons logged for it, latest first, joined by ``;``."""
    if reasons is None or not len(reasons):
        return pd.Series(dtype=object)
    r = reasons[reasons["reason"].notna()]
    whole = r["vehicle_id"].isna()
    v = ctx.vehicles
    spread = r[whole].merge(pd.DataFrame({"customer_key": v["customer_key"].to_numpy(),
                                          "_vid": v.index.to_numpy()}), on="customer_key")
    spread = spread.assign(vehicle_id=spread["_vid"].astype("float64")).drop(columns="_vid")
    r = pd.concat([r[~whole], spread], ignore_index=True)
    r = r.sort_values(["vehicle_id", "log_date"], ascending=[True, False], kind="stable")
    r = r.drop_duplicates(["vehicle_id", "reason"])
    out = r.groupby("vehicle_id")["reason"].agg(";".join)
    out.index = out.index.astype("int64")
    return out


def band_vehicles(ctx: RuleContext, reasons: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per vehicle delivered by as_of (or with visits, when the delivery date is
    unknown), index vehicle_id: the band, or ``excluded_reason`` for those counted apart,
    and everything the win-back sheets show. See the module docstring for the columns'
    choices."""
    v = ctx.vehicles
    out = pd.DataFrame(index=v.index)
    # text columns as they are (Arrow-backed): made objects, pandas would turn them back
    # into its Arrow-backed str (~1 s of a dealer group's 1M vehicles, both ways)
    for col in ("vin", "plate", "customer_key", "brand", "model"):
        out[col] = v[col].array if col in v else None
    out["delivery_date"] = v["delivery_date"].to_numpy(dtype="datetime64[ns]")
    cust = ctx.customers
    at = cust.index.get_indexer(v["customer_key"])  # once, not one hash lookup per column
    found = at >= 0
    rows = np.where(found, at, 0)

    def per_vehicle(col):  # what v["customer_key"].map(cust[col]) gives: NaN when not found
        if not len(cust):
            return pd.Series(np.nan, index=range(len(v)), dtype=object)
        return cust[col].iloc[rows].reset_index(drop=True).where(found)

    for col in ("customer_id", "customer_name", "mobile"):
        out[col] = per_vehicle(col).array if col in cust else None
    out["opted_out"] = (per_vehicle("do_not_contact").eq(True).to_numpy()
                        if "do_not_contact" in cust else np.zeros(len(v), dtype=bool))
    out = out.join(bands_on(ctx))
    local = local_flag(v["plate"], ctx.cfg["churn"]["local_plate_prefixes"])
    if "moved" in v:  # a contact log said 外迁
        local = local.mask(v["moved"].fillna(False).astype(bool), "nonlocal")
    out["local"] = local.to_numpy()
    end, state = _warranty(ctx)
    out["warranty_end"] = end.to_numpy(dtype="datetime64[ns]")
    out["warranty"] = state.to_numpy()
    out = out.join(_recent_visits(ctx))
    km = mileage.km_on(ctx.projection, v.index.to_numpy(),
                       np.full(len(v), ctx.as_of.to_datetime64(), dtype="datetime64[ns]"))
    out["projected_km"] = np.round(km.to_numpy(dtype="float64"))
    out = out.join(_service_due(ctx))
    overdue = (ctx.as_of - pd.Series(out["service_due"])).dt.days
    out["overdue_days"] = overdue.astype("Int64")
    out["maintenance_overdue"] = overdue.gt(0).to_numpy()
    out["reasons"] = v.index.map(vehicle_reasons(ctx, reasons)).to_numpy(dtype=object)
    out["reasons"] = out["reasons"].where(out["reasons"].notna(), None)
    eligible = out["band"].isin(LAPSED_BANDS) & ~out["opted_out"]
    out["rank"] = rank_within_band(out, eligible)
    out.index.name = "vehicle_id"
    return out


def rank_within_band(frame: pd.DataFrame, eligible=None) -> pd.Series:
    """1, 2, … within each band: most overdue against its own schedule first
    (``overdue_days`` desc, none last), then ``spend_24m`` desc, then longest away
    (``days_since`` desc), then vehicle_id. Rows not ``eligible`` get no rank (<NA>)."""
    if eligible is None:
        eligible = frame["band"].notna()
    eligible = pd.Series(eligible, index=frame.index).fillna(False).astype(bool)
    f = frame[eligible.to_numpy()]
    def desc(col, missing):  # negated for an ascending sort; missing values sort last
        return -pd.to_numeric(f[col], errors="coerce").astype("float64").fillna(
            missing).to_numpy()

    keys = pd.DataFrame({"band": f["band"].astype(object).to_numpy(),
                         "o": desc("overdue_days", -np.inf), "s": desc("spend_24m", 0.0),
                         "d": desc("days_since", 0.0), "vid": np.asarray(f.index)},
                        index=f.index)
    keys = keys.sort_values(["band", "o", "s", "d", "vid"], kind="stable")
    rank = keys.groupby("band", sort=False).cumcount() + 1
    return rank.reindex(frame.index).astype("Int64")


# ---- the 90–364-day split and movement ------------------------------------------------------
def split_matrix(bands: pd.DataFrame) -> pd.DataFrame:
    """Counts of the 90–364-day group (m3, m6, m9): rows local/nonlocal/unknown, columns
    in/out/unknown warranty (all present, zeros included)."""
    g = bands[bands["band"].isin(SPLIT_BANDS)]
    counts = pd.crosstab(g["local"], g["warranty"]) if len(g) else pd.DataFrame()
    return counts.reindex(index=list(LOCAL_CODES), columns=list(WARRANTY_CODES),
                          fill_value=0).astype("int64").rename_axis(index="local",
                                                                     columns="warranty")


def movement(current: pd.DataFrame, previous: pd.DataFrame) -> pd.DataFrame:
    """Per band: ``previous`` and ``current`` counts, how many vehicles ``entered`` (not in
    that band before: another band, counted apart, or not yet delivered) and ``left``
    (in it before, not now). previous + entered − left = current."""
    ids = current.index.union(previous.index)
    cur = current["band"].reindex(ids).astype(object)
    prev = previous["band"].reindex(ids).astype(object)
    rows = {}
    for b in BAND_CODES:  # six bands, not rows
        now, before = (cur == b).to_numpy(), (prev == b).to_numpy()
        rows[b] = {"previous": int(before.sum()), "entered": int((now & ~before).sum()),
                   "left": int((before & ~now).sum()), "current": int(now.sum())}
    out = pd.DataFrame.from_dict(rows, orient="index")[["previous", "entered", "left",
                                                         "current"]]
    out.index.name = "band"
    return out


def no_date_issues(ctx: RuleContext, bands: pd.DataFrame) -> pd.DataFrame:
    """One data issue per vehicle that cannot be banded (no visit, no delivery date), with
    the vehicle's file/sheet/row: ``file, sheet, row, field, value, reason, detail``."""
    ids = bands.index[(bands["excluded_reason"] == "no_date").to_numpy()]
    v = ctx.vehicles.loc[ids]

    def col(name):
        return v[name].astype(object).to_numpy() if name in v else np.full(len(v), None)

    plate = pd.Series(col("plate"), dtype=object)
    vin = pd.Series(col("vin"), dtype=object)
    return pd.DataFrame({
        "file": col("_file"), "sheet": col("_sheet"), "row": col("_row"),
        "field": "delivery_date", "value": None, "reason": "churn_no_date",
        "detail": vin.where(vin.notna(), plate).where(lambda s: s.notna(), "").to_numpy(),
    })
