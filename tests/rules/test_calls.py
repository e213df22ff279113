"""One call per customer, the calling plan and agents."""

import numpy as np
import pandas as pd
import pytest

from aftercare.rules.calendar import WorkCalendar
from aftercare.rules.calls import assign_agents, attempt_plans, merge_calls, plan_calls

T = pd.Timestamp
CAL = WorkCalendar("2026-01-01", "2027-06-30")


def rem(customer, kind, contact, due, priority):
    return {"customer_key": customer, "kind": kind, "contact_date": T(contact),
            "due_date": T(due), "priority": priority}


def test_one_call_per_customer_birthday_apart():
    """A customer's reminders merge into one call (earliest contact, highest priority, all
    topics); the birthday stays a call of its own."""
    r = pd.DataFrame([rem("c1", "insurance", "2026-12-10", "2027-01-24", 5),
                      rem("c1", "maintenance", "2026-12-03", "2026-12-10", 2),
                      rem("c1", "birthday", "2026-12-13", "2026-12-13", 9),
                      rem("c2", "warranty", "2026-12-01", "2026-12-31", 3)])
    calls = merge_calls(r).set_index("call_key")
    assert sorted(calls.index) == ["c1", "c1:birthday", "c2"]
    c1 = calls.loc["c1"]
    assert (c1.contact_date, c1.priority, c1.kinds) == (T("2026-12-03"), 2, "insurance;maintenance")
    assert bool(calls.loc["c1:birthday", "is_birthday"])


def calls_frame(rows):
    df = pd.DataFrame(rows)
    df["contact_date"] = pd.to_datetime(df["contact_date"])
    df["due_date"] = pd.to_datetime(df["due_date"])
    df["is_birthday"] = False
    return df


def test_full_day_moves_earlier_then_later_then_overflow():
    """Capacity 1 a day, four calls want Thursday 12-03 (fill order by priority): the first
    keeps it, the next takes Wednesday 12-02, then Tuesday 12-01 (12-01 is the first day
    not before as_of 11-30 in the month), the last must go later — Friday 12-04 is within
    its due date; a fifth whose due date is 12-03 overflows."""
    calls = calls_frame([
        {"call_key": k, "customer_key": k, "contact_date": "2026-12-03", "due_date": due,
         "priority": p}
        for k, p, due in [("a", 1, "2026-12-20"), ("b", 2, "2026-12-20"),
                          ("c", 3, "2026-12-20"), ("d", 4, "2026-12-20"),
                          ("e", 5, "2026-12-03")]])
    out = plan_calls(calls, CAL, as_of="2026-11-30", capacity=1,
                     period_start="2026-12-01", period_end="2026-12-31").set_index("call_key")
    assert out.loc["a", "planned_date"] == T("2026-12-03")
    assert out.loc["b", "planned_date"] == T("2026-12-02")
    assert out.loc["c", "planned_date"] == T("2026-12-01")
    assert out.loc["d", "planned_date"] == T("2026-12-04")
    assert bool(out.loc["e", "overflow"]) and pd.isna(out.loc["e", "planned_date"])


def test_not_moved_before_as_of():
    """With as_of 12-02 a full 12-03 cannot move back to 12-01: the call goes later."""
    calls = calls_frame([
        {"call_key": k, "customer_key": k, "contact_date": "2026-12-03",
         "due_date": "2026-12-20", "priority": p} for k, p in [("a", 1), ("b", 2), ("c", 3)]])
    out = plan_calls(calls, CAL, as_of="2026-12-02", capacity=1,
                     period_start="2026-12-01", period_end="2026-12-31").set_index("call_key")
    assert list(out.loc[["a", "b", "c"], "planned_date"]) == [
        T("2026-12-03"), T("2026-12-02"), T("2026-12-04")]


def test_days_with_room_keep_their_dates():
    """Below capacity nobody moves."""
    calls = calls_frame([
        {"call_key": str(i), "customer_key": str(i), "contact_date": d, "due_date": "2026-12-31",
         "priority": 2} for i, d in enumerate(["2026-12-01", "2026-12-01", "2026-12-07"])])
    out = plan_calls(calls, CAL, as_of="2026-11-20", capacity=60,
                     period_start="2026-12-01", period_end="2026-12-31")
    assert list(out["planned_date"]) == list(out["contact_date"])


def test_agents_round_robin_and_continuity():
    """Agents take a day's calls in turn; a customer keeps the agent who last handled them."""
    calls = calls_frame([
        {"call_key": k, "customer_key": k, "contact_date": "2026-12-01",
         "due_date": "2026-12-20", "priority": 2} for k in ["a", "b", "c", "d"]])
    calls["planned_date"] = calls["contact_date"]
    out = assign_agents(calls, ["甲", "乙"]).set_index("customer_key")
    assert list(out["agent"]) == ["甲", "乙", "甲", "乙"]
    out = assign_agents(calls, ["甲", "乙"], pd.Series({"c": "乙"})).set_index("customer_key")
    assert out.loc["c", "agent"] == "乙"


def test_three_attempts_on_three_working_days():
    """Friday 12-04 morning, Monday 12-07 afternoon, Tuesday 12-08 evening."""
    plans = attempt_plans(pd.Series([T("2026-12-04"), pd.NaT]), CAL, "zh")
    assert list(plans.iloc[0]) == ["2026-12-04 上午", "2026-12-07 下午", "2026-12-08 傍晚"]
    assert list(plans.iloc[1]) == ["", "", ""]


def _naive_plan(calls, as_of, capacity, period_start, period_end):
    """02-rules.md "Calling plan" as aftercare reads it (calls.py), one call at a time over
    lists of days: the calls of days whose own demand fits keep their day; the others are
    placed in filling order around them."""
    days = list(CAL.workdays(max(T(period_start), T(as_of)), period_end))
    later = list(CAL.workdays(T(period_end) + pd.Timedelta(days=1),
                              T(period_end) + pd.Timedelta(days=120)))
    load = {d: 0 for d in days + later}
    demand = calls["contact_date"].value_counts()
    keeps = calls["contact_date"].isin(load) & calls["contact_date"].map(demand).le(capacity)
    out = {}
    for _, c in calls[keeps].iterrows():
        load[c["contact_date"]] += 1
        out[c["call_key"]] = c["contact_date"]
    for _, c in calls[~keeps].sort_values(["priority", "due_date", "customer_key"],
                                          kind="stable").iterrows():
        want, got = c["contact_date"], None
        if want in load and load[want] < capacity:
            got = want
        if got is None:
            earlier = [d for d in days if d < want and load[d] < capacity]
            got = earlier[-1] if earlier else None
        if got is None:
            after = [d for d in days + later if d > want and load[d] < capacity]
            got = after[0] if after and after[0] <= c["due_date"] else None
        if got is not None:
            load[got] += 1
        out[c["call_key"]] = got if got is not None else pd.NaT
    return pd.Series(out)


@pytest.mark.parametrize("seed", range(12))
def test_plan_equals_the_rule_read_plainly(seed):
    """Random months of calls (contact dates on and off working days, before as_of and
    after the month, tight capacities): every call gets the day a plain reading of the
    rule gives it."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 300))
    base = T("2026-11-25")
    contact = [base + pd.Timedelta(days=int(d)) for d in rng.integers(0, 45, n)]
    calls = calls_frame([
        {"call_key": f"k{i}", "customer_key": f"c{int(rng.integers(0, n)):04d}",
         "contact_date": contact[i],
         "due_date": contact[i] + pd.Timedelta(days=int(rng.integers(0, 40))),
         "priority": int(rng.integers(1, 6))} for i in range(n)])
    capacity = int(rng.integers(0, 12))
    as_of = base + pd.Timedelta(days=int(rng.integers(0, 10)))
    out = plan_calls(calls, CAL, as_of=as_of, capacity=capacity,
                     period_start="2026-12-01", period_end="2026-12-31").set_index("call_key")
    want = _naive_plan(calls, as_of, capacity, "2026-12-01", "2026-12-31")
    pd.testing.assert_series_equal(out["planned_date"].sort_index(),
                                   want.reindex(out.index).sort_index().astype("datetime64[ns]"),
                                   check_names=False)
