"""Working days (02-rules.md, "Time"): the Chinese statutory calendar with its adjusted
working days (调休), from the `chinesecalendar` package for the years it covers. For a year
it does not cover: Monday–Friday except the fixed-date statutory holidays (1 January,
1–2 May, 1–3 October), plus the holidays and make-up working days in config
(``[calendar] extra_holidays / extra_workdays``); such years are reported once in
``uncovered_years`` so the caller can warn.

Lookups are vectorised: the calendar is materialised once as a boolean array over a
span of days, and "previous/next working day" are array look-ups.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

FIXED_HOLIDAYS = ((1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3))


def _package_years() -> tuple[int, int]:
    from chinese_calendar import constants

    return min(constants.holidays).year, max(constants.holidays).year


class WorkCalendar:
    """Working days between ``start`` and ``end`` (padded), config holidays applied."""

    def __init__(self, start, end, *, extra_holidays=(), extra_workdays=()):
        start = pd.Timestamp(start).normalize() - pd.Timedelta(days=60)
        end = pd.Timestamp(end).normalize() + pd.Timedelta(days=60)
        self.days = pd.date_range(start, end, freq="D")
        self.uncovered_years: list[int] = []
        self._workday = self._build(extra_holidays, extra_workdays)
        idx = np.arange(len(self.days))
        work_idx = np.where(self._workday, idx, -1)
        self._prev = np.maximum.accumulate(work_idx)  # last working day at or before i
        nxt = np.where(self._workday, idx, len(idx))
        self._next = np.minimum.accumulate(nxt[::-1])[::-1]  # first working day at/after i

    @classmethod
    def from_config(cls, start, end, cfg: dict) -> "WorkCalendar":
        cal = cfg["calendar"]
        return cls(start, end, extra_holidays=cal["extra_holidays"],
                   extra_workdays=cal["extra_workdays"])

    def _build(self, extra_holidays, extra_workdays) -> np.ndarray:
        from chinese_calendar import constants

        first, last = _package_years()
        days = self.days
        covered = (days.year >= first) & (days.year <= last)
        # chinese_calendar.is_workday, for every day at once: a listed working day (调休)
        # works, a listed holiday does not, else Monday–Friday
        day_values = days.to_numpy(dtype="datetime64[D]")
        listed_holiday = np.isin(day_values, np.array(list(constants.holidays), "datetime64[D]"))
        listed_work = np.isin(day_values, np.array(list(constants.workdays), "datetime64[D]"))
        work = np.asarray(days.day_of_week < 5, dtype=bool)
        work = np.where(covered, (work & ~listed_holiday) | listed_work, work)
        fixed = np.zeros(len(days), dtype=bool)
        for month, day in FIXED_HOLIDAYS:
            fixed |= (days.month == month) & (days.day == day)
        work = np.where(covered, work, work & ~fixed)
        pos = pd.Series(np.arange(len(days)), index=days)
        for value, flag in [(d, False) for d in extra_holidays] + [(d, True) for d in
                                                                    extra_workdays]:
            ts = pd.Timestamp(value).normalize()
            if ts in pos.index:
                work[pos[ts]] = flag
        self.uncovered_years = sorted({int(y) for y in days.year[~covered]})
        return np.asarray(work, dtype=bool)

    def uncovered_between(self, start, end) -> list[int]:
        """The years from start to end that the statutory calendar does not cover."""
        years = range(pd.Timestamp(start).year, pd.Timestamp(end).year + 1)
        return [y for y in years if y in self.uncovered_years]

    # ---- vectorised queries --------------------------------------------------------------
    def _pos(self, dates) -> np.ndarray:
        values = pd.DatetimeIndex(pd.to_datetime(dates)).normalize()
        return ((values - self.days[0]) // pd.Timedelta(days=1)).to_numpy()

    def _inside(self, pos: np.ndarray) -> np.ndarray:
        return (pos >= 0) & (pos < len(self.days))

    def is_workday(self, dates) -> np.ndarray:
        """Outside the calendar's span (dates no list looks at): Monday–Friday."""
        dates = pd.DatetimeIndex(pd.to_datetime(dates))
        out = np.asarray(dates.day_of_week < 5, dtype=bool) & ~dates.isna()
        ok = np.flatnonzero(~dates.isna())
        pos = self._pos(dates[ok])
        inside = self._inside(pos)
        out[ok[inside]] = self._workday[pos[inside]]
        return out

    def _shift(self, dates, table: np.ndarray, offset: int = 0) -> pd.DatetimeIndex:
        """Dates outside the span come back unshifted (plus ``offset`` days): the span
        covers every date a list is built from, so these are only far-off due dates."""
        dates = pd.DatetimeIndex(pd.to_datetime(dates)).normalize()
        out = dates.to_numpy(dtype="datetime64[ns]").copy()
        ok = np.flatnonzero(~dates.isna())
        if len(ok):
            pos = self._pos(dates[ok]) + offset
            inside = self._inside(pos)
            res = table[np.clip(pos[inside], 0, len(self.days) - 1)]
            out[ok[inside]] = self.days.to_numpy()[np.clip(res, 0, len(self.days) - 1)]
            far = ok[~inside]
            out[far] = out[far] + np.timedelta64(offset, "D")
        return pd.DatetimeIndex(out)

    def on_or_before(self, dates) -> pd.DatetimeIndex:
        """The date itself if a working day, else the previous working day."""
        return self._shift(dates, self._prev)

    def on_or_after(self, dates) -> pd.DatetimeIndex:
        return self._shift(dates, self._next)

    def next_after(self, dates) -> pd.DatetimeIndex:
        """The first working day strictly after each date."""
        return self._shift(dates, self._next, offset=1)

    def workdays(self, start, end) -> pd.DatetimeIndex:
        """Working days from ``start`` to ``end`` inclusive."""
        mask = (self.days >= pd.Timestamp(start)) & (self.days <= pd.Timestamp(end))
        return self.days[mask & self._workday]

    def add_workdays(self, dates, n: int) -> pd.DatetimeIndex:
        """The n-th working day after each date (n ≥ 1)."""
        out = pd.DatetimeIndex(pd.to_datetime(dates))
        for _ in range(n):  # n is a small constant (attempt days), not a row count
            out = self.next_after(out)
        return out


def first_workday_of_month(cal: WorkCalendar, month: dt.date) -> pd.Timestamp:
    return cal.on_or_after([pd.Timestamp(month)])[0]
