"""One call per customer and the calling plan (02-rules.md, "Customers and calls",
"Calling plan").

All of a customer's reminders in a list except birthdays become one call: every topic,
the earliest contact date, the highest priority, every vehicle involved. A birthday
greeting stays a call of its own on its day.

Capacity per working day = agents × calls_per_agent_per_day (first attempts). A call keeps
its contact date unless that day is full; then the nearest earlier working day with room
(not before as_of), else the nearest later one up to its due date, else it is overflow.
Calls are placed in the order priority, due date, customer id.

The placement is a greedy allocation whose result for one call depends on every call
placed before it, so it is sequential by nature. It runs over the calls of overfull days
only (most days have room: those calls keep their date, vectorised), and each placement
is a numpy search over the month's working days.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from aftercare.frames import join_unique
from aftercare.rules.calendar import WorkCalendar

PARTS_OF_DAY = (("上午", "AM"), ("下午", "PM"), ("傍晚", "evening"))  # 09–12, 14–17, 18–21


def merge_calls(reminders: pd.DataFrame) -> pd.DataFrame:
    """Reminders (with customer_key, kind, due_date, contact_date, priority) → calls.

    Adds ``call_group`` to nothing; returns one row per call with ``call_key`` (the
    customer key, or the customer key + ':birthday') and the merged fields."""
    r = reminders
    is_bd = r["kind"] == "birthday"
    key = r["customer_key"].astype(str) + np.where(is_bd, ":birthday", "")
    r = r.assign(call_key=key)
    g = r.groupby("call_key", sort=False)
    calls = pd.DataFrame({
        "customer_key": g["customer_key"].first(),
        "contact_date": g["contact_date"].min(),
        "due_date": g["due_date"].min(),
        "priority": g["priority"].min(),
        "kinds": join_unique(r, "call_key", "kind"),
        "is_birthday": g["kind"].first().eq("birthday"),
    })
    calls.index.name = "call_key"
    return calls.reset_index()


def plan_calls(calls: pd.DataFrame, cal: WorkCalendar, *, as_of, capacity: int,
               period_start, period_end) -> pd.DataFrame:
    """Give each call a ``planned_date`` (NaT = overflow) within the period's working
    days; returns the calls with ``planned_date`` and ``overflow``."""
    calls = calls.copy()
    as_of = pd.Timestamp(as_of)
    days = cal.workdays(max(pd.Timestamp(period_start), as_of), period_end)
    later = cal.workdays(pd.Timestamp(period_end) + pd.Timedelta(days=1),
                         pd.Timestamp(period_end) + pd.Timedelta(days=120))
    all_days = days.append(later)  # moving later "up to its due date" may leave the period
    day_ns = all_days.to_numpy(dtype="datetime64[ns]").astype("int64")
    day_values = all_days.to_numpy(dtype="datetime64[ns]")
    order = calls.sort_values(["priority", "due_date", "customer_key"], kind="stable").index
    want = calls["contact_date"]
    # birthdays are greetings on the day itself, outside the call capacity
    bd = calls["is_birthday"].to_numpy()
    calls["planned_date"] = want.where(bd)
    pos = np.searchsorted(day_ns, want.to_numpy(dtype="datetime64[ns]").astype("int64"))
    exact = (pos < len(day_ns)) & (day_ns[np.minimum(pos, len(day_ns) - 1)] ==
                                   want.to_numpy(dtype="datetime64[ns]").astype("int64"))
    load = np.zeros(len(day_ns), dtype=np.int64)
    demand = pd.Series(pos[~bd & exact]).value_counts()
    over = set(demand.index[demand > capacity])
    # calls whose day has room keep it (vectorised); the rest are placed one by one
    simple = ~bd & exact & ~np.isin(pos, list(over))
    np.add.at(load, pos[simple], 1)
    calls["planned_date"] = want.where(bd | simple)
    order_pos = calls.index.get_indexer(order)
    rest = order_pos[~bd[order_pos] & ~simple[order_pos]]
    due_ns = calls["due_date"].to_numpy(dtype="datetime64[ns]").astype("int64")
    planned = calls["planned_date"].to_numpy(dtype="datetime64[ns]", copy=True)
    for loc in rest:  # the overfull days' calls only, in filling order
        p = min(pos[loc], len(day_ns) - 1)
        start = p if exact[loc] else p - 1
        chosen = -1
        if start >= 0 and exact[loc] and load[start] < capacity:
            chosen = start
        if chosen < 0:
            earlier = np.flatnonzero(load[: max(start, 0)] < capacity)
            earlier = earlier[earlier < len(days)]
            if len(earlier):
                chosen = earlier[-1]
        if chosen < 0:
            first_later = start + 1 if start >= 0 else 0
            cand = np.flatnonzero((load < capacity) & (np.arange(len(day_ns)) >= first_later)
                                  & (day_ns <= due_ns[loc]))
            if len(cand):
                chosen = cand[0]
        if chosen >= 0:
            load[chosen] += 1
            planned[loc] = day_values[chosen]
    calls["planned_date"] = planned
    calls["overflow"] = calls["planned_date"].isna()
    return calls


def assign_agents(calls: pd.DataFrame, agents: list[str], previous: pd.Series | None = None):
    """The agent who last handled the customer (``previous``: customer_key → agent, from
    contact logs), else round-robin by load within each planned day."""
    calls = calls.sort_values(["planned_date", "priority", "due_date", "customer_key"],
                              kind="stable").copy()
    rank = calls.groupby(calls["planned_date"].fillna(pd.Timestamp(0)), sort=False).cumcount()
    calls["agent"] = np.asarray(agents, dtype=object)[rank.to_numpy() % len(agents)]
    if previous is not None and len(previous):
        known = calls["customer_key"].map(previous)
        known = known.where(known.isin(agents))
        calls["agent"] = known.fillna(calls["agent"])
    return calls


def attempt_plans(planned: pd.Series, cal: WorkCalendar, lang: str) -> pd.DataFrame:
    """Three attempts on three working days: day 1 morning, day 2 afternoon, day 3 early
    evening (the seeds: 三日内三个不同时间段三次拨打)."""
    d1 = pd.DatetimeIndex(planned)
    d2 = cal.next_after(d1)
    d3 = cal.next_after(d2)
    out = {}
    for n, (d, part) in enumerate(zip((d1, d2, d3), PARTS_OF_DAY), start=1):
        label = part[1] if lang == "en" else part[0]
        text = pd.Series(d.strftime("%Y-%m-%d"), index=planned.index)
        out[f"attempt{n}_plan"] = (text + " " + label).where(planned.notna().to_numpy(), "")
    return pd.DataFrame(out, index=planned.index)


def capacity_table(calls: pd.DataFrame, cal: WorkCalendar, period_start, period_end,
                   capacity: int) -> pd.DataFrame:
    days = cal.workdays(period_start, period_end)
    planned = calls.loc[~calls["is_birthday"], "planned_date"].value_counts()
    wanted = calls.loc[~calls["is_birthday"], "contact_date"].value_counts()
    return pd.DataFrame({"date": days, "capacity": capacity,
                         "wanted": wanted.reindex(days).fillna(0).astype(int).to_numpy(),
                         "planned": planned.reindex(days).fillna(0).astype(int).to_numpy()})
