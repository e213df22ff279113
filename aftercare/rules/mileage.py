"""Mileage projection (02-rules.md, "Mileage projection (里程预估)").

The DMS only knows the odometer on the days a car was in the workshop. From those
readings (plus 0 km on the delivery day) each vehicle gets a straight line: the last kept
reading and a ``daily_km`` rate, its own when its readings span long enough, else the fleet
default. :func:`date_reaching` and :func:`km_on` walk that line.

Everything is vectorised over sorted numpy arrays (one packed-key argsort, shifts, one
segmented running maximum); dates are handled as whole day numbers, so a time of day on an
RO's open date never matters. 1M vehicles / 7M ROs take about 2–3 s.

Choices where the spec is silent (each is marked ``# choice:`` below):

* Same-day readings: the high-typo rate uses ``max(days, 1)``, i.e. a jump on the same day
  counts as a jump over one day.
* Readings on the same date and km keep their input order (delivery first, then ROs in
  table order); the sort is stable.
* A vehicle delivered after ``as_of`` loses its delivery reading but keeps its RO readings
  opened by ``as_of`` (a PDI reading, say); it never counts towards the fleet median.
  Vehicles with an unknown delivery date (and vehicles that appear only in the ROs) do count
  when they have a valid own rate: an unknown date is not evidence of a later delivery.
* ``n_readings`` counts kept readings; ``first_*`` / ``last_*`` are the first and last kept.
* Issues for a rejected delivery reading carry the vehicle row's provenance when the
  vehicles table has ``_file``/``_sheet``/``_row`` (else empty) and ``ro_key`` None. Issues
  carry a ``detail`` text beside the spec's columns (the neighbours of a typo, the highest
  earlier km of a rollback, the sum behind a suspect rate), for :class:`IssueLog`.
* ``readings.source`` and ``readings.reject`` are categoricals (a kept reading's reject is
  missing, NaN, rather than None) to keep 8M-row tables small; so is ``readings.ro_key``
  of a delivery reading when the RO keys are text (pandas ``str``: the dtype's NA, not
  None); the rules match readings to ROs by ``ro_pos``, never by key.
* ``vehicles`` holds every vehicle of the vehicles table plus any vehicle that has readings
  only through ROs; unknown ids give NaT / NaN in :func:`date_reaching` / :func:`km_on`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from aftercare.rules.arrays import distinct_ints

__all__ = ["REASONS", "Projection", "Readings", "collect_readings", "date_reaching",
           "km_on", "project"]

#: reason code -> (Chinese text for a customer-care agent, English text)
REASONS: dict[str, tuple[str, str]] = {
    "mileage_high_typo": (
        "里程疑似多输一位（高于前后读数），未使用",
        "odometer reading looks like a typo (above its neighbours): not used",
    ),
    "mileage_rollback": (
        "里程低于之前的读数（疑似输错或换表），未使用",
        "odometer reading below an earlier one (typo or replaced odometer): not used",
    ),
    "daily_km_suspect": (
        "日均里程不合理（低于1或高于上限公里/天），改用全店平均值",
        "daily mileage implausible (below 1 or above the limit km/day): fleet rate used",
    ),
}

ISSUE_COLUMNS = ["vehicle_id", "ro_key", "_file", "_sheet", "_row", "field", "value", "reason",
                 "detail"]
VEHICLE_COLUMNS = ["last_date", "last_km", "daily_km", "own_rate", "n_readings", "first_date",
                   "first_km"]
MIN_DAILY_KM = 1  # spec step 3: a rate below 1 km/day is suspect (no config key for it)
_DAY_NS = 86_400 * 10**9
_MAX_KM = 2_000_000  # readings above are invalid (the loader already made them NaN)
_NAT = np.iinfo("int64").min


@dataclass
class Projection:
    """A straight odometer line per vehicle, the readings behind it and their problems.

    :attr:`readings` is built when first read: the rules need only :meth:`kept_ro_km`
    (a frame of a dealer group's 8M readings took 0.15-0.5 s of each report month)."""

    vehicles: pd.DataFrame  # index vehicle_id; VEHICLE_COLUMNS
    fleet_daily_km: float
    issues: pd.DataFrame  # ISSUE_COLUMNS, one row per rejected reading or suspect rate
    # what the readings frame is made of: the sorted readings, kept, high_typo, rollback
    # and the ROs they were collected from (for their keys)
    _source: tuple = field(repr=False, compare=False)

    @cached_property
    def readings(self) -> pd.DataFrame:
        """vehicle_id, date, km, source, ro_key, ro_pos, kept, reject: one row per
        reading, sorted by vehicle, day, km."""
        return _readings_frame(*self._source)

    def kept_ro_km(self, n_ros: int) -> np.ndarray:
        """The km of each RO's kept reading by the RO's row position among the ``n_ros``
        ROs the readings were collected from (NaN: no kept reading)."""
        r, kept = self._source[0], self._source[1]
        sel = kept & (r.src >= 0)
        out = np.full(n_ros, np.nan)
        out[r.src[sel]] = r.km[sel]
        return out


# ---- day numbers ------------------------------------------------------------------------
def _days(values) -> np.ndarray:
    """Whole days since 1970-01-01 (int64; NaT -> _NAT, callers mask it)."""
    arr = np.asarray(pd.to_datetime(values), dtype="datetime64[ns]").view("int64")
    return np.where(arr == _NAT, _NAT, arr // _DAY_NS)


def _as_datetime(days: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
    out = (days.astype("int64") * _DAY_NS).view("datetime64[ns]")
    if valid is not None:
        out = np.where(valid, out, np.datetime64("NaT", "ns"))
    return out


# ---- project ----------------------------------------------------------------------------
def project(vehicles: pd.DataFrame, repair_orders: pd.DataFrame, as_of, cfg: dict, *,
            readings: "Readings | None" = None) -> Projection:
    """Readings → typo and rollback filters → per-vehicle rate and fleet default.

    ``readings``: the step-1 readings of exactly these vehicles and ROs, when the caller
    has them (:meth:`Readings.cut` of :func:`collect_readings`, for many cutoffs of one
    dataset); else they are collected and sorted here."""
    mcfg = cfg["mileage"]
    max_daily = float(mcfg["max_daily_km"])
    as_of_day = int(pd.Timestamp(as_of).normalize().value // _DAY_NS)

    r = readings if readings is not None else _collect_readings(
        vehicles, repair_orders, as_of_day, float(mcfg["delivery_km"]))
    high_typo, rollback, before = _reject(r, max_daily)
    kept = ~high_typo & ~rollback

    # 3. first / last kept reading per vehicle and its own rate
    kv, kd, kk, ks = r.vid[kept], r.day[kept], r.km[kept], r.src[kept]
    starts = np.flatnonzero(np.r_[True, kv[1:] != kv[:-1]]) if len(kv) else np.zeros(0, "int64")
    ends = np.r_[starts[1:], len(kv)][: len(starts)].astype("int64") - 1
    g_vid = kv[starts]
    span = kd[ends] - kd[starts]
    has_span = span >= int(mcfg["min_span_days"])
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(has_span, (kk[ends] - kk[starts]) / np.where(has_span, span, 1), np.nan)
    suspect = has_span & ~((rate >= MIN_DAILY_KM) & (rate <= max_daily))
    own = has_span & ~suspect

    # 4. fleet default: median own rate of the vehicles not delivered after as_of
    # choice: an unknown delivery date counts as "delivered by as_of" (no evidence otherwise)
    veh_vid = vehicles["vehicle_id"].to_numpy(dtype="int64")
    veh_day = _days(vehicles["delivery_date"])
    later = veh_vid[(veh_day != _NAT) & (veh_day > as_of_day)]
    eligible = own & ~np.isin(g_vid, later)
    if int(eligible.sum()) >= int(mcfg["min_fleet_vehicles"]):
        fleet = float(np.median(rate[eligible]))
    else:
        fleet = float(mcfg["fleet_default_daily_km"])

    # every vehicle of the vehicles table, plus vehicles known only from RO readings
    all_vid = pd.Index(veh_vid).union(pd.Index(g_vid))  # fast on sorted ids
    if not (all_vid.is_monotonic_increasing and all_vid.is_unique):
        all_vid = pd.Index(distinct_ints(all_vid.to_numpy()))
    all_vid = all_vid.to_numpy(dtype="int64")
    at = np.searchsorted(all_vid, g_vid)
    has = np.zeros(len(all_vid), dtype=bool)
    has[at] = True

    def spread(values, fill, dtype):
        out = np.full(len(all_vid), fill, dtype=dtype)
        out[at] = values
        return out

    daily = np.full(len(all_vid), fleet)
    daily[at[own]] = rate[own]
    table = pd.DataFrame(
        {
            "last_date": _as_datetime(spread(kd[ends], 0, "int64"), has),
            "last_km": spread(kk[ends], np.nan, "float64"),
            "daily_km": daily,
            "own_rate": spread(own, False, bool),
            "n_readings": spread(ends - starts + 1, 0, "int64"),
            "first_date": _as_datetime(spread(kd[starts], 0, "int64"), has),
            "first_km": spread(kk[starts], np.nan, "float64"),
        },
        index=pd.Index(all_vid, name="vehicle_id"),
        copy=False,
    )

    # choice: a rejected *delivery* reading (the synthetic 0 km on the delivery date, e.g.
    # below a PDI reading taken days before delivery) is excluded as the spec says but not
    # listed as a data issue: it is no row of the user's files, and listing it flooded the
    # sheet (842 of 933 on the sample data) with nothing anyone could fix.
    rejected = np.flatnonzero(~kept & (r.src >= 0))
    reading_issues = _reading_issues(vehicles, repair_orders, r, rejected, high_typo, before)
    rate_issues = _rate_issues(
        vehicles, repair_orders, g_vid[suspect], ks[ends][suspect], rate[suspect],
        first=(kk[starts][suspect], kd[starts][suspect]),
        last=(kk[ends][suspect], kd[ends][suspect]), fleet=fleet,
    )
    return Projection(
        vehicles=table,
        fleet_daily_km=fleet,
        issues=_concat_issues(reading_issues, rate_issues),
        _source=(r, kept, high_typo, rollback, repair_orders),
    )


@dataclass
class Steps:
    """Step 2 of a set of readings, kept with them for their cuts (:meth:`Readings.cut`):
    ``high_typo`` and, for every reading, ``before``, the highest km of the vehicle's
    earlier readings that are not high typos (NaN: none), for ``max_daily`` km a day.

    A cut that keeps a prefix of each vehicle's readings (an as_of cut) changes neither
    for the readings it keeps: a reading's typo test looks at its neighbours only, so
    only each vehicle's last kept reading can lose its typo status (it has no next
    reading any more), and the readings before it are the same. :func:`_reject` applies
    that, instead of a running maximum over the cut's readings for each of a dealer
    group's 13 report months: 0.19 s against 0.03 s of CPU a month once its memory is
    warm, 1.4 s under cProfile in a month that first touched that memory."""

    max_daily: float
    high_typo: np.ndarray  # bool
    before: np.ndarray  # float64


@dataclass
class Readings:
    """All readings, sorted by vehicle, day, km (parallel arrays)."""

    vid: np.ndarray  # int64
    day: np.ndarray  # int64 day number
    km: np.ndarray  # float64
    src: np.ndarray  # >= 0: RO row position; < 0: vehicle row position as -1 - pos
    integral_km: bool  # every km a whole number (enables the fast exact paths)
    steps: Steps | None = None  # step 2, when computed once for many cuts
    _at: tuple | None = field(default=None, repr=False, compare=False)  # see _rows_at

    def cut(self, vehicle_rows: np.ndarray, ro_rows: np.ndarray) -> "Readings":
        """The readings of a subset of the tables they were collected from, as
        :func:`project` would collect them from that subset: ``vehicle_rows`` and
        ``ro_rows`` are boolean masks over those tables' rows, and positions (``src``)
        become positions in the subset (the rows kept, in their order).

        Sorting a subset keeps the full order's (stable) order, so nothing is sorted
        again: a dealer group's report cuts 7.9M readings for each of its 14 months in
        a fraction of the ~1-1.5 s that collecting and sorting them takes. The caller's
        masks must drop whatever the subset's own collection would (ROs opened after
        its as_of, vehicles delivered after it), as :func:`~aftercare.rules.context.prepare`'s
        cut does."""
        vehicle_rows = np.asarray(vehicle_rows, dtype=bool)
        ro_rows = np.asarray(ro_rows, dtype=bool)
        n_veh = len(vehicle_rows)
        at = self._rows_at(n_veh)
        keep = np.concatenate([vehicle_rows, ro_rows])[at]
        at = at[keep]
        # a kept row's place among the kept rows of its table (the vehicles', the ROs')
        place = np.concatenate([np.cumsum(vehicle_rows, dtype="int64"),
                                np.cumsum(ro_rows, dtype="int64")])[at] - 1
        src = np.where(at >= n_veh, place, -1 - place)
        km = self.km[keep]
        integral = self.integral_km or bool(np.all(km == np.rint(km)))
        steps = None
        if self.steps is not None and _keeps_prefixes(self.vid, keep):
            steps = Steps(self.steps.max_daily, self.steps.high_typo[keep],
                          self.steps.before[keep])
        return Readings(self.vid[keep], self.day[keep], km, src, integral, steps)

    def _rows_at(self, n_veh: int) -> np.ndarray:
        """Each reading's row in the vehicles' rows followed by the ROs' (``n_veh``
        vehicle rows): one gather then gives a cut's mask. Kept for the next cut."""
        if self._at is None or self._at[0] != n_veh:
            self._at = (n_veh, np.where(self.src >= 0, self.src + n_veh, -1 - self.src))
        return self._at[1]


def _keeps_prefixes(vid: np.ndarray, keep: np.ndarray) -> bool:
    """Whether ``keep`` keeps a prefix of each vehicle's readings: no kept reading
    follows a dropped one of the same vehicle."""
    if len(vid) < 2:
        return True
    return not bool(np.any((vid[1:] == vid[:-1]) & keep[1:] & ~keep[:-1]))


def collect_readings(vehicles: pd.DataFrame, repair_orders: pd.DataFrame,
                     cfg: dict) -> Readings:
    """Step 1 for every day: the readings :func:`project` would collect with an as_of
    after all of them. A caller projecting many cutoffs of one dataset collects (and
    sorts) them once and passes :meth:`Readings.cut` of them to :func:`project`."""
    r = _collect_readings(vehicles, repair_orders, np.iinfo("int64").max,
                          float(cfg["mileage"]["delivery_km"]))
    r.steps = _steps(r, float(cfg["mileage"]["max_daily_km"]))  # for its as_of cuts
    return r


def _collect_readings(vehicles, repair_orders, as_of_day: int, delivery_km: float) -> Readings:
    """Step 1: each non-deleted RO with a valid mileage opened by as_of, and the delivery day."""
    ro_km = repair_orders["mileage"].to_numpy(dtype="float64", na_value=np.nan)
    ro_day = _days(repair_orders["open_date"])
    ro_ok = (
        ~repair_orders["deleted"].fillna(False).to_numpy(dtype=bool)
        & np.isfinite(ro_km) & (ro_km >= 0) & (ro_km <= _MAX_KM)
        & (ro_day != _NAT) & (ro_day <= as_of_day)
    )
    ro_pos = np.flatnonzero(ro_ok)
    veh_day = _days(vehicles["delivery_date"])
    # choice: a vehicle delivered after as_of gets no delivery reading, but its ROs opened
    # by as_of (a PDI, say) still count
    dv_pos = np.flatnonzero((veh_day != _NAT) & (veh_day <= as_of_day))

    vid = np.concatenate([vehicles["vehicle_id"].to_numpy("int64")[dv_pos],
                          repair_orders["vehicle_id"].to_numpy("int64")[ro_pos]])
    day = np.concatenate([veh_day[dv_pos], ro_day[ro_pos]])
    km = np.concatenate([np.full(len(dv_pos), delivery_km), ro_km[ro_pos]])
    src = np.concatenate([-1 - dv_pos, ro_pos])
    integral_km = bool(np.all(km == np.rint(km)))
    # choice: ties (same vehicle, day and km) keep input order, delivery first: stable sorts
    order = _reading_order(vid, day, km, integral_km)
    return Readings(vid[order], day[order], km[order], src[order], integral_km)


def _reject(r: Readings, max_daily: float):
    """Step 2: high typos, then rollbacks among the rest; also each reading's highest
    earlier km (:attr:`Steps.before`). From ``r.steps`` when they were computed for the
    readings ``r`` was cut from."""
    steps = r.steps if r.steps is not None and r.steps.max_daily == max_daily else None
    if steps is None:
        steps = _steps(r, max_daily)
    same_next = np.zeros(len(r.vid), dtype=bool)
    same_next[:-1] = r.vid[1:] == r.vid[:-1]
    high_typo = steps.high_typo & same_next  # a cut's last reading has no next one
    with np.errstate(invalid="ignore"):
        rollback = ~high_typo & (r.km < steps.before)
    return high_typo, rollback, steps.before


def _steps(r: Readings, max_daily: float) -> Steps:
    n = len(r.vid)
    same_prev = np.zeros(n, dtype=bool)
    same_prev[1:] = r.vid[1:] == r.vid[:-1]
    same_next = np.r_[same_prev[1:], False]
    prev_km = np.r_[np.nan, r.km[:-1]]
    next_km = np.r_[r.km[1:], np.nan]
    # choice: readings on the same day count as one day apart (max(days, 1)), so a jump of
    # more than max_daily km within a day is a typo too — no car drives 90,000 km in a day.
    gap = np.maximum(r.day - np.r_[r.day[:1], r.day[:-1]], 1)
    with np.errstate(invalid="ignore"):
        high_typo = (same_prev & same_next & (r.km > next_km)
                     & ((r.km - prev_km) / gap > max_daily))
    # the running maximum of the vehicle's readings that are not typos (a typo counts as
    # -inf; a vehicle's first reading never is one), one reading late: each reading's
    # highest earlier km
    running = _grouped_cummax(np.where(high_typo, -np.inf, r.km), ~same_prev, r.integral_km)
    before = np.r_[np.nan, running[:-1]][:n]  # [:n]: no readings, no entry
    before[~same_prev] = np.nan
    return Steps(max_daily, high_typo, before)


def _reading_order(vid: np.ndarray, day: np.ndarray, km: np.ndarray, integral_km: bool):
    """Stable order by vehicle, day, km — one argsort of a packed int64 key when it fits.

    (np.lexsort on three 8M-row keys takes ~6 s; one packed argsort ~1.5 s.)
    """
    if not len(vid):
        return np.zeros(0, dtype="int64")
    vbits = (int(vid.max()) - int(vid.min())).bit_length()  # Python ints: no overflow
    dbits = (int(day.max()) - int(day.min())).bit_length()
    kbits = _MAX_KM.bit_length()
    if vbits + dbits > 63:
        return np.lexsort((km, day, vid))
    v, d = vid - vid.min(), day - day.min()
    if integral_km and vbits + dbits + kbits <= 63:
        key = (v << (dbits + kbits)) | (d << kbits) | km.astype("int64")
        return _stable_argsort(key)
    by_km = np.argsort(km, kind="stable")
    key = ((v << dbits) | d)[by_km]
    return by_km[np.argsort(key, kind="stable")]


def _stable_argsort(key: np.ndarray) -> np.ndarray:
    """``np.argsort(key, kind="stable")``, from numpy's unstable (SIMD) argsort with the
    rows of equal keys put back in input order: 8M readings in ~0.5 s instead of ~1.2 s
    (equal keys are rare: the same vehicle, day and km)."""
    order = np.argsort(key, kind="quicksort")
    ks = key[order]
    tie = ks[1:] == ks[:-1]
    if tie.any():
        in_run = np.zeros(len(key), dtype=bool)
        in_run[1:] |= tie
        in_run[:-1] |= tie
        sub = np.flatnonzero(in_run)  # whole runs of equal keys, each contiguous
        order[sub] = order[sub][np.lexsort((order[sub], ks[sub]))]
    return order


def _grouped_cummax(values: np.ndarray, group_start: np.ndarray, integral: bool) -> np.ndarray:
    """Running maximum restarting at each ``group_start`` (rows sorted by group).

    Whole km: one ``np.maximum.accumulate`` over km + group number × 2^21, exact in
    float64 while the sum stays below 2^53. Otherwise a grouped cummax.
    """
    group = np.cumsum(group_start) - 1
    span = float(2 ** _MAX_KM.bit_length())
    if integral and (len(values) == 0 or group[-1] * span < 2.0**52):
        offset = group * span
        return np.maximum.accumulate(values + offset) - offset
    return pd.Series(values).groupby(group, sort=False).cummax().to_numpy()


def _readings_frame(r: Readings, kept, high_typo, rollback, repair_orders) -> pd.DataFrame:
    is_ro = r.src >= 0
    keys = repair_orders["ro_key"].array
    dtype = repair_orders["ro_key"].dtype
    if isinstance(dtype, pd.StringDtype):  # text keys stay Arrow: a dealer group's
        # 7M readings took 4.7 s to become Python strs; delivery readings get the dtype's NA
        ro_key = pd.Series(keys.take(np.where(is_ro, r.src, -1), allow_fill=True))
    elif isinstance(dtype, np.dtype) and dtype.kind in "iu":
        # numbered ROs (the report's contexts, prepare(integer_ro_keys=True)): nullable
        # Int64, NA for delivery readings; as Python ints they took 0.5 s of each of a
        # dealer group's 14 contexts
        numbers = repair_orders["ro_key"].to_numpy(dtype="int64")
        values = (numbers[np.where(is_ro, r.src, 0)] if len(numbers)
                  else np.zeros(len(is_ro), dtype="int64"))
        ro_key = pd.Series(pd.arrays.IntegerArray(values, ~is_ro))
    else:
        ro_key = np.full(len(r.vid), None, dtype=object)
        ro_key[is_ro] = repair_orders["ro_key"].take(r.src[is_ro]).to_numpy(dtype=object)
        ro_key = pd.Series(ro_key, dtype=object)
    reject = np.where(high_typo, 0, np.where(rollback, 1, -1)).astype("int8")
    return pd.DataFrame(
        {
            "vehicle_id": r.vid,
            "date": _as_datetime(r.day),
            "km": r.km,
            "source": pd.Categorical.from_codes(is_ro.astype("int8"), ["delivery", "ro"]),
            "ro_key": ro_key,
            "ro_pos": np.where(is_ro, r.src, -1),  # the RO's row position in the input
            "kept": kept,
            "reject": pd.Categorical.from_codes(reject, ["high_typo", "rollback"]),
        },
        copy=False,
    )


def _provenance(vehicles, repair_orders, src: np.ndarray) -> dict[str, np.ndarray]:
    """ro_key/_file/_sheet/_row for reading sources (RO rows, or vehicle rows when < 0)."""
    out = {}
    is_ro = src >= 0
    for col in ("ro_key", "_file", "_sheet", "_row"):
        vals = np.full(len(src), None, dtype=object)
        if col in repair_orders.columns:
            vals[is_ro] = repair_orders[col].take(src[is_ro]).to_numpy(dtype=object)
        if col != "ro_key" and col in vehicles.columns:
            vals[~is_ro] = vehicles[col].take(-1 - src[~is_ro]).to_numpy(dtype=object)
        out[col] = vals
    return out


def _km_text(values) -> np.ndarray:
    """Whole km as text (object array; '' for NaN) — numpy formatting, no per-row Python."""
    values = np.asarray(values, dtype="float64")
    ok = np.isfinite(values)
    text = np.round(np.where(ok, values, 0)).astype("int64").astype(str).astype(object)
    text[~ok] = ""
    return text


def _date_text(days) -> np.ndarray:
    return np.datetime_as_string(np.asarray(days, dtype="int64").astype("datetime64[D]")).astype(
        object)


def _reading_issues(vehicles, repair_orders, r: Readings, rows, high_typo, before):
    """One issue per rejected reading; detail "prev → km → next" or "highest → km"
    (``before``: each reading's highest earlier km). The neighbours are looked up for
    the rejected rows only (a typo's are of its own vehicle: it has both)."""
    typo = high_typo[rows]
    n = len(r.km)
    prev_km = np.where(rows > 0, r.km[rows - 1], np.nan)
    next_km = np.where(rows + 1 < n, r.km[np.minimum(rows + 1, n - 1)], np.nan)
    before = np.where(typo, prev_km, before[rows])
    after = np.where(typo, " → " + _km_text(next_km), "")
    return pd.DataFrame({
        "vehicle_id": r.vid[rows],
        **_provenance(vehicles, repair_orders, r.src[rows]),
        "field": "mileage",
        "value": r.km[rows],
        "reason": np.where(typo, "mileage_high_typo", "mileage_rollback").astype(object),
        "detail": _km_text(before) + " → " + _km_text(r.km[rows]) + after + " km",
    })


def _rate_issues(vehicles, repair_orders, vid, src, rate, *, first, last, fleet):
    """One issue per suspect rate, at the vehicle's last kept reading."""
    (first_km, first_day), (last_km, last_day) = first, last
    detail = (
        "(" + _km_text(last_km) + " − " + _km_text(first_km) + ") km / ("
        + _date_text(last_day) + " − " + _date_text(first_day) + ") = "
        + np.round(rate, 1).astype(str).astype(object) + f" km/day; {fleet:g} used"
    )
    return pd.DataFrame({
        "vehicle_id": vid,
        **_provenance(vehicles, repair_orders, src),
        "field": "mileage",
        "value": np.round(rate, 1),
        "reason": "daily_km_suspect",
        "detail": detail,
    })


def _concat_issues(*parts: pd.DataFrame) -> pd.DataFrame:
    parts = tuple(p for p in parts if len(p))
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in ISSUE_COLUMNS})
    out = pd.concat(parts, ignore_index=True)[ISSUE_COLUMNS]
    return out.sort_values("vehicle_id", kind="stable", ignore_index=True)


# ---- walking the line -------------------------------------------------------------------
def _lookup(proj: Projection, vehicle_ids, other):
    ids = np.asarray(vehicle_ids, dtype="int64")
    pos = proj.vehicles.index.get_indexer(ids)
    found = pos >= 0
    pos = np.where(found, pos, 0)
    v = proj.vehicles
    if len(v):
        last_day = _days(v["last_date"])[pos]
        last_km = v["last_km"].to_numpy("float64")[pos]
        daily = v["daily_km"].to_numpy("float64")[pos]
    else:
        last_day = np.zeros(len(ids), dtype="int64")
        last_km = daily = np.full(len(ids), np.nan)
    has = found & np.isfinite(last_km)
    index = next((s.index for s in (vehicle_ids, other) if isinstance(s, pd.Series)), None)
    return has, last_day, last_km, daily, index


def date_reaching(proj: Projection, vehicle_ids, km) -> pd.Series:
    """The date each vehicle reaches ``km`` (spec step 5); NaT without a reading or a K.

    last kept reading's date + ceil((K − last km) / daily_km) days; K ≤ last km → that
    date (already reached). A date past pandas' range (year 2262) is NaT: never, in practice.
    """
    has, last_day, last_km, daily, index = _lookup(proj, vehicle_ids, km)
    target = np.asarray(km, dtype="float64")
    ok = has & np.isfinite(target) & (daily > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        ahead = np.where(ok, np.ceil(np.maximum(target - last_km, 0) / daily), 0)
    ok &= last_day + ahead <= pd.Timestamp.max.value // _DAY_NS - 1
    days = np.where(ok, last_day + np.where(ok, ahead, 0).astype("int64"), 0)
    return pd.Series(_as_datetime(days, ok), index=index, name="date_reaching")


def km_on(proj: Projection, vehicle_ids, dates) -> pd.Series:
    """Projected km on each date (spec step 6), backwards too; NaN without a reading."""
    has, last_day, last_km, daily, index = _lookup(proj, vehicle_ids, dates)
    t = _days(dates)
    ok = has & (t != _NAT)  # masked before subtracting: _NAT - day would wrap around
    out = np.where(ok, last_km + daily * np.where(ok, t - last_day, 0), np.nan)
    return pd.Series(out, index=index, name="km_on")
