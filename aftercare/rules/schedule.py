"""Per-vehicle service schedule (02-rules.md, "Service schedule"): the defaults of
``[schedule]``, overridden per brand and per model from ``[schedule.brands]``. Brand
matching accepts every spelling listed in ``names`` (丰田, Toyota, 广汽丰田 …), whole value
first, else the longest listed name contained in the value (`一汽丰田卡罗拉` → 丰田)."""

from __future__ import annotations

import unicodedata

import numpy as np
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
    # work on the distinct (brand, model) pairs only: a store has a few dozen
    codes, pairs = pd.factorize(pd.MultiIndex.from_arrays([brands, models]))
    chosen: list[dict] = []
    brand_of: list[str | None] = []
    for b, m in pairs:  # loop over distinct pairs, not rows
        spec, model_spec = _match(table, names, b, m)
        chosen.append(model_spec or spec or cfg["schedule"])
        brand_of.append(spec["brand"] if spec is not None else None)
    out = pd.DataFrame(
        {k: pd.Series([c[k] for c in chosen], dtype=object).infer_objects().to_numpy()[codes]
         for k in SCHEDULE_KEYS}, index=vehicles.index)
    out["schedule_brand"] = pd.Series(np.array(brand_of + [None], dtype=object)[codes],
                                      index=vehicles.index, dtype=object)
    return out


def _match(table: dict, names: list[str], b: str, m: str):
    """The brand's spec and the model's (or None) for one brand and model text."""
    nb = _norm(b)
    if not nb:
        return None, None
    spec = table.get(nb) or next((table[n] for n in names if n and n in nb), None)
    if spec is None:
        return None, None
    nm = _norm(m)
    model_spec = spec["models"].get(nm) or next(
        (v for k, v in sorted(spec["models"].items(), key=lambda kv: -len(kv[0]))
         if k and k in nm), None)
    return spec, model_spec
