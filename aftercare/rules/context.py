"""What every reminder rule reads: the loaded tables cut at ``as_of``, the working-day
calendar, the mileage projection and each vehicle's schedule. Built once per run by
:func:`prepare`; rules are pure functions of it (no I/O, no clock)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from aftercare.frames import latest_by_key
from aftercare.rules import mileage
from aftercare.rules.arrays import int_members
from aftercare.rules.calendar import WorkCalendar
from aftercare.rules.schedule import vehicle_schedule

GONE_STATUSES = ("scrapped", "sold", "transferred")
#: what the rules read of a visit (a group's 7M ROs have ~40 columns: copying them all
#: for the visits alone cost ~2 GB)
VISIT_COLUMNS = ["vehicle_id", "open_date", "close_date", "ro_key", "ro_no", "kind", "amount"]
#: every RO column `due` and `churn` read: the visits', the mileage projection's
#: (``mileage``, ``deleted``, ``is_visit`` and the provenance of its data issues),
#: 建议维修跟进's (``declined_*``) and the contact logs' no-shows'. Both commands read only
#: these from a warm cache and drop the rest after loading (a dealer group's warm
#: `churn`: 16 of 42 columns decoded).
RULE_RO_COLUMNS = list(dict.fromkeys([
    *VISIT_COLUMNS, "deleted", "is_visit", "mileage", "_file", "_sheet", "_row",
    "declined_items", "declined_due_date", "declined_due_km"]))


@dataclass
class RuleContext:
    vehicles: pd.DataFrame  # delivered by as_of (or no delivery date); index = vehicle_id
    customers: pd.DataFrame  # index = customer_key
    ros: pd.DataFrame  # opened on or before as_of
    as_of: pd.Timestamp
    cfg: dict
    calendar: WorkCalendar
    projection: mileage.Projection
    schedule: pd.DataFrame  # index = vehicle_id
    counts: dict  # what was left out before the rules, by reason (for the summary)

    def replace(self, **changes) -> "RuleContext":
        """A copy with ``changes``; what was computed from the ROs is carried over when
        the ROs stay the same."""
        new = dataclasses.replace(self, **changes)
        if "ros" not in changes:
            for name in ("visits", "_last_visit"):
                if name in self.__dict__:
                    new.__dict__[name] = self.__dict__[name]
            if "_from_ros" in self.__dict__:  # its own dict: what either adds stays its own
                new.__dict__["_from_ros"] = dict(self.__dict__["_from_ros"])
        return new

    def from_ros(self, name: str, build):
        """``build(self)``, computed once per context and kept by :meth:`replace` while
        the ROs stay: for what several rules derive from the ROs alone (the service ROs
        that both 首保 and 定保 read: ~0.1 s of a dealer group's report month each)."""
        memo = self.__dict__.setdefault("_from_ros", {})
        if name not in memo:
            memo[name] = build(self)
        return memo[name]

    @cached_property
    def visits(self) -> pd.DataFrame:
        """Customer visits: not deleted, not internal; the columns the rules read
        (:data:`VISIT_COLUMNS`). Computed once per context; :meth:`replace` keeps it."""
        cols = [c for c in VISIT_COLUMNS if c in self.ros.columns]
        return self.ros.loc[self.ros["is_visit"].to_numpy(dtype=bool), cols]

    def last_visit(self) -> pd.Series:
        """Latest customer-visit date per vehicle (index vehicle_id; missing → absent)."""
        return self._last_visit.copy()

    @cached_property
    def _last_visit(self) -> pd.Series:
        # from two columns, not from :attr:`visits` (a copy of seven columns, RO numbers
        # and keys among them, which a dealer group's `due` reads nothing else of: 0.45-0.7 s
        # instead of 0.8-1.1 s there)
        visit = self.ros["is_visit"].to_numpy(dtype=bool)
        vid = self.ros["vehicle_id"].to_numpy()[visit]
        day = self.ros["open_date"].to_numpy()[visit]
        table = latest_by_key(vid, day)
        if table is not None:  # what the groupby below gives, 10x faster
            latest, seen = table
            ids = np.flatnonzero(seen).astype(vid.dtype)
            return pd.Series(latest[ids], index=pd.Index(ids, name="vehicle_id"),
                             name="open_date")
        return pd.Series(day, name="open_date").groupby(
            pd.Series(vid, name="vehicle_id")).max()


def prepare(dataset, as_of, cfg: dict, *, horizon_end=None, schedule=None, calendar=None,
            ro_columns=None, integer_ro_keys: bool = False,
            readings: mileage.Readings | None = None) -> RuleContext:
    """Cut the loaded data at ``as_of`` and build the shared pieces.

    ``horizon_end`` is the last day any rule will look at (e.g. the end of the month
    list plus lead times); the calendar spans from the oldest data to it. A caller that
    prepares many cutoffs of one dataset (the KPI trend) passes the as_of-independent
    pieces once: ``schedule`` (all vehicles), ``calendar`` (spanning every cutoff), and
    may keep only ``ro_columns`` and number the ROs instead of keying them by text
    (``integer_ro_keys``: the rules only match ROs to their readings by key), and the
    odometer readings of the whole dataset, collected and sorted once
    (``readings``: :func:`aftercare.rules.mileage.collect_readings` of its vehicles and
    ROs), which are cut here as the tables are.
    """
    as_of = pd.Timestamp(as_of).normalize()
    vehicles = dataset.vehicles
    after = vehicles["delivery_date"] > as_of
    ros_all = dataset.repair_orders
    ros_after = ros_all["open_date"] > as_of
    counts = {
        "vehicles_after_as_of": int(after.sum()),
        "ros_after_as_of": int(ros_after.sum()),
    }
    vehicles = vehicles.loc[~after].set_index("vehicle_id", drop=False)
    known = int_members(ros_all["vehicle_id"].to_numpy(), vehicles.index.to_numpy())
    if known is None:
        known = ros_all["vehicle_id"].isin(vehicles.index).to_numpy(dtype=bool)
    keep = ~ros_after.to_numpy(dtype=bool) & known  # numpy: .loc and the cut take it as is
    if ro_columns is not None:  # numbered ROs: their text keys are not copied
        ros = ros_all.loc[keep, [c for c in ro_columns if c in ros_all.columns
                                 and not (integer_ro_keys and c == "ro_key")]]
    elif keep.all():  # the usual run (as_of today): no copy of every RO
        ros = ros_all.copy(deep=False)  # copy-on-write: a new frame, no data copied
    else:
        ros = ros_all.loc[keep]
    if integer_ro_keys:
        ros = ros.assign(ro_key=np.flatnonzero(keep))
    customers = dataset.customers.set_index("customer_key", drop=False)
    if calendar is None:
        start = min([d for d in (vehicles["delivery_date"].min(), ros["open_date"].min(),
                                 as_of - pd.DateOffset(years=1)) if pd.notna(d)])
        end = pd.Timestamp(horizon_end) if horizon_end is not None else as_of
        end = max(end, as_of) + pd.DateOffset(years=2)
        calendar = WorkCalendar.from_config(start, end, cfg)
    if readings is not None:
        readings = readings.cut(~after.to_numpy(dtype=bool), keep)
    proj = mileage.project(vehicles.reset_index(drop=True), ros, as_of, cfg, readings=readings)
    sched = (vehicle_schedule(vehicles, cfg) if schedule is None
             else schedule.loc[vehicles.index])
    return RuleContext(vehicles, customers, ros, as_of, cfg, calendar, proj, sched, counts)


def add_months(dates: pd.Series, months: pd.Series | int) -> pd.Series:
    """Calendar months added per row (end-of-month clipped: 31 Jan + 1 month = 28/29 Feb).

    Vectorised over the distinct month counts (a handful: the schedule's intervals)."""
    dates = pd.Series(pd.to_datetime(dates), copy=True)
    if np.isscalar(months):
        return dates + pd.DateOffset(months=int(months))
    months = pd.Series(months, index=dates.index)
    out = pd.Series(pd.NaT, index=dates.index, dtype="datetime64[ns]")
    for m in pd.unique(months.dropna()):  # distinct interval values, not rows
        sel = months == m
        out[sel] = dates[sel] + pd.DateOffset(months=int(m))
    return out


def add_years(dates: pd.Series, years) -> pd.Series:
    """Years added (29 Feb → 28 Feb in a common year)."""
    return add_months(dates, pd.Series(years, index=dates.index) * 12
                      if not np.isscalar(years) else int(years) * 12)
