"""What filled contact logs change in every later run (03-outputs.md "Contact log";
02-rules.md "Done", "Who is not called", "Customers and calls", "Calling plan", "Churn").

    rows, issues = match(log_rows, ds)             # each row's customer and vehicle
    eff = compute(rows, ds, as_of, register=reg)   # the effects known at as_of
    ds2 = apply(ds, eff)                           # the data as the rules should see it

Pure and vectorised: no I/O, no clock, no loop over rows.

Effects (a result on any row of a call applies to the whole call, i.e. its customer;
``done_elsewhere``, ``sold`` and ``scrapped`` apply to the row's vehicle):

* ``opt_out`` → the customer, and any customer with the number the log was written with,
  is never listed again; so is every customer matching an ``opt-outs.csv`` entry;
* ``wrong_number`` → the customer is on 待修正资料 while the number in use is the one the
  log was written with;
* a 新号码 → used for the customer, unless the export has since brought a number the logs
  never saw (the export is then the newer word);
* three failed attempts (no answer or busy, in attempts 1–3 of one call, the call never
  reached) and no reached result since → the SMS list;
* ``reached_booked`` with a 预约日期 and no visit of the customer within 3 days of it →
  no-show;
* ``done_elsewhere`` → the row's reminders are closed; with a 他店日期 (and 他店里程) the
  service becomes the vehicle's new first-service/maintenance basis (a service record
  that is not a visit to this shop);
* ``sold`` / ``scrapped`` → the vehicle's status, while the export still shows it with the
  customer who said so (a car the export now gives another owner was sold to them);
  ``moved`` → the customer's vehicles are 外地 for churn;
* the agent who last handled the customer (a row with staff entries; else the last one
  assigned).

Choices where the spec is silent (each marked ``# choice:`` below):

* Time: an attempt dated after ``as_of`` is ignored; the row's other entries (result,
  booked date, reason, other shop, new number) count only when the row's latest attempt
  is on or before ``as_of``. Opt-outs are the exception: a refusal counts whatever its
  date (PIPL: a list made late or replayed must not call someone who refused).
* The SMS list of a run holds failures whose third attempt falls in the month before
  ``as_of`` (as_of − 1 calendar month, as_of]; the no-show sheet holds bookings whose
  3-day window closed in that month: lists made monthly show each case once.
* A booking is kept when any vehicle of the customer visits within 3 days either side of
  the booked date.
* A wrong number stays wrong until the number in use changes (a 新号码 or another number
  in the export), as the spec says; a later call that reaches the customer on it does not
  clear it.
* A closed reminder: ``first_service``, ``warranty`` and ``declined`` do not come back
  for that vehicle; ``maintenance``, ``inspection`` and ``insurance`` (which recur) are
  closed up to the end of the log's month plus the kind's lead days. A row whose 提醒类型
  is empty closes first service and maintenance.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from aftercare.logs.read import (ATTEMPTS, FAILED, REACHED, RESULT_COLUMNS, VEHICLE_RESULTS,
                                 log_dates)

__all__ = ["Effects", "match", "compute", "apply", "cut_at", "call_groups",
           "NO_SHOW_DAYS", "RECURRING_KINDS", "SERVICE_RECORD_PREFIX"]

NO_SHOW_DAYS = 3
RECURRING_KINDS = ("maintenance", "inspection", "insurance")
CLOSABLE_KINDS = ("first_service", "maintenance", "warranty", "inspection", "insurance",
                  "declined")
SERVICE_RECORD_PREFIX = "log|"
_ROW_FIELDS = ["result", "booked_date", "reason", "other_shop", "other_shop_date",
               "other_shop_km", "new_mobile", "note"]


def _empty(**cols) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=d) for c, d in cols.items()})


def _no_closures() -> pd.DataFrame:
    return _empty(vehicle_id="int64", kind=object, month_end="datetime64[ns]")


def _no_services() -> pd.DataFrame:
    return _empty(vehicle_id="int64", date="datetime64[ns]", km="float64", kind=object,
                  other_shop=object, _file=object, _sheet=object, _row=object)


def _no_reasons() -> pd.DataFrame:
    return _empty(vehicle_id="float64", customer_key=object, log_date="datetime64[ns]",
                  agent=object, outcome=object, reason=object, other_shop=object)


def _no_calls(date_col: str) -> pd.DataFrame:
    return _empty(customer_key=object, vehicle_id="float64", plate=object, vin=object,
                  kinds=object, call_id=object, agent=object, **{date_col: "datetime64[ns]"},
                  _file=object)


@dataclass
class Effects:
    """The effects of the logs at ``as_of`` (see the module docstring)."""

    as_of: pd.Timestamp
    rows: pd.DataFrame  # matched log rows as known at as_of
    opted_out: frozenset = frozenset()
    wrong_numbers: pd.Series = field(default_factory=lambda: pd.Series(dtype=object))
    new_mobiles: pd.Series = field(default_factory=lambda: pd.Series(dtype=object))
    closures: pd.DataFrame = field(default_factory=_no_closures)
    services: pd.DataFrame = field(default_factory=_no_services)
    gone: pd.Series = field(default_factory=lambda: pd.Series(dtype=object))
    moved: frozenset = frozenset()
    previous_agents: pd.Series = field(default_factory=lambda: pd.Series(dtype=object))
    reasons: pd.DataFrame = field(default_factory=_no_reasons)
    sms: pd.DataFrame = field(default_factory=lambda: _no_calls("failed_on"))
    no_shows: pd.DataFrame = field(default_factory=lambda: _no_calls("booked_date"))

    @property
    def wrong_number_keys(self) -> set:
        return set(self.wrong_numbers.index)


# --------------------------------------------------------------------------- matching
def _unique_map(keys: pd.Series, values: pd.Series) -> pd.Series:
    f = pd.DataFrame({"k": keys.to_numpy(dtype=object), "v": values.to_numpy()})
    f = f[f["k"].notna()].drop_duplicates("k", keep="last")
    return pd.Series(f["v"].to_numpy(), index=f["k"].to_numpy())


def match(rows: pd.DataFrame, ds) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each row's ``customer_key`` (by customer id, else mobile, else plate/VIN) and
    ``vehicle_id`` (by VIN, else plate). Rows with staff entries that match no customer,
    or that say sold/scrapped/done elsewhere of a vehicle that cannot be found (edited key
    columns), are data issues: ``(rows, issues)``."""
    rows = rows.copy()
    if not len(rows):  # no logs (a first run, a dealer group's head office): no lookup
        # tables of every customer and vehicle (4 s on a dealer group), the same empty result
        rows["customer_key"] = pd.Series(dtype=object)
        rows["vehicle_id"] = pd.Series(dtype="Int64")
        none = pd.Series(False, index=rows.index)
        return rows, pd.concat([_issues(rows, none, "customer_id", "log_no_match", none),
                                _issues(rows, none, "plate", "log_vehicle_no_match", none)],
                               ignore_index=True)
    cust = ds.customers
    keys = set(cust["customer_key"].astype(str))
    cid = ("c:" + rows["customer_id"].astype("string")).astype(object)
    by_id = cid.where(cid.isin(keys))
    by_mobile = rows["mobile"].map(_unique_map(cust["mobile"], cust["customer_key"]))
    veh = ds.vehicles
    by_vin = rows["vin"].map(_unique_map(veh["vin"], veh["vehicle_id"]))
    single = rows["plate"].where(~rows["plate"].astype("string").str.contains(";").fillna(False))
    by_plate = single.map(_unique_map(veh["plate"], veh["vehicle_id"]))
    vid = by_vin.where(by_vin.notna(), by_plate)
    owner = vid.map(veh.set_index("vehicle_id")["customer_key"])
    key = by_id.where(by_id.notna(), by_mobile)
    key = key.where(key.notna(), owner)
    rows["customer_key"] = key.astype(object).where(key.notna(), None)
    rows["vehicle_id"] = pd.to_numeric(vid, errors="coerce").astype("Int64")
    own = rows[RESULT_COLUMNS].isin(VEHICLE_RESULTS).any(axis=1)
    entry = rows["has_entry"].astype(bool)
    no_cust = entry & rows["customer_key"].isna()
    no_veh = entry & ~no_cust & own & rows["vehicle_id"].isna()
    ident = rows["customer_id"].fillna(rows["plate"]).fillna(rows["vin"]).fillna("")
    issues = pd.concat([
        _issues(rows, no_cust, "customer_id", "log_no_match", ident),
        _issues(rows, no_veh, "plate", "log_vehicle_no_match",
                rows["plate"].fillna(rows["vin"]).fillna("")),
    ], ignore_index=True)
    return rows, issues


def _issues(rows, mask, field_, reason, value) -> pd.DataFrame:
    sub = rows[mask]
    return pd.DataFrame({"file": sub["_file"].astype(str).to_numpy(),
                         "sheet": sub["_sheet"].astype(str).to_numpy(),
                         "row": sub["_row"].to_numpy(), "field": field_,
                         "value": value[mask].astype(str).to_numpy(), "reason": reason,
                         "detail": ""})


# --------------------------------------------------------------------------- time
def call_groups(rows: pd.DataFrame) -> pd.Series:
    """The call each row belongs to: its file, sheet and call id (a row without a call
    id is a call of its own)."""
    cid = rows["call_id"].astype(object).where(rows["call_id"].notna(),
                                               "#" + rows["_row"].astype(str))
    return (rows["_path"].astype(str) + "\x1f" + rows["_sheet"].astype(str) + "\x1f"
            + cid.astype(str))


def cut_at(rows: pd.DataFrame, as_of) -> pd.DataFrame:
    """The rows as known at ``as_of``: later attempts blanked, the row's other entries
    kept only when its latest attempt is on or before as_of, rows with nothing dated on or
    before as_of dropped (see the module docstring)."""
    as_of = pd.Timestamp(as_of).normalize()
    r = rows.copy()
    known = r["log_date"] <= as_of
    for n in ATTEMPTS:
        late = r[f"attempt{n}_date"] > as_of
        r[f"attempt{n}_date"] = r[f"attempt{n}_date"].mask(late)
        r[f"attempt{n}_result"] = r[f"attempt{n}_result"].astype(object).where(~late, None)
    for c in _ROW_FIELDS:
        r[c] = r[c].where(known) if r[c].dtype.kind in "fM" else \
            r[c].astype(object).where(known, None)
    outcome = r["result"].copy()
    for n in reversed(ATTEMPTS):
        outcome = outcome.where(outcome.notna(), r[f"attempt{n}_result"])
    r["outcome"] = outcome.where(outcome.notna(), None)
    first = pd.concat([r[f"attempt{n}_date"] for n in ATTEMPTS]
                      + [r["attempt1_plan_date"], r["list_day"], r["month_start"]],
                      axis=1).min(axis=1)
    r = r[(first <= as_of).to_numpy() | known.to_numpy()].copy()
    r["log_date"] = log_dates(r)
    return r


# --------------------------------------------------------------------------- effects
def _any_cell(rows: pd.DataFrame, codes) -> pd.Series:
    codes = [codes] if isinstance(codes, str) else list(codes)
    return rows[RESULT_COLUMNS].isin(codes).any(axis=1)


def _latest(rows: pd.DataFrame, by: str, *, entries_first: bool = False) -> pd.DataFrame:
    keys = ["has_entry"] if entries_first else []
    return (rows.sort_values([*keys, "log_date", "_mtime", "_path", "_row"], kind="stable")
            .drop_duplicates(by, keep="last"))


def compute(rows: pd.DataFrame, ds, as_of, *, register: pd.DataFrame | None = None) -> Effects:
    """The effects of matched log ``rows`` (from :func:`match`) at ``as_of``, plus the
    opt-out ``register`` (customer_id, mobile, plate)."""
    as_of = pd.Timestamp(as_of).normalize()
    rows = rows[rows["customer_key"].notna()] if len(rows) else rows
    cust = ds.customers
    mobile_owner = cust.dropna(subset=["mobile"])[["mobile", "customer_key"]]
    opted = set()
    if len(rows):
        group = call_groups(rows)
        opt = _any_cell(rows, "opt_out").groupby(group).transform("any")
        opted |= set(rows.loc[opt, "customer_key"])
        numbers = set(rows.loc[opt, "mobile"].dropna())
        opted |= set(mobile_owner.loc[mobile_owner["mobile"].isin(numbers), "customer_key"])
    opted |= _register_keys(register, ds)
    eff = Effects(as_of=as_of, rows=rows, opted_out=frozenset(opted))
    if not len(rows):
        return eff
    cut = cut_at(rows, as_of)
    eff.rows = cut
    if not len(cut):
        return eff
    group = call_groups(cut)

    def call_any(mask):
        return mask.groupby(group).transform("any").astype(bool)

    eff.new_mobiles = _new_mobiles(cut, cust)
    eff.wrong_numbers = _wrong_numbers(cut, cust, eff.new_mobiles, call_any)
    eff.closures, eff.services = _done_elsewhere(cut, as_of)
    veh = ds.vehicles
    owner = cut["vehicle_id"].map(veh.set_index("vehicle_id")["customer_key"])
    # choice: a car the export now shows with another owner was sold to them: not gone
    sold = cut[(_any_cell(cut, ("sold", "scrapped")) & cut["vehicle_id"].notna()
                & (owner == cut["customer_key"])).to_numpy()]
    if len(sold):
        sold = _latest(sold, "vehicle_id")
        code = np.where(_any_cell(sold, "scrapped"), "scrapped", "sold")
        eff.gone = pd.Series(code, index=sold["vehicle_id"].astype("int64").to_numpy(),
                             dtype=object)
    moved_keys = set(cut.loc[call_any(_any_cell(cut, "moved")), "customer_key"])
    eff.moved = frozenset(veh.loc[veh["customer_key"].isin(moved_keys), "vehicle_id"]
                          .astype("int64").tolist())
    agents = cut[cut["agent"].notna()]
    if len(agents):
        last = _latest(agents, "customer_key", entries_first=True)
        eff.previous_agents = pd.Series(last["agent"].to_numpy(dtype=object),
                                        index=last["customer_key"].to_numpy(dtype=object))
    said = cut[cut["reason"].notna() | cut["other_shop"].notna()]
    eff.reasons = pd.DataFrame({
        "vehicle_id": said["vehicle_id"].astype("float64").to_numpy(),
        "customer_key": said["customer_key"].to_numpy(dtype=object),
        "log_date": said["log_date"].to_numpy(dtype="datetime64[ns]"),
        "agent": said["agent"].to_numpy(dtype=object),
        "outcome": said["outcome"].to_numpy(dtype=object),
        "reason": said["reason"].to_numpy(dtype=object),
        "other_shop": said["other_shop"].to_numpy(dtype=object),
    })
    eff.sms = _sms(cut, group, call_any, as_of)
    eff.no_shows = _no_shows(cut, ds, call_any, as_of)
    return eff


def _register_keys(register: pd.DataFrame | None, ds) -> set:
    """Customers matching an ``opt-outs.csv`` entry: by customer id, or by the number."""
    if register is None or not len(register):
        return set()
    cust = ds.customers
    keys = set(cust["customer_key"].astype(str))
    ids = ("c:" + register["customer_id"].dropna().astype(str)).tolist()
    out = {k for k in ids if k in keys}
    numbers = set(register["mobile"].dropna().astype(str))
    out |= set(cust.loc[cust["mobile"].isin(numbers), "customer_key"])
    return out


def _new_mobiles(cut: pd.DataFrame, cust: pd.DataFrame) -> pd.Series:
    """customer_key → the latest logged 新号码, unless the export now holds a number the
    logs never saw."""
    new = cut[cut["new_mobile"].notna()]
    if not len(new):
        return pd.Series(dtype=object)
    last = _latest(new, "customer_key")
    seen = pd.concat([cut[["customer_key", "mobile"]].rename(columns={"mobile": "n"}),
                      cut[["customer_key", "new_mobile"]].rename(columns={"new_mobile": "n"})])
    seen = set((seen["customer_key"].astype(str) + "\x1f" + seen["n"].astype(str))
               [seen["n"].notna()])
    export = last["customer_key"].map(cust.set_index("customer_key")["mobile"])
    known = (last["customer_key"].astype(str) + "\x1f" + export.astype(str)).isin(seen)
    keep = (export.isna() | known).to_numpy()
    last = last[keep]
    return pd.Series(last["new_mobile"].to_numpy(dtype=object),
                     index=last["customer_key"].to_numpy(dtype=object))


def _wrong_numbers(cut, cust, new_mobiles, call_any) -> pd.Series:
    """customer_key → the number a log marked wrong, while it is still the one in use."""
    wrong = cut[call_any(_any_cell(cut, "wrong_number")) & cut["mobile"].notna()]
    if not len(wrong):
        return pd.Series(dtype=object)
    last = _latest(wrong, "customer_key")
    key = last["customer_key"]
    in_use = key.map(new_mobiles)
    in_use = in_use.where(in_use.notna(), key.map(cust.set_index("customer_key")["mobile"]))
    still = (in_use == last["mobile"]).to_numpy()
    return pd.Series(last["mobile"].to_numpy(dtype=object)[still],
                     index=key.to_numpy(dtype=object)[still])


def _done_elsewhere(cut: pd.DataFrame, as_of) -> tuple[pd.DataFrame, pd.DataFrame]:
    de = cut[_any_cell(cut, "done_elsewhere") & cut["vehicle_id"].notna()]
    if not len(de):
        return _no_closures(), _no_services()
    kinds = de["kinds"].fillna("").astype(str).str.split(";")
    # choice: a row without kinds closes first service and maintenance
    kinds = kinds.map(lambda ks: [k.strip() for k in ks if k.strip()]
                      or ["first_service", "maintenance"])
    month_end = (de["month_start"] + pd.offsets.MonthEnd(0)).to_numpy(dtype="datetime64[ns]")
    ex = pd.DataFrame({"vehicle_id": de["vehicle_id"].astype("int64").to_numpy(),
                       "kind": kinds.to_numpy(), "month_end": month_end}).explode("kind")
    closures = ex[ex["kind"].isin(CLOSABLE_KINDS)].drop_duplicates().reset_index(drop=True)
    closures["month_end"] = pd.to_datetime(closures["month_end"])
    svc = de[de["other_shop_date"].notna() & (de["other_shop_date"] <= as_of)]
    service_kind = kinds[svc.index].map(
        lambda ks: "first_service" if "first_service" in ks else
        ("maintenance" if "maintenance" in ks else None))
    svc = svc[service_kind.notna().to_numpy()]
    service_kind = service_kind[service_kind.notna()]
    svc = svc.assign(_kind=service_kind.to_numpy(dtype=object))
    svc = _latest(svc, "vehicle_id") if len(svc) else svc
    services = pd.DataFrame({
        "vehicle_id": svc["vehicle_id"].astype("int64").to_numpy(),
        "date": svc["other_shop_date"].to_numpy(dtype="datetime64[ns]"),
        "km": svc["other_shop_km"].astype("float64").to_numpy(),
        "kind": svc["_kind"].to_numpy(dtype=object),
        "other_shop": svc["other_shop"].to_numpy(dtype=object),
        "_file": svc["_file"].to_numpy(dtype=object),
        "_sheet": svc["_sheet"].to_numpy(dtype=object),
        "_row": svc["_row"].to_numpy(dtype=object),
    })
    return closures, services


def _month_before(as_of: pd.Timestamp) -> pd.Timestamp:
    return as_of - pd.DateOffset(months=1)


def _sms(cut, group, call_any, as_of) -> pd.DataFrame:
    """Calls with three failed attempts and no reached result, whose third attempt fell
    in the month before as_of, and no reached result of the customer since."""
    g = cut.groupby(group, sort=False)
    failed = pd.Series(True, index=g.size().index)
    for n in ATTEMPTS:  # per call: the first result written for attempt n
        failed &= g[f"attempt{n}_result"].first().isin(FAILED)
    spoiled = g["_row"].size().index.isin(
        group[_any_cell(cut, (*REACHED, "wrong_number"))].unique())
    failed &= ~spoiled
    failed_on = g["attempt3_date"].max()
    failed &= (failed_on > _month_before(as_of)) & (failed_on <= as_of)
    rows = cut[group.map(failed).fillna(False).astype(bool).to_numpy()]
    if not len(rows):
        return _no_calls("failed_on")
    rows = rows.assign(failed_on=group[rows.index].map(failed_on).to_numpy())
    # the customer's latest failed call only, and only when not reached since
    latest_call = _latest(rows.assign(_g=group[rows.index]), "customer_key")
    rows = rows[group[rows.index].isin(latest_call["_g"]).to_numpy()]
    reached = cut[_any_cell(cut, REACHED)][["customer_key", "log_date"]]
    since = rows[["customer_key", "failed_on"]].reset_index().merge(reached, on="customer_key")
    since = set(since.loc[since["log_date"] > since["failed_on"], "index"])
    rows = rows[~rows.index.isin(since)]
    return _call_rows(rows, "failed_on")


def _call_rows(rows: pd.DataFrame, date_col: str) -> pd.DataFrame:
    """The listing shape of 短信名单 and 预约未到 rows: who, which car and call, and the
    date that put them there."""
    return pd.DataFrame({
        "customer_key": rows["customer_key"].to_numpy(dtype=object),
        "vehicle_id": rows["vehicle_id"].astype("float64").to_numpy(),
        "plate": rows["plate"].to_numpy(dtype=object),
        "vin": rows["vin"].to_numpy(dtype=object),
        "kinds": rows["kinds"].to_numpy(dtype=object),
        "call_id": rows["call_id"].to_numpy(dtype=object),
        "agent": rows["agent"].to_numpy(dtype=object),
        date_col: pd.to_datetime(rows[date_col]).to_numpy(dtype="datetime64[ns]"),
        "_file": rows["_file"].to_numpy(dtype=object),
    })


def _no_shows(cut, ds, call_any, as_of) -> pd.DataFrame:
    """Booked calls (a 预约日期 on the row) whose 3-day window closed in the month before
    as_of without a visit of any of the customer's vehicles."""
    booked = cut[call_any(_any_cell(cut, "reached_booked")) & cut["booked_date"].notna()]
    closes = booked["booked_date"] + pd.Timedelta(days=NO_SHOW_DAYS)
    booked = booked[((closes > _month_before(as_of)) & (closes <= as_of)).to_numpy()]
    if not len(booked):
        return _no_calls("booked_date")
    booked = booked.drop_duplicates(["customer_key", "booked_date", "vehicle_id"])
    ros = ds.repair_orders
    visits = ros[ros["is_visit"].astype(bool) & (ros["open_date"] <= as_of + pd.Timedelta(days=1))]
    owner = ds.vehicles.set_index("vehicle_id")["customer_key"]
    v = pd.DataFrame({"customer_key": visits["vehicle_id"].map(owner).to_numpy(dtype=object),
                      "visit": visits["open_date"].dt.normalize().to_numpy()})
    v = v[v["visit"] <= as_of]
    pairs = booked[["customer_key", "booked_date"]].reset_index().merge(v, on="customer_key")
    near = (pairs["visit"] - pairs["booked_date"]).abs() <= pd.Timedelta(days=NO_SHOW_DAYS)
    came = set(pairs.loc[near, "index"])
    rows = booked[~booked.index.isin(came)]
    return _call_rows(rows, "booked_date")


# --------------------------------------------------------------------------- applying
def apply(ds, eff: Effects):
    """The dataset as the rules should see it: new numbers in place, opted-out customers
    marked do-not-contact, sold/scrapped vehicles' status, ``moved`` on vehicles, and
    services done elsewhere as service records (not visits). ``ds`` is not changed."""
    cust = ds.customers.copy()
    key = cust["customer_key"]
    new = key.map(eff.new_mobiles)
    has = new.notna().to_numpy()
    if has.any():
        is_mobile = new[has].astype(str).str.fullmatch(r"1[0-9]{10}").to_numpy()
        cust["mobile"] = cust["mobile"].astype(object)
        cust.loc[has, "mobile"] = new[has].to_numpy(dtype=object)
        for col in ("mobile_type", "phone_issue"):
            if col in cust:
                cust[col] = cust[col].astype(object)
        cust.loc[has, "mobile_type"] = np.where(is_mobile, "mobile", "landline")
        cust.loc[has, "phone_issue"] = None
        if "sms_able" in cust:
            cust["sms_able"] = cust["sms_able"].astype(object)
            cust.loc[has, "sms_able"] = is_mobile
            cust["sms_able"] = cust["sms_able"].fillna(False).astype(bool)
    dnc = cust["do_not_contact"] if "do_not_contact" in cust else pd.Series(False, index=cust.index)
    cust["do_not_contact"] = dnc.fillna(False).astype(bool) | key.isin(eff.opted_out)
    veh = ds.vehicles.copy()
    gone = veh["vehicle_id"].map(eff.gone)
    change = gone.notna() & veh["vehicle_status"].eq("active")
    if change.any():
        veh["vehicle_status"] = veh["vehicle_status"].astype(object)
        veh.loc[change, "vehicle_status"] = gone[change]
    veh["moved"] = veh["vehicle_id"].isin(list(eff.moved))
    ros = ds.repair_orders
    svc = eff.services
    if len(svc):
        add = pd.DataFrame({
            "vehicle_id": svc["vehicle_id"].astype("int64").to_numpy(),
            "ro_no": ("他店:" + svc["other_shop"].fillna("").astype(str)).to_numpy(dtype=object),
            "open_date": svc["date"].to_numpy(dtype="datetime64[ns]"),
            "close_date": svc["date"].to_numpy(dtype="datetime64[ns]"),
            "mileage": svc["km"].to_numpy(dtype="float64"),
            "kind": svc["kind"].to_numpy(dtype=object),
            "deleted": False, "is_visit": False,
            "ro_key": (SERVICE_RECORD_PREFIX + svc["_file"].astype(str) + "|"
                       + svc["_sheet"].astype(str) + "|" + svc["_row"].astype(str)).to_numpy(),
            "_file": svc["_file"].to_numpy(dtype=object),
            "_sheet": svc["_sheet"].to_numpy(dtype=object),
            "_row": svc["_row"].to_numpy(dtype=object),
        })
        ros = pd.concat([ros, add], ignore_index=True)
        ros["deleted"] = ros["deleted"].astype(bool)
        ros["is_visit"] = ros["is_visit"].astype(bool)
    return dataclasses.replace(ds, vehicles=veh, customers=cust, repair_orders=ros)
