"""Month-end KPIs (04-kpis.md), each computed exactly as written, with its numerator,
denominator and the members behind it (for the drill-down sheets).

    results = compute_month(dataset, "2026-10", cfg)          # one month
    report = compute_report(dataset, "2026-10", cfg)          # + last month, last year, trend

Pure and vectorised: no I/O, no clock, no loop over rows (only over the ≤ 13 months a
report needs and over KPIs). Visits are held once, sorted by day, so a month or a
12-month window is a slice; "the previous visit" is one ``searchsorted`` over
(vehicle, day) keys.

The due-cohort KPIs (首保回厂率, 定保回厂率) call the ``due`` rules themselves,
:func:`~aftercare.rules.service.first_service` and
:func:`~aftercare.rules.service.maintenance`, on a context cut at the day before the month.
A report needs 13 such cut-offs; :meth:`KpiInputs.context` builds them as
:func:`~aftercare.rules.context.prepare` does (same cut, same projection) but reuses the
per-vehicle schedule and the calendar, which do not depend on ``as_of``, and carries only
the RO columns the rules read. ``tests/rules/test_kpis.py`` pins that its candidates equal
``prepare``'s.

Choices where the spec is silent (each marked ``# choice:`` below):

* Days, not times: every window compares calendar days (an RO opened at 10:00 on the
  last day of M is in M).
* A month whose data ends before its last day (the newest RO is older than the end of M,
  e.g. ``--month this``) is provisional (暂定) in every KPI computed for it.
* 预约率: the whole RO table without any appointment flag, or a month whose visits carry
  none, is "no data"; visits without a flag in a month where others have one count in
  the denominator (to the letter: ÷ visits in M) and not in the numerator.
* 滞留车率: "no data" likewise when the RO table has no promised or no delivered times, or
  none of M's visits has both; "delivered on a later day" compares calendar days.
* 产值: a missing (or negative, made missing by the loader) amount adds nothing; the
  average per visit divides by every visit in M (进厂台次), amount or not.
* 进厂台次 by kind: a kind outside the seven visit kinds (none after loading) counts as
  ``other``, so the kinds always sum to the total.
* 流失召回: a vehicle's first visit in M is the one measured (its later visits in M have
  a previous visit in M); bands are ``[churn] bands`` on those days; a band row is listed
  when the band can hold a win-back (its upper edge above ``winback_days``).
* 客户保持率 uses 12 months as written (not ``base_months``, which is for 保有客户数).
* Status: a rate with a target is 达标 when value ≥ target (滞留车率: value < target),
  compared exactly as fractions; no value, no status.

The list KPIs (提醒完成率, 接通率, 预约成功率, 招揽回厂率, 3DC 回访率, 未回厂原因) read the
contact logs; they live in :mod:`aftercare.rules.list_kpis`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import pandas as pd

from aftercare import memory
from aftercare.rules import mileage, service
from aftercare.rules.arrays import distinct_ints
from aftercare.rules.calendar import WorkCalendar
from aftercare.rules.churn import BAND_CODES, band_edges
from aftercare.rules.context import RuleContext, add_months, prepare
from aftercare.rules.schedule import vehicle_schedule

__all__ = [
    "KpiResult", "KpiReport", "KpiInputs", "compute_month", "compute_report",
    "visits_by_week", "month_start", "VISIT_KINDS", "REMINDER_KINDS", "TREND_KPIS",
    "CONTACT_LOG_KPIS", "RATE_KPIS", "DRILL_DOWN_KPIS",
]

VISIT_KINDS = ("first_service", "maintenance", "repair", "bodyshop", "warranty", "campaign",
               "other")
SERVICE_KINDS = ("first_service", "maintenance")
REMINDER_KINDS = ("first_service", "maintenance", "warranty", "inspection", "insurance",
                  "birthday", "declined")
CONTACT_LOG_KPIS = (*[f"reminder_completion_{k}" for k in REMINDER_KINDS], "reach_rate",
                    "booking_rate", "reminder_return_rate", "followup_rate")
RATE_KPIS = ("first_service_return_rate", "maintenance_return_rate", "first_service_rate_12m",
             "appointment_rate", "churn_rate", "retention_rate", *CONTACT_LOG_KPIS,
             "holdover_rate")
# the rates with a vehicle (or visit) list; 流失召回 (a count) has one too
DRILL_DOWN_KPIS = ("first_service_return_rate", "maintenance_return_rate",
                   "first_service_rate_12m", "appointment_rate", "churn_rate",
                   "retention_rate", "winback", "holdover_rate")
# 趋势: the main rates; 提醒完成率 as its first-service and maintenance rows
TREND_KPIS = ("first_service_return_rate", "maintenance_return_rate", "appointment_rate",
              "churn_rate", "retention_rate", "reminder_completion_first_service",
              "reminder_completion_maintenance")
LOWER_IS_BETTER = ("holdover_rate",)
_TARGET_KEYS = {f"reminder_completion_{k}": "reminder_completion" for k in REMINDER_KINDS}
_NAT = np.iinfo("int64").min


# ------------------------------------------------------------------------------ results
@dataclass(eq=False)
class KpiResult:
    """One row of 指标: ``value`` is None for a zero denominator ("—") or without data
    (then ``no_data`` names what is missing: ``appointment``, ``promised_at``,
    ``contact_logs``). ``members`` lists the denominator (or, for a count, the counted)
    with ``vehicle_id`` and ``in_numerator``."""

    kpi: str
    value: float | int | None = None
    numerator: float | int | None = None
    denominator: float | int | None = None
    rate: bool = False
    target: float | None = None
    members: pd.DataFrame | None = None
    provisional: bool = False
    no_data: str | None = None

    @property
    def lower_is_better(self) -> bool:
        return self.kpi in LOWER_IS_BETTER

    @property
    def status(self) -> str | None:
        """``met`` / ``not_met`` against the target; None without a target or a value."""
        if self.target is None or self.value is None:
            return None
        if self.numerator is not None and self.denominator:  # exact: 19/20 vs 0.95
            value = Fraction(int(self.numerator), int(self.denominator))
        else:
            value = Fraction(repr(float(self.value)))
        target = Fraction(repr(float(self.target)))
        ok = value < target if self.lower_is_better else value >= target
        return "met" if ok else "not_met"


@dataclass(eq=False)
class KpiReport:
    """Month M's KPIs, the same KPIs for M−1 and M−12, and the 12 months ending M."""

    month: pd.Timestamp
    results: list[KpiResult]
    prev_month: dict[str, KpiResult]
    prev_year: dict[str, KpiResult]
    trend: list[tuple[pd.Timestamp, dict[str, KpiResult]]]
    data_end: pd.Timestamp | None
    inputs: "KpiInputs"
    log_tables: dict[str, pd.DataFrame] | None = None

    def by_code(self) -> dict[str, KpiResult]:
        return {r.kpi: r for r in self.results}

    def trend_frame(self, codes=TREND_KPIS) -> pd.DataFrame:
        """One row per month: ``month`` (YYYY-MM), then per KPI ``<code>`` (the rate, NaN
        for "—" or no data), ``<code>__num`` and ``<code>__den``."""
        cols: dict[str, list] = {"month": [m.strftime("%Y-%m") for m, _ in self.trend]}
        for code in codes:
            rs = [by[code] for _, by in self.trend]
            cols[code] = [np.nan if r.value is None else float(r.value) for r in rs]
            cols[f"{code}__num"] = pd.array([r.numerator for r in rs], dtype="Int64")
            cols[f"{code}__den"] = pd.array([r.denominator for r in rs], dtype="Int64")
        return pd.DataFrame(cols)


# ------------------------------------------------------------------------------ months
def month_start(month) -> pd.Timestamp:
    """``'2026-10'``, a date or a Timestamp → the first day of that month."""
    return pd.Timestamp(month).normalize().replace(day=1)


@dataclass(frozen=True)
class _Month:
    start: pd.Timestamp
    end: pd.Timestamp

    @classmethod
    def of(cls, month) -> "_Month":
        s = month_start(month)
        return cls(s, s + pd.offsets.MonthEnd(0))

    def shift(self, months: int) -> "_Month":
        return _Month.of(self.start + pd.DateOffset(months=months))

    @property
    def start_day(self) -> int:
        return _day(self.start)

    @property
    def end_day(self) -> int:
        return _day(self.end)


def _day(ts) -> int:
    return int(pd.Timestamp(ts).normalize().value // 86_400_000_000_000)


def _days(values) -> np.ndarray:
    """Whole days since 1970 (int64); NaT → _NAT."""
    arr = np.asarray(pd.Series(values).to_numpy(dtype="datetime64[ns]")).view("int64")
    return np.where(arr == _NAT, _NAT, np.floor_divide(arr, 86_400_000_000_000))


def _dates(days: np.ndarray) -> np.ndarray:
    days = np.asarray(days, dtype="int64")
    out = (days * 86_400_000_000_000).view("datetime64[ns]")
    return np.where(days == _NAT, np.datetime64("NaT", "ns"), out)


def _window_12m(end: pd.Timestamp, months: int = 12) -> tuple[int, int]:
    """"The N months ending D": days after D − N calendar months, up to and including D."""
    return _day(end - pd.DateOffset(months=months)) + 1, _day(end)


# ------------------------------------------------------------------------------ inputs
#: the vehicle columns the KPIs' rule contexts read (first service, maintenance, the
#: projection and its issues' provenance, the report's issues): a context cuts only these
#: (a dealer group: 0.23 s with all ~30, 0.12 s with these, in each of the 13 months)
_CTX_VEHICLE_COLUMNS = ["vehicle_id", "delivery_date", "from_ros",
                        "_file", "_sheet", "_row"]
#: what the due cohorts read of a month's rule context: its ROs as the first-service and
#: maintenance rules read them (service_ros, last_visit) and the provenance of the
#: mileage issues; the odometer readings are collected from the dataset once
#: (KpiInputs._readings_all). Each column is copied for each of the 13 months.
_CTX_RO_COLUMNS = ["vehicle_id", "ro_key", "open_date", "kind", "deleted", "is_visit",
                   "_file", "_sheet", "_row"]
#: the RO columns of KpiInputs.visits
_VISIT_COLUMNS = ["vehicle_id", "open_date", "ro_no", "kind", "amount", "appointment",
                  "promised_at", "delivered_at"]
#: every RO column the KPIs read: the rule contexts', KpiInputs', the readings'
#: (``mileage``) and 3DC 回访率's (``close_date``)
KPI_RO_COLUMNS = list(dict.fromkeys([*_CTX_RO_COLUMNS, *_VISIT_COLUMNS, "close_date",
                                     "mileage"]))


#: RO columns of few distinct values that kpi_dataset makes categories
_FEW_VALUES = ("_file", "_sheet", "kind")


def kpi_dataset(ds):
    """``ds`` with only the RO columns the KPIs read (:data:`KPI_RO_COLUMNS`), those of
    few distinct values as categories: `report` drops the rest (VIN, plate, the customer
    columns …: ~2 GB of a dealer group's 7M ROs) once the contact logs are matched,
    before its 13 months are computed."""
    ds = ds.with_ro_columns(KPI_RO_COLUMNS)
    # columns of a few distinct values (file and sheet names, kinds) that each month's
    # context copies and tests, as categories: a dealer group's first month spent 1.45 s
    # copying the file and sheet names of 7M ROs as Arrow text
    ros = ds.repair_orders
    cats = {c: ros[c].astype("category") for c in _FEW_VALUES
            if c in ros.columns and not isinstance(ros[c].dtype, pd.CategoricalDtype)}
    return dataclasses.replace(ds, repair_orders=ros.assign(**cats)) if cats else ds


class KpiInputs:
    """What every month's KPIs read, built once from a loaded :class:`Dataset`: the
    visits sorted by day and by (vehicle, day), the vehicles, and a cache of rule
    contexts and of computed months."""

    def __init__(self, ds, cfg: dict, logs: pd.DataFrame | None = None):
        self.ds, self.cfg = ds, cfg
        self.logs = logs if logs is not None and len(logs) else None
        ros = ds.repair_orders
        visit = ros["is_visit"].to_numpy(dtype=bool) if len(ros) else np.zeros(0, bool)
        # only the columns read below are copied (ros.loc[visit] copied all of them)
        vis = ros.loc[visit, [c for c in _VISIT_COLUMNS if c in ros.columns]]
        day = _days(vis["open_date"])
        order = np.argsort(day, kind="stable")
        kind = vis["kind"].astype(object).where(vis["kind"].isin(VISIT_KINDS), "other")

        def col(name, conv):  # a column of the visits (all missing when absent), sorted
            s = vis[name] if name in vis.columns else pd.Series(None, index=vis.index,
                                                                  dtype=object)
            return np.asarray(conv(s))[order]

        ro_no = vis["ro_no"].array if "ro_no" in vis.columns else None
        if isinstance(ro_no, pd.api.extensions.ExtensionArray) and ro_no.dtype != object:
            ro_no = ro_no.take(order)  # Arrow text stays Arrow text: no Python strs
        else:  # numpy object (pandas makes it str when it holds only text, as before)
            ro_no = col("ro_no", lambda s: s.astype(object))
        # copy=False: the columns are new arrays already; pandas would otherwise copy
        # them into one 2-D block per dtype (1.2 s of a dealer group's 6M visits, and
        # 1.7 s more for RO numbers turned into Python strs and back into Arrow text)
        self.visits = pd.DataFrame({
            "vehicle_id": vis["vehicle_id"].to_numpy("int64")[order],
            "day": day[order],
            "ro_no": ro_no,
            "kind": kind.to_numpy(dtype=object)[order],
            "amount": col("amount", lambda s: pd.to_numeric(s, errors="coerce")
                          .astype("float64")),
            "appointment": col("appointment", _bool_float),
            "promised_day": col("promised_at", _days),
            "delivered_day": col("delivered_at", _days),
            "promised_at": col("promised_at", lambda s: s.to_numpy("datetime64[ns]")),
            "delivered_at": col("delivered_at", lambda s: s.to_numpy("datetime64[ns]")),
        }, copy=False)
        self.day = self.visits["day"].to_numpy()
        self.vid = self.visits["vehicle_id"].to_numpy()
        # (vehicle, day) keys, sorted: "the previous visit of vehicle v before day d"
        self._dmin = int(day.min()) if len(day) else 0
        self._span = (int(day.max()) - self._dmin + 2) if len(day) else 2
        by_vehicle = np.lexsort((self.day, self.vid))
        self._bv_vid = self.vid[by_vehicle]
        self._bv_day = self.day[by_vehicle]
        self._bv_key = self._bv_vid * self._span + (self._bv_day - self._dmin)
        # the same for first-service and maintenance visits only: their rows in visits
        service = self.visits["kind"].isin(SERVICE_KINDS).to_numpy(dtype=bool)[by_vehicle]
        self._sv_row = by_vehicle[service]
        self._sv_key = self._bv_key[service]
        self.has_appointment = bool(np.isfinite(self.visits["appointment"]).any())
        self.has_times = bool((self.visits["promised_day"] != _NAT).any()
                              and (self.visits["delivered_day"] != _NAT).any())
        self.data_end = (pd.Timestamp(ros["open_date"].max()).normalize()
                         if len(ros) else None)
        self.vehicles = ds.vehicles.set_index("vehicle_id", drop=False)
        self._ctx_ds = dataclasses.replace(ds, vehicles=ds.vehicles[
            [c for c in _CTX_VEHICLE_COLUMNS if c in ds.vehicles.columns]])
        self._contexts: dict[pd.Timestamp, RuleContext] = {}
        self._kept: set[pd.Timestamp] = set()
        self._months: dict[pd.Timestamp, list[KpiResult]] = {}
        self._schedule: pd.DataFrame | None = None
        self._readings: mileage.Readings | None = None
        self._calendar: WorkCalendar | None = None
        self._cal_span: tuple[pd.Timestamp, pd.Timestamp] | None = None

    # -- slices
    def in_days(self, first: int, last: int) -> slice:
        """Rows of :attr:`visits` opened on days first..last (both included)."""
        return slice(int(np.searchsorted(self.day, first, "left")),
                     int(np.searchsorted(self.day, last, "right")))

    def vehicles_in(self, first: int, last: int) -> np.ndarray:
        """Sorted vehicle ids with a visit on days first..last."""
        return distinct_ints(self.vid[self.in_days(first, last)])

    def previous_visit_day(self, vids: np.ndarray, before: int) -> np.ndarray:
        """Each vehicle's latest visit day strictly before day ``before`` (_NAT: none)."""
        vids = np.asarray(vids, dtype="int64")
        off = np.clip(before - self._dmin, 0, self._span - 1)
        pos = np.searchsorted(self._bv_key, vids * self._span + off, "left") - 1
        ok = pos >= 0
        pos = np.where(ok, pos, 0)
        if len(self._bv_vid):
            ok &= self._bv_vid[pos] == vids
            return np.where(ok, self._bv_day[pos], _NAT)
        return np.full(len(vids), _NAT, dtype="int64")

    def first_service_visit(self, vids: np.ndarray, first: np.ndarray, last: np.ndarray
                            ) -> np.ndarray:
        """Each vehicle's first first-service or maintenance visit on days first..last
        (per vehicle): its row in :attr:`visits`, -1 when none. The earliest day, and on
        that day the first in the visits' order."""
        pos = self._first_in(self._sv_key, vids, first, last)
        found = pos >= 0
        row = np.full(len(pos), -1, dtype="int64")
        row[found] = self._sv_row[pos[found]]
        return row

    def _first_in(self, keys: np.ndarray, vids, first, last) -> np.ndarray:
        """Each vehicle's first entry on days first..last (scalars or per vehicle) in
        ``keys``, sorted (vehicle, day) keys of some visits (:attr:`_bv_key` or a subset):
        its position there, -1 when none."""
        vids = np.asarray(vids, dtype="int64")
        base = vids * self._span
        lo = base + np.clip(np.asarray(first, dtype="int64") - self._dmin, 0, self._span - 1)
        hi = base + np.clip(np.asarray(last, dtype="int64") - self._dmin, -1, self._span - 1)
        pos = np.searchsorted(keys, lo, "left")  # keys[pos] >= lo: that vehicle, >= first
        ok = pos < len(keys)
        pos = np.where(ok, pos, 0)
        if len(keys):
            ok &= keys[pos] <= hi
        return np.where(ok, pos, -1)

    # -- rule contexts
    def context(self, as_of) -> RuleContext:
        """The rule context at ``as_of``, as :func:`prepare` cuts it.

        Cached, but only the latest one and those :meth:`keep_context` names: a month's
        KPIs ask for the same context several times, while the report's 13 months each
        want their own (a dealer group's context holds ~1 GB: all 13 would not fit in
        12 GB). An older context is dropped before the next one is built.

        Its memory is not handed back to the system (no memory.release() here): the next
        month's context, of much the same size, reuses it. Handing it back made every
        month fault ~1 GB of fresh pages in: a dealer group's warm report spent 15.6-17.2 s
        in the kernel against 10.4-10.9 s without, 41.1-42.8 s against 35.8-38.3 s wall
        (three alternating pairs), with the same peak resident size (5.7 GB)."""
        as_of = pd.Timestamp(as_of).normalize()
        if as_of not in self._contexts:
            for d in [d for d in self._contexts if d not in self._kept]:
                del self._contexts[d]
            self._contexts[as_of] = self._cut(as_of)
        return self._contexts[as_of]

    def keep_context(self, as_of) -> None:
        """Keep the context at ``as_of`` once built (the report month's, which the
        report reads again after the trend months)."""
        self._kept.add(pd.Timestamp(as_of).normalize())

    def _cut(self, as_of: pd.Timestamp) -> RuleContext:
        # context.prepare itself, with the as_of-independent pieces built once
        return prepare(self._ctx_ds, as_of, self.cfg, schedule=self._schedule_all(),
                       calendar=self._calendar_for(as_of), ro_columns=_CTX_RO_COLUMNS,
                       integer_ro_keys=True, readings=self._readings_all())

    def _readings_all(self) -> mileage.Readings:
        if self._readings is None:  # collected and sorted once, cut for each month
            self._readings = _all_readings(self.ds, self.cfg)
        return self._readings

    def _schedule_all(self) -> pd.DataFrame:
        if self._schedule is None:  # per vehicle, independent of as_of
            self._schedule = vehicle_schedule(self.vehicles, self.cfg)
        return self._schedule

    def _calendar_for(self, as_of: pd.Timestamp) -> WorkCalendar:
        firsts = [d for d in (self.ds.vehicles["delivery_date"].min(),
                              self.ds.repair_orders["open_date"].min()) if pd.notna(d)]
        start = min([*firsts, as_of - pd.DateOffset(years=1)])
        end = as_of + pd.DateOffset(years=2)
        span = self._cal_span
        if span is None or start < span[0] or end > span[1]:
            lo = start if span is None else min(start, span[0])
            hi = end if span is None else max(end, span[1])
            self._calendar = WorkCalendar.from_config(lo, hi, self.cfg)
            self._cal_span = (lo, hi)
        return self._calendar


def _all_readings(ds, cfg: dict) -> mileage.Readings:
    """Every odometer reading of the dataset, sorted (KpiInputs cuts them for each
    month), with the positions a cut needs computed before a fork can share them."""
    readings = mileage.collect_readings(ds.vehicles, ds.repair_orders, cfg)
    readings._rows_at(len(ds.vehicles))
    return readings


def _bool_float(s: pd.Series) -> np.ndarray:
    """A yes/no column as 1.0 / 0.0 / NaN (no flag)."""
    return pd.Series(s).astype("boolean").astype("Float64").to_numpy("float64",
                                                                     na_value=np.nan)


def _inputs(source, cfg, logs=None) -> KpiInputs:
    if isinstance(source, KpiInputs):
        return source if source.cfg is cfg else KpiInputs(source.ds, cfg, source.logs)
    return KpiInputs(source, cfg, logs)


# ------------------------------------------------------------------------------ compute
def compute_month(source, month, cfg: dict, *, logs: pd.DataFrame | None = None
                  ) -> list[KpiResult]:
    """Every KPI of 04-kpis.md for ``month`` (data after its last day ignored), in the
    order of the spec's table. ``source`` is a loaded Dataset or a :class:`KpiInputs`
    (which caches contexts and months across calls); ``logs`` the matched contact-log
    rows (for a Dataset source)."""
    inp = _inputs(source, cfg, logs)
    m = _Month.of(month)
    if m.start in inp._months:
        return inp._months[m.start]
    targets = cfg["kpi"]["targets"]
    out: list[KpiResult] = []
    out += _visits_and_revenue(inp, m)
    out.append(_due_cohort(inp, m, "first_service"))
    out.append(_due_cohort(inp, m, "maintenance"))
    out.append(_first_service_12m(inp, m))
    out.append(_appointment_rate(inp, m))
    out.append(_active_base(inp, m, int(cfg["kpi"]["base_months"])))
    out.append(_churn_rate(inp, m))
    out.append(_retention_rate(inp, m))
    out += _winback(inp, m, int(cfg["kpi"]["winback_days"]), band_edges(cfg))
    from aftercare.rules.list_kpis import list_kpis

    listed = list_kpis(inp, m)
    out += [listed[code] for code in CONTACT_LOG_KPIS]
    out.append(_holdover_rate(inp, m))
    out.append(listed["no_return_reasons"])
    provisional = inp.data_end is not None and inp.data_end < m.end
    done = []
    for r in out:
        key = _TARGET_KEYS.get(r.kpi, r.kpi)
        target = targets.get(key) if r.rate else None
        done.append(dataclasses.replace(
            r, target=None if target is None else float(target),
            provisional=(provisional or r.provisional) and r.no_data is None))
    inp._months[m.start] = done
    return done


def compute_report(source, month, cfg: dict, *, trend_months: int = 12,
                   logs: pd.DataFrame | None = None) -> KpiReport:
    """Month M, M−1 and M−12, and the ``trend_months`` months ending M, each computed as
    if that month were M (contexts and months computed once and reused); ``logs``: the
    matched contact-log rows."""
    if isinstance(source, KpiInputs):
        inp = _inputs(source, cfg, logs)
    else:
        # the readings are collected and sorted in a thread while KpiInputs sorts the
        # visits: both are mostly numpy's sorts and copies, which let the GIL go (a
        # dealer group, in one process: 4.6 s one after the other, 2.6-2.8 s side by
        # side). Both only read the dataset; the thread is done before any fork.
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(1) as pool:
            readings = pool.submit(_all_readings, source, cfg)
            inp = _inputs(source, cfg, logs)
            inp._readings = readings.result()
    m = _Month.of(month)
    inp.keep_context(m.start - pd.Timedelta(days=1))  # report.build reads it again
    trend_starts = [m.shift(-k).start for k in range(trend_months - 1, -1, -1)]  # oldest first
    prev_m_start, prev_y_start = m.shift(-1).start, m.shift(-12).start
    others = dict.fromkeys([*trend_starts, prev_m_start, prev_y_start])
    _split_months(inp, [mo for mo in others if mo != m.start], cfg, also=m.start)
    results = compute_month(inp, m.start, cfg)
    trend = [(mo, {r.kpi: r for r in compute_month(inp, mo, cfg)}) for mo in trend_starts]
    prev_m = {r.kpi: r for r in compute_month(inp, prev_m_start, cfg)}
    prev_y = {r.kpi: r for r in compute_month(inp, prev_y_start, cfg)}
    from aftercare.rules.list_kpis import log_tables

    return KpiReport(m.start, results, prev_m, prev_y, trend, inp.data_end, inp,
                     log_tables(inp, m.start, cfg))


_FORKED: tuple | None = None  # (inputs, cfg): what the forked month worker inherits


def _split_months(inp: KpiInputs, months: list, cfg: dict, also=None) -> None:
    """Compute every other month of ``months`` in a forked process while this one does
    the rest, and ``also`` (the report's own month) before it waits for the worker; their
    results land in ``inp``'s month cache (as if computed here: each month depends only
    on the data and the month). A failed or killed worker costs nothing but time: its
    months are then computed here, by the caller's loop.

    ``also``: the worker's share comes back later than the same work here (the fork, its
    results sent back), so this process does one month more instead of waiting for it (a
    store's cold report: ~0.6 s for 12 months, of which ~0.1 s waiting; the report's own
    month came after that)."""
    global _FORKED
    from aftercare.load import _jobs, _pool  # the loader's workers: forked, die with the run

    # _jobs: [limits] jobs (0: one per CPU), 1 with fewer than two months or no fork.
    # Any size: a dealer group's warm report (7M ROs) took 80-99 s instead of 123-130 s
    # with the worker, the machine's anonymous memory rising by 9.6-9.8 GB against
    # 9.15 GB without it (two alternating pairs); its cold report peaked at 11.2 GB for
    # both processes (bench/results.md). Not when the machine could not hold a copy of
    # this process (memory.room_for_a_copy): the most the worker can add.
    if _jobs(cfg, len(months)) < 2 or not memory.room_for_a_copy():
        return
    theirs, ours = months[0::2], months[1::2]
    inp._readings_all()  # collected and sorted once, here: the worker inherits them
    inp._schedule_all()  # likewise the vehicles' schedules (~0.7 s of a dealer group's)
    _FORKED = (inp, cfg)
    try:
        pool = _pool(1)
        future = pool.submit(_months_elsewhere, theirs)  # forks here, with _FORKED set
    except Exception:  # noqa: BLE001 - no worker: all months here
        return
    finally:
        _FORKED = None
    try:
        for mo in [*ours, *([] if also is None else [also])]:
            compute_month(inp, mo, cfg)
        try:
            inp._months.update(future.result())
        except Exception:  # noqa: BLE001 - a failed or killed worker
            pass
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _months_elsewhere(months: list) -> dict:
    """In the forked worker: the months' results, from the inherited inputs."""
    inp, cfg = _FORKED
    return {mo: compute_month(inp, mo, cfg) for mo in months}


def visits_by_week(source, month, cfg: dict) -> pd.DataFrame:
    """进厂台次 by ISO week within M: one row per week (``iso_week`` like 2026-W40, the
    first and last day of the week inside M), ``visits`` and one column per kind."""
    inp = _inputs(source, cfg)
    m = _Month.of(month)
    v = inp.visits.iloc[inp.in_days(m.start_day, m.end_day)]
    days = pd.date_range(m.start, m.end, freq="D")
    iso = days.isocalendar()
    label = iso["year"].astype(str) + "-W" + iso["week"].astype(str).str.zfill(2)
    weeks = pd.DataFrame({"iso_week": label.to_numpy(), "day": _days(days)})
    spans = weeks.groupby("iso_week", sort=False)["day"].agg(["min", "max"])
    week_of = pd.Series(weeks["iso_week"].to_numpy(), index=weeks["day"].to_numpy())
    wk = week_of.reindex(v["day"].to_numpy()).to_numpy()
    # a frame's columns as keys: a list of two arrays would be read as one key when the
    # month has exactly two visits
    keys = pd.DataFrame({"w": pd.Categorical(wk, categories=spans.index),
                         "k": pd.Categorical(v["kind"], categories=VISIT_KINDS)})
    table = keys.groupby(["w", "k"], observed=False).size().unstack()
    out = pd.DataFrame({"iso_week": spans.index.to_numpy(),
                        "week_start": _dates(spans["min"].to_numpy()),
                        "week_end": _dates(spans["max"].to_numpy()),
                        "visits": table.sum(axis=1).to_numpy("int64")})
    for k in VISIT_KINDS:
        out[f"visits_{k}"] = table[k].to_numpy("int64")
    return out


# ------------------------------------------------------------------------------ the KPIs
def _visits_and_revenue(inp: KpiInputs, m: _Month) -> list[KpiResult]:
    """进厂台次 and 产值: visits in M, by kind; amounts summed; revenue per visit."""
    v = inp.visits.iloc[inp.in_days(m.start_day, m.end_day)]
    kinds = pd.Categorical(v["kind"], categories=VISIT_KINDS)
    n_by = pd.Series(1, index=v.index).groupby(kinds, observed=False).sum()
    amount = v["amount"].fillna(0.0)
    rev_by = amount.groupby(kinds, observed=False).sum()
    total, revenue = len(v), round(float(amount.sum()), 2)
    out = [KpiResult("visits", value=total)]
    out += [KpiResult(f"visits_{k}", value=int(n_by[k])) for k in VISIT_KINDS]
    out.append(KpiResult("revenue", value=revenue))
    out += [KpiResult(f"revenue_{k}", value=round(float(rev_by[k]), 2)) for k in VISIT_KINDS]
    out.append(KpiResult("revenue_per_visit", value=round(revenue / total, 2) if total else None,
                         numerator=revenue, denominator=total))
    return out


def _rate(code, num: int, den: int, members=None, **kw) -> KpiResult:
    return KpiResult(code, value=(num / den) if den else None, numerator=int(num),
                     denominator=int(den), rate=True, members=members, **kw)


def _first_visit_in(inp: KpiInputs, m: _Month, kinds) -> pd.DataFrame:
    """Each vehicle's first visit of ``kinds`` in M: vehicle_id, visit_date, visit_kind,
    visit_ro_no."""
    v = inp.visits.iloc[inp.in_days(m.start_day, m.end_day)]
    v = v[v["kind"].isin(kinds)].drop_duplicates("vehicle_id")  # sorted by day: the first
    return pd.DataFrame({"vehicle_id": v["vehicle_id"].to_numpy(),
                         "visit_date": _dates(v["day"].to_numpy()),
                         "visit_kind": v["kind"].to_numpy(dtype=object),
                         "visit_ro_no": v["ro_no"].to_numpy(dtype=object)})


def _due_cohort(inp: KpiInputs, m: _Month, kind: str) -> KpiResult:
    """首保回厂率 / 定保回厂率: vehicles whose ``kind`` fell due in M (projected with as_of =
    the day before M) with a first-service or maintenance visit in M ÷ those vehicles."""
    ctx = inp.context(m.start - pd.Timedelta(days=1))
    if kind == "first_service":
        cands, _ = service.first_service(ctx)
    else:
        cands = service.maintenance(ctx)
    due = pd.Series(cands["due_date"].to_numpy("datetime64[ns]"), index=cands.index)
    due = due.dt.normalize()
    cohort = cands.loc[due.between(m.start, m.end)]
    # choice: a vehicle has one candidate per kind; were there two, its earliest counts
    cohort = cohort.sort_values(["vehicle_id", "due_date"]).drop_duplicates("vehicle_id")
    members = pd.DataFrame({"vehicle_id": cohort["vehicle_id"].to_numpy("int64"),
                            "due_date": cohort["due_date"].to_numpy("datetime64[ns]"),
                            "basis": cohort["basis"].to_numpy(dtype=object),
                            "due_km": cohort["due_km"].to_numpy("float64")})
    members = members.merge(_first_visit_in(inp, m, SERVICE_KINDS), on="vehicle_id",
                            how="left")
    members["in_numerator"] = members["visit_date"].notna()
    members = members.sort_values(["due_date", "vehicle_id"], ignore_index=True)
    return _rate(f"{kind}_return_rate", members["in_numerator"].sum(), len(members), members)


def _first_service_12m(inp: KpiInputs, m: _Month) -> KpiResult:
    """销售客户首保率: vehicles delivered in M−12 with a first-service or maintenance visit
    within 12 months of delivery (both days included) ÷ vehicles delivered in M−12."""
    m12 = m.shift(-12)
    veh = inp.vehicles
    delivered = veh["delivery_date"]
    dd = pd.Series(delivered.to_numpy("datetime64[ns]"), index=veh.index).dt.normalize()
    cohort = veh.loc[dd.between(m12.start, m12.end).to_numpy()]
    first_day = _days(cohort["delivery_date"].dt.normalize())
    last_day = np.minimum(_days(add_months(cohort["delivery_date"].dt.normalize(), 12)),
                          m.end_day)
    vids = cohort["vehicle_id"].to_numpy("int64")
    # each one's first service visit in its window, from the visits sorted by vehicle
    # once (a merge with every service visit of the cohort's vehicles took a dealer
    # group ~0.2 s a month)
    row = inp.first_service_visit(vids, first_day, last_day)
    found = row >= 0
    kind = np.full(len(vids), np.nan, dtype=object)  # NaN: what a left merge leaves
    kind[found] = inp.visits["kind"].take(row[found]).to_numpy(dtype=object)
    members = pd.DataFrame({"vehicle_id": vids,
                            "delivery_date": _dates(first_day),
                            "window_end": _dates(last_day),
                            "visit_date": _dates(np.where(found, inp.day[row], _NAT)),
                            "visit_kind": kind})
    members["in_numerator"] = found
    members = members.sort_values(["delivery_date", "vehicle_id"], ignore_index=True)
    return _rate("first_service_rate_12m", members["in_numerator"].sum(), len(members), members)


def _month_visits(inp: KpiInputs, m: _Month) -> pd.DataFrame:
    v = inp.visits.iloc[inp.in_days(m.start_day, m.end_day)]
    return v.assign(open_date=_dates(v["day"].to_numpy()))


def _appointment_rate(inp: KpiInputs, m: _Month) -> KpiResult:
    """预约率: visits in M flagged as appointment ÷ visits in M."""
    v = _month_visits(inp, m)
    flag = v["appointment"].to_numpy()
    if not inp.has_appointment or (len(v) and not np.isfinite(flag).any()):
        return KpiResult("appointment_rate", rate=True, no_data="appointment")
    appointment = pd.array(flag == 1, dtype="boolean")
    appointment[~np.isfinite(flag)] = pd.NA  # no flag on this visit
    members = pd.DataFrame({
        "vehicle_id": v["vehicle_id"].to_numpy(), "ro_no": v["ro_no"].to_numpy(object),
        "open_date": v["open_date"].to_numpy(), "kind": v["kind"].to_numpy(object),
        "appointment": appointment, "in_numerator": flag == 1})
    return _rate("appointment_rate", int((flag == 1).sum()), len(v), members)


def _active_base(inp: KpiInputs, m: _Month, base_months: int) -> KpiResult:
    """保有客户数: vehicles with a visit in the ``base_months`` months ending M."""
    first, last = _window_12m(m.end, base_months)
    return KpiResult("active_base", value=int(len(inp.vehicles_in(first, last))))


def _last_in(inp: KpiInputs, vids: np.ndarray, first: int, last: int) -> np.ndarray:
    """Each vehicle's latest visit day in first..last, as dates (NaT when none)."""
    day = inp.previous_visit_day(vids, last + 1)
    return _dates(np.where(day >= first, day, _NAT))


def _churn_rate(inp: KpiInputs, m: _Month) -> KpiResult:
    """当月流失率: vehicles with a visit in M−12 and none after it up to the end of M ÷
    vehicles with a visit in M−12."""
    m12 = m.shift(-12)
    base = inp.vehicles_in(m12.start_day, m12.end_day)
    later = inp.vehicles_in(m12.end_day + 1, m.end_day)
    back = np.isin(base, later)
    members = pd.DataFrame({"vehicle_id": base,
                            "last_visit": _last_in(inp, base, m12.start_day, m12.end_day),
                            "next_visit": _next_visit(inp, base, m12.end_day + 1, m.end_day),
                            "in_numerator": ~back})
    return _rate("churn_rate", int((~back).sum()), len(base), members)


def _next_visit(inp: KpiInputs, vids: np.ndarray, first: int, last: int) -> np.ndarray:
    """Each vehicle's first visit day in first..last, as dates (NaT when none)."""
    pos = inp._first_in(inp._bv_key, vids, first, last)
    found = pos >= 0
    day = np.full(len(pos), _NAT, dtype="int64")
    day[found] = inp._bv_day[pos[found]]
    return _dates(day)


def _retention_rate(inp: KpiInputs, m: _Month) -> KpiResult:
    """客户保持率: vehicles with visits both in the 12 months ending M and in months 13–24
    ÷ vehicles with a visit in months 13–24."""
    first, last = _window_12m(m.end)
    d_prev = m.end - pd.DateOffset(months=12)
    first_prev, last_prev = _window_12m(d_prev)  # the same window one year earlier
    base = inp.vehicles_in(first_prev, last_prev)
    kept = np.isin(base, inp.vehicles_in(first, last))
    members = pd.DataFrame({
        "vehicle_id": base,
        "last_visit_13_24": _last_in(inp, base, first_prev, last_prev),
        "last_visit_12": _last_in(inp, base, first, last),
        "in_numerator": kept})
    return _rate("retention_rate", int(kept.sum()), len(base), members)


def _winback(inp: KpiInputs, m: _Month, winback_days: int, edges: np.ndarray):
    """流失召回: vehicles with a visit in M whose previous visit was ≥ winback_days before
    (count, and by churn band of those days)."""
    v = inp.visits.iloc[inp.in_days(m.start_day, m.end_day)].drop_duplicates("vehicle_id")
    vids = v["vehicle_id"].to_numpy()
    prev = inp.previous_visit_day(vids, m.start_day)
    gap = np.where(prev != _NAT, v["day"].to_numpy() - prev, -1)
    won = (prev != _NAT) & (gap >= winback_days)
    band = np.asarray(BAND_CODES, dtype=object)[np.searchsorted(edges, gap[won], "right")]
    members = pd.DataFrame({"vehicle_id": vids[won],
                            "visit_date": _dates(v["day"].to_numpy()[won]),
                            "previous_visit": _dates(prev[won]),
                            "days_since": gap[won], "band": band, "in_numerator": True})
    members = members.sort_values(["days_since", "vehicle_id"], ascending=[False, True],
                                  ignore_index=True)
    out = [KpiResult("winback", value=int(won.sum()), members=members)]
    uppers = [*edges.tolist(), None]  # band i covers [edges[i-1], edges[i]) days
    for code, upper in zip(BAND_CODES, uppers):
        if upper is None or upper > winback_days:
            out.append(KpiResult(f"winback_{code}", value=int((band == code).sum())))
    return out


def _holdover_rate(inp: KpiInputs, m: _Month) -> KpiResult:
    """滞留车率: visits in M delivered on a later day than promised ÷ visits in M with both
    times."""
    v = _month_visits(inp, m)
    both = (v["promised_day"] != _NAT) & (v["delivered_day"] != _NAT)
    if not inp.has_times or (len(v) and not both.any()):
        return KpiResult("holdover_rate", rate=True, no_data="promised_at")
    v = v[both]
    late = (v["delivered_day"] > v["promised_day"]).to_numpy()
    members = pd.DataFrame({
        "vehicle_id": v["vehicle_id"].to_numpy(), "ro_no": v["ro_no"].to_numpy(object),
        "open_date": v["open_date"].to_numpy(), "kind": v["kind"].to_numpy(object),
        "promised_at": v["promised_at"].to_numpy(), "delivered_at": v["delivered_at"].to_numpy(),
        "days_late": (v["delivered_day"] - v["promised_day"]).to_numpy(),
        "in_numerator": late})
    return _rate("holdover_rate", int(late.sum()), len(v), members)
