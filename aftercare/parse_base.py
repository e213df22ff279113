"""Shared pieces of the value parsers (:mod:`aftercare.parse`).

Every parser works on the *distinct* values of a column (:class:`Distinct`), then maps
the per-value results back onto the rows: DMS columns are often 200k rows with a few
thousand distinct values. Per-row results are Series aligned on the input index; an
``issue`` Series holds ``None`` (fine, or blank) or a reason code from :data:`REASONS`.
"""

from __future__ import annotations

import datetime as dt
import decimal
import numbers
from dataclasses import dataclass

import numpy as np
import pandas as pd

#: reason code -> (Chinese text for a customer-care agent, English text)
REASONS: dict[str, tuple[str, str]] = {
    "date_unparseable": ("无法识别的日期", "unrecognised date"),
    "date_ambiguous": (
        "日期的日、月顺序不明确（如 05/01/2024），请在配置中指定",
        "ambiguous day/month order (e.g. 05/01/2024); set it in the config",
    ),
    "mileage_unparseable": ("无法识别的里程", "unrecognised mileage"),
    "mileage_out_of_range": (
        "里程不合理（小于0或超过200万公里）",
        "mileage out of range (below 0 or above 2,000,000 km)",
    ),
    "phone_masked": (
        "电话号码被隐藏（带*号），无法拨打",
        "phone number is masked (*), cannot be called",
    ),
    "phone_invalid": (
        "没有可拨打的号码（手机，或带区号的座机）",
        "no callable number (a mobile, or a landline with area code)",
    ),
    "vin_check_digit": (
        "车架号第9位校验位不对，请核对",
        "VIN check digit (9th character) is wrong",
    ),
    "vin_invalid": (
        "车架号格式不对（应为17位，不含I、O、Q）",
        "malformed VIN (17 characters, no I, O, Q)",
    ),
    "id_check_failed": ("身份证号最后一位校验位不对", "ID number check character is wrong"),
    "id_bad_birthday": ("身份证号里的出生日期不存在", "ID number holds an impossible birth date"),
    "id_invalid": (
        "身份证号格式不对（应为15位或18位）",
        "malformed ID number (15 or 18 characters)",
    ),
    "bool_unparseable": ("无法识别的是/否", "unrecognised yes/no value"),
    "service_type_unknown": (
        "未知的维修类型，按一般维修处理",
        "unknown service type, treated as repair",
    ),
}

#: cell texts (after NFKC, strip, casefold) that mean "no value" for most fields
BLANK_TOKENS = frozenset(
    {"", "-", "--", "---", "—", "——", "/", "无", "null", "none", "nan", "nat", "n/a", "#n/a"}
)


@dataclass(frozen=True)
class ParsedSeries:
    """Parsed values and a per-row issue code (None when fine or blank)."""

    values: pd.Series
    issue: pd.Series


def kind_of(v) -> str:
    """'str', 'bool', 'dt', 'num' or 'other' for one (non-missing) cell value."""
    if isinstance(v, str):
        return "str"
    if isinstance(v, (bool, np.bool_)):
        return "bool"
    if isinstance(v, (dt.date, np.datetime64)):  # datetime and pd.Timestamp too
        return "dt"
    if isinstance(v, (numbers.Real, decimal.Decimal)):
        return "num"
    return "other"


class Distinct:
    """The distinct non-missing values of a column, and the way back to its rows.

    ``pd.factorize`` hashes ``True``, ``1`` and ``1.0`` alike; rows holding a bool are
    split off into their own distinct values so a ``True`` never reads as the number 1.
    """

    def __init__(self, raw: pd.Series):
        if not isinstance(raw, pd.Series):
            raw = pd.Series(raw, dtype=object)
        self.index = raw.index
        self.name = raw.name
        obj = raw.to_numpy(dtype=object, na_value=None)
        try:
            codes, uniq = pd.factorize(obj)
        except TypeError:  # unhashable cells (lists…): not a cell value; use their text
            obj = np.array([v if _hashable(v) else str(v) for v in obj], dtype=object)
            codes, uniq = pd.factorize(obj)
        uniq = list(uniq)
        kinds = [kind_of(v) for v in uniq]  # one call per distinct value
        clash = [i for i, v in enumerate(uniq) if kinds[i] in ("bool", "num") and v in (0, 1)]
        if clash:  # re-code those rows as one of 0, 1, False, True by their real type
            rows = np.flatnonzero(np.isin(codes, clash))
            vals = pd.Series(obj[rows], dtype=object)
            isbool = vals.map(type).isin([bool, np.bool_]).to_numpy()
            key = isbool * 2 + vals.to_numpy(dtype="float64").astype(int)
            codes[rows] = len(uniq) + key
            uniq += [0, 1, False, True]
            kinds += ["num", "num", "bool", "bool"]
        self.codes = codes
        self.uniq = pd.Series(uniq, dtype=object)
        self.kind = np.array(kinds, dtype=object)

    def __len__(self) -> int:
        return len(self.uniq)

    def texts(self) -> pd.Series:
        """Every distinct value as text (object Series); integral floats lose their '.0'."""
        out = self.uniq.astype(str).astype(object)
        num = self.kind == "num"
        if num.any():
            out[num] = out[num].str.replace(r"^(-?[0-9]+)\.0+$", r"\1", regex=True)
        return out

    def floats(self, mask) -> np.ndarray:
        """The numeric distinct values (``mask``) as float64; NaN where not convertible."""
        sub = self.uniq[mask]
        try:
            return sub.to_numpy(dtype="float64")
        except (TypeError, ValueError, OverflowError):
            return np.array([_float(v) for v in sub], dtype="float64")

    def back(self, values, *, dtype=object, fill=None) -> pd.Series:
        """Map per-distinct ``values`` back onto the rows (missing rows get ``fill``)."""
        arr = np.asarray(values, dtype=dtype)
        arr = np.concatenate([arr, np.array([fill], dtype=dtype)])
        taken = arr[np.where(self.codes < 0, len(arr) - 1, self.codes)]
        return pd.Series(taken, index=self.index, dtype=dtype, name=self.name)

    def result(self, values, issue, *, dtype=object, fill=None) -> ParsedSeries:
        return ParsedSeries(self.back(values, dtype=dtype, fill=fill), self.back(issue))


def _hashable(v) -> bool:
    try:
        hash(v)
    except TypeError:
        return False
    return True


def _float(v) -> float:
    try:
        return float(v)
    except (TypeError, ValueError, OverflowError):
        return float("nan")


def issues(n: int) -> np.ndarray:
    """A fresh per-distinct-value issue array (all None)."""
    return np.full(n, None, dtype=object)


def nfkc(texts: pd.Series) -> pd.Series:
    """NFKC-normalised, stripped text (object Series)."""
    return texts.str.normalize("NFKC").str.strip().astype(object)


def is_blank(texts: pd.Series, tokens=BLANK_TOKENS) -> np.ndarray:
    """Which normalised texts mean 'no value'."""
    return texts.str.casefold().isin(tokens).to_numpy(dtype=bool, copy=True)
