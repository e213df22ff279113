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
import pyarrow as pa
import pyarrow.compute as pc

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


def _kinds(values: np.ndarray) -> np.ndarray:
    """:func:`kind_of` of each value (object array). It depends on the value's type
    alone, so it is asked once per type (a column holds a handful), not once per value."""
    types = np.empty(len(values), dtype=object)
    types[:] = [type(v) for v in values]
    codes, _ = pd.factorize(types)  # numbered in order of first appearance
    _, first = np.unique(codes, return_index=True)
    return np.array([kind_of(values[i]) for i in first], dtype=object)[codes]


class Distinct:
    """The distinct non-missing values of a column, and the way back to its rows.

    ``pd.factorize`` hashes ``True``, ``1`` and ``1.0`` alike; rows holding a bool are
    split off into their own distinct values so a ``True`` never reads as the number 1.

    A text column (pandas ``str``/``string`` dtype: what every CSV column is) takes
    shortcuts with the same results: its kinds are 'str' without a look at each value,
    and when nearly every value differs (VINs, RO numbers, timestamps) it is not hashed
    at all: each row is its own value (``rowwise``). The texts and their NFKC form are
    computed once and kept, so several parsers can share one ``Distinct``.
    """

    def __init__(self, raw: pd.Series):
        if not isinstance(raw, pd.Series):
            raw = pd.Series(raw, dtype=object)
        self.index = raw.index
        self.name = raw.name
        self.rowwise = False
        self._texts = self._nfkc = self._plain = self._arrow = self._uniq = None
        self._memo: dict = {}
        if is_text_dtype(raw.dtype):
            self._init_text(raw)
            return
        obj = raw.to_numpy(dtype=object, na_value=None)
        try:
            codes, uniq = pd.factorize(obj)
        except TypeError:  # unhashable cells (lists…): not a cell value; use their text
            obj = np.array([v if _hashable(v) else str(v) for v in obj], dtype=object)
            codes, uniq = pd.factorize(obj)
        uniq = np.asarray(uniq, dtype=object)
        kinds = _kinds(uniq)
        clash = np.flatnonzero((kinds == "bool") | (kinds == "num"))
        if len(clash):
            sub = uniq[clash]
            clash = clash[(sub == 0) | (sub == 1)]  # True == 1: hashed alike
        if len(clash):  # re-code those rows as one of 0, 1, False, True by their real type
            rows = np.flatnonzero(np.isin(codes, clash))
            vals = pd.Series(obj[rows], dtype=object)
            isbool = vals.map(type).isin([bool, np.bool_]).to_numpy()
            key = isbool * 2 + vals.to_numpy(dtype="float64").astype(int)
            codes[rows] = len(uniq) + key
            uniq = np.concatenate([uniq, np.array([0, 1, False, True], dtype=object)])
            kinds = np.concatenate([kinds, np.array(["num", "num", "bool", "bool"],
                                                    dtype=object)])
        self.codes = codes
        self.uniq = pd.Series(uniq, dtype=object)
        self.kind = kinds

    def _init_text(self, raw: pd.Series) -> None:
        # in pyarrow: only the distinct values become Python objects, not every row's
        arr = raw.array.__arrow_array__()
        arr = arr.chunk(0) if arr.num_chunks == 1 else arr.combine_chunks()
        n = len(arr)
        valid = arr.drop_null() if arr.null_count else arr
        if _mostly_unique(valid):
            self.rowwise = True
            codes = np.full(n, -1, dtype=np.intp)
            if arr.null_count:
                present = np.flatnonzero(arr.is_valid().to_numpy(zero_copy_only=False))
            else:
                present = slice(None)
            codes[present] = np.arange(len(valid), dtype=np.intp)
            self._arrow = valid
        else:
            enc = arr.dictionary_encode()
            codes = enc.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.intp)
            self._arrow = enc.dictionary
        self.codes = codes
        # the distinct texts become Python strs only when a parser asks for them
        # (:attr:`uniq`): an all-plain text column is normalised in Arrow from end to end
        # (normalise_text), and an RO export's 850k RO numbers never become strs
        self.kind = np.full(len(self._arrow), "str", dtype=object)

    @property
    def uniq(self) -> pd.Series:
        """The distinct values (object Series). Do not modify it in place."""
        if self._uniq is None:  # a text column's, made from its Arrow array on demand
            self._uniq = pd.Series(self._arrow.to_numpy(zero_copy_only=False), dtype=object)
            if self._texts is None:
                self._texts = self._uniq  # str(v) is v for a str
        return self._uniq

    @uniq.setter
    def uniq(self, values: pd.Series) -> None:
        self._uniq = values

    @classmethod
    def of(cls, raw) -> "Distinct":
        """``raw`` itself when it is a Distinct already (shared by several parsers)."""
        return raw if isinstance(raw, Distinct) else cls(raw)

    def take(self, keep) -> "Distinct":
        """The same distinct values for a subset of the rows (boolean mask over rows)."""
        keep = np.asarray(keep, dtype=bool)
        out = object.__new__(Distinct)
        out.__dict__.update(self.__dict__)
        out.index = self.index[keep]
        out.codes = self.codes[keep]
        return out

    def __len__(self) -> int:
        return len(self.kind)

    def texts(self) -> pd.Series:
        """Every distinct value as text (object Series); integral floats lose their '.0'.
        Computed once; do not modify the result in place."""
        if self._texts is None and self._arrow is not None and self._uniq is None:
            return self.uniq  # a text column's: its texts are its values (set there)
        if self._texts is None:
            out = self.uniq.astype(str).astype(object)
            num = self.kind == "num"
            if num.any():  # in Arrow (RE2): an xlsx mileage column is 50k numbers
                t = pa.array(out[num].to_numpy(), type=pa.string())
                t = pc.replace_substring_regex(t, r"^(-?[0-9]+)\.0+$", r"\1")
                out[num] = t.to_numpy(zero_copy_only=False)
            self._texts = out
        return self._texts

    def memo(self, key: str, compute):
        """``compute()`` (a per-distinct-value result), computed once per ``key``."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def plain(self) -> np.ndarray:
        """Which texts are :func:`plain_mask` plain. Computed once."""
        if self._plain is None:
            self._plain = plain_mask(self._arrow if self._arrow is not None else self.texts())
        return self._plain

    def arrow(self) -> pa.Array | None:
        """The distinct texts as a pyarrow array, when they came from one (else None)."""
        return self._arrow

    def nfkc(self) -> pd.Series:
        """:func:`nfkc` of :meth:`texts` (computed once; do not modify in place)."""
        if self._nfkc is None:
            self._nfkc = nfkc(self.texts(), self.plain())
        return self._nfkc

    def floats(self, mask) -> np.ndarray:
        """The numeric distinct values (``mask``) as float64; NaN where not convertible."""
        sub = self.uniq[mask]
        try:
            return sub.to_numpy(dtype="float64")
        except (TypeError, ValueError, OverflowError):
            return np.array([_float(v) for v in sub], dtype="float64")

    def back(self, values, *, dtype=object, fill=None, text: bool = False) -> pd.Series:
        """Map per-distinct ``values`` back onto the rows (missing rows get ``fill``).
        ``text``: they are texts, wanted Arrow-backed (:meth:`back_text`)."""
        if text:
            return self.back_text(values, fill=fill)
        arr = np.asarray(values, dtype=dtype)
        arr = np.concatenate([arr, np.array([fill], dtype=dtype)])
        taken = arr[np.where(self.codes < 0, len(arr) - 1, self.codes)]
        return pd.Series(taken, index=self.index, dtype=dtype, name=self.name)

    def back_text(self, values, *, fill: str | None = None) -> pd.Series:
        """:meth:`back` for per-distinct text (str or None; missing rows get ``fill``), as
        an Arrow-backed ``str`` Series (:data:`aftercare.frames.TEXT`, as the parse's text
        columns end up anyway: :func:`aftercare.frames.to_arrow_text`). Each distinct text
        goes to Arrow once and the rows are taken in Arrow: a row-by-row object column,
        turned into Arrow afterwards, cost a 650k-row RO export ~0.7 s more. ``values``
        may be a pyarrow string array already. Values that are not all text are mapped
        back as objects (:meth:`back`)."""
        from aftercare.frames import TEXT, all_str_or_none

        if isinstance(values, pa.Array) and fill is None:  # the texts in Arrow already
            texts = values.cast(pa.large_string())
        else:
            arr = np.asarray(values, dtype=object)
            if fill is not None and not isinstance(fill, str) or not all_str_or_none(arr):
                return self.back(arr, fill=fill)
            texts = pa.array(np.append(arr, fill) if fill is not None else arr,
                             type=pa.large_string())
        codes = self.codes
        if fill is not None:
            taken = texts.take(np.where(codes < 0, len(arr), codes))
        else:
            taken = texts.take(pa.array(codes, mask=codes < 0))
        return pd.Series(TEXT.__from_arrow__(taken), index=self.index, name=self.name,
                         copy=False)

    def result(self, values, issue, *, dtype=object, fill=None,
               text: bool = False) -> ParsedSeries:
        return ParsedSeries(self.back(values, dtype=dtype, fill=fill, text=text),
                            self.back(issue))


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


def nfkc(texts: pd.Series, plain: np.ndarray | None = None) -> pd.Series:
    """NFKC-normalised, stripped text (object Series). ``plain``: :func:`plain_mask` of
    ``texts`` if known (those stay as they are)."""
    if plain is None:
        plain = plain_mask(texts)
    if plain.all():
        return texts.astype(object)
    out = texts.astype(object)
    odd = ~plain
    out[odd] = texts[odd].str.normalize("NFKC").str.strip().astype(object)
    return out


def is_blank(texts: pd.Series, tokens=BLANK_TOKENS, plain: np.ndarray | None = None) -> np.ndarray:
    """Which normalised texts mean 'no value'. ``plain``: which texts are known plain."""
    if plain is None or not plain.any():
        return texts.str.casefold().isin(tokens).to_numpy(dtype=bool, copy=True)
    out = np.zeros(len(texts), dtype=bool)
    out[plain] = arrow_map(texts, plain, lambda a: pc.is_in(
        pc.ascii_lower(a), value_set=pa.array(sorted(tokens), type=pa.large_string())))
    odd = ~plain
    if odd.any():
        out[odd] = texts[odd].str.casefold().isin(tokens).to_numpy(dtype=bool)
    return out


def arrow_map(texts, mask: np.ndarray, fn, *, same: bool = False, arrow=None) -> np.ndarray:
    """``fn`` (pyarrow compute on a string array) over ``texts[mask]``, as numpy.
    ``same``: where the result equals the text, keep the text's own str object (so a
    value that needs no change is not held twice in memory). ``arrow``: ``texts`` as a
    pyarrow array already, if at hand."""
    old = np.asarray(texts, dtype=object)[mask]
    arr = arrow.filter(pa.array(mask)) if arrow is not None else pa.array(
        old, type=pa.large_string())
    new = fn(arr).to_numpy(zero_copy_only=False)
    if same:
        new = np.where(new == old, old, new)
    return new


#: every character Python's ``str.isspace`` (and so ``re``'s ``\s`` and ``str.strip``)
#: counts as white space, as a pattern for pyarrow's RE2 (whose ``\s`` is ASCII only)
SPACE_CLASS = "".join(
    f"\\x{{{c:x}}}" for c in range(0x10000) if chr(c).isspace()  # none above
)


def _to_arrow(texts) -> pa.Array | None:
    """Texts as a pyarrow string array; None when pyarrow cannot take them (e.g. a lone
    surrogate) or they are not all str."""
    if isinstance(texts, (pa.Array, pa.ChunkedArray)):
        return texts
    try:
        return pa.array(np.asarray(texts, dtype=object), type=pa.large_string())
    except (pa.ArrowException, TypeError, ValueError, UnicodeError):
        return None


#: plain text: printable ASCII (no space) and CJK unified ideographs (U+4E00–U+9FFF)
_PLAIN = r"^[\x21-\x7e\x{4e00}-\x{9fff}]*$"


def plain_mask(texts) -> np.ndarray:
    """Which texts are plain (:data:`_PLAIN`). NFKC and ``strip`` leave a plain text as
    it is, ``\\s`` finds nothing in it, ``upper``/``casefold`` change only its ASCII
    letters: so pyarrow's ASCII string functions and RE2 patterns of ASCII classes give
    on it what Python's give (tests/test_parse_fast.py checks this)."""
    arr = _to_arrow(texts)
    if arr is None:
        return np.zeros(len(texts), dtype=bool)
    return pc.match_substring_regex(arr, _PLAIN).to_numpy(zero_copy_only=False).astype(bool)


def is_text_dtype(dtype) -> bool:
    """pandas' ``str``/``string`` dtypes with pyarrow storage: every value a str."""
    return isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"


_SAMPLE = 16384


def _mostly_unique(values: pa.Array) -> bool:
    """Whether (nearly) every value differs, judged on an even sample: then hashing them
    to find the distinct ones would save no work. A column whose values repeat even
    twice on average (VINs on ROs) shows hundreds of repeats in such a sample (the
    birthday paradox), and is hashed: its repeats share one str object."""
    n = len(values)
    if n < 2 * _SAMPLE:
        return False
    sample = values.take(np.arange(0, n, n // _SAMPLE)[:_SAMPLE]).to_pylist()
    return len(set(sample)) >= 0.999 * len(sample)
