"""One call per customer and the calling plan (02-rules.md, "Customers and calls",
"Calling plan").

All of a customer's reminders in a list except birthdays become one call: every topic,
the earliest contact date, the highest priority, every vehicle involved. A birthday
greeting stays a call of its own on its day.

Capacity per working day = agents × calls_per_agent_per_day (first attempts). A call keeps
its contact date unless that day is full; then the nearest earlier working day with room
(not before as_of), else the nearest later one up to its due date, else it is overflow.
Calls are placed in the order priority, due date, customer id. "Full" is read per day:
the calls of a day whose own demand fits its capacity keep that day first, so a call moved
off an overfull day never pushes another off its own date (fewer moves for the agents to
explain); the overfull days' calls are then placed in filling order around them. A
contact date that is not a working day (or is before as_of) is not kept: the search starts
from the nearest working days before and after it.

The placement is a greedy allocation whose result for one call depends on every call
placed before it, so it is sequential by nature. It runs over the calls of overfull days
only (most days have room: those calls keep their date, vectorised), and each placement
costs O(1) (union-find over the days, :func:`_place`), not a search over the month.
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
    chosen = _place(rest, pos, exact, due_ns, day_ns, len(days), load, capacity)
    placed = chosen >= 0
    planned[rest[placed]] = day_values[chosen[placed]]
    calls["planned_date"] = planned
    calls["overflow"] = calls["planned_date"].isna()
    return calls


def _place(rest, pos, exact, due_ns, day_ns, n_period: int, load, capacity: int):
    """The day index each call of ``rest`` (in filling order) gets, -1: overflow.

    ``pos[c]``: the first working day (index into ``day_ns``) not before call c's contact
    date, ``exact[c]``: whether it is that date; ``load``: the calls each day holds
    already; earlier moves stay within the period's first ``n_period`` days. Each call
    depends on those placed before it, so this is a loop over the overfull days' calls,
    but an O(1) one: two union-find forests ("the nearest day with room at or before /
    at or after day i") skip the full days, each full day being linked out once."""
    n = len(day_ns)
    load = [int(x) for x in load]
    left = [i - 1 if load[i] >= capacity else i for i in range(n)]
    right = [i + 1 if load[i] >= capacity else i for i in range(n)]

    def find(parent, i, stop):
        root = i
        while root != stop and parent[root] != root:
            root = parent[root]
        while i != stop and parent[i] != root:  # path compression
            parent[i], i = root, parent[i]
        return root

    pos_l, exact_l, due_l, days_l = pos.tolist(), exact.tolist(), due_ns.tolist(), day_ns.tolist()
    out = []
    for c in rest.tolist():
        p, ex = pos_l[c], exact_l[c]
        chosen = p if ex and load[p] < capacity else -1
        if chosen < 0:  # the nearest earlier working day with room, within the period
            chosen = find(left, min(p, n_period) - 1, -1) if min(p, n_period) > 0 else -1
        if chosen < 0:  # else the nearest later one, up to the due date
            j = find(right, p + 1 if ex else p, n) if (p + 1 if ex else p) < n else n
            chosen = j if j < n and days_l[j] <= due_l[c] else -1
        if chosen >= 0:
            load[chosen] += 1
            if load[chosen] >= capacity:
                left[chosen], right[chosen] = chosen - 1, chosen + 1
        out.append(chosen)
    return np.asarray(out, dtype=np.int64)


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
