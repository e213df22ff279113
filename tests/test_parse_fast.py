"""The parsers' shortcuts give what their plain per-value paths give.

- text columns (pandas ``str`` dtype, as every CSV column is) skip the per-value type
  look, and nearly-unique ones skip hashing (``Distinct.rowwise``);
- "plain" texts (printable ASCII and CJK ideographs) go through pyarrow's string
  functions instead of Python's;
- dates written exactly ``YYYY-MM-DD[ HH:MM[:SS]]`` are read from their bytes.

Each test runs a parser with and without the shortcuts and compares everything.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import re
import unicodedata
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aftercare import parse, parse_base
from aftercare.parse import _exact_iso, _FAST_FORMATS
from aftercare.parse_base import Distinct, plain_mask

ALPHABET = (
    "0123456789-_./:,，* abcxyzABCXYZ\t\n\x0b\x1c\u3000\xa0·・•ß"
    "粤京测试公司万公里是否无／０１ＡＢ－ｋｍ年月日"
)
texts = st.lists(st.one_of(st.none(), st.text(alphabet=ALPHABET, max_size=12),
                           st.sampled_from(["测试", "TeSt", "-", "null", "#N/A", "粤B12345",
                                            "LSG0F6DM7RF201861", "1M8GDM9AXKP042788",
                                            "2024-01-05", "2024-01-05 09:25:11", "12,345",
                                            "8.7万", "0012", "1480", "13812345678",
                                            "075512345678", "0755-12345678", "138****5678",
                                            "13812345678/13987654321", "+86 13812345678",
                                            "12345678901", "440301199001011234"])),
                 min_size=1, max_size=40)


@contextlib.contextmanager
def no_shortcuts():
    """Nothing counts as plain, so every text goes through Python's string methods."""
    with mock.patch.object(parse_base, "plain_mask", lambda t: np.zeros(len(t), dtype=bool)):
        yield


def _both(fn, values, **kw):
    """fn on a ``str`` column, forced row-wise; and on an object column, no shortcuts."""
    fast_in = pd.Series(values, dtype="str", index=range(10, 10 + len(values)))
    slow_in = pd.Series(values, dtype=object, index=fast_in.index)
    old = parse_base._SAMPLE
    parse_base._SAMPLE = 1  # every column counts as nearly unique: row-wise
    try:
        fast = fn(fast_in, **kw)
    finally:
        parse_base._SAMPLE = old
    fast_hashed = fn(fast_in, **kw)
    with no_shortcuts():
        slow = fn(slow_in, **kw)
    return fast, fast_hashed, slow


def _same(a, b):
    if isinstance(a, pd.Series):
        pd.testing.assert_series_equal(a, b, check_exact=True)
        if a.dtype == object:
            assert [type(v) for v in a] == [type(v) for v in b]
    elif hasattr(a, "__dataclass_fields__"):
        for f in a.__dataclass_fields__:
            _same(getattr(a, f), getattr(b, f))
    else:
        assert a == b


@pytest.mark.parametrize("fn", [
    parse.normalise_text, parse.normalise_plate, parse.parse_vin, parse.parse_mileage,
    parse.parse_bool, parse.parse_id_number, parse.parse_phones, parse.parse_dates,
    parse.parse_datetimes, lambda s: parse.is_test_row(s, s),
])
@settings(max_examples=60, deadline=None)
@given(values=texts)
def test_shortcuts_change_nothing(fn, values):
    fast, hashed, slow = _both(fn, values)
    _same(fast, slow)
    _same(hashed, slow)


def test_plain_is_what_python_does():
    """On plain texts, Python's NFKC/strip/casefold/upper do what the shortcuts assume."""
    cjk = "".join(chr(c) for c in range(0x4E00, 0xA000))
    ascii_ = "".join(chr(c) for c in range(0x21, 0x7F))
    for ch in cjk + ascii_:
        assert unicodedata.normalize("NFKC", ch) == ch and not ch.isspace()
        assert ch.casefold() == ch.lower() and len(ch.upper()) == 1
    assert plain_mask(pd.Series([cjk[:50], ascii_, "", "a b", "ａ", "粤B·1", "\u3000"])).tolist() \
        == [True, True, True, False, False, False, False]


def test_plain_mask_unconvertible_text():
    """A text pyarrow cannot take (a lone surrogate) is simply not plain."""
    assert plain_mask(pd.Series(["abc", "\ud800"], dtype=object)).tolist() == [False, False]


def test_distinct_rowwise_and_take():
    raw = pd.Series(["a", None, "b", "a"] * 5000, dtype="str")
    d = Distinct(raw)
    assert d.rowwise is False and len(d) == 2
    old = parse_base._SAMPLE
    parse_base._SAMPLE = 1
    try:
        r = Distinct(raw)
    finally:
        parse_base._SAMPLE = old
    assert r.rowwise is True and len(r) == 15000
    assert r.back(r.uniq).tolist() == d.back(d.uniq).tolist()
    keep = np.arange(len(raw)) % 3 == 0
    t = d.take(keep)
    assert t.back(t.uniq).tolist() == raw[keep].to_numpy(dtype=object, na_value=None).tolist()
    assert t.index.equals(raw.index[keep])


cells = st.lists(st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3), st.integers(-10**18, 10**18),
    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([
        0.0, -0.0, 1.0, 12345.0, 1e15, 1e16, 2.50, np.float64(7.0), np.int64(1),
        np.bool_(True), np.bool_(False), decimal.Decimal("1"), decimal.Decimal("12.00"),
        decimal.Decimal("1E+3"), dt.date(2024, 1, 5), dt.datetime(2024, 1, 5, 9, 30),
        pd.Timestamp("2024-01-05"), np.datetime64("2024-01-05"), "1", "0", "1.0", "测试"])),
    max_size=40)


@given(cells)
@settings(max_examples=300, deadline=None)
def test_distinct_kinds_and_texts_per_value(values):
    """An object column's kinds (asked once per type) and texts (numbers trimmed in
    Arrow) are those of kind_of() and of str() with a trailing '.0…' cut, value by
    value; 0, 1, False and True stay four values."""
    d = Distinct(pd.Series(values, dtype=object))
    uniq = d.uniq.tolist()
    assert d.kind.tolist() == [parse_base.kind_of(v) for v in uniq]
    want = [re.sub(r"^(-?[0-9]+)\.0+$", r"\1", str(v)) if k == "num" else str(v)
            for v, k in zip(uniq, d.kind)]
    assert d.texts().tolist() == want
    back = d.back(d.uniq).tolist()
    for got, v in zip(back, values):
        if v is None or (isinstance(v, float) and np.isnan(v)):
            assert got is None
        else:
            assert got == v and (type(got) in (bool, np.bool_)) == (type(v) in (bool, np.bool_))


def test_exact_iso_agrees_with_pandas():
    """Every text the byte reader takes, pandas reads the same with _FAST_FORMATS."""
    rng = np.random.default_rng(3)
    parts = [
        rng.choice([1799, 1800, 1900, 2000, 2024, 2100, 2261, 2262, 9999], 5000),
        rng.integers(0, 14, 5000), rng.integers(0, 33, 5000),
        rng.integers(0, 26, 5000), rng.integers(0, 61, 5000), rng.integers(0, 62, 5000),
    ]
    vals = []
    for i, (y, m, d, hh, mm, ss) in enumerate(zip(*parts)):
        base = f"{y:04d}-{m:02d}-{d:02d}"
        vals.append([base, f"{base} {hh:02d}:{mm:02d}", f"{base} {hh:02d}:{mm:02d}:{ss:02d}",
                     f"{base}T{hh:02d}:{mm:02d}", f" {base}", f"{y}/{m}/{d}"][i % 6])
    vals += ["2024-02-29", "2023-02-29", "1900-02-29", "2000-02-29 23:59:59", None, ""]
    s = pd.Series(vals, dtype="str")
    import pyarrow as pa

    got, which = _exact_iso(pa.chunked_array(s.array.__arrow_array__()).combine_chunks())
    want = np.full(len(s), np.datetime64("NaT"), dtype="datetime64[ns]")
    done = np.zeros(len(s), dtype=bool)
    for fmt in _FAST_FORMATS:
        conv = pd.to_datetime(s.where(~done), format=fmt, errors="coerce")
        ok = conv.notna().to_numpy() & ~done
        want[ok] = conv.to_numpy(dtype="datetime64[ns]")[ok]
        done |= ok
    assert which.sum() > 1000
    assert done[which].all()
    assert (got[which] == want[which]).all()


def test_datetimes_some_rows_odd():
    """A column mostly in the usual shape, with a few odd cells: each read as alone."""
    vals = ["2024-01-05 09:25:11"] * 3 + ["2024/1/5 9:25", "20240105", "bad", None, ""]
    whole = parse.parse_datetimes(pd.Series(vals, dtype="str"))
    for i, v in enumerate(vals):
        alone = parse.parse_datetimes(pd.Series([v], dtype=object))
        assert whole.values.iloc[i] is alone.values.iloc[0] or \
            whole.values.iloc[i] == alone.values.iloc[0] or \
            (pd.isna(whole.values.iloc[i]) and pd.isna(alone.values.iloc[0]))
        assert whole.issue.iloc[i] == alone.issue.iloc[0]
    assert whole.values.iloc[3] == pd.Timestamp("2024-01-05 09:25")


def test_amounts_each_distinct_text_once():
    """parse_amount reads each distinct text once; every row still reads as alone."""
    from aftercare.load.tables import parse_amount

    vals = ["1,234.50", "¥1234", "1234元", " 12 ", "-1.00", "abc", "", None, "--", "无",
            "1,234.50", "abc", None]
    for raw in (pd.Series(vals, dtype=object), pd.Series(vals, dtype="str")):
        values, issue = parse_amount(raw)
        assert values.dtype == "float64" and values.index.equals(raw.index)
        for i, v in enumerate(vals):
            one_v, one_i = parse_amount(pd.Series([v], dtype=raw.dtype))
            assert (values.iloc[i] == one_v.iloc[0]) or (np.isnan(values.iloc[i])
                                                         and np.isnan(one_v.iloc[0]))
            assert issue.iloc[i] == one_i.iloc[0]
        assert values.iloc[0] == 1234.5 and issue.iloc[5] == "amount_unparseable"
        assert issue.iloc[7] is None and np.isnan(values.iloc[7])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.none(), st.datetimes(min_value=dt.datetime(1, 1, 1))),
                min_size=1, max_size=12))
def test_datetime64_column_reads_as_its_objects(values):
    """A column of datetime cells becomes datetime64 when pandas builds the frame (xlsx
    dates, Parquet timestamps); its own fast path (no Timestamp object per row) must give
    what the same cells give as objects, values and issues alike. Far years are checked
    in the next test."""
    as_objects = pd.Series(values, dtype=object)
    typed = pd.Series(values)
    if typed.dtype.kind != "M":  # all None
        return
    for fn in (parse.parse_dates, parse.parse_datetimes):
        got, want = fn(typed), fn(as_objects)
        pd.testing.assert_series_equal(got.values, want.values)
        assert got.issue.tolist() == want.issue.tolist()


def test_datetime64_out_of_range_years_are_issues():
    far = pd.Series([dt.datetime(2024, 1, 5, 10, 30), dt.datetime(9999, 1, 1), None])
    assert far.dtype.kind == "M"
    res = parse.parse_datetimes(far)
    assert res.values.tolist()[0] == pd.Timestamp("2024-01-05 10:30")
    assert pd.isna(res.values.iloc[1]) and res.issue.tolist() == [None, "date_unparseable", None]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.none(), st.dates(), st.datetimes(min_value=dt.datetime(1, 1, 1)),
                          st.sampled_from(["2024/1/5", "bad", ""])), min_size=1, max_size=12))
def test_date_objects_take_the_fast_pass_and_read_as_the_per_value_path(values):
    """calamine gives a date cell without a time of day as ``datetime.date``: the fast
    pass reads those in C, with what the per-value path gives (values and issues), far
    years and Excel's day 0 included."""
    raw = pd.Series(values, dtype=object)
    for fn, slow in ((parse.parse_dates, parse._parse_dates_slow),
                     (parse.parse_datetimes, parse._parse_datetimes_slow)):
        got, want = fn(raw), slow(raw, dayfirst=False)
        pd.testing.assert_series_equal(got.values, want.values)
        assert got.issue.tolist() == want.issue.tolist()
    _, handled = parse._fast_pass(raw)
    usual = np.array([type(v) is dt.date and 1900 <= v.year <= 2100 for v in values])
    assert handled[usual].all()


@settings(max_examples=80, deadline=None)
@given(st.lists(st.one_of(st.none(), st.just(float("nan")), st.floats(allow_nan=False),
                          st.integers(min_value=-10**18, max_value=10**18)),
                min_size=0, max_size=12),
       st.sampled_from(["object", "float64", "Float64"]))
def test_amounts_already_numbers_read_as_their_text(values, dtype):
    """Number cells (xlsx, Parquet doubles) skip the text pass; they must read as their
    text would, values and issues alike, whatever their dtype. Cells with a bool or a
    text among them keep the text pass."""
    from aftercare.load.tables import _all_numbers, _amount_from_text, parse_amount

    if dtype == "object":
        raw = pd.Series(values, dtype=object)
    else:
        raw = pd.Series([np.nan if v is None else float(v) for v in values], dtype=dtype)
    assert _all_numbers(raw)
    fast_v, fast_i = parse_amount(raw)
    text_v, text_i = _amount_from_text(raw)
    pd.testing.assert_series_equal(fast_v, text_v)
    pd.testing.assert_series_equal(fast_i, text_i)
    for odd in (True, "12元", ""):
        assert not _all_numbers(pd.Series([*values, odd], dtype=object))
    assert not _all_numbers(pd.Series([True, False]))


PHONE_ALPHABET = "0123456789;/,，、|+-()（）[]*.xXeEt转 \u3000\t０１"
phone_texts = st.lists(st.one_of(
    st.none(), st.text(alphabet=PHONE_ALPHABET, max_size=30),
    st.sampled_from(["13812345678;075512345678", "+86 138 1234 5678", "+8613812345678",
                     "0086-13812345678", "86-755-12345678", "1.3812345678E+10",
                     "13812345678.0", "(0755)1234567转88", "0755-12345678ext12",
                     "138****5678;13912345678", ";;13912345678;;13912345678",
                     "13812345678 13987654321", "755123456789", "+86755123456789",
                     "0755-12345678X12", "13812345678EXT.5", "13812345678Ext9"])),
    min_size=1, max_size=30)


@settings(max_examples=150, deadline=None)
@given(values=phone_texts)
def test_phone_numbers_in_arrow_are_pythons(values):
    """Plain phone cells are split and cleaned in Arrow (parse_phone._numbers_plain);
    they must give what Python's string methods give, number by number and cell by
    cell, whatever the separators, prefixes, extensions and masks."""
    from aftercare.parse_phone import _numbers, _numbers_python

    t = pd.Series([v or "" for v in values], dtype=object)
    # the texts as objects: Python's path gives pandas' str dtype for some cells alone
    texts = {"piece": object, "num": object}
    got, want = _numbers(t, plain_mask(t)), _numbers_python(t)
    if len(want):
        pd.testing.assert_frame_equal(got.astype(texts), want.astype(texts))
    else:  # no number at all: the dtypes of an empty frame say nothing
        assert len(got) == 0 and list(got.columns) == list(want.columns)
    fast, hashed, slow = _both(parse.parse_phones, values)
    _same(fast, slow)
    _same(hashed, slow)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(alphabet="0123456789", min_size=8, max_size=8)
                | st.builds(lambda y, m, d: f"{y:04d}{m:02d}{d:02d}", st.integers(1850, 2150),
                            st.integers(0, 13), st.integers(0, 32)), min_size=1, max_size=30))
def test_id_birthdays_from_digits_are_to_datetimes(dates):
    """ID numbers' birthdays are read from their digit codes: the dates pandas reads
    from the text with %Y%m%d, NaT for impossible days and outside 1900-2099; and the
    15-digit form's YYMMDD in the 1900s."""
    from aftercare.parse_ids import _birthdays_of

    def by_text(texts):
        d = pd.to_datetime(pd.Series(texts), format="%Y%m%d", errors="coerce")
        ok = (d.dt.year >= 1900) & (d.dt.year < 2100)
        return d.where(ok).to_numpy(dtype="datetime64[ns]")

    ids = ["110105" + d + "0000" for d in dates]
    buf = np.frombuffer("".join(ids).encode("ascii"), dtype=np.uint8).reshape(-1, 18)
    np.testing.assert_array_equal(_birthdays_of(buf, 6), by_text(dates))
    short = ["110105" + d[2:] + "000" for d in dates]
    buf = np.frombuffer("".join(short).encode("ascii"), dtype=np.uint8).reshape(-1, 15)
    np.testing.assert_array_equal(_birthdays_of(buf, 6, century=1900),
                                  by_text(["19" + d[2:] for d in dates]))


id_texts = st.lists(st.one_of(
    st.none(), st.text(alphabet="0123456789Xx -\u3000０１", min_size=14, max_size=19),
    st.sampled_from(["11010519491231002X", "11010519491231002x", "110105194912310021",
                     "110105491231002", "110105 19491231 002X", "１１０１０５１９４９１２３１００２Ｘ",
                     "440301199002301234", "440301210001011234", "-", "无"])),
    min_size=1, max_size=30)


@settings(max_examples=100, deadline=None)
@given(values=id_texts)
def test_id_numbers_shortcuts_change_nothing(values):
    """ID numbers: plain texts in Arrow and the birthday from the digits give what
    Python's string methods and a per-text date parse give."""
    fast, hashed, slow = _both(parse.parse_id_number, values)
    _same(fast, slow)
    _same(hashed, slow)


# ------------------------------------------------------------- text results in Arrow
ARROW_FIELDS = {  # the parser → which of its results are text (Arrow-backed with arrow=True)
    parse.normalise_text: [None], parse.normalise_plate: [None],
    parse.parse_vin: ["values"], parse.map_service_type: ["values"],
    parse.parse_id_number: ["values"],
    parse.parse_phones: ["primary", "primary_type", "others"],
}


def _objects(s: pd.Series) -> pd.Series:
    """An Arrow-backed text Series as the object Series it stands for (NaN → None)."""
    return pd.Series(s.to_numpy(dtype=object, na_value=None), index=s.index, name=s.name,
                     dtype=object)


@pytest.mark.parametrize("fn", list(ARROW_FIELDS), ids=lambda f: f.__name__)
@settings(max_examples=60, deadline=None)
@given(values=texts)
def test_text_results_in_arrow_are_the_objects(fn, values):
    """``arrow=True`` (the loader's way: Distinct.back_text) gives the same texts as
    Arrow-backed ``str``; every other result is unchanged."""
    from aftercare.frames import TEXT

    for dtype in ("str", object):
        raw = pd.Series(values, dtype=dtype, index=range(3, 3 + len(values)))
        got, want = fn(raw, arrow=True), fn(raw)
        for field in ARROW_FIELDS[fn]:
            a = got if field is None else getattr(got, field)
            b = want if field is None else getattr(want, field)
            assert a.dtype == TEXT, field
            _same(_objects(a), b)
        if field is not None:
            for other in got.__dataclass_fields__:
                if other not in ARROW_FIELDS[fn]:
                    _same(getattr(got, other), getattr(want, other))


def test_back_text_fill_and_non_text():
    from aftercare.frames import TEXT

    d = Distinct(pd.Series(["b", None, "a", "b", None], index=[7, 8, 9, 10, 11], dtype=object))
    uniq = d.uniq.tolist()
    texts = np.array([v.upper() for v in uniq], dtype=object)
    got = d.back_text(texts)
    assert got.dtype == TEXT and list(got.index) == [7, 8, 9, 10, 11]
    assert _objects(got).tolist() == ["B", None, "A", "B", None]
    assert d.back_text(texts, fill="").tolist() == ["B", "", "A", "B", ""]
    assert d.back_text(np.array([None] * len(uniq), dtype=object)).isna().all()
    mixed = np.array([1] + [None] * (len(uniq) - 1), dtype=object)  # not text: objects
    assert d.back_text(mixed).dtype == object


def test_plain_text_column_normalised_without_python_strs():
    """An all-plain text column (str dtype) is normalised in Arrow: the same texts as the
    object path ('' → missing), and its distinct values never become Python strs."""
    from aftercare.frames import TEXT

    values = ["A-1", "", None, "粤B12345", "A-1", "RO0001"] * 3
    raw = pd.Series(values, dtype="str", index=range(5, 5 + len(values)))
    d = Distinct(raw)
    got = parse.normalise_text(d, arrow=True)
    assert got.dtype == TEXT
    assert d._uniq is None  # no str made for the distinct values
    _same(_objects(got), parse.normalise_text(pd.Series(values, dtype=object,
                                                        index=raw.index)))
    odd = pd.Series(["a  b", "A-1", None], dtype="str")  # white space: the object path
    assert _objects(parse.normalise_text(odd, arrow=True)).tolist() == ["a b", "A-1", None]


_slash_dates = st.lists(st.one_of(
    st.none(), st.just(""),
    st.builds(lambda y, m, d, pad, tail: (f"{y}/{m:02d}/{d:02d}" if pad else f"{y}/{m}/{d}")
              + tail,
              st.integers(1790, 2270), st.integers(0, 13), st.integers(0, 32), st.booleans(),
              st.sampled_from(["", "", " 08:30", "日", " ", "x"])),
    st.sampled_from(["1899/12/30", "0000/0/0", "2020/2/29", "2021/2/29", "２０２０/１/２８",
                     "2024-01-05", "2024/1/5 9:25:11"])), min_size=1, max_size=30)


@settings(max_examples=150, deadline=None)
@given(values=_slash_dates, text=st.booleans())
def test_slash_dates_take_the_fast_pass_and_read_as_the_per_value_path(values, text):
    """`2020/1/28` is among the fast pass's formats: dates and date-times written so read
    as the per-value patterns read them (values and issues), for valid and invalid days,
    years out of range, Excel's day 0, padding, a time or other text after them."""
    raw = pd.Series(values, dtype="str" if text else object)
    _same(parse.parse_dates(raw), parse._parse_dates_slow(raw, dayfirst=False))
    _same(parse.parse_datetimes(raw), parse._parse_datetimes_slow(raw, dayfirst=False))
    plain = pd.Series(["2020/1/28", "1999/12/31"], dtype="str" if text else object)
    assert parse._fast_pass(plain)[1].all()
