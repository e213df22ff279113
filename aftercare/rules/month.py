"""From candidate reminders to a month list or a day list (02-rules.md, "Time",
"Reminder kinds", "Who is not called").

A month list holds the reminders whose working-day-adjusted contact date falls in the
month (within a kind, a vehicle's earliest such due date), plus first-service and
maintenance reminders overdue by up to carry_over_days (status 逾期). A member whose
contact date is before as_of (a list made late) moves to the first working day after
as_of. Then the people who are not called are routed out: opted-out customers and gone
vehicles are counted; customers without a callable number go to 待修正资料.

Contact logs (``effects``, from :func:`aftercare.logs.effects.compute`; their opt-outs,
new numbers, sold/scrapped vehicles and services done elsewhere are already in the data
the context was prepared from) add two things here: reminders closed by 已在他店保养 are
dropped (``effects.closures``), and every customer whose number a log marked wrong goes
to 待修正资料 (``effects.wrong_numbers``), with each of their reminders, or one row of
their own when they have none in the list.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from aftercare.rules import dated, service
from aftercare.rules.context import GONE_STATUSES, RuleContext

MONTH_KINDS = ("first_service", "maintenance", "warranty", "inspection", "insurance", "birthday",
               "declined")
DAY_KINDS = ("followup", "delivery_followup")
PRIORITY = {"first_service": 1, "maintenance": 2, "warranty": 3, "inspection": 4,
            "insurance": 5, "declined": 6, "followup": 7, "delivery_followup": 7, "birthday": 9}
CARRY_KINDS = ("first_service", "maintenance")


@dataclass
class ReminderList:
    reminders: pd.DataFrame  # contacted: one row per reminder
    fix_data: pd.DataFrame  # cannot be contacted or computed, with a reason code
    excluded: dict = field(default_factory=dict)  # reason → count
    kinds: tuple = ()


def lead_days(kind: str, cfg: dict) -> int:
    return int(cfg["reminders"].get(kind, 0)) if kind in cfg["reminders"] else 0


def contact_dates(cands: pd.DataFrame, ctx: RuleContext) -> pd.Series:
    """The rule's contact date: due − lead, moved back to a working day; a birthday on
    the day itself; follow-ups on the first working day after the due date."""
    out = pd.Series(pd.NaT, index=cands.index, dtype="datetime64[ns]")
    for kind, grp in cands.groupby("kind", sort=False):  # per kind (≤ 9), not per row
        if kind == "birthday":
            out[grp.index] = grp["due_date"].to_numpy()
        elif kind in DAY_KINDS:
            out[grp.index] = ctx.calendar.next_after(grp["due_date"]).to_numpy()
        else:
            raw = grp["due_date"] - pd.Timedelta(days=lead_days(kind, ctx.cfg))
            out[grp.index] = ctx.calendar.on_or_before(raw).to_numpy()
    return out


def month_list(ctx: RuleContext, month_start, effects=None) -> ReminderList:
    month_start = pd.Timestamp(month_start)
    month_end = month_start + pd.offsets.MonthEnd(0)
    fs, no_delivery = service.first_service(ctx)
    gone, opted, callable_vids = _vehicle_flags(ctx)
    parts = [fs, service.maintenance(ctx), service.warranty(ctx),
             dated.inspection(ctx, month_start), dated.insurance(ctx),
             service.declined(ctx)]
    cands = pd.concat([p for p in parts if len(p)] or [parts[0]], ignore_index=True)
    cands["customer_key"] = ctx.vehicles["customer_key"].reindex(cands["vehicle_id"]).to_numpy()
    bd = dated.birthday(ctx, month_start, callable_vids)
    cands = pd.concat([cands, bd], ignore_index=True)
    cands = drop_closed(cands, effects, ctx.cfg)
    cands["contact_date"] = contact_dates(cands, ctx)
    cands["status"] = "normal"
    in_month = cands["contact_date"].between(month_start, month_end)
    members = _earliest_per_kind(cands[in_month])
    carry = cands[cands["kind"].isin(CARRY_KINDS)
                  & cands["due_date"].between(
                      month_start - pd.Timedelta(days=ctx.cfg["reminders"]["carry_over_days"]),
                      month_start - pd.Timedelta(days=1))].copy()
    first_wd = ctx.calendar.on_or_after([month_start])[0]
    after_as_of = ctx.calendar.next_after([ctx.as_of])[0]
    carry["contact_date"] = max(first_wd, after_as_of)
    carry["status"] = "overdue"
    members = pd.concat([members, carry], ignore_index=True)
    late = members["contact_date"] < ctx.as_of
    members.loc[late, "contact_date"] = after_as_of
    members["shifted_late"] = late.to_numpy()
    return _route(ctx, members, no_delivery, gone, opted, MONTH_KINDS, effects)


def drop_closed(cands: pd.DataFrame, effects, cfg: dict) -> pd.DataFrame:
    """Candidates a contact log closed (已在他店保养): first service, warranty and declined
    for good; recurring kinds (maintenance, inspection, insurance) when due on or before
    the end of the log's month plus the kind's lead days."""
    closures = getattr(effects, "closures", None)
    if closures is None or not len(closures) or not len(cands):
        return cands
    from aftercare.logs.effects import RECURRING_KINDS

    c = closures.assign(_lead=closures["kind"].map(lambda k: lead_days(k, cfg)))
    until = c["month_end"] + pd.to_timedelta(c["_lead"], unit="D")
    c = c.assign(_until=until.where(c["kind"].isin(RECURRING_KINDS), pd.Timestamp.max))
    c = c.groupby(["vehicle_id", "kind"], as_index=False)["_until"].max()
    m = cands[["vehicle_id", "kind", "due_date"]].reset_index().merge(
        c, on=["vehicle_id", "kind"], how="inner")
    closed = m.loc[m["due_date"] <= m["_until"], "index"]
    return cands.drop(index=closed).reset_index(drop=True)


def day_list(ctx: RuleContext, day, effects=None) -> ReminderList:
    day = pd.Timestamp(day)
    gone, opted, _ = _vehicle_flags(ctx)
    cands = pd.concat([dated.followup(ctx), dated.delivery_followup(ctx)], ignore_index=True)
    cands["customer_key"] = ctx.vehicles["customer_key"].reindex(cands["vehicle_id"]).to_numpy()
    cands["contact_date"] = contact_dates(cands, ctx)
    cands["status"] = "normal"
    cands["shifted_late"] = False
    members = _earliest_per_kind(cands[cands["contact_date"] == day])
    return _route(ctx, members, pd.DataFrame(columns=["vehicle_id", "reason"]), gone, opted,
                  DAY_KINDS, effects)


def _earliest_per_kind(c: pd.DataFrame) -> pd.DataFrame:
    """Within a kind, a vehicle's (a birthday: a customer's) earliest due date."""
    key = np.where(c["kind"] == "birthday", "c" + c["customer_key"].astype(str),
                   "v" + c["vehicle_id"].astype(str))
    c = c.assign(_k=key).sort_values(["due_date"], kind="stable")
    return c.drop_duplicates(["_k", "kind"], keep="first").drop(columns="_k")


def _vehicle_flags(ctx: RuleContext):
    v = ctx.vehicles
    gone = v["vehicle_status"].isin(GONE_STATUSES)
    c = ctx.customers
    dnc = c["do_not_contact"] if "do_not_contact" in c else pd.Series(False, index=c.index)
    opted_keys = set(c.index[dnc.fillna(False).astype(bool)])
    return gone, opted_keys, v.index[~gone]


def _route(ctx, members, no_delivery, gone, opted_keys, kinds, effects=None) -> ReminderList:
    """Exclusions and the fix-data sheet; what is left is contacted."""
    excluded = {}
    vgone = members["vehicle_id"].map(gone).fillna(False).astype(bool)
    excluded["vehicle_gone"] = int(vgone.sum())
    members = members[~vgone]
    opted = members["customer_key"].isin(opted_keys)
    excluded["opted_out"] = int(opted.sum())
    members = members[~opted]
    wrong_keys = getattr(effects, "wrong_number_keys", set()) or set()
    wrong = members["customer_key"].isin(wrong_keys)
    wrong_fix = members[wrong].assign(reason="wrong_number")
    excluded["wrong_number"] = int(wrong.sum())
    members = members[~wrong]
    wrong_fix = pd.concat([wrong_fix, _wrong_without_reminder(ctx, wrong_fix, wrong_keys,
                                                              opted_keys, gone)],
                          ignore_index=True)
    cust = ctx.customers
    mobile = members["customer_key"].map(cust["mobile"])
    no_number = mobile.isna()
    phone_issue = members["customer_key"].map(cust["phone_issue"]).fillna("no_number")
    fix = members[no_number].assign(reason=phone_issue[no_number].replace(
        {"phone_invalid": "no_callable_number", "no_number": "no_callable_number"}))
    excluded["no_number"] = int(no_number.sum())
    nd = no_delivery[~no_delivery["vehicle_id"].map(gone).fillna(False).astype(bool)]
    nd = nd.assign(kind="first_service", customer_key=ctx.vehicles["customer_key"]
                   .reindex(nd["vehicle_id"]).to_numpy())
    nd = nd[~nd["customer_key"].isin(opted_keys)]
    fix = pd.concat([fix, nd, wrong_fix], ignore_index=True)
    members = members[~no_number].copy()
    members["priority"] = members["kind"].map(PRIORITY)
    members = members.sort_values(["contact_date", "priority", "customer_key"], kind="stable")
    for k, n in ctx.counts.items():
        excluded[k] = n
    return ReminderList(members.reset_index(drop=True), fix.reset_index(drop=True), excluded,
                        kinds)


def _wrong_without_reminder(ctx, listed, wrong_keys, opted_keys, gone) -> pd.DataFrame:
    """One 待修正资料 row per wrong-number customer with no reminder in the list (not
    opted out, with a vehicle still theirs)."""
    keys = set(wrong_keys) - set(listed["customer_key"]) - set(opted_keys)
    v = ctx.vehicles
    # only those customers' vehicles are looked at (a set of every vehicle's key took a
    # dealer group's 1M Arrow-backed keys one by one: ~0.5 s)
    theirs = v["customer_key"].isin(keys).to_numpy(dtype=bool) if keys else \
        np.zeros(len(v), dtype=bool)
    theirs = theirs & ~v.index.map(gone).fillna(False).astype(bool).to_numpy(dtype=bool)
    has_car = set(v.loc[theirs, "customer_key"])
    keys = sorted(k for k in keys if k in has_car)
    return pd.DataFrame({"customer_key": pd.Series(keys, dtype=object),
                         "vehicle_id": pd.Series([np.nan] * len(keys), dtype="float64"),
                         "kind": pd.Series([None] * len(keys), dtype=object),
                         "reason": "wrong_number"})
