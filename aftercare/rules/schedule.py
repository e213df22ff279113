"""Per-vehicle service schedule (02-rules.md, "Service schedule"): the defaults of
``[schedule]``, overridden per brand and per model from ``[schedule.brands]``. Brand
matching accepts every spelling listed in ``names`` (丰田, Toyota, 广汽丰田 …), whole value
first, else the longest listed name contained in the value (`一汽丰田卡罗拉` → 丰田)."""

from __future__ import annotations

import unicodedata

import pandas as pd

from aftercare.config import SCHEDULE_KEYS, brand_schedule


def _norm(s: str) -> str:
    return unicodedata.normalize("NFKC", s).strip().casefold()


def vehicle_schedule(vehicles: pd.DataFrame, cfg: dict) -> pd.DataFrame:
    """One row per vehicle (same index): every schedule key, plus ``schedule_brand``."""
    table = brand_schedule(cfg)
    names = sorted(table, key=len, reverse=True)
    brands = vehicles["brand"].astype("string").fillna("")
    models = vehicles["model"].astype("string").fillna("") if "model" in vehicles else brands
    out = pd.DataFrame({k: cfg["schedule"][k] for k in SCHEDULE_KEYS}, index=vehicles.index)
    out["schedule_brand"] = None
    # work on the distinct (brand, model) pairs only: a store has a few dozen
    pairs = pd.DataFrame({"b": brands, "m": models}).drop_duplicates()
    for b, m in pairs.itertuples(index=False):  # loop over distinct brands, not rows
        nb = _norm(b)
        if not nb:
            continue
        spec = table.get(nb) or next((table[n] for n in names if n and n in nb), None)
        if spec is None:
            continue
        nm = _norm(m)
        model_spec = spec["models"].get(nm) or next(
            (v for k, v in sorted(spec["models"].items(), key=lambda kv: -len(kv[0]))
             if k and k in nm), None)
        chosen = model_spec or spec
        mask = (brands == b) & (models == m)
        for k in SCHEDULE_KEYS:
            out.loc[mask.to_numpy(), k] = chosen[k]
        out.loc[mask.to_numpy(), "schedule_brand"] = spec["brand"]
    return out
