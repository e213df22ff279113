"""Working days: the statutory calendar, its fallback, and the shifting helpers."""

import datetime as dt

import numpy as np
import pandas as pd

from aftercare.rules.calendar import WorkCalendar


def cal(**kw):
    return WorkCalendar("2024-01-01", "2028-12-31", **kw)


def test_statutory_holiday_and_makeup_day():
    """National Day 2024-10-01 is a holiday and the make-up Saturday 2024-09-29 a working day."""
    c = cal()
    assert list(c.is_workday(["2024-10-01", "2024-09-29", "2024-10-08", "2024-10-05"])) == [
        False, True, True, False]


def test_previous_working_day():
    """A contact date on a holiday moves to the previous working day."""
    c = cal()
    assert c.on_or_before(["2024-10-03"])[0] == pd.Timestamp("2024-09-30")
    assert c.on_or_before(["2024-10-08"])[0] == pd.Timestamp("2024-10-08")


def test_next_working_day_after():
    """The first working day strictly after a Friday is the Monday."""
    c = cal()
    assert c.next_after(["2024-11-22"])[0] == pd.Timestamp("2024-11-25")
    assert c.add_workdays(["2024-11-22"], 2)[0] == pd.Timestamp("2024-11-26")


def test_uncovered_year_falls_back_and_reports():
    """Beyond the package's years: Mon–Fri minus fixed-date holidays, plus config days."""
    c = cal(extra_holidays=["2028-02-14"], extra_workdays=["2028-01-29"])
    assert 2028 in c.uncovered_years and 2024 not in c.uncovered_years
    got = c.is_workday(["2028-01-03", "2028-05-01", "2028-05-02", "2028-10-03", "2028-02-14",
                        "2028-01-29", "2028-01-30"])
    assert list(got) == [True, False, False, False, False, True, False]


def test_missing_dates_stay_missing():
    """NaT in, NaT out, without an error."""
    c = cal()
    out = c.on_or_before([pd.NaT, "2024-05-06"])
    assert pd.isna(out[0]) and out[1] == pd.Timestamp("2024-05-06")
    assert list(c.is_workday([pd.NaT])) == [False]


def test_workdays_in_range():
    """December 2024 has 22 working days in the statutory calendar."""
    c = cal()
    assert len(c.workdays(dt.date(2024, 12, 1), dt.date(2024, 12, 31))) == 22


def test_same_days_as_chinese_calendar_for_every_covered_year():
    """The vectorised build gives chinese_calendar.is_workday's answer for every day of the
    years the package covers (调休 Saturdays, National Day, Spring Festival …)."""
    import chinese_calendar
    from chinese_calendar import constants

    first = min(constants.holidays).year
    last = max(constants.holidays).year
    cal = WorkCalendar(f"{first}-03-01", f"{last}-10-31")
    covered = [d for d in cal.days if first <= d.year <= last]
    want = np.array([chinese_calendar.is_workday(d.date()) for d in covered])
    assert (cal.is_workday(pd.DatetimeIndex(covered)) == want).all()
    assert want.sum() < len(want) * 0.75  # weekends and holidays are in there
