"""Per-brand and per-model service schedules."""

import pandas as pd

from aftercare.config import defaults, merge
from aftercare.rules.schedule import vehicle_schedule


def test_brand_spellings_models_and_defaults():
    """丰田 spellings get Toyota's schedule, a configured model its own, others defaults."""
    cfg = merge(defaults(), {"schedule": {"brands": {"丰田": {"models": {
        "凯美瑞": {"interval_km": 7000}}}}}})
    v = pd.DataFrame({"brand": ["广汽丰田", "Toyota", "一汽丰田", "奇瑞", None, "丰田"],
                      "model": ["雷凌", "", "卡罗拉", "", "", "凯美瑞"]})
    s = vehicle_schedule(v, cfg)
    assert list(s["interval_km"]) == [10000, 10000, 10000, 5000, 5000, 7000]
    assert list(s["schedule_brand"]) == ["丰田", "丰田", "丰田", None, None, "丰田"]
    assert list(s["first_service_months"]) == [6, 6, 6, 3, 3, 6]


def test_empty_fleet_and_dtypes():
    """No vehicles: an empty frame with every key; integer keys stay integers."""
    cfg = defaults()
    s = vehicle_schedule(pd.DataFrame({"brand": pd.Series([], dtype=object)}), cfg)
    assert len(s) == 0 and "interval_km" in s and "schedule_brand" in s
    s = vehicle_schedule(pd.DataFrame({"brand": ["丰田", "奇瑞"]}, index=[7, 3]), cfg)
    assert list(s.index) == [7, 3] and s["interval_km"].dtype.kind == "i"
