"""Small hand-built datasets shaped like the loader's output, for rule tests."""

import pandas as pd

from aftercare.config import defaults, merge
from aftercare.issues import IssueLog
from aftercare.load import Dataset

VEHICLE_DEFAULTS = dict(vin=None, plate=None, brand=None, model=None, delivery_date=None,
                        registration_date=None, inspection_due=None, warranty_end=None,
                        warranty_km=None, insurance_expiry=None, compulsory_expiry=None,
                        operating=False, vehicle_status="active", store=None, from_ros=False,
                        _file="veh.xlsx", _sheet="s", _row=2, _mtime=0.0)
CUSTOMER_DEFAULTS = dict(customer_id=None, customer_name="张三", mobile="13800000000",
                         mobile_type="mobile", other_phones="", sms_able=True, phone_issue=None,
                         birthday=None, id_number=None, customer_type=None, address=None,
                         gender=None, do_not_contact=False, in_customer_table=True)
RO_DEFAULTS = dict(store=None, vin=None, plate=None, close_date=None, mileage=None,
                   kind="maintenance", amount=100.0, appointment=None, advisor=None,
                   deleted=False, promised_at=None, delivered_at=None, declined_items=None,
                   declined_due_date=None, declined_due_km=None, _file="ro.csv", _sheet="s",
                   _row=2, _mtime=0.0)
DATE_COLS = ("delivery_date", "registration_date", "inspection_due", "warranty_end",
             "insurance_expiry", "compulsory_expiry", "birthday", "open_date", "close_date",
             "promised_at", "delivered_at", "declined_due_date")


def _frame(rows, defaults_):
    df = pd.DataFrame([{**defaults_, **r} for r in rows]) if rows else pd.DataFrame(
        columns=list(defaults_))
    for c in DATE_COLS:
        if c in df.columns:
            df[c] = pd.to_datetime(df[c])
    for c in ("mileage", "warranty_km", "declined_due_km", "amount"):
        if c in df.columns:
            df[c] = pd.to_numeric(df[c], errors="coerce").astype("float64")
    return df


def dataset(vehicles, customers=(), ros=()) -> Dataset:
    """vehicles need vehicle_id and customer_key; customers customer_key; ROs vehicle_id,
    ro_no and open_date."""
    v = _frame(list(vehicles), VEHICLE_DEFAULTS)
    c = _frame(list(customers), CUSTOMER_DEFAULTS)
    keys = set(c["customer_key"]) if len(c) else set()
    extra = [{"customer_key": k} for k in v["customer_key"].unique() if k not in keys]
    if extra:
        c = pd.concat([c, _frame(extra, CUSTOMER_DEFAULTS)], ignore_index=True)
    r = _frame(list(ros), RO_DEFAULTS)
    if len(r):
        r["ro_key"] = "|" + r["ro_no"].astype(str)
        r["is_visit"] = ~r["deleted"].astype(bool) & (r["kind"] != "internal")
        r["vehicle_id"] = r["vehicle_id"].astype("int64")
    else:
        r = pd.DataFrame({k: pd.Series(dtype=object) for k in
                          [*RO_DEFAULTS, "vehicle_id", "ro_no", "open_date", "ro_key",
                           "is_visit"]})
        r["open_date"] = pd.to_datetime(r["open_date"])
        r["vehicle_id"] = r["vehicle_id"].astype("int64")
        r["deleted"] = r["deleted"].astype(bool)
        r["is_visit"] = r["is_visit"].astype(bool)
        for col in ("mileage", "declined_due_km", "amount"):
            r[col] = r[col].astype("float64")
    return Dataset(v, c, r, IssueLog())


def config(**overrides):
    return merge(defaults(), overrides)
