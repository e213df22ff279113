"""One call per customer, the calling plan and agents."""

import pandas as pd

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
