"""Phone numbers: normalising, choosing the primary callable number, masking.

A mainland mobile is 11 digits ``1[3-9]…``; a landline is ``0`` + a 2–3-digit area code
+ 7–8 digits (10–12 digits). A cell may hold several numbers (``/ , ; 、 ，`` or spaces):
the first callable one is primary, the other callable ones are kept in ``others``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .frames import join_unique
from .parse_base import Distinct, arrow_map, is_blank, issues, nfkc

MOBILE = r"1[3-9][0-9]{9}"
LANDLINE = r"0[1-9][0-9]{8,10}"
_HARD_SEP = r"[/,;、，；|\n\r]+"
_JUNK = r"[\s\-()\[\]（）]"


@dataclass(frozen=True)
class PhoneResult:
    """Per-row phone parsing result; all Series aligned on the input index."""

    primary: pd.Series  # normalised digits, or None
    primary_type: pd.Series  # 'mobile' | 'landline' | None
    others: pd.Series  # further callable numbers joined by ';', '' when none
    sms_able: pd.Series  # bool: the primary is a mobile
    issue: pd.Series  # None, 'phone_masked' or 'phone_invalid'


def _clean(pieces: pd.Series) -> np.ndarray:
    """One written number -> its digits, without country prefix or float artefacts."""
    raw = pieces.reset_index(drop=True).astype(object).str.strip()
    sci = raw.str.extract(r"^(?P<m>[0-9]\.(?P<f>[0-9]+))[eE]\+?(?P<e>[0-9]{1,2})$")
    exact = sci["f"].str.len().astype("float64") == pd.to_numeric(sci["e"], errors="coerce")
    c = raw.str.replace(_JUNK, "", regex=True).str.replace(r"^([0-9]+)\.0+$", r"\1", regex=True)
    if exact.any():  # 1.3812345678E+10 written by Excel in a CSV: all digits are there
        c[exact] = raw[exact].str.replace(r"^([0-9])\.([0-9]+)[eE]\+?[0-9]+$", r"\1\2", regex=True)
    c = c.str.replace(r"(?:转|ext\.?|x)[0-9]{1,6}$", "", regex=True, flags=re.I)  # extension
    intl = raw.str.match(r"^(?:\+\s*86|0086|86(?=[-\s]))") | c.str.fullmatch(r"86" + MOBILE)
    c = c.where(~intl, c.str.replace(r"^(?:\+86|0086|86)", "", regex=True))
    trunk = intl & ~c.str.fullmatch(MOBILE) & c.str.fullmatch(r"[1-9][0-9]{8,10}")
    return c.where(~trunk, "0" + c).to_numpy(dtype=object)  # +86 755… -> 0755…


def _numbers(texts: pd.Series, plain: np.ndarray | None = None) -> pd.DataFrame:
    """Every written number of every distinct cell: columns u (cell), num, callable…

    ``plain``: which texts are plain (:func:`aftercare.parse_base.plain_mask`): those are
    split and cleaned in Arrow (:func:`_numbers_plain`), the rest in Python. A customer
    with a mobile and a landline column has both in one cell (``a;b``), so most cells
    come here: a dealer group's 500k-customer file spent 1.9 s in Python's string
    methods on them."""
    if plain is None or not plain.any():
        return _numbers_python(texts)
    parts = [_numbers_plain(texts[plain])]
    if not plain.all():
        parts.append(_numbers_python(texts[~plain]))
    frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    # the cells in their order, each cell's numbers in theirs (u: the cells' positions)
    order = np.argsort(frame["u"].to_numpy(), kind="stable")
    return frame.iloc[order].reset_index(drop=True)


def _numbers_python(texts: pd.Series) -> pd.DataFrame:
    """:func:`_numbers` of any texts, with Python's string methods."""
    hard = texts.str.split(_HARD_SEP, regex=True).explode()
    hard = hard[hard.notna() & (hard.str.strip() != "")]
    frame = pd.DataFrame({"u": hard.index, "piece": hard.to_numpy(dtype=object)})
    frame["num"] = _clean(frame["piece"])
    ok = frame["num"].str.fullmatch(f"{MOBILE}|{LANDLINE}")
    split = ~ok & frame["piece"].str.strip().str.contains(r"\s", regex=True)
    if split.any():  # '13812345678 13987654321': numbers separated by spaces only
        soft = frame[split].copy()
        soft["piece"] = soft["piece"].str.strip().str.split(r"\s+", regex=True)
        soft = soft.explode("piece", ignore_index=False)
        soft["num"] = _clean(soft["piece"])
        frame = pd.concat([frame[~split], soft]).sort_index(kind="stable")
    frame = frame[frame["num"] != ""].reset_index(drop=True)
    frame["mobile"] = frame["num"].str.fullmatch(MOBILE).to_numpy(dtype=bool)
    frame["callable"] = frame["mobile"] | frame["num"].str.fullmatch(LANDLINE).to_numpy(dtype=bool)
    frame["masked"] = frame["piece"].str.contains("*", regex=False).to_numpy(dtype=bool)
    return frame


def _whole(pattern: str) -> str:
    """``pattern`` as RE2 matching a whole text (Python's ``fullmatch``)."""
    return f"^(?:{pattern})$"


def _numbers_plain(texts: pd.Series) -> pd.DataFrame:
    """:func:`_numbers_python` of plain texts, in Arrow. A plain text holds no white space
    (so stripping changes nothing and no number is split at spaces) and no full-width
    forms; the patterns are those of :func:`_clean`, each of its steps in order."""
    arr = pa.array(texts.to_numpy(dtype=object), type=pa.large_string())
    lists = pc.split_pattern_regex(arr, _HARD_SEP)
    parent = pc.list_parent_indices(lists).to_numpy(zero_copy_only=False)
    pieces = pc.list_flatten(lists)
    keep = pc.not_equal(pieces, "").to_numpy(zero_copy_only=False)
    pieces, parent = pieces.filter(pa.array(keep)), parent[keep]
    num = _clean_plain(pieces)
    keep = pc.not_equal(num, "")
    num, pieces, parent = num.filter(keep), pieces.filter(keep), parent[
        keep.to_numpy(zero_copy_only=False)]
    mobile = pc.match_substring_regex(num, _whole(MOBILE))
    landline = pc.match_substring_regex(num, _whole(LANDLINE))
    frame = pd.DataFrame({
        "u": texts.index.to_numpy()[parent],
        "piece": pieces.to_numpy(zero_copy_only=False).astype(object),
        "num": num.to_numpy(zero_copy_only=False).astype(object),
        "mobile": mobile.to_numpy(zero_copy_only=False).astype(bool),
    })
    frame["callable"] = frame["mobile"].to_numpy() | landline.to_numpy(
        zero_copy_only=False).astype(bool)
    frame["masked"] = pc.match_substring(pieces, "*").to_numpy(zero_copy_only=False).astype(bool)
    return frame


def _clean_plain(raw: pa.Array) -> pa.Array:
    """:func:`_clean` of plain pieces (no white space to strip, no ``\\s`` to find)."""
    sci = pc.extract_regex(raw, r"^(?P<m>[0-9]\.(?P<f>[0-9]+))[eE]\+?(?P<e>[0-9]{1,2})$")
    exact = pc.fill_null(pc.equal(pc.utf8_length(pc.struct_field(sci, "f")),
                                  pc.cast(pc.struct_field(sci, "e"), pa.int64())), False)
    c = pc.replace_substring_regex(raw, _JUNK, "")
    c = pc.replace_substring_regex(c, r"^([0-9]+)\.0+$", r"\1")
    if pc.any(exact).as_py():
        c = pc.if_else(exact, pc.replace_substring_regex(
            raw, r"^([0-9])\.([0-9]+)[eE]\+?[0-9]+$", r"\1\2"), c)
    c = pc.replace_substring_regex(c, r"(?i)(?:转|ext\.?|x)[0-9]{1,6}$", "")
    # Python's '^(?:\+\s*86|0086|86(?=[-\s]))' on a text without white space
    intl = pc.or_(pc.match_substring_regex(raw, r"^(?:\+86|0086|86-)"),
                  pc.match_substring_regex(c, _whole("86" + MOBILE)))
    c = pc.if_else(intl, pc.replace_substring_regex(c, r"^(?:\+86|0086|86)", ""), c)
    trunk = pc.and_(pc.and_(intl, pc.invert(pc.match_substring_regex(c, _whole(MOBILE)))),
                    pc.match_substring_regex(c, _whole(r"[1-9][0-9]{8,10}")))
    zero, none = pa.scalar("0", pa.large_string()), pa.scalar("", pa.large_string())
    return pc.if_else(trunk, pc.binary_join_element_wise(zero, c, none), c)


def parse_phones(raw: pd.Series, *, arrow: bool = False) -> PhoneResult:
    """Phone cells -> primary callable number, its type, the other numbers, an issue.
    ``arrow``: the number, type and other numbers as Arrow-backed text
    (:meth:`Distinct.back_text`: a missing one is NaN), not objects."""
    d = Distinct.of(raw)
    t = d.nfkc()
    n = len(d)
    primary = np.full(n, None, dtype=object)
    ptype = np.full(n, None, dtype=object)
    others = np.full(n, "", dtype=object)
    masked = np.zeros(n, dtype=bool)
    written = np.zeros(n, dtype=bool)
    plain = d.plain()
    blank = is_blank(t, plain=plain)
    # one number written as digits only (most cells): it is the primary number itself
    simple = np.zeros(n, dtype=bool)
    if plain.any():
        simple[plain] = arrow_map(t, plain, lambda a: pc.match_substring_regex(
            a, f"^(?:{MOBILE}|{LANDLINE})$"))
    if simple.any():
        primary[simple] = t[simple].to_numpy(dtype=object)
        ptype[simple] = np.where(t[simple].str.startswith("1").to_numpy(dtype=bool),
                                 "mobile", "landline")
    nums = _numbers(t.where(~blank, "")[~simple], plain[~simple])
    if len(nums):
        u = nums["u"].to_numpy(dtype=int)
        written[u] = True
        masked[u[nums["masked"].to_numpy()]] = True
        cal = nums[nums["callable"]]
        first = cal.drop_duplicates("u")
        fu = first["u"].to_numpy(dtype=int)
        primary[fu] = first["num"].to_numpy(dtype=object)
        ptype[fu] = np.where(first["mobile"].to_numpy(), "mobile", "landline")
        rest = cal.drop(first.index)
        rest = rest[rest["num"].to_numpy() != primary[rest["u"].to_numpy(dtype=int)]]
        rest = rest.drop_duplicates(["u", "num"])
        if len(rest):
            joined = join_unique(rest, "u", "num")  # no Python join per cell
            others[joined.index.to_numpy(dtype=int)] = joined.to_numpy(dtype=object)
    issue = issues(n)
    none = pd.isna(primary)
    issue[none & written & ~masked] = "phone_invalid"
    issue[none & masked] = "phone_masked"
    return PhoneResult(
        primary=d.back(primary, text=arrow),
        primary_type=d.back(ptype, text=arrow),
        others=d.back(others, fill="", text=arrow),
        sms_able=d.back(ptype == "mobile", dtype=bool, fill=False),
        issue=d.back(issue),
    )


# ---------------------------------------------------------------------------- masking
_MASK_JUNK = r"[\s\-()（）]|\.0+$"


def _mask_tail(s: str) -> str:
    """Odd or short strings: keep the last 2 characters when there are 4 or more."""
    return "*" * (len(s) - 2) + s[-2:] if len(s) >= 4 else "*" * len(s)


def _as_str(s) -> str:
    """A single cell as text, the way :meth:`Distinct.texts` writes it."""
    if s is None or (isinstance(s, float) and s != s):
        return ""
    text = str(s).strip()
    return re.sub(r"^(-?[0-9]+)\.0+$", r"\1", text) if isinstance(s, float) else text


def mask_phone(s: str) -> str:
    """'13812341234' -> '138****1234'; first 3 and last 4 kept for 10+ digit numbers."""
    s = _as_str(s)
    compact = re.sub(_MASK_JUNK, "", s)
    if re.fullmatch(r"\+?[0-9]{10,}", compact):
        return compact[:3] + "*" * (len(compact) - 7) + compact[-4:]
    return _mask_tail(s)


def mask_id_number(s: str) -> str:
    """'440301199001011234' -> '4403**********1234'; other strings keep the last 2."""
    s = _as_str(s)
    compact = re.sub(r"\s", "", s)
    if re.fullmatch(r"[0-9]{15}|[0-9]{17}[0-9Xx]", compact):
        return compact[:4] + "*" * (len(compact) - 8) + compact[-4:]
    return _mask_tail(s)


def mask_phones(raw: pd.Series) -> pd.Series:
    """:func:`mask_phone` over a whole column (str; '' for blank cells)."""
    d = Distinct(raw)
    s = d.texts().str.strip()
    compact = s.str.replace(_MASK_JUNK, "", regex=True)
    long = compact.str.fullmatch(r"\+?[0-9]{10,}").to_numpy(dtype=bool)
    tail = s.str.replace(r"[\s\S](?=[\s\S]{2})", "*", regex=True)
    short = s.str.replace(r"[\s\S]", "*", regex=True)
    out = np.where(
        long,
        compact.str.replace(r"(?<=.{3})[0-9](?=[0-9]{4})", "*", regex=True),
        np.where(s.str.len().to_numpy() >= 4, tail, short),
    )
    return d.back(out, fill="")
