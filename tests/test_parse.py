"""Tests for aftercare.parse: the value parsers of 01-data-contract.md ("Values")."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aftercare import parse
from aftercare.parse import (
    REASONS,
    SERVICE_TYPES,
    is_organisation,
    is_test_row,
    map_service_type,
    mask_id_number,
    mask_phone,
    mask_phones,
    normalise_plate,
    normalise_text,
    parse_bool,
    parse_dates,
    parse_id_number,
    parse_mileage,
    parse_phones,
    parse_vin,
    vin_check_digit_ok,
)

JAN5 = pd.Timestamp("2024-01-05")
GOOD_VIN = "1M8GDM9AXKP042788"
ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def obj(values, index=None) -> pd.Series:
    return pd.Series(values, index=index, dtype=object)


def one(fn, value, **kw):
    """Parse a single cell and return (value, issue)."""
    r = fn(obj([value]), **kw)
    return r.values.iloc[0], r.issue.iloc[0]


def id_check(first17: str) -> str:
    """The MOD 11-2 check character, computed here independently of the module."""
    return "10X98765432"[sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS)) % 11]


def vin_check(vin: str) -> str:
    """The ISO 3779 check digit, computed here independently of the module."""
    values = {**{str(i): i for i in range(10)}, **dict(zip("ABCDEFGH", range(1, 9)))}
    values.update(zip("JKLMN", range(1, 6)))
    values.update({"P": 7, "R": 9})
    values.update(zip("STUVWXYZ", range(2, 10)))
    weights = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2]
    rem = sum(values[c] * w for c, w in zip(vin, weights)) % 11
    return "X" if rem == 10 else str(rem)


# --------------------------------------------------------------------------- REASONS
def test_reasons_have_chinese_and_english_text():
    """Every reason code maps to a non-empty Chinese text and a non-empty English text."""
    assert REASONS
    for code, (zh, en) in REASONS.items():
        assert re.fullmatch(r"[a-z]+(_[a-z]+)*", code)
        assert re.search(r"[\u4e00-\u9fff]", zh), code
        assert en and en.isascii(), code


# ----------------------------------------------------------------------------- dates
@pytest.mark.parametrize(
    "raw",
    [
        "2024-01-05", "2024/1/5", "2024.01.05", "20240105", 20240105, "2024年1月5日",
        "2024-01-05 09:25:11", "2024/1/5 9:25", "2024年1月5日 9:25", "2024.1.5 23:59:59",
        "2024-01-05T09:25:11", "  2024-01-05  ", "２０２４－０１－０５", "2024年01月05日 星期五",
        "2024/1/5 下午 3:25", "2024-01-05 09:25:11.123",
    ],
)
def test_date_forms(raw):
    """Each documented written date form (with or without a time) parses to that day."""
    assert one(parse_dates, raw) == (JAN5, None)


@pytest.mark.parametrize("raw", [45296, 45296.0, 45296.75, "45296", "45296.5", np.int64(45296)])
def test_excel_serial(raw):
    """Excel serial numbers (number or digit string) count from 1899-12-30: 45296 is 2024-01-05."""
    assert one(parse_dates, raw) == (JAN5, None)


@pytest.mark.parametrize(
    "raw",
    [
        dt.date(2024, 1, 5), dt.datetime(2024, 1, 5, 9, 25), pd.Timestamp("2024-01-05 23:59"),
        np.datetime64("2024-01-05T10:00"), pd.Timestamp("2024-01-05 10:00", tz="Asia/Shanghai"),
    ],
)
def test_date_objects(raw):
    """date, datetime, Timestamp (also tz-aware) and datetime64 cells give their day at midnight."""
    assert one(parse_dates, raw) == (JAN5, None)


@pytest.mark.parametrize(
    "raw", ["", "   ", "-", "--", "无", "0000-00-00", "1900-01-00", "0", 0, 0.0, None, np.nan,
            pd.NaT, pd.NA, "0000-00-00 00:00:00", "00000000", dt.datetime(1899, 12, 30)],
)
def test_date_missing(raw):
    """Blank-like cells (and Excel's zero date) are missing: NaT without an issue."""
    value, issue = one(parse_dates, raw)
    assert pd.isna(value) and issue is None


@pytest.mark.parametrize(
    "raw", ["2024-02-30", "20152-11-28", "2023-13-01", "20241301", "hello", "2024-01", True,
            "123456789", "05/01/24", 3_000_000, -5, dt.time(9, 0)],
)
def test_date_unparseable(raw):
    """Impossible or unrecognised dates are NaT with issue date_unparseable."""
    value, issue = one(parse_dates, raw)
    assert pd.isna(value) and issue == "date_unparseable"


def test_date_day_month_order():
    """05/01/2024 is ambiguous by default, read day-first when configured; clear ones parse."""
    raw = obj(["05/01/2024", "25/01/2024", "01/25/2024", "05/05/2024", "5-1-2024"])
    r = parse_dates(raw)
    assert r.issue.tolist() == ["date_ambiguous", None, None, None, "date_ambiguous"]
    assert r.values.iloc[1:4].tolist() == [
        pd.Timestamp("2024-01-25"), pd.Timestamp("2024-01-25"), pd.Timestamp("2024-05-05")]
    r = parse_dates(raw, dayfirst=True)
    assert r.issue.isna().all()
    assert r.values.iloc[[0, 4]].tolist() == [JAN5, JAN5]


def test_date_odd_strings_go_through_dateutil_once_per_distinct_value(monkeypatch):
    """Odd strings are parsed by the fallback once per distinct value, and only full dates count."""
    calls = []
    real = parse._dateutil_one
    monkeypatch.setattr(parse, "_dateutil_one", lambda s: calls.append(s) or real(s))
    r = parse_dates(obj(["Jan 5, 2024"] * 5000 + ["2024-01-05"] * 5000 + ["May 2024"]))
    assert calls == ["Jan 5, 2024", "May 2024"]
    assert (r.values.iloc[:10000] == JAN5).all()
    assert r.issue.iloc[-1] == "date_unparseable"


def test_date_result_dtype_index_and_midnight():
    """Dates come back as datetime64[ns] at midnight, on the input's own index."""
    idx = pd.Index([10, 3, 3, 7])
    r = parse_dates(obj(["2024-01-05 09:00", 45296.9, None, "x"], index=idx))
    assert r.values.dtype == "datetime64[ns]"
    assert r.values.index.equals(idx) and r.issue.index.equals(idx)
    assert (r.values.dropna() == r.values.dropna().dt.normalize()).all()
    assert r.issue.tolist() == [None, None, None, "date_unparseable"]


def test_true_is_not_the_number_one():
    """A bool cell is never confused with the number 1 it hashes like."""
    r = parse_dates(obj([1, True, 1.0]))
    assert r.values.iloc[0] == pd.Timestamp("1899-12-31")
    assert r.issue.tolist() == [None, "date_unparseable", None]
    m = parse_mileage(obj([True, 1]))
    assert m.issue.tolist() == ["mileage_unparseable", None]


# --------------------------------------------------------------------------- mileage
@pytest.mark.parametrize(
    "raw, km",
    [
        ("12345", 12345), ("12,345", 12345), ("12345km", 12345), ("12345 公里", 12345),
        ("12345KM", 12345), ("1.2万", 12000), ("1.2万公里", 12000), (12345, 12345),
        (12345.5, 12345.5), ("12345.0", 12345), ("１２３４５", 12345), ("0", 0),
        ("2,000,000", 2_000_000), ("3 万 km", 30000),
    ],
)
def test_mileage_forms(raw, km):
    """Each documented mileage form parses to km as a float."""
    assert one(parse_mileage, raw) == (km, None)


@pytest.mark.parametrize("raw", [-1, "-5", "2000001", 3e6, "201万", float("inf")])
def test_mileage_out_of_range(raw):
    """Negative readings or readings above 2,000,000 km are NaN with mileage_out_of_range."""
    value, issue = one(parse_mileage, raw)
    assert np.isnan(value) and issue == "mileage_out_of_range"


@pytest.mark.parametrize("raw", ["abc", "约1万", "12km34", True, dt.date(2024, 1, 5)])
def test_mileage_unparseable(raw):
    """Text that is not a reading is NaN with mileage_unparseable."""
    value, issue = one(parse_mileage, raw)
    assert np.isnan(value) and issue == "mileage_unparseable"


def test_mileage_blank_and_dtype():
    """Blank mileage is NaN without an issue; values are float64."""
    r = parse_mileage(obj(["", None, "-", "无", "100"]))
    assert r.values.dtype == "float64"
    assert r.issue.isna().all() and r.values.isna().sum() == 4


# ---------------------------------------------------------------------------- phones
@pytest.mark.parametrize(
    "raw",
    ["13812345678", "+86 138 1234 5678", "+8613812345678", "0086-13812345678", "86-13812345678",
     "8613812345678", 13812345678, 13812345678.0, "13812345678.0", "138-1234-5678",
     "1.3812345678E+10", "(138)12345678", "１３８１２３４５６７８"],
)
def test_mobile_forms(raw):
    """Mobiles written with prefixes, spaces, dashes or as floats normalise to 11 digits."""
    r = parse_phones(obj([raw]))
    assert r.primary.iloc[0] == "13812345678"
    assert r.primary_type.iloc[0] == "mobile"
    assert bool(r.sms_able.iloc[0]) is True
    assert r.others.iloc[0] == "" and r.issue.iloc[0] is None


@pytest.mark.parametrize(
    "raw, number",
    [("0755-83451234", "075583451234"), ("010-12345678", "01012345678"),
     ("(0755)83451234", "075583451234"), ("0755 8345 1234", "075583451234"),
     ("+86-755-83451234", "075583451234"), ("0755-83451234转801", "075583451234"),
     ("0571-8765432", "05718765432")],
)
def test_landlines(raw, number):
    """Landlines (0 + area code + 7–8 digits) are callable but not SMS-able."""
    r = parse_phones(obj([raw]))
    assert r.primary.iloc[0] == number
    assert r.primary_type.iloc[0] == "landline"
    assert bool(r.sms_able.iloc[0]) is False and r.issue.iloc[0] is None


def test_several_numbers_per_cell():
    """The first callable number of a cell is primary; the other callable ones go to others."""
    raw = obj([
        "13912345678/0755-83451234", "0755-83451234 13912345678", "13812345678 13987654321",
        "13812345678、13987654321，13812345678", "12345;13812345678,13987654321；010-12345678",
    ])
    r = parse_phones(raw)
    assert r.primary.tolist() == [
        "13912345678", "075583451234", "13812345678", "13812345678", "13812345678"]
    assert r.primary_type.tolist() == ["mobile", "landline", "mobile", "mobile", "mobile"]
    assert r.others.tolist() == [
        "075583451234", "13912345678", "13987654321", "13987654321",
        "13987654321;01012345678"]
    assert r.sms_able.tolist() == [True, False, True, True, True]
    assert r.issue.isna().all()


def test_masked_phones():
    """Masked numbers are not callable: phone_masked, unless another callable number is there."""
    r = parse_phones(obj(["138****1234", "138****1234/13912345678", "0755-****1234"]))
    assert r.primary.tolist() == [None, "13912345678", None]
    assert r.issue.tolist() == ["phone_masked", None, "phone_masked"]
    assert r.sms_able.tolist() == [False, True, False]


@pytest.mark.parametrize("raw", ["12345", "83451234", "abc", "23812345678", "138123456789",
                                 "00755-83451234", True, 1.5, "1.38123E+10"])
def test_invalid_phones(raw):
    """Cells with nothing callable (and nothing masked) are phone_invalid."""
    r = parse_phones(obj([raw]))
    assert r.primary.iloc[0] is None and r.issue.iloc[0] == "phone_invalid"


def test_blank_phones():
    """Blank phone cells are missing: no primary, no issue, others ''."""
    r = parse_phones(obj(["", None, np.nan, "-", "无", " / "], index=list("abcdef")))
    assert r.primary.isna().all() and r.issue.isna().all()
    assert r.others.tolist() == [""] * 6 and not r.sms_able.any()
    assert r.primary.index.equals(pd.Index(list("abcdef")))


# --------------------------------------------------------------------------- masking
@pytest.mark.parametrize(
    "raw, masked",
    [("13812341234", "138****1234"), ("0755-83451234", "075*****1234"),
     ("01012345678", "010****5678"), (13812341234.0, "138****1234"), ("12345", "***45"),
     ("abc", "***"), ("", ""), (None, ""), ("138****1234", "*********34")],
)
def test_mask_phone(raw, masked):
    """Phones keep their first 3 and last 4 digits; short or odd strings at most their last 2."""
    assert mask_phone(raw) == masked


@pytest.mark.parametrize(
    "raw, masked",
    [("440301199001011234", "4403**********1234"), ("11010519491231002X", "1101**********002X"),
     ("110105491231002", "1101*******1002"), ("abcdef", "****ef"), ("12", "**"), (None, "")],
)
def test_mask_id_number(raw, masked):
    """ID numbers keep their first 4 and last 4 characters; odd strings at most their last 2."""
    assert mask_id_number(raw) == masked


def test_mask_phones_vectorised():
    """mask_phones masks a whole column like mask_phone, '' for blanks, on the same index."""
    raw = obj(["13812341234", None, "0755-83451234", 13812341234.0, "ab"], index=[5, 4, 3, 2, 1])
    out = mask_phones(raw)
    assert out.tolist() == ["138****1234", "", "075*****1234", "138****1234", "**"]
    assert out.index.equals(raw.index)


# ------------------------------------------------------------------------------- VIN
def test_vin_check_digit_known_vin():
    """A real VIN with a correct check digit passes; the same with another 9th char does not."""
    assert vin_check(GOOD_VIN) == "X"
    assert vin_check_digit_ok(GOOD_VIN)
    assert not vin_check_digit_ok(GOOD_VIN[:8] + "1" + GOOD_VIN[9:])
    assert not vin_check_digit_ok("1M8GDM9AXKP04278")
    assert vin_check_digit_ok(" 1m8gdm9axkp042788 ")


def test_parse_vin_values_and_issues():
    """VINs are normalised and always kept; bad check digit and bad shape are flagged."""
    bad_check = GOOD_VIN[:8] + "1" + GOOD_VIN[9:]
    raw = obj([GOOD_VIN, bad_check, " 1m8g-dm9axkp 042788", "ＬＳＶＡＡ", "1M8GDM9AXKP04278O",
               "IM8GDM9AXKP042788", "", None, 12345])
    r = parse_vin(raw)
    assert r.values.tolist() == [GOOD_VIN, bad_check, GOOD_VIN, "LSVAA", "1M8GDM9AXKP04278O",
                                 "IM8GDM9AXKP042788", None, None, "12345"]
    assert r.issue.tolist() == [None, "vin_check_digit", None, "vin_invalid", "vin_invalid",
                                "vin_invalid", None, None, "vin_invalid"]


# ------------------------------------------------------------------------ ID numbers
def test_id_number_known_valid():
    """11010519491231002X is valid: birthday 1949-12-31, no issue (lower-case x too)."""
    r = parse_id_number(obj(["11010519491231002X", "11010519491231002x"]))
    assert r.values.tolist() == ["11010519491231002X"] * 2
    assert r.birthday.tolist() == [pd.Timestamp("1949-12-31")] * 2
    assert r.issue.isna().all()


def test_id_number_computed_check_char():
    """A made-up 18-digit number with its computed check char gives its birthday."""
    first17 = "44030119880229123"
    good, bad = first17 + id_check(first17), first17 + ("0" if id_check(first17) != "0" else "1")
    r = parse_id_number(obj([good, bad]))
    assert r.birthday.iloc[0] == pd.Timestamp("1988-02-29") and r.issue.iloc[0] is None
    assert pd.isna(r.birthday.iloc[1]) and r.issue.iloc[1] == "id_check_failed"
    assert r.values.tolist() == [good, bad]


def test_id_number_bad_birthday_and_shapes():
    """Impossible birth dates, 15-digit numbers and other shapes are read as specified."""
    first17 = "44030119890229123"  # 1989 is not a leap year
    impossible = first17 + id_check(first17)
    raw = obj([impossible, "110105491231002", "110105491331002", "4403**********1234", "abc",
               "", None, 110105491231002])
    r = parse_id_number(raw)
    assert r.issue.tolist() == ["id_bad_birthday", None, "id_bad_birthday", "id_invalid",
                                "id_invalid", None, None, None]
    assert r.birthday.iloc[[1, 7]].tolist() == [pd.Timestamp("1949-12-31")] * 2
    assert r.birthday.dtype == "datetime64[ns]"
    assert r.values.tolist() == [impossible, "110105491231002", "110105491331002",
                                 "4403**********1234", "ABC", None, None, "110105491231002"]


# ---------------------------------------------------------------------------- booleans
@pytest.mark.parametrize("raw", ["是", "Y", "y", "yes", "1", "1.0", "true", "√", "有", True, 1, 1.0,
                                 "True", "YES"])
def test_bool_true(raw):
    """Every documented yes-form is True."""
    assert one(parse_bool, raw) == (True, None)


@pytest.mark.parametrize("raw", ["否", "N", "no", "0", "false", "×", "无", False, 0, "False"])
def test_bool_false(raw):
    """Every documented no-form is False."""
    assert one(parse_bool, raw) == (False, None)


def test_bool_blank_unknown_dtype():
    """Blank is <NA> without an issue, unknown text is <NA> with bool_unparseable."""
    r = parse_bool(obj(["", None, "maybe", 2, "是"]))
    assert str(r.values.dtype) == "boolean"
    assert r.values.isna().tolist() == [True, True, True, True, False]
    assert r.issue.tolist() == [None, None, "bool_unparseable", "bool_unparseable", None]


# ------------------------------------------------------------------------ text, plate
def test_normalise_text():
    """Text is NFKC'd, stripped and its inner whitespace collapsed; blank is None."""
    out = normalise_text(obj(["  张  三 ", "ＡＢＣ１", "", "  ", None, 1001.0, "a\tb\nc"]))
    assert out.tolist() == ["张 三", "ABC1", None, None, None, "1001", "a b c"]


def test_normalise_plate():
    """Plates are NFKC'd, upper-cased, without spaces, dashes, middle dots or dots."""
    out = normalise_plate(obj(["粤B·12345", "粤b-123 45", "粤Ｂ．12345", " ", None]))
    assert out.tolist() == ["粤B12345", "粤B12345", "粤B12345", None, None]


# ---------------------------------------------------------------------- service types
@pytest.mark.parametrize("kind, alias", [(k, a) for k, v in SERVICE_TYPES.items() for a in v])
def test_service_type_every_alias(kind, alias):
    """Every built-in alias maps to its own kind when it is the whole value."""
    assert one(map_service_type, alias) == (kind, None)


@pytest.mark.parametrize(
    "raw, kind",
    [("首次保养套餐", "first_service"), ("一般维修", "repair"), ("事故维修", "bodyshop"),
     ("保险理赔维修", "bodyshop"), ("pdi检查", "internal"), (" 定期保养 ", "maintenance"),
     ("技术服务活动-召回", "campaign"), ("维修保养", "maintenance"), ("首保（免费）", "first_service")],
)
def test_service_type_longest_alias(raw, kind):
    """Without a whole-value match, the longest alias contained in the value decides."""
    assert one(map_service_type, raw) == (kind, None)


def test_service_type_unknown_blank_and_extra():
    """Unknown values are repair with an issue, blanks None; config aliases extend the table."""
    r = map_service_type(obj(["xyz", "", None, "保养"]))
    assert r.values.tolist() == ["repair", None, None, "maintenance"]
    assert r.issue.tolist() == ["service_type_unknown", None, None, None]
    r = map_service_type(obj(["XYZ", "延保"]), extra={"campaign": ["xyz"], "warranty": ["延保"]})
    assert r.values.tolist() == ["campaign", "warranty"] and r.issue.isna().all()


# -------------------------------------------------------------------------- row flags
def test_is_test_row():
    """Names 测试/test (any case, spaces) or plates containing 测试 are test rows."""
    names = obj(["测试", " TEST ", "张三", "张三", None, "测试员"], index=list("abcdef"))
    plates = obj(["粤B1", "粤B2", "测试车", None, None, "粤B3"], index=list("abcdef"))
    out = is_test_row(names, plates)
    assert out.tolist() == [True, True, True, False, False, False]
    assert out.index.equals(names.index) and out.dtype == bool


def test_is_organisation():
    """Customer type 单位/公司/企业/机构, or an organisation word in the name, means not a person."""
    names = obj(["深圳某某有限公司", "张三", "李四", "王五", "市第一医院", None])
    types = obj([None, "个人", "单位", "企业客户", "", None])
    assert is_organisation(names, types).tolist() == [True, False, True, True, True, False]
    assert is_organisation(names, None).tolist() == [True, False, False, False, True, False]


# ------------------------------------------------------------------- property tests
CELLS = st.one_of(
    st.text(), st.integers(), st.floats(), st.booleans(), st.none(), st.just(np.nan),
    st.dates(), st.datetimes(), st.decimals(allow_nan=False),
    st.sampled_from(["2024-01-05", "45296", "13812345678", GOOD_VIN, "1.2万", "是", "保养",
                     "138****1234", "11010519491231002X", "05/01/2024", "无", "-"]),
)


def series_with_index(values, data):
    """A Series with a shuffled, possibly duplicated integer index."""
    index = data.draw(st.lists(st.integers(-5, 5), min_size=len(values), max_size=len(values)))
    return pd.Series(values, index=index, dtype=object)


def check_rows(values: pd.Series, issue: pd.Series, raw: pd.Series):
    assert values.index.equals(raw.index) and issue.index.equals(raw.index)
    for code in issue:
        assert code is None or code in REASONS


PARSERS = [parse_dates, parse_mileage, parse_bool, parse_vin, parse_id_number, map_service_type]


@settings(max_examples=60, deadline=None)
@given(values=st.lists(CELLS, max_size=12), data=st.data())
def test_any_cells_never_raise(values, data):
    """Mixed cells never make a parser raise; results keep the index and use known codes."""
    raw = series_with_index(values, data)
    for fn in PARSERS:
        r = fn(raw)
        check_rows(r.values, r.issue, raw)
    p = parse_phones(raw)
    check_rows(p.primary, p.issue, raw)
    for s in (p.primary_type, p.others, p.sms_able, mask_phones(raw), normalise_text(raw),
              normalise_plate(raw), is_test_row(raw, raw), is_organisation(raw, raw)):
        assert s.index.equals(raw.index)


@settings(max_examples=60, deadline=None)
@given(values=st.lists(st.one_of(st.text(), st.integers(), st.floats()), max_size=8))
def test_distinct_mapping_matches_single_cells(values):
    """Parsing a column gives each row what parsing that cell alone gives."""
    raw = obj(values)
    for fn in PARSERS:
        whole = fn(raw)
        for i, v in enumerate(values):
            alone = fn(obj([v]))
            assert whole.issue.iloc[i] == alone.issue.iloc[0]
            a, b = whole.values.iloc[i], alone.values.iloc[0]
            assert (pd.isna(a) and pd.isna(b)) or a == b


@settings(deadline=None)
@given(st.one_of(st.text(), st.integers(), st.floats()))
def test_dates_value_xor_issue(v):
    """A date cell is a midnight date, or NaT with an issue, or blank (NaT, no issue)."""
    value, issue = one(parse_dates, v)
    if issue is not None:
        assert issue in ("date_unparseable", "date_ambiguous") and pd.isna(value)
    elif not pd.isna(value):
        assert value == value.normalize() and 1800 <= value.year <= 2261


@settings(deadline=None)
@given(st.dates(min_value=dt.date(1900, 3, 1), max_value=dt.date(2200, 12, 31)),
       st.sampled_from(["{y}-{m:02}-{d:02}", "{y}/{m}/{d}", "{y}.{m:02}.{d:02}", "{y}{m:02}{d:02}",
                        "{y}年{m}月{d}日", "{y}-{m}-{d} 08:30:00", "{y}/{m}/{d} 8:30", "serial"]))
def test_dates_round_trip(day, fmt):
    """Any day written in any supported form (or as an Excel serial) parses back to that day."""
    if fmt == "serial":
        text = str((day - dt.date(1899, 12, 30)).days)
    else:
        text = fmt.format(y=day.year, m=day.month, d=day.day)
    assert one(parse_dates, text) == (pd.Timestamp(day), None)


@settings(deadline=None)
@given(st.one_of(st.text(), st.integers(), st.floats()))
def test_mileage_value_xor_issue(v):
    """A mileage is within 0..2,000,000 km, or NaN with an issue, or blank."""
    value, issue = one(parse_mileage, v)
    if issue is not None:
        assert issue in REASONS and np.isnan(value)
    elif not np.isnan(value):
        assert 0 <= value <= 2_000_000


@settings(deadline=None)
@given(st.integers(0, 2_000_000), st.sampled_from(["{:,}", "{}km", "{} 公里", "{}KM", "{}"]))
def test_mileage_round_trip(km, fmt):
    """Any reading in range written in a supported form parses back to itself."""
    assert one(parse_mileage, fmt.format(km)) == (km, None)


@settings(deadline=None)
@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True),
       st.sampled_from(["{}", "+86 {}", "0086-{}", "{a}-{b}-{c}", "{a} {b} {c}", "86-{}"]))
def test_mobile_round_trip(mobile, fmt):
    """Any mobile written with a prefix or separators normalises to itself, SMS-able."""
    text = fmt.format(mobile, a=mobile[:3], b=mobile[3:7], c=mobile[7:])
    r = parse_phones(obj([text]))
    assert (r.primary.iloc[0], r.primary_type.iloc[0], r.issue.iloc[0]) == (mobile, "mobile", None)
    assert mask_phone(mobile) == mobile[:3] + "****" + mobile[-4:]


@settings(deadline=None)
@given(st.one_of(st.text(), st.integers(), st.floats()))
def test_phones_primary_xor_issue(v):
    """A phone cell has a callable primary, or an issue, or is blank; never both."""
    r = parse_phones(obj([v]))
    primary, issue = r.primary.iloc[0], r.issue.iloc[0]
    assert primary is None or issue is None
    if primary is not None:
        assert re.fullmatch(r"1[3-9][0-9]{9}|0[1-9][0-9]{8,10}", primary)
        assert bool(r.sms_able.iloc[0]) == (r.primary_type.iloc[0] == "mobile")
    assert issue is None or issue in ("phone_masked", "phone_invalid")


@settings(deadline=None)
@given(st.lists(st.one_of(st.text(max_size=20), st.from_regex(r"[0-9 -]{8,16}", fullmatch=True)),
                max_size=10))
def test_mask_phones_matches_mask_phone(values):
    """The vectorised mask_phones equals mask_phone cell by cell."""
    assert mask_phones(obj(values)).tolist() == [mask_phone(v) for v in values]


@settings(deadline=None)
@given(st.text(alphabet="ABCDEFGHJKLMNPRSTUVWXYZ0123456789", min_size=16, max_size=16))
def test_vin_check_digit_property(body):
    """Inserting the computed check digit makes a VIN pass; any other 9th character fails."""
    vin = body[:8] + vin_check(body[:8] + "0" + body[8:]) + body[8:]
    wrong = vin[:8] + ("0" if vin[8] != "0" else "1") + vin[9:]
    r = parse_vin(obj([vin, wrong]))
    assert r.issue.tolist() == [None, "vin_check_digit"]
    assert r.values.tolist() == [vin, wrong]
    assert vin_check_digit_ok(vin) and not vin_check_digit_ok(wrong)


@settings(deadline=None)
@given(st.one_of(st.text(), st.integers()))
def test_vin_any_value_kept(v):
    """A non-blank VIN cell is always kept (normalised); its issue is a VIN code or None."""
    value, issue = one(parse_vin, v)
    assert issue in (None, "vin_check_digit", "vin_invalid")
    if value is None:
        assert issue is None
    else:
        assert value == value.upper() and " " not in value


@settings(deadline=None)
@given(st.from_regex(r"[1-6][0-9]{5}", fullmatch=True),
       st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2020, 12, 31)),
       st.from_regex(r"[0-9]{3}", fullmatch=True))
def test_id_number_property(area, born, seq):
    """Any 18-digit number with its computed check char yields its birthday; a wrong one fails."""
    first17 = f"{area}{born:%Y%m%d}{seq}"
    good = first17 + id_check(first17)
    wrong = first17 + ("1" if good[-1] != "1" else "0")
    r = parse_id_number(obj([good, wrong, good.lower()]))
    assert r.issue.tolist() == [None, "id_check_failed", None]
    assert r.birthday.iloc[0] == pd.Timestamp(born) and pd.isna(r.birthday.iloc[1])
    assert r.values.iloc[2] == good


@settings(deadline=None)
@given(st.one_of(st.text(), st.integers(), st.floats()))
def test_id_value_xor_issue(v):
    """An ID cell has a birthday only when it has no issue."""
    r = parse_id_number(obj([v]))
    if r.issue.iloc[0] is not None:
        assert pd.isna(r.birthday.iloc[0]) and r.issue.iloc[0] in REASONS


@settings(deadline=None)
@given(st.one_of(st.text(), st.integers(), st.floats(), st.booleans()))
def test_bool_value_xor_issue(v):
    """A yes/no cell is True/False, or <NA> with bool_unparseable, or blank <NA>."""
    value, issue = one(parse_bool, v)
    assert issue in (None, "bool_unparseable")
    if issue is not None:
        assert value is pd.NA


@settings(deadline=None)
@given(st.text())
def test_service_type_always_a_kind(v):
    """Any service-type text maps to a known kind (or None when blank)."""
    value, issue = one(map_service_type, v)
    assert value is None or value in SERVICE_TYPES
    assert issue in (None, "service_type_unknown")
    assert (issue is None) or value == "repair"


@settings(deadline=None)
@given(st.lists(st.one_of(st.text(), st.none()), max_size=10))
def test_text_and_plate_properties(values):
    """Normalised text has no edge or double whitespace; plates have no spaces or dashes."""
    for t in normalise_text(obj(values)):
        assert t is None or (t == t.strip() and "  " not in t and t)
    for p in normalise_plate(obj(values)):
        assert p is None or (p and not re.search(r"[\s\-·.]", p) and p == p.upper())
