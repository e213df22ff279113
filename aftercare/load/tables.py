"""Parse canonical-field frames into the typed tables the rules use.

Every value goes through a vectorised parser (aftercare.parse); every unusable row or
value becomes a data issue. Rows are dropped only with an issue saying why.

Two steps per table, so that the first can be cached per input file (cache.py):

- ``parse_*`` (and ``build_ro_lines``): row-local work on one file's rows: value parsing,
  test rows, rows without a key, and their data issues. The result depends only on the
  file and the config.
- cross-file work on all files' parsed rows: ``dedupe_vehicles``/``dedupe_customers``
  (the copy from the file modified last wins), ``aggregate_lines``,
  ``dedupe_across_files``, ``apply_line_kinds``, and ``first_bad_vins`` (a bad VIN is
  reported once, not once per file).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from aftercare import parse
from aftercare.issues import IssueLog
from aftercare.parse_base import Distinct

EVENT_DATE_MIN = pd.Timestamp("1990-01-01")
KIND_PRECEDENCE = ["first_service", "maintenance", "warranty", "bodyshop", "repair", "campaign",
                   "other", "internal"]
_KIND_RANK = {k: i for i, k in enumerate(KIND_PRECEDENCE)}
_DELETED_WORDS = re.compile(r"作废|取消|删除")
_STATUS = [  # vehicle status words → code (first match wins)
    (re.compile(r"报废"), "scrapped"),
    (re.compile(r"转卖|已售|卖出|出售"), "sold"),
    (re.compile(r"过户|转出"), "transferred"),
]


def _col(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return frame[name]
    return pd.Series(np.full(len(frame), None, dtype=object), index=frame.index, dtype=object)


class _Fields:
    """The raw columns of one frame as :class:`Distinct` values. Those several parsers
    read (the plate, the name, the service type) are found once and kept; the others
    are not kept, so that their raw texts can go as soon as they are parsed."""

    SHARED = frozenset({"plate", "customer_name", "service_type"})

    def __init__(self, frame: pd.DataFrame, distinct: dict | None = None):
        self.frame = frame
        self._distinct = distinct or {}

    def __getitem__(self, name: str) -> Distinct:
        if name not in self._distinct:
            d = Distinct(_col(self.frame, name))
            if name not in self.SHARED:
                return d
            self._distinct[name] = d
        return self._distinct[name]

    def last(self, name: str) -> Distinct:
        """``self[name]`` for its last reader: no longer kept afterwards."""
        d = self[name]
        self._distinct.pop(name, None)
        return d

    def drop(self, mask) -> "_Fields":
        """Without the rows of ``mask`` (a boolean Series on the frame's index)."""
        if not mask.any():
            return self
        keep = ~mask.to_numpy(dtype=bool)
        return _Fields(self.frame.loc[keep],
                       {k: d.take(keep) for k, d in self._distinct.items()})


def _record(issues: IssueLog, frame, parsed_issue: pd.Series, field: str, value=None) -> None:
    mask = parsed_issue.notna()
    if mask.any():
        issues.add_rows(frame, mask, field=field, reason=parsed_issue.fillna(""), value=value)


def parse_date_field(frame, field, issues, *, dayfirst, event=False, keep_time=False):
    if field not in frame.columns:
        return pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
    raw = frame[field]
    fn = parse.parse_datetimes if keep_time else parse.parse_dates
    res = fn(raw, dayfirst=dayfirst)
    _record(issues, frame, res.issue, field)
    values = res.values
    if event:
        suspect = values.notna() & (values < EVENT_DATE_MIN)
        if suspect.any():
            issues.add_rows(frame, suspect, field=field, reason="event_date_suspect")
            values = values.mask(suspect)
    return values


def parse_km_field(frame, field, issues):
    if field not in frame.columns:
        return pd.Series(np.nan, index=frame.index)
    res = parse.parse_mileage(frame[field])
    _record(issues, frame, res.issue, field)
    return res.values


def parse_amount(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Money: `1,234.50`, `¥1234`, `1234元`; negatives kept (refunds, unsettled -1.00).

    Cells that are all numbers already (xlsx number cells, Parquet's double, whether
    typed or as the grid's Python floats) are taken as they are: writing each as text to
    read it back gave the same floats, one Python string per row (0.17 s of a dealer
    group's 540k-row RO file; ~2 s of CPU over its 7M ROs). Anything else, text mixed in
    included, is read as text (:func:`_amount_from_text`); yes/no cells are not numbers."""
    if _all_numbers(raw):
        issue = pd.Series(np.full(len(raw), None, dtype=object), index=raw.index, dtype=object)
        values = raw.astype("float64").to_numpy(dtype="float64", na_value=np.nan)
        return pd.Series(values, index=raw.index, dtype="float64", name=raw.name), issue
    return _amount_from_text(raw)


def _all_numbers(raw: pd.Series) -> bool:
    """Whether every cell is a number or missing (not a bool, not text)."""
    if raw.dtype == object:  # a C pass over the cells, no Python call per cell
        return pd.api.types.infer_dtype(raw, skipna=True) in (
            "floating", "integer", "mixed-integer-float", "empty")
    return pd.api.types.is_numeric_dtype(raw.dtype) and not pd.api.types.is_bool_dtype(raw.dtype)


def _amount_from_text(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """parse_amount() of cells read as text."""
    text = raw.astype("string")
    codes, uniq = pd.factorize(text)  # each distinct text once (what follows is per value)
    text = pd.Series(uniq, dtype=text.dtype).str.strip()
    cleaned = text.str.replace(r"[,，¥￥元\s]", "", regex=True)
    values = pd.to_numeric(cleaned, errors="coerce")
    bad = values.isna() & cleaned.notna() & (cleaned != "") & ~cleaned.isin(["-", "--", "无"])
    values = np.append(values.astype("float64").to_numpy(), np.nan)[codes]  # -1: missing
    bad = np.append(bad.to_numpy(dtype=bool), False)[codes]
    issue = pd.Series(np.where(bad, "amount_unparseable", None), index=raw.index, dtype=object)
    return pd.Series(values, index=raw.index, dtype="float64", name=raw.name), issue


def _phones(frame, issues):
    raw = _col(frame, "mobile")
    if "extra_phones" in frame.columns:
        extra = frame["extra_phones"].astype("string")
        raw = raw.astype("string")
        raw = raw.where(extra.isna(), raw.fillna("") + ";" + extra.fillna("")).str.strip(";")
    res = parse.parse_phones(raw, arrow=True)
    _record(issues, frame, res.issue, "mobile", value=raw)
    return res


def _text(fields: _Fields, field):
    return parse.normalise_text(fields[field], arrow=True)


def _drop(issues, frame, mask, *, field, reason, value=None):
    mask = pd.Series(mask, index=frame.index).fillna(False).astype(bool)
    if mask.any():
        issues.add_rows(frame, mask, field=field, reason=reason, value=value)
    return frame.loc[~mask]


def _test_rows(frame, issues) -> _Fields:
    """The frame without its test rows (each reported), as :class:`_Fields`.

    Test rows are found on the raw columns' distinct values, which the parsers then
    share: only a text cell can name a test row, and text reads the same as the
    ``string`` values it was once tested on."""
    fields = _Fields(frame)
    test = parse.is_test_row(fields["customer_name"], fields["plate"])
    if test.any():
        sub = frame.loc[test]
        name = _col(sub, "customer_name").astype("string")
        plate = _col(sub, "plate").astype("string")
        value = pd.Series(None, index=frame.index, dtype=object)
        value[test] = (name.fillna("") + " " + plate.fillna("")).to_numpy(dtype=object)
        _drop(issues, frame, test, field="customer_name", reason="test_row", value=value)
    return fields.drop(test)


def owner_fields(fields: _Fields, issues, *, dayfirst) -> pd.DataFrame:
    """Customer columns carried by a vehicle, customer or RO frame, parsed."""
    frame = fields.frame
    out = pd.DataFrame(index=frame.index)
    out["customer_id"] = _text(fields, "customer_id")
    out["customer_name"] = parse.normalise_text(fields.last("customer_name"), arrow=True)
    ph = _phones(frame, issues)
    out["mobile"] = ph.primary
    out["mobile_type"] = ph.primary_type
    out["other_phones"] = ph.others
    out["sms_able"] = ph.sms_able
    out["phone_issue"] = ph.issue
    out["birthday"] = parse_date_field(frame, "birthday", issues, dayfirst=dayfirst)
    out["id_number"] = None
    if "id_number" in frame.columns:
        idr = parse.parse_id_number(frame["id_number"], arrow=True)
        _record(issues, frame, idr.issue, "id_number")
        out["id_number"] = idr.values
        out["birthday"] = out["birthday"].fillna(idr.birthday)
    out["customer_type"] = _text(fields, "customer_type")
    return out


def parse_vehicles(frame: pd.DataFrame, issues: IssueLog, *, dayfirst: bool) -> pd.DataFrame:
    """Row-local: typed vehicle rows of one file (test rows and rows without VIN or plate
    dropped, with issues)."""
    fields = _test_rows(frame, issues)
    frame = fields.frame
    vin = parse.parse_vin(fields["vin"], arrow=True)
    _record(issues, frame, vin.issue, "vin")
    plate = parse.normalise_plate(fields.last("plate"), arrow=True)
    out = pd.DataFrame(index=frame.index)
    out["vin"] = vin.values
    out["plate"] = plate
    for f in ("delivery_date", "registration_date"):
        out[f] = parse_date_field(frame, f, issues, dayfirst=dayfirst, event=True)
    for f in ("inspection_due", "warranty_end", "insurance_expiry", "compulsory_expiry"):
        out[f] = parse_date_field(frame, f, issues, dayfirst=dayfirst)
    out["warranty_km"] = parse_km_field(frame, "warranty_km", issues)
    out["brand"] = _text(fields, "brand")
    out["model"] = _text(fields, "model")
    out["store"] = _text(fields, "store")
    use = _text(fields, "use_class").astype("string")
    out["operating"] = (use.str.contains("营运") & ~use.str.contains("非营运")).astype("boolean")
    status = _text(fields, "status").astype("string").fillna("")
    code = pd.Series("active", index=frame.index, dtype=object)
    for pattern, name in reversed(_STATUS):
        code = code.mask(status.str.contains(pattern), name)
    out["vehicle_status"] = code
    out = out.join(owner_fields(fields, issues, dayfirst=dayfirst))
    out[["_file", "_sheet", "_row", "_mtime"]] = frame[["_file", "_sheet", "_row", "_mtime"]]
    no_key = out["vin"].isna() & out["plate"].isna()
    return _drop(issues, out, no_key, field="vin", reason="no_vehicle_key", value="")


def dedupe_vehicles(out: pd.DataFrame, issues: IssueLog) -> pd.DataFrame:
    """One row per vehicle (VIN, else plate): the copy from the file modified last wins."""
    key = out["vin"].fillna("P:" + out["plate"].fillna(""))
    order = out.assign(_key=key).sort_values(["_mtime", "_row"], kind="stable")
    dup = order.duplicated("_key", keep="last")
    out = _drop(issues, order, dup, field="vin", reason="duplicate_vehicle",
                value=order["vin"].fillna(order["plate"])).drop(columns="_key")
    return out


def parse_customers(frame: pd.DataFrame, issues: IssueLog, *, dayfirst: bool) -> pd.DataFrame:
    """Row-local: typed customer rows of one file, with ``customer_key``."""
    fields = _test_rows(frame, issues)
    frame = fields.frame
    out = owner_fields(fields, issues, dayfirst=dayfirst)
    out["address"] = _text(fields, "address")
    out["gender"] = _text(fields, "gender")
    dnc = parse.parse_bool(_col(frame, "do_not_contact"))
    _record(issues, frame, dnc.issue, "do_not_contact")
    out["do_not_contact"] = dnc.values.fillna(False).astype(bool)
    out[["_file", "_sheet", "_row", "_mtime"]] = frame[["_file", "_sheet", "_row", "_mtime"]]
    no_key = out["customer_id"].isna() & out["mobile"].isna()
    out = _drop(issues, out, no_key, field="customer_id", reason="no_customer_key", value="")
    key = np.where(out["customer_id"].notna(), "c:" + out["customer_id"].astype(str),
                   "m:" + out["mobile"].astype(str))
    out["customer_key"] = key
    return out


def dedupe_customers(out: pd.DataFrame, issues: IssueLog) -> pd.DataFrame:
    """One row per customer key: the copy from the file modified last wins."""
    order = out.sort_values(["_mtime", "_row"], kind="stable")
    dup = order.duplicated("customer_key", keep="last")
    return _drop(issues, order, dup, field="customer_id", reason="duplicate_customer",
                 value=order["customer_id"].fillna(""))


def build_ro_lines(frame: pd.DataFrame, issues: IssueLog, extra_types) -> pd.DataFrame:
    """Row-local: typed RO-line rows of one file (kind, amount, join key)."""
    out = pd.DataFrame(index=frame.index)
    fields = _Fields(frame)
    key_src = "join_key" if "join_key" in frame.columns else "ro_no"
    out["join_key"] = _text(fields, key_src)
    kind = parse.map_service_type(fields["service_type"], extra_types, arrow=True)
    _record(issues, frame, kind.issue, "service_type")
    out["kind"] = kind.values
    out["amount"], amount_issue = parse_amount(_col(frame, "amount"))
    _record(issues, frame, amount_issue, "amount")
    out[["_file", "_sheet", "_row"]] = frame[["_file", "_sheet", "_row"]]
    return _drop(issues, out, out["join_key"].isna(), field=key_src, reason="missing_ro_no",
                 value="")


#: the dtype of RO numbers and RO-line join keys on ROs (see parse_repair_orders)
RO_NO_DTYPE = pd.StringDtype("pyarrow", na_value=np.nan)


def parse_repair_orders(frame, issues, *, dayfirst, extra_types, vin_issues: IssueLog):
    """Row-local: typed RO rows of one file (one row per RO line; see aggregate_lines).

    Returns (rows, bad_vins, at). A VIN repeats on every RO of its car, so each distinct
    bad VIN is reported once: its first row's issue goes to ``vin_issues`` (not to
    ``issues``), ``bad_vins`` holds those VINs in the same order, and ``at`` is the number
    of rows ``issues`` held then, i.e. where those issues belong in the file's list.
    Across files, :func:`first_bad_vins` keeps the first file's."""
    fields = _test_rows(frame, issues)
    frame = fields.frame
    out = pd.DataFrame(index=frame.index)
    out["store"] = _text(fields, "store")
    # RO numbers as Arrow text (pandas' ``str``), not Python strs: a dealer group has 7M
    # of them, all distinct; Arrow pickles, caches, concatenates and hashes them without
    # a Python object each. Never missing once the rows without one are dropped below.
    out["ro_no"] = _text(fields, "ro_no").astype(RO_NO_DTYPE)
    out["join_key"] = (_text(fields, "join_key").astype(RO_NO_DTYPE)
                       if "join_key" in frame.columns else out["ro_no"])
    vin = parse.parse_vin(fields["vin"], arrow=True)
    # a VIN repeats on every RO of its car: report each distinct bad VIN once (a VIN's
    # issue depends on the VIN alone, so only rows with an issue need looking at)
    bad = vin.issue.notna().to_numpy()
    first_bad = vin.issue.where(np.zeros(len(bad), dtype=bool))
    if bad.any():
        first_bad[bad] = vin.issue[bad].where(~vin.values[bad].duplicated())
    at = len(issues)
    _record(vin_issues, frame, first_bad, "vin")
    bad_vins = vin.values[first_bad.notna()].to_numpy(dtype=object)
    out["vin"] = vin.values
    out["plate"] = parse.normalise_plate(fields.last("plate"), arrow=True)
    out["open_date"] = parse_date_field(frame, "open_date", issues, dayfirst=dayfirst, event=True)
    out["close_date"] = parse_date_field(frame, "close_date", issues, dayfirst=dayfirst,
                                         event=True)
    for f in ("promised_at", "delivered_at"):
        out[f] = parse_date_field(frame, f, issues, dayfirst=dayfirst, keep_time=True)
    out["mileage"] = parse_km_field(frame, "mileage", issues)
    out["service_type"] = _text(fields, "service_type")
    if "service_type" in frame.columns:
        kind = parse.map_service_type(fields.last("service_type"), extra_types, arrow=True)
        _record(issues, frame, kind.issue, "service_type")
        out["kind"] = kind.values
    else:
        out["kind"] = None
    if "is_first_service" in frame.columns:
        first = parse.parse_bool(frame["is_first_service"])
        _record(issues, frame, first.issue, "is_first_service")
        out["kind"] = out["kind"].mask(first.values.fillna(False).astype(bool), "first_service")
    out["amount"], amount_issue = parse_amount(_col(frame, "amount"))
    _record(issues, frame, amount_issue, "amount")
    negative = out["amount"] < 0  # e.g. -1.00 on unsettled ROs: not money the customer spent
    if negative.any():
        issues.add_rows(frame, negative, field="amount", reason="amount_negative")
        out["amount"] = out["amount"].mask(negative)
    appt = parse.parse_bool(_col(frame, "appointment"))
    _record(issues, frame, appt.issue, "appointment")
    out["appointment"] = appt.values
    deleted = parse.parse_bool(_col(frame, "deleted"))
    _record(issues, frame, deleted.issue, "deleted")
    status = _text(fields, "ro_status").astype("string")
    out["deleted"] = (deleted.values.fillna(False).astype(bool)
                      | status.str.contains(_DELETED_WORDS).fillna(False).astype(bool))
    # what said "deleted", for the data-issue listing made after deduplication
    out["deleted_raw"] = _col(frame, "deleted").where(
        deleted.values.fillna(False).astype(bool), _col(frame, "ro_status"))
    out["advisor"] = _text(fields, "advisor")
    out["declined_items"] = _text(fields, "declined_items")
    out["declined_due_date"] = parse_date_field(frame, "declined_due_date", issues,
                                                dayfirst=dayfirst)
    out["declined_due_km"] = parse_km_field(frame, "declined_due_km", issues)
    out["brand"] = _text(fields, "brand")
    out["model"] = _text(fields, "model")
    for f in ("delivery_date", "registration_date"):
        out[f] = parse_date_field(frame, f, issues, dayfirst=dayfirst, event=True)
    for f in ("inspection_due", "insurance_expiry"):
        out[f] = parse_date_field(frame, f, issues, dayfirst=dayfirst)
    out = out.join(owner_fields(fields, issues, dayfirst=dayfirst))
    out[["_file", "_sheet", "_row", "_mtime"]] = frame[["_file", "_sheet", "_row", "_mtime"]]
    out = _drop(issues, out, out["ro_no"].isna(), field="ro_no", reason="missing_ro_no", value="")
    out = _drop(issues, out, out["vin"].isna() & out["plate"].isna(), field="vin",
                reason="no_vehicle_key", value="")
    out = _drop(issues, out, out["open_date"].isna(), field="open_date",
                reason="missing_open_date", value=_col(frame, "open_date").loc[out.index])
    return out, bad_vins, at


def first_bad_vins(bad_vins: np.ndarray, seen: set) -> np.ndarray:
    """Which of a file's bad-VIN issues to keep: those whose VIN no earlier file reported
    (``seen`` holds those VINs and is updated). A boolean mask over ``bad_vins``."""
    keep = np.fromiter((v not in seen for v in bad_vins), dtype=bool, count=len(bad_vins))
    seen.update(bad_vins)
    return keep


def ro_keys(ros: pd.DataFrame) -> pd.Series:
    """Each RO's key, ``store|ro_no`` (no store: ``|ro_no``), as pandas' ``str``. Joined
    in Arrow when both columns are text (a dealer group's 7M: ~0.3 s, where pandas
    turned every store into a str first: ~1 s); else as text by pandas."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        store = pa.array(ros["store"], type=pa.large_string(), from_pandas=True)
        number = pa.array(ros["ro_no"], type=pa.large_string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return ros["store"].fillna("").astype(str) + "|" + ros["ro_no"].astype(str)
    joined = pc.binary_join_element_wise(store.fill_null(""), number,
                                         pa.scalar("|", pa.large_string()))
    return pd.Series(pd.arrays.ArrowStringArray(joined, dtype=RO_NO_DTYPE), index=ros.index)


def ro_no_codes(ros: pd.DataFrame) -> np.ndarray:
    """An integer per RO row, equal for equal RO numbers (from 0 up; missing: -1), for
    :func:`aggregate_lines` and :func:`dedupe_across_files` to share: the RO numbers are
    hashed once for both (a dealer group's 7M: 1.3 s, where each ``duplicated`` on the
    key columns hashed them again and took 3-4 s)."""
    return pd.factorize(ros["ro_no"])[0].astype(np.int64, copy=False)


def _duplicated(ros: pd.DataFrame, key: list[str], keep, codes: np.ndarray | None,
                order: np.ndarray | None = None) -> np.ndarray:
    """``ros[key].iloc[order].duplicated(keep=keep)`` (``order``: all rows, as they are),
    as a boolean array, when ``key`` holds ``ro_no`` and ``codes`` are its
    :func:`ro_no_codes`. Two rows with one key have one RO number, so only rows whose
    number repeats can be duplicates: the exact test runs on those rows alone, in the
    same order (often none: a count of each number says so)."""
    if codes is None:
        codes = ro_no_codes(ros)
    shifted = codes + 1  # missing (-1) counts as a number of its own, as in duplicated()
    repeats = np.bincount(shifted)[shifted] > 1
    if order is None:
        order = np.arange(len(ros))
    compared = repeats[order]
    out = np.zeros(len(order), dtype=bool)
    if compared.any():
        out[compared] = ros[key].iloc[order[compared]].duplicated(keep=keep).to_numpy()
    return out


def aggregate_lines(ros: pd.DataFrame, codes: np.ndarray | None = None) -> pd.DataFrame:
    """Several rows with one RO key in one file are the lines of one RO (kind by
    precedence, amounts summed, other fields the first non-empty). ``codes``: the rows'
    :func:`ro_no_codes`, when the caller has them."""
    key = ["_file", "store", "ro_no"]
    dup = pd.Series(_duplicated(ros, key, False, codes), index=ros.index)
    if not dup.any():
        return ros
    multi = ros.loc[dup]
    rank = multi["kind"].map(_KIND_RANK)
    keys = [multi[k].fillna("") for k in key]
    firsts = multi.groupby(keys, sort=False, dropna=False).first()
    best = rank.groupby(keys, sort=False, dropna=False).min()
    firsts["kind"] = best.map(dict(enumerate(KIND_PRECEDENCE))).to_numpy()
    firsts["amount"] = (multi.groupby(keys, sort=False, dropna=False)["amount"]
                        .sum(min_count=1).to_numpy())
    firsts["deleted"] = multi.groupby(keys, sort=False, dropna=False)["deleted"].all().to_numpy()
    merged = firsts.reset_index(drop=True)
    for k in key:  # restore the original (possibly missing) key values, in their dtype
        merged[k] = multi.groupby(keys, sort=False, dropna=False)[k].first().array
    return pd.concat([ros.loc[~dup], merged], ignore_index=True)


def dedupe_across_files(ros: pd.DataFrame, codes: np.ndarray | None = None
                        ) -> tuple[pd.DataFrame, int]:
    """The same RO key in several files is one RO: the file modified last wins.
    ``codes``: the rows' :func:`ro_no_codes`, when the caller has them."""
    # on the key columns only, then one take of the rows kept (a group's 7M ROs would
    # otherwise be copied three times: sorted, filtered, sorted back)
    order = ros[["_mtime", "_file"]].reset_index(drop=True).sort_values(
        ["_mtime", "_file"], kind="stable").index.to_numpy()
    dup = _duplicated(ros, ["store", "ro_no"], "last", codes, order)
    if not dup.any():
        return (ros if ros.index.is_monotonic_increasing else ros.sort_index(kind="stable")), 0
    keep = order[~dup]
    keep = keep[np.argsort(ros.index.to_numpy()[keep], kind="stable")]  # index order
    return ros.iloc[keep], int(dup.sum())


def apply_line_kinds(ros: pd.DataFrame, lines: pd.DataFrame) -> pd.DataFrame:
    """An RO's kind is the highest of its lines' kinds; amounts from lines fill gaps."""
    if lines.empty:
        return ros
    rank = lines["kind"].map(_KIND_RANK)
    best = rank.groupby(lines["join_key"]).min().map(dict(enumerate(KIND_PRECEDENCE)))
    total = lines.groupby("join_key")["amount"].sum(min_count=1)
    line_kind = ros["join_key"].map(best)
    ros = ros.copy()
    ros["kind_from_lines"] = line_kind
    ros["kind"] = ros["kind"].where(ros["kind"].notna(), line_kind)
    ros["amount"] = ros["amount"].fillna(ros["join_key"].map(total))
    return ros
