"""Tests for aftercare.load.readers: one file → raw grids with Excel's row numbers."""

from __future__ import annotations

import datetime as dt
import random
import sys
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aftercare.errors import BadFileError
from aftercare.load import readers
from aftercare.load.readers import RawSheet, read_file, sniff_kind

REALDATA = Path(__file__).resolve().parents[2].parent / "shared" / "realdata"

TITLED_CSV = (
    "维修工单明细表\n"
    "导出时间: 2026-11-20\n"
    "工单号,车牌号,进厂日期,金额\n"
    "RO001,粤B12345,2024-01-05,100\n"
    "RO002,粤B23456,2024/1/6,23\n"
    "合计,,,123\n"
)


def _only(sheets: list[RawSheet]) -> RawSheet:
    assert len(sheets) == 1
    return sheets[0]


def _row(grid, n: int) -> list:
    return grid.loc[n].tolist()


# ---------------------------------------------------------------------------- CSV


@pytest.mark.parametrize(
    ("codec", "expected"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gbk", "gb18030")],
)
def test_csv_encodings_title_and_totals_rows_keep_line_numbers(tmp_path, codec, expected):
    """A CSV in UTF-8, UTF-8 with BOM or GBK keeps its title, header and totals rows at their real line numbers."""
    path = tmp_path / "工单.csv"
    path.write_bytes(TITLED_CSV.encode(codec))
    raw = _only(read_file(path))
    assert (raw.sheet, raw.kind, raw.encoding, raw.file) == ("工单", "csv", expected, path)
    g = raw.grid
    assert list(g.index) == [1, 2, 3, 4, 5, 6]
    assert list(g.columns) == [0, 1, 2, 3]
    assert all(g[c].dtype == object for c in g.columns)
    assert _row(g, 1) == ["维修工单明细表", None, None, None]
    assert _row(g, 2) == ["导出时间: 2026-11-20", None, None, None]
    assert _row(g, 3) == ["工单号", "车牌号", "进厂日期", "金额"]
    assert _row(g, 6) == ["合计", None, None, "123"]


@pytest.mark.parametrize("delim", ["\t", ";", "|"])
def test_csv_sniffs_tab_semicolon_and_pipe(tmp_path, delim):
    """Tab-, semicolon- and pipe-delimited text splits on that delimiter, commas in values untouched."""
    text = TITLED_CSV.replace(",", delim).replace("RO001", "RO,001")
    path = tmp_path / "t.csv"
    path.write_text(text, encoding="utf-8")
    g = _only(read_file(path)).grid
    assert _row(g, 3) == ["工单号", "车牌号", "进厂日期", "金额"]
    assert _row(g, 4) == ["RO,001", "粤B12345", "2024-01-05", "100"]


def test_csv_comma_wins_when_nothing_splits(tmp_path):
    """A one-column CSV is read as one column (comma default), not split on anything."""
    path = tmp_path / "one.csv"
    path.write_text("车牌号\n粤B12345\n粤B; 2\n", encoding="utf-8")
    g = _only(read_file(path)).grid
    assert g.shape == (3, 1)
    assert _row(g, 3) == ["粤B; 2"]


def test_csv_values_stay_text(tmp_path):
    """Leading zeros, 'NA', 'null' and thousands separators come through as the exact text."""
    path = tmp_path / "v.csv"
    path.write_text('电话,状态,金额\n07551234567,NA,"12,345"\n00123,null,\n', encoding="utf-8")
    g = _only(read_file(path)).grid
    assert _row(g, 2) == ["07551234567", "NA", "12,345"]
    assert _row(g, 3) == ["00123", "null", None]
    assert all(isinstance(v, str) for v in _row(g, 2))


def test_csv_blank_lines_and_multiline_quoted_field_keep_physical_line_numbers(tmp_path):
    """Blank lines stay as empty rows and a record after a quoted field spanning 3 lines sits at its physical line."""
    text = 'a,b\n\n1,"line1\nline2\nline3"\n2,x\r\n3,y\n\n\n'
    path = tmp_path / "m.csv"
    path.write_bytes(text.encode("utf-8"))
    g = _only(read_file(path)).grid
    assert list(g.index) == [1, 2, 3, 6, 7]  # trailing blank lines dropped
    assert _row(g, 2) == [None, None]
    assert _row(g, 3) == ["1", "line1\nline2\nline3"]
    assert _row(g, 6) == ["2", "x"]
    assert _row(g, 7) == ["3", "y"]


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
def test_csv_quoted_fields_with_and_without_line_breaks(tmp_path, bom):
    """Quoted fields without line breaks keep one record per line; one with a line break
    shifts the rows below it; a quoted empty field is empty (LF-only UTF-8: its bytes
    go to the parser as they are)."""
    plain = 'a,b\n"1","x, y"\n"",""\n3,"z"\n'
    path = tmp_path / "p.csv"
    path.write_bytes(bom + plain.encode("utf-8"))
    g = _only(read_file(path)).grid
    assert list(g.index) == [1, 2, 3, 4]
    assert _row(g, 2) == ["1", "x, y"] and _row(g, 3) == [None, None]
    path.write_bytes(bom + 'a,b\n"1","x\ny"\n"",""\n3,"粤B"\n'.encode("utf-8"))
    g = _only(read_file(path)).grid
    assert list(g.index) == [1, 2, 4, 5]
    assert _row(g, 2) == ["1", "x\ny"] and _row(g, 5) == ["3", "粤B"]


@pytest.mark.parametrize("text", ["a", "a,b\n", "a,b,c\n,\n", "a\n\n,,,,", ",,\n,", "\n\n",
                                  "粤,B\n,,\n", "x\n" + ",;," * 1000])
def test_csv_width_counts_the_widest_line(text):
    """The delimiter count of the widest line, counted on the bytes."""
    from aftercare.load.readers import _per_line

    assert _per_line(text.encode("utf-8"), ",").tolist() == [ln.count(",") for ln in text.split("\n")]


def test_csv_ragged_rows_wider_later_are_padded(tmp_path):
    """A row far below the header with more fields than any earlier row widens the grid; short rows pad with None."""
    lines = ["a,b"] + [f"{i},{i}" for i in range(120)] + ["x,y,z,w,extra"]
    path = tmp_path / "r.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    g = _only(read_file(path)).grid
    assert g.shape == (122, 5)
    assert _row(g, 1) == ["a", "b", None, None, None]
    assert _row(g, 122) == ["x", "y", "z", "w", "extra"]


def test_csv_unterminated_quote_does_not_swallow_the_file(tmp_path):
    """A stray opening quote is read as text instead of eating every following line."""
    path = tmp_path / "q.csv"
    path.write_text('a,b\n"12寸,x\n3,y\n', encoding="utf-8")
    g = _only(read_file(path)).grid
    assert list(g.index) == [1, 2, 3]
    assert _row(g, 3) == ["3", "y"]


def test_csv_utf16_with_bom_tab_delimited(tmp_path):
    """Excel's "Unicode text" export (UTF-16 with BOM, tab-delimited) is read."""
    path = tmp_path / "u.csv"
    path.write_bytes("车牌号\t手机\n粤B12345\t13800138000\n".encode("utf-16"))
    raw = _only(read_file(path))
    assert raw.encoding == "utf-16"
    assert _row(raw.grid, 2) == ["粤B12345", "13800138000"]


@pytest.mark.parametrize("payload,reason", [
    (b"a,b\n1,\x00\n", readers.R_NUL),
    (b"a,b\n\x80\xff,c\n" * 3, readers.R_NOT_SHEET),
    ("车牌号,手机\n".encode() + "粤B1,138\n".encode("gbk"), readers.R_MIXED),
])
def test_csv_binary_head_is_not_a_spreadsheet(tmp_path, payload, reason):
    """A .csv with a NUL byte, with bytes that are neither UTF-8 nor GB18030, or with
    UTF-8 and GBK lines mixed, is refused, each with its own reason."""
    path = tmp_path / "bad.csv"
    path.write_bytes(payload)
    with pytest.raises(BadFileError) as err:
        read_file(path)
    assert err.value.reason == reason


@pytest.mark.parametrize(
    ("tail", "reason"),
    [(b"\x80\xff,c\n", readers.R_ENCODING), (b"1,\x00\n", "NUL")],
)
def test_csv_bad_bytes_beyond_sniff_window_are_named(tmp_path, tail, reason):
    """Undecodable bytes or a NUL far into a CSV give the encoding or NUL reason."""
    path = tmp_path / "late.csv"
    path.write_bytes(b"a,b\n" + b"1,2\n" * 20000 + tail)
    with pytest.raises(BadFileError) as err:
        read_file(path)
    assert reason in err.value.reason


# ---------------------------------------------------------------------------- xlsx


def _titled_workbook(path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "维修工单"
    ws["A1"] = "维修工单明细表"
    ws["B3"], ws["C3"], ws["D3"], ws["E3"] = "VIN", "进厂日期", "里程", "是否首保"
    ws["B4"], ws["C4"], ws["D4"], ws["E4"] = "LSVAA4182E2123456", dt.date(2024, 1, 5), 12345, True
    ws["B5"], ws["C5"], ws["D5"] = "LSVAA4182E2654321", dt.datetime(2024, 1, 6, 9, 30), 1.5
    ws["B6"] = ""
    hidden = wb.create_sheet("隐藏")
    hidden["A1"] = "secret"
    hidden.sheet_state = "hidden"
    wb.create_sheet("空表")
    wb.save(path)
    return path


def test_xlsx_positions_match_excel_when_data_starts_at_b3(tmp_path):
    """Data starting at B3 under a title in A1 keeps Excel's row numbers and column positions (B = 1)."""
    sheets = read_file(_titled_workbook(tmp_path / "ro.xlsx"))
    assert [s.sheet for s in sheets] == ["维修工单", "空表"]  # hidden sheet skipped
    raw = sheets[0]
    assert raw.kind == "xlsx" and raw.encoding is None
    g = raw.grid
    assert list(g.index) == [1, 2, 3, 4, 5]  # row 6 holds only '' → trailing, dropped
    assert list(g.columns) == [0, 1, 2, 3, 4]
    assert g.loc[1, 0] == "维修工单明细表"
    assert _row(g, 2) == [None] * 5
    assert g.loc[3, 1] == "VIN"
    assert g.loc[3, 0] is None
    assert g.loc[4, 2] == dt.date(2024, 1, 5)
    assert g.loc[5, 2] == dt.datetime(2024, 1, 6, 9, 30)
    assert g.loc[4, 3] == 12345 and g.loc[5, 3] == 1.5
    assert g.loc[4, 4] is True
    assert g.loc[5, 4] is None


def test_empty_sheet_is_an_empty_grid(tmp_path):
    """A visible sheet without cells comes back as an empty grid, so the loader can list it."""
    raw = read_file(_titled_workbook(tmp_path / "ro.xlsx"))[1]
    assert raw.grid.empty and raw.grid.shape == (0, 0)


def test_xlsx_renamed_xls_is_read_by_content(tmp_path):
    """An xlsx saved with a .xls name (and a .csv name) is read as xlsx."""
    src = _titled_workbook(tmp_path / "ro.xlsx")
    for name in ("ro.xls", "ro.csv"):
        dst = tmp_path / name
        dst.write_bytes(src.read_bytes())
        assert sniff_kind(dst) == "xlsx"
        raw = read_file(dst)[0]
        assert raw.kind == "xlsx" and raw.grid.loc[3, 1] == "VIN"


def test_xlsx_read_leaves_file_unchanged(tmp_path):
    """Reading never modifies the input file."""
    path = _titled_workbook(tmp_path / "ro.xlsx")
    before, mtime = path.read_bytes(), path.stat().st_mtime_ns
    read_file(path)
    assert path.read_bytes() == before and path.stat().st_mtime_ns == mtime


# ---------------------------------------------------------------------------- HTML


HTML_TABLE = """<html><head><meta http-equiv="Content-Type" content="text/html; charset={charset}">
<title>导出</title></head><body>
<table border=1>
<thead><tr><th colspan="3">维修工单明细表</th></tr>
<tr><th>工单号</th><th>客户电话</th><th>金额</th></tr></thead>
<tbody>
<tr><td>RO001</td><td>07551234567</td><td>1,234</td></tr>
<tr><td rowspan="2">RO002</td><td> 138 0013 8000 </td><td></td></tr>
<tr><td>13900139000</td><td>5</td></tr>
</tbody></table>
<table><tr><td>第二张表</td></tr></table>
</body></html>"""


@pytest.mark.parametrize(
    ("charset", "codec", "expected"), [("utf-8", "utf-8", "utf-8"), ("gbk", "gbk", "gb18030")]
)
def test_html_disguised_as_xls(tmp_path, charset, codec, expected):
    """An HTML table saved as .xls is read as text cells, one RawSheet per table, merged cells top-left."""
    path = tmp_path / "export.xls"
    path.write_bytes(HTML_TABLE.format(charset=charset).encode(codec))
    assert sniff_kind(path) == "html-xls"
    sheets = read_file(path)
    assert [(s.sheet, s.kind, s.encoding) for s in sheets] == [
        ("Table1", "html-xls", expected),
        ("Table2", "html-xls", expected),
    ]
    g = sheets[0].grid
    assert list(g.index) == [1, 2, 3, 4, 5]
    assert _row(g, 1) == ["维修工单明细表", None, None]
    assert _row(g, 2) == ["工单号", "客户电话", "金额"]
    assert _row(g, 3) == ["RO001", "07551234567", "1,234"]  # text, leading zero kept
    assert _row(g, 4) == ["RO002", "138 0013 8000", None]
    assert _row(g, 5) == [None, "13900139000", "5"]  # rowspan: covered cell empty
    assert _row(sheets[1].grid, 1) == ["第二张表"]


def test_html_without_charset_falls_back_to_gb18030(tmp_path):
    """HTML with no declared charset that is not UTF-8 is decoded as GB18030."""
    path = tmp_path / "nometa.xls"
    path.write_bytes(
        "<table><tr><td>车牌号</td></tr><tr><td>粤B12345</td></tr></table>".encode("gbk")
    )
    raw = _only(read_file(path))
    assert raw.encoding == "gb18030"
    assert _row(raw.grid, 2) == ["粤B12345"]


def test_html_without_tables_is_bad_file(tmp_path):
    """An HTML page with no table is not a spreadsheet."""
    path = tmp_path / "page.xls"
    path.write_text("<!DOCTYPE html><html><body><p>登录超时</p></body></html>", encoding="utf-8")
    with pytest.raises(BadFileError, match="没有表格"):
        read_file(path)


# ---------------------------------------------------------------------------- SpreadsheetML


SPREADSHEETML = """<?xml version="1.0"?>
<?mso-application progid="Excel.Sheet"?>
<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"
 xmlns:o="urn:schemas-microsoft-com:office:office"
 xmlns:x="urn:schemas-microsoft-com:office:excel"
 xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet"
 xmlns:html="http://www.w3.org/TR/REC-html40">
 <Worksheet ss:Name="车辆档案">
  <Table>
   <Row><Cell ss:MergeAcross="2"><Data ss:Type="String">车辆档案导出</Data></Cell><Cell><Data ss:Type="String">D1</Data></Cell></Row>
   <Row ss:Index="3"><Cell ss:Index="2"><Data ss:Type="String">VIN</Data></Cell><Cell><Data ss:Type="String">交车日期</Data></Cell><Cell><Data ss:Type="String">里程</Data></Cell></Row>
   <Row><Cell ss:Index="2"><Data ss:Type="String">LSVAA4182E2123456</Data></Cell><Cell><Data ss:Type="DateTime">2024-01-05T00:00:00.000</Data></Cell><Cell><Data ss:Type="Number">12345</Data></Cell><Cell ss:Index="6"><Data ss:Type="Boolean">1</Data></Cell></Row>
   <Row ss:Span="1"/>
   <Row><Cell ss:Index="2"><ss:Data ss:Type="String" xmlns="http://www.w3.org/TR/REC-html40"><B>粗体</B>文本</ss:Data></Cell><Cell><Data ss:Type="String"></Data></Cell></Row>
  </Table>
 </Worksheet>
 <Worksheet ss:Name="隐藏">
  <Table><Row><Cell><Data ss:Type="String">x</Data></Cell></Row></Table>
  <WorksheetOptions xmlns="urn:schemas-microsoft-com:office:excel"><Visible>SheetHidden</Visible></WorksheetOptions>
 </Worksheet>
</Workbook>
"""


def test_spreadsheetml_2003_respects_index_merge_span_and_types(tmp_path):
    """SpreadsheetML 2003 cells land at their ss:Index positions with typed values; hidden sheets are skipped."""
    path = tmp_path / "vehicles.xls"
    path.write_text(SPREADSHEETML, encoding="utf-8")
    assert sniff_kind(path) == "xml-xls"
    raw = _only(read_file(path))
    assert (raw.sheet, raw.kind) == ("车辆档案", "xml-xls")
    g = raw.grid
    assert list(g.index) == [1, 2, 3, 4, 5, 6, 7]
    assert _row(g, 1) == ["车辆档案导出", None, None, "D1", None, None]  # MergeAcross=2
    assert _row(g, 2) == [None] * 6
    assert _row(g, 3) == [None, "VIN", "交车日期", "里程", None, None]
    assert _row(g, 4) == [None, "LSVAA4182E2123456", dt.datetime(2024, 1, 5), 12345.0, None, True]
    assert _row(g, 5) == _row(g, 6) == [None] * 6  # ss:Span="1": this row and one more
    assert g.loc[7, 1] == "粗体文本" and g.loc[7, 2] is None


def test_spreadsheetml_with_entity_declarations_is_refused(tmp_path):
    """A SpreadsheetML file declaring entities (a possible entity bomb) is a BadFileError."""
    bomb = SPREADSHEETML.replace(
        '<?mso-application progid="Excel.Sheet"?>',
        '<!DOCTYPE Workbook [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>',
    )
    path = tmp_path / "bomb.xls"
    path.write_text(bomb, encoding="utf-8")
    with pytest.raises(BadFileError, match="ENTITY"):
        read_file(path)


def test_spreadsheetml_broken_xml_is_corrupt(tmp_path):
    """Truncated SpreadsheetML is reported as a corrupt file."""
    path = tmp_path / "cut.xls"
    path.write_text(SPREADSHEETML[: len(SPREADSHEETML) // 2], encoding="utf-8")
    with pytest.raises(BadFileError) as err:
        read_file(path)
    assert err.value.reason.startswith(readers.R_CORRUPT)


# ---------------------------------------------------------------------------- bad files


PNG_HEAD = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x02\x00\x00\x00"
)


def _fake_encrypted_ole() -> bytes:
    header = readers._OLE_MAGIC + b"\x00" * 16 + b"\x3e\x00\x03\x00\xfe\xff\x09\x00"
    body = bytearray(header.ljust(512, b"\x00"))
    body += "EncryptionInfo".encode("utf-16-le").ljust(64, b"\x00") + b"\x00" * 448
    body += "EncryptedPackage".encode("utf-16-le").ljust(64, b"\x00") + b"\x00" * 448
    return bytes(body)


@pytest.mark.parametrize(
    ("name", "payload", "reason"),
    [
        ("empty.xlsx", b"", readers.R_EMPTY),
        ("empty.csv", b"", readers.R_EMPTY),
        ("blank.csv", b"\xef\xbb\xbf \r\n\r\n", readers.R_EMPTY),
        ("image.xlsx", PNG_HEAD + bytes(range(256)) * 4, readers.R_NOT_SHEET),
        ("random.xls", random.Random(7).randbytes(4096), readers.R_NOT_SHEET),
        ("locked.xlsx", _fake_encrypted_ole(), readers.R_ENCRYPTED),
        ("locked.xls", _fake_encrypted_ole(), readers.R_ENCRYPTED),
        ("broken.xls", readers._OLE_MAGIC + b"\x00" * 1000, readers.R_CORRUPT),
        ("broken.xlsx", b"PK\x03\x04" + b"garbage" * 50, readers.R_CORRUPT),
    ],
)
def test_unreadable_files_raise_bad_file_error(tmp_path, name, payload, reason):
    """Empty, non-spreadsheet, encrypted and corrupt files raise BadFileError with a short reason."""
    path = tmp_path / name
    path.write_bytes(payload)
    with pytest.raises(BadFileError) as err:
        read_file(path)
    assert err.value.reason.startswith(reason)
    assert err.value.path == str(path)
    assert name in str(err.value)


def test_zip_without_workbook_is_not_a_spreadsheet(tmp_path):
    """A plain zip archive renamed .xlsx is rejected as not a spreadsheet."""
    path = tmp_path / "archive.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", "hello")
    with pytest.raises(BadFileError) as err:
        read_file(path)
    assert err.value.reason.startswith(readers.R_NOT_SHEET)


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (readers._OLE_MAGIC + b"\x00" * 8, "xls"),
        (b"PK\x03\x04rest", "xlsx"),
        (b"PAR1rest", "parquet"),
        (b"\xef\xbb\xbf  \n<!DOCTYPE html><html>", "html-xls"),
        (b"<meta charset=gbk><table>", "html-xls"),
        (b"\r\n<TABLE border=1>", "html-xls"),
        (
            b'<?xml version="1.0"?><Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet">',
            "xml-xls",
        ),
        ("车牌号,手机\n".encode("gbk"), "csv"),
        ("<备注>,手机\n".encode(), "csv"),
    ],
)
def test_sniff_kind_by_content(tmp_path, head, kind):
    """sniff_kind recognises each format by its first bytes, whatever the extension."""
    path = tmp_path / "file.xlsx"
    path.write_bytes(head)
    assert sniff_kind(path) == kind


# ---------------------------------------------------------------------------- limits


def test_file_size_limit_names_config_key(tmp_path):
    """A file above max_file_mb is refused with the limit and the config key in the reason."""
    path = tmp_path / "big.csv"
    path.write_bytes(b"a,b\n" + b"1,2\n" * 300_000)  # 1.2 MB
    with pytest.raises(BadFileError) as err:
        read_file(path, max_file_mb=1)
    assert "[limits] max_file_mb" in err.value.reason and "1 MB" in err.value.reason
    assert len(read_file(path, max_file_mb=2)[0].grid) == 300_001


def test_csv_row_limit_names_config_key(tmp_path):
    """A CSV with more rows than max_rows is refused with the config key in the reason."""
    path = tmp_path / "rows.csv"
    path.write_text("a,b\n" + "1,2\n" * 10, encoding="utf-8")
    assert len(read_file(path, max_rows=11)[0].grid) == 11
    with pytest.raises(BadFileError, match=r"\[limits\] max_rows"):
        read_file(path, max_rows=10)


def test_xlsx_row_limit_counts_rows_above_the_data(tmp_path):
    """An xlsx sheet whose last row is beyond max_rows is refused, rows above the data included."""
    path = _titled_workbook(tmp_path / "ro.xlsx")
    assert len(read_file(path, max_rows=5)[0].grid) == 5
    with pytest.raises(BadFileError, match=r"\[limits\] max_rows"):
        read_file(path, max_rows=4)


def test_html_and_xml_row_limits(tmp_path):
    """HTML and SpreadsheetML sheets longer than max_rows are refused."""
    html = tmp_path / "h.xls"
    html.write_text(HTML_TABLE.format(charset="utf-8"), encoding="utf-8")
    xml = tmp_path / "x.xls"
    xml.write_text(SPREADSHEETML, encoding="utf-8")
    for path in (html, xml):
        with pytest.raises(BadFileError, match=r"\[limits\] max_rows"):
            read_file(path, max_rows=3)


def test_zip_bomb_guard(tmp_path):
    """An xlsx whose entries declare far more uncompressed data than 20× max_file_mb is refused before reading."""
    path = _titled_workbook(tmp_path / "bomb.xlsx")
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/media/filler.bin", b"\x00" * (25 * 1024 * 1024))
    assert path.stat().st_size < 1024 * 1024  # small on disk
    with pytest.raises(BadFileError, match="max_file_mb"):
        read_file(path, max_file_mb=1)
    assert read_file(path, max_file_mb=2)[0].grid.loc[3, 1] == "VIN"


# ---------------------------------------------------------------------------- parquet


def test_parquet_without_pyarrow_says_what_to_install(tmp_path, monkeypatch):
    """Without pyarrow a parquet file is a BadFileError that says to install pyarrow."""
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    path = tmp_path / "big.parquet"
    path.write_bytes(b"PAR1" + b"\x00" * 64 + b"PAR1")
    with pytest.raises(BadFileError, match="pyarrow"):
        read_file(path)


def test_parquet_header_is_row_one(tmp_path):
    """A parquet file gives one grid with the column names as row 1 and values from row 2."""
    pytest.importorskip("pyarrow")
    import pandas as pd

    path = tmp_path / "ro.parquet"
    pd.DataFrame(
        {
            "工单号": ["RO1", ""],  # '' is no value, as in CSV and xlsx
            "里程": [12345, 0],
            "进厂日期": pd.to_datetime(["2024-01-05", None]),
            "结算时间": pd.to_datetime(["2024-01-06 17:30", None]).tz_localize("Asia/Shanghai"),
        }
    ).to_parquet(path)
    raw = _only(read_file(path))
    assert raw.kind == "parquet"
    assert _row(raw.grid, 1) == ["工单号", "里程", "进厂日期", "结算时间"]
    shanghai = dt.timezone(dt.timedelta(hours=8))
    assert _row(raw.grid, 2) == ["RO1", 12345, dt.datetime(2024, 1, 5),
                                 dt.datetime(2024, 1, 6, 17, 30, tzinfo=shanghai)]
    assert [type(v) for v in _row(raw.grid, 2)[2:]] == [dt.datetime, dt.datetime]  # as calamine
    assert _row(raw.grid, 3) == [None, 0, None, None]


# ---------------------------------------------------------------------------- UTF-16 mis-decoding


def _misdecode(text: str) -> str:
    """What calamine shows for UTF-16-LE bytes it took for windows-1252 (WHATWG mapping)."""
    out = []
    for b in text.encode("utf-16-le"):
        try:
            out.append(bytes([b]).decode("cp1252"))
        except UnicodeDecodeError:
            out.append(chr(b))
    return "".join(out)


def test_utf16_fix_examples():
    """The repair turns calamine's mojibake back into the Chinese text and refuses odd or non-Latin input."""
    assert _misdecode("VIN号") == "V\x00I\x00N\x00÷S"
    assert readers._utf16_fix("V\x00I\x00N\x00÷S") == "VIN号"
    assert readers._utf16_fix("ö–.U\nN¥båe\x1fg") == "零售上报日期"
    assert readers._utf16_fix("abc") is None  # odd byte count
    assert readers._utf16_fix("车牌号") is None  # not 8-bit text


@settings(max_examples=200, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from("VIN号车牌手机0123456789-:/ ()（）客户姓名零售日期ABCxyz"),
        min_size=1,
        max_size=20,
    )
)
def test_utf16_fix_round_trips(text):
    """Any CJK/ASCII header mis-decoded the calamine way is repaired exactly."""
    assert readers._utf16_fix(_misdecode(text)) == text


def test_workbook_fix_only_applies_to_mojibake_workbooks():
    """Healthy workbooks are untouched; in a mis-decoded one plain-ASCII names survive and mojibake is fixed."""
    healthy = [("Sheet1", [["VIN", "车牌号"], ["Test", 1.0]], 2)]
    assert not readers._needs_utf16_fix(healthy)
    broken = [("Template", [[_misdecode("VIN号"), _misdecode("零售上报日期")], ["Test", 2.0]], 2)]
    assert readers._needs_utf16_fix(broken)
    [(name, rows, _)] = readers._fix_utf16_workbook(broken)
    assert name == "Template"
    assert rows == [["VIN号", "零售上报日期"], ["Test", 2.0]]


# ---------------------------------------------------------------------------- real data


def _realdata(*parts: str) -> Path:
    path = REALDATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} absent (../shared/realdata is not part of the repo)")
    return path


@pytest.mark.realdata
def test_yonyou_utf16_misdecoded_xls_is_repaired():
    """The yonyou DMS .xls templates whose strings calamine mis-decodes come back as Chinese headers."""
    base = _realdata("templates", "yonyou_gac_fca_dms")
    otd = _only(read_file(base / "OTD零售车辆上传.xls"))
    assert otd.kind == "xls" and otd.sheet == "Template"
    assert _row(otd.grid, 1) == ["VIN号", "零售上报日期"]
    assert _row(otd.grid, 2) == ["ABCD**********123", "20141231"]
    task = _only(read_file(base / "回访任务导入模板.xls"))
    assert task.sheet == "下载模板"
    assert _row(task.grid, 1)[:4] == [
        "经销商代码(必填)",
        "联系人姓名(必填)",
        "联系人电话",
        "VIN(必填)",
    ]
    healthy = _only(read_file(base / "customerinfo_Import.xls"))
    assert healthy.sheet == "潜客信息" and healthy.grid.loc[1, 0] == "客户姓名"


@pytest.mark.realdata
def test_every_real_template_reads_without_exception():
    """Every real DMS template and export under ../shared/realdata reads, with Excel row numbers from 1."""
    base = _realdata("templates")
    files = sorted(p for p in base.rglob("*") if p.is_file())
    files += sorted(_realdata().glob("arms-2015/*.csv"))
    assert len(files) >= 30
    for path in files:
        sheets = read_file(path)
        assert sheets, path
        for raw in sheets:
            assert "\x00" not in raw.sheet
            if not raw.grid.empty:
                assert raw.grid.index[0] == 1
                assert raw.grid.index.is_monotonic_increasing
                assert all(v is None or v != "" for v in raw.grid.iloc[0])


@pytest.mark.realdata
def test_szqdms_data_from_column_b():
    """The truck DMS template keeps its instruction row 1 and header row 2 with VIN in column B."""
    raw = read_file(_realdata("templates", "szqdms", "vehicleImp.xls"))[0]
    assert raw.grid.loc[2, 1] == "VIN（*）"
    assert raw.grid.loc[3, 6] == dt.date(2014, 5, 2)


# ---------------------------------------------------------------------------- timing


def test_timing_200k_row_gbk_csv(tmp_path):
    """Reading a 200,000-row × 20-column GBK CSV gives every row (the time is printed, not asserted)."""
    rng = random.Random(1)
    header = ",".join(
        ["工单号", "车牌号", "VIN", "进厂日期", "客户姓名", "手机"]
        + [f"字段{i}" for i in range(14)]
    )
    lines = ["维修工单明细表", "导出时间: 2026-11-20", header]
    for i in range(200_000):
        lines.append(
            f"RO{i:07d},粤B{i % 99999:05d},LSVAA4182E2{i:06d},2024-01-05,张三,13800138000,"
            + ",".join(str(rng.randint(0, 99999)) for _ in range(14))
        )
    lines.append("合计,,,,,,123")
    path = tmp_path / "big.csv"
    path.write_bytes(("\n".join(lines) + "\n").encode("gbk"))
    start, cpu = time.perf_counter(), time.process_time()
    raw = _only(read_file(path))
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    size = path.stat().st_size / 1e6
    print(f"\n200k-row GBK CSV ({size:.1f} MB): read in {elapsed:.2f} s (CPU {cpu:.2f} s)")
    assert raw.encoding == "gb18030"
    assert raw.grid.shape == (200_004, 20)
    assert raw.grid.index[-1] == 200_004
    assert raw.grid.loc[3, 0] == "工单号"
    assert raw.grid.loc[200_004, 6] == "123"
