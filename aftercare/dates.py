"""Turning the user's date words into dates. Only the CLI calls these with the clock;
everything else takes explicit dates."""

from __future__ import annotations

import datetime as dt
import re

from aftercare.errors import UsageError


def today() -> dt.date:
    return dt.date.today()


def resolve_as_of(value: str | None, *, clock: dt.date | None = None) -> dt.date:
    """`YYYY-MM-DD`, `today`, or None (today)."""
    now = clock or today()
    if value is None or value == "today":
        return now
    return parse_day(value, option="--as-of", clock=now)


def parse_day(value: str, *, option: str, clock: dt.date | None = None) -> dt.date:
    now = clock or today()
    if value == "today":
        return now
    if value == "tomorrow":
        return now + dt.timedelta(days=1)
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value or ""):
        raise UsageError(f"{option} 应为 YYYY-MM-DD，收到 '{value}' ({option} must be YYYY-MM-DD)")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{option} 不是有效日期: '{value}' ({option}: no such date)") from None


def parse_month(value: str, *, clock: dt.date | None = None) -> dt.date:
    """`YYYY-MM`, `this`, `next`, `prev` → the first day of that month."""
    now = clock or today()
    first = now.replace(day=1)
    if value == "this":
        return first
    if value == "next":
        return (first + dt.timedelta(days=32)).replace(day=1)
    if value == "prev":
        return (first - dt.timedelta(days=1)).replace(day=1)
    m = re.fullmatch(r"(\d{4})-(\d{2})", value or "")
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise UsageError(
            f"--month 应为 YYYY-MM、this、next 或 prev，收到 '{value}' "
            "(--month must be YYYY-MM, this, next or prev)"
        )
    return dt.date(int(m.group(1)), int(m.group(2)), 1)
