"""VINs (ISO 3779 check digit) and Chinese resident ID numbers (GB 11643, MOD 11-2)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from .parse_base import Distinct, ParsedSeries, arrow_map, is_blank, issues, nfkc

# ----------------------------------------------------------------------------- VIN
VIN_CHARS = r"[A-HJ-NPR-Z0-9]{17}"
_VIN_WEIGHTS = np.array([8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2], dtype=np.float64)
_VIN_VALUE = np.zeros(256, dtype=np.float64)  # ASCII code -> ISO 3779 transliteration
# (float: the weighted sum is a small whole number, and a float matrix product is fast)
_VIN_VALUE[ord("0") : ord("9") + 1] = np.arange(10)
for _c, _v in zip("ABCDEFGHJKLMNPRSTUVWXYZ", [*range(1, 9), *range(1, 6), 7, 9, *range(2, 10)]):
    _VIN_VALUE[ord(_c)] = _v


def _vin_checks_ok(vins: np.ndarray) -> np.ndarray:
    """Check-digit test for an array of 17-character VIN candidates (ASCII only)."""
    if len(vins) == 0:
        return np.zeros(0, dtype=bool)
    buf = np.frombuffer("".join(vins).encode("ascii"), dtype=np.uint8).reshape(-1, 17)
    rem = (_VIN_VALUE[buf] @ _VIN_WEIGHTS).astype(np.int64) % 11
    expected = np.where(rem == 10, ord("X"), rem + ord("0"))
    return expected == buf[:, 8]


def _norm_vin(t: pd.Series) -> pd.Series:
    return t.str.upper().str.replace(r"[\s\-_]", "", regex=True)


def vin_check_digit_ok(vin: str) -> bool:
    """True when ``vin`` is 17 valid characters with a correct ISO 3779 check digit."""
    v = re.sub(r"[\s\-_]", "", unicodedata.normalize("NFKC", str(vin)).upper())
    return bool(re.fullmatch(VIN_CHARS, v)) and bool(_vin_checks_ok(np.array([v]))[0])


def parse_vin(raw: pd.Series) -> ParsedSeries:
    """VINs normalised (kept even when invalid: they still identify the vehicle)."""
    d = Distinct.of(raw)
    t = d.nfkc()
    plain = d.plain()
    blank = is_blank(t, plain=plain)
    v = np.empty(len(t), dtype=object)
    shaped = np.zeros(len(t), dtype=bool)
    if plain.any():  # no white space in a plain text: the same in pyarrow, faster
        v[plain] = arrow_map(t, plain, lambda a: pc.replace_substring_regex(
            pc.ascii_upper(a), r"[\-_]", ""), same=True, arrow=d.arrow())
        shaped[plain] = arrow_map(v, plain, lambda a: pc.match_substring_regex(
            a, f"^{VIN_CHARS}$"))
    odd = ~plain
    if odd.any():
        v[odd] = _norm_vin(t[odd]).to_numpy(dtype=object)
        shaped[odd] = pd.Series(v[odd], dtype=object).str.fullmatch(VIN_CHARS).to_numpy(
            dtype=bool)
    blank |= v == ""
    shaped &= ~blank
    good = np.zeros(len(d), dtype=bool)
    good[shaped] = _vin_checks_ok(v[shaped])
    issue = issues(len(d))
    issue[shaped & ~good] = "vin_check_digit"
    issue[~shaped & ~blank] = "vin_invalid"
    v[blank] = None
    return d.result(v, issue)


# ----------------------------------------------------------------------- ID numbers
_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_ID_CHECK = np.frombuffer(b"10X98765432", dtype=np.uint8)


@dataclass(frozen=True)
class IdResult:
    """Normalised ID numbers, the birthday they carry (NaT if none), an issue code."""

    values: pd.Series
    birthday: pd.Series
    issue: pd.Series


def id_check_char(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character for the first 17 digits of an ID number."""
    total = sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS))
    return "10X98765432"[total % 11]


def _birthdays(yyyymmdd: pd.Series) -> np.ndarray:
    d = pd.to_datetime(yyyymmdd, format="%Y%m%d", errors="coerce")
    # A fixed window, not the clock: parsers never read today's date (rules take as_of).
    ok = (d.dt.year >= 1900) & (d.dt.year < 2100)
    return d.where(ok).to_numpy(dtype="datetime64[ns]")


def parse_id_number(raw: pd.Series) -> IdResult:
    """ID numbers (kept, normalised) and the birthday in 15- and 18-digit ones."""
    d = Distinct.of(raw)
    t = d.nfkc()
    blank = is_blank(t)
    v = t.str.upper().str.replace(r"\s", "", regex=True)
    blank |= (v == "").to_numpy()
    n18 = v.str.fullmatch(r"[0-9]{17}[0-9X]").to_numpy(dtype=bool) & ~blank
    n15 = v.str.fullmatch(r"[0-9]{15}").to_numpy(dtype=bool) & ~blank
    bday = np.full(len(d), np.datetime64("NaT"), dtype="datetime64[ns]")
    check_ok = np.zeros(len(d), dtype=bool)
    if n18.any():
        s18 = v[n18]
        buf = np.frombuffer("".join(s18).encode("ascii"), dtype=np.uint8).reshape(-1, 18)
        expected = _ID_CHECK[((buf[:, :17] - ord("0")).astype(np.int64) @ _ID_WEIGHTS) % 11]
        check_ok[n18] = expected == buf[:, 17]
        bday[n18] = _birthdays(s18.str[6:14])
    if n15.any():
        check_ok[n15] = True
        bday[n15] = _birthdays("19" + v[n15].str[6:12])
    issue = issues(len(d))
    issue[~(n18 | n15) & ~blank] = "id_invalid"
    issue[(n18 | n15) & check_ok & np.isnat(bday)] = "id_bad_birthday"
    issue[n18 & ~check_ok] = "id_check_failed"
    bday[~check_ok] = np.datetime64("NaT")
    values = v.to_numpy(dtype=object, copy=True)
    values[blank] = None
    return IdResult(
        d.back(values), d.back(bday, dtype="datetime64[ns]", fill=np.datetime64("NaT")),
        d.back(issue),
    )
