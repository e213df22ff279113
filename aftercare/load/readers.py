"""The lowest layer of the loader: one input file → raw grids, one per sheet.

Nothing here interprets headers: every sheet comes back as a grid of cells exactly where
the user sees them, so that the layer above can find the header row and report any row
by the number Excel shows (01-data-contract.md, "Bad input" rule 1).

- The format is sniffed by content, never by extension: web DMSs save HTML tables and
  SpreadsheetML 2003 XML as ``.xls``, and users rename files.
- ``RawSheet.grid``: object dtype, columns ``0..n-1`` = the spreadsheet's column
  positions (column A is 0, even when the data starts in column B), index = the row
  number the user sees: Excel's 1-based row for workbooks (rows above the data are kept
  as empty rows, so a header at B3 is at index 3, column 1); the 1-based physical line
  number of a record's first line for CSV; the 1-based ``<tr>`` number for HTML; for
  parquet row 1 is the header (column names) and data starts at row 2. Empty cells are
  ``None``; trailing fully-empty rows and columns are dropped; empty rows in between are
  kept, so the index has no gaps.
- Values as read: ``str``, ``float``/``int``, ``bool``, ``datetime.date``/``datetime``
  (also ``time``/``timedelta`` from workbooks), ``None``. CSV and HTML cells are always
  ``str`` (leading zeros of phones and IDs survive).
- An unreadable file raises :class:`BadFileError` with a short Chinese reason that
  names no customer data. Input files are only ever opened read-only.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import io
import mmap
import re
import unicodedata
import xml.etree.ElementTree as ET
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from aftercare.errors import BadFileError

__all__ = ["RawSheet", "read_file", "sniff_kind"]

_MB = 1024 * 1024
_SNIFF_BYTES = 64 * 1024

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")  # a normal zip; an empty zip
_PARQUET_MAGIC = b"PAR1"

_SS_NS = "urn:schemas-microsoft-com:office:spreadsheet"
_X_NS = "urn:schemas-microsoft-com:office:excel"

# The uncompressed content of an xlsx may be at most this many times max_file_mb.
ZIP_EXPANSION_FACTOR = 20

# Reasons (short, no personal data; BadFileError adds the file name and the advice).
R_EMPTY = "文件为空"
R_NOT_SHEET = "不是电子表格文件"
R_ENCRYPTED = "文件已加密（有密码保护）"
R_CORRUPT = "文件已损坏"
R_ENCODING = "无法识别文件编码（支持 UTF-8、UTF-8 BOM、GBK/GB18030）"
R_MIXED = ("文件混用了 UTF-8 和 GBK 两种编码（可能是两次导出拼接而成）：请用 Excel 打开后"
           "另存为「CSV UTF-8」，或分别重新导出")
R_NUL = "文件含有二进制 NUL 字节：不是文本/CSV 文件，或已损坏，请重新导出"


#: pandas' ``str`` dtype (Arrow-backed, NaN for missing): what pandas makes of a text
#: column, and what the typed readers and the loader's text columns use
STR_DTYPE = pd.StringDtype("pyarrow", na_value=np.nan)


class RawSheet:
    """One sheet as read. ``grid``: see the module docstring for index, columns and values.

    A Parquet file's sheet, and a CSV file's whose records are each one line, also has
    ``typed``: the rows (Parquet: from grid row 2, under the column names; CSV: all) with
    columns as the file typed them, for the loader to take whole (``rows_below``) instead
    of going cell by cell through the object grid: text as pandas ``str`` ('' missing),
    timezone-naive timestamps as datetime64, any other column as the grid's objects.
    Its ``grid`` is then built only when asked for (``head`` builds just the first rows).
    """

    def __init__(self, file: Path, sheet: str, grid: pd.DataFrame | None,
                 encoding: str | None = None, kind: str = "", *,
                 typed: pd.DataFrame | None = None, header: list | None = None) -> None:
        self.file = file
        self.sheet = sheet  # sheet name; for CSV the file stem; for HTML "Table1", …
        self.encoding = encoding  # for CSV/HTML/XML: the encoding used
        self.kind = kind  # "xlsx", "xls", "csv", "html-xls", "xml-xls", "parquet"
        self.typed = typed
        self._header = header  # typed: the column names (grid row 1)
        self._grid = grid

    @property
    def grid(self) -> pd.DataFrame | None:
        if self._grid is None and self.typed is not None:
            self._grid = _typed_to_grid(self._header, self.typed)
        return self._grid

    @grid.setter
    def grid(self, value: pd.DataFrame | None) -> None:
        self._grid = value
        if value is None:
            self.typed = None  # freed with the grid

    def head(self, n: int) -> pd.DataFrame:
        """The grid's first ``n`` rows, without building the whole grid."""
        if self._grid is None and self.typed is not None:
            rows = n if self._header is None else n - 1  # Parquet: + its header row
            return _typed_to_grid(self._header, self.typed.head(max(0, rows)))
        return self.grid.head(n)

    def rows_below(self, header_row: int) -> pd.DataFrame:
        """The rows under the header row ``header_row``: typed when the sheet has typed
        columns, else the grid's (object) rows."""
        rows = self.typed if self.typed is not None else self.grid
        return rows.iloc[int(np.searchsorted(rows.index.to_numpy(), header_row, "right")):]

    def __repr__(self) -> str:
        return f"RawSheet({self.file.name!r}, {self.sheet!r}, {self.kind!r})"


# ---------------------------------------------------------------------------- sniffing


def sniff_kind(path: Path) -> str:
    """The file's format by its content: "xlsx" (any zip: xlsx/xlsm), "xls" (OLE2),
    "html-xls", "xml-xls", "parquet" or "csv" (any other text).

    Raises BadFileError for an empty file and for binary content that is none of these
    (an image renamed .xlsx, random bytes)."""
    path = Path(path)
    with _open(path) as fh:
        head = fh.read(_SNIFF_BYTES)
    return _sniff_bytes(path, head)


def _sniff_bytes(path: Path, head: bytes) -> str:
    if not head:
        raise BadFileError(path, R_EMPTY)
    if head.startswith(_OLE_MAGIC):
        return "xls"
    if head.startswith(_ZIP_MAGICS):
        return "xlsx"
    if head.startswith(_PARQUET_MAGIC):
        return "parquet"
    markup = _markup_kind(head)
    if markup:
        return markup
    if _looks_binary(head):
        utf16 = head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
        if b"\x00" in head and not utf16 and _mostly_text(head):
            raise BadFileError(path, R_NUL)
        if _mixed_encoding(head):
            raise BadFileError(path, R_MIXED)
        raise BadFileError(path, R_NOT_SHEET)
    return "csv"


def _mostly_text(head: bytes) -> bool:
    """Text with a stray NUL (not a binary format): printable outside the NULs."""
    sample = head[:4096].replace(b"\x00", b"")
    return _mixed_encoding(sample) or not _looks_binary(sample)


def _mixed_encoding(data: bytes) -> bool:
    """Every line is UTF-8 or GB18030, but not all the same one (two exports glued)."""
    lines = data.split(b"\n")
    if len(lines) > 1:
        lines = lines[:-1]  # the sample may end inside a line
    kinds = set()
    for line in lines[:2000]:
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            kinds.add("utf-8")
            continue
        except UnicodeDecodeError:
            pass
        try:
            line.decode("gb18030")
            kinds.add("gb18030")
        except UnicodeDecodeError:
            return False
    return kinds == {"utf-8", "gb18030"}


def _head_text(head: bytes) -> str:
    """The start of the file as lower-case text, for spotting markup (BOMs honoured)."""
    if head.startswith(codecs.BOM_UTF8):
        return head[3:].decode("utf-8", "replace").lower()
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return head[: len(head) // 2 * 2].decode("utf-16", "replace").lower()
    return head.decode("latin-1").lower()


_HTML_START = re.compile(r"<(?:!doctype\s+html|html|table|meta|head|body|title|style|tr)\b")


def _markup_kind(head: bytes) -> str | None:
    text = _head_text(head).lstrip(" \t\r\n\ufeff")
    if not text.startswith("<"):
        return None
    if _SS_NS in text and ("<workbook" in text or "<ss:workbook" in text):
        return "xml-xls"
    if _HTML_START.match(text):
        return "html-xls"
    if text.startswith(("<?xml", "<!--")) and ("<html" in text or "<table" in text):
        return "html-xls"
    return None  # some other text starting with "<": let the CSV reader have it


def _looks_binary(head: bytes) -> bool:
    """NUL bytes, or bytes that are neither UTF-8 nor GB18030, or many control codes."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    if b"\x00" in head:
        return True
    text = None
    for enc in ("utf-8", "gb18030"):
        try:  # not final: the sample may end inside a multi-byte character
            text = codecs.getincrementaldecoder(enc)("strict").decode(head, final=False)
            break
        except UnicodeDecodeError:
            continue
    if text is None:
        return True
    controls = sum(1 for ch in text[:4096] if ord(ch) < 32 and ch not in "\t\r\n\f\x1a")
    return controls > max(4, len(text[:4096]) // 100)


# ---------------------------------------------------------------------------- entry


def read_file(path: Path, *, max_file_mb: float = 200, max_rows: int = 5_000_000) -> list[RawSheet]:
    """Every visible sheet of one input file as a RawSheet (see the module docstring).

    Raises BadFileError when the file is empty, not a spreadsheet, encrypted, corrupt,
    larger than ``[limits] max_file_mb`` or has a sheet longer than ``[limits] max_rows``.
    """
    path = Path(path)
    size = _stat_size(path)
    if size == 0:
        raise BadFileError(path, R_EMPTY)
    if size > max_file_mb * _MB:
        raise BadFileError(
            path,
            f"文件大小 {size / _MB:.1f} MB 超过上限 {max_file_mb:g} MB"
            f"（可在配置 [limits] max_file_mb 中调整）",
        )
    kind = sniff_kind(path)
    if kind == "csv" and path.suffix.lower() in (".xlsx", ".xlsm", ".parquet"):
        # a workbook is a zip (parquet: PAR1); text under such a name is not what it says.
        # (`.xls` stays open to text: web DMSs export tab-separated text as `.xls`.)
        raise BadFileError(path, R_NOT_SHEET)
    if kind in ("xlsx", "xls"):
        return _read_workbook(path, kind, max_file_mb=max_file_mb, max_rows=max_rows)
    if kind == "parquet":
        return _read_parquet(path, max_rows=max_rows)
    data = _read_bytes(path)
    if kind == "html-xls":
        return _read_html(path, data, max_rows=max_rows)
    if kind == "xml-xls":
        return _read_spreadsheetml(path, data, max_rows=max_rows)
    return [_read_csv(path, data, max_rows=max_rows)]


def _stat_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except PermissionError:
        raise BadFileError(path, "没有读取权限") from None
    except OSError:
        raise BadFileError(path, "无法打开文件") from None


def _open(path: Path):
    try:
        return open(path, "rb")  # read-only; never locks against other readers
    except PermissionError:
        raise BadFileError(path, "没有读取权限") from None
    except OSError:
        raise BadFileError(path, "无法打开文件") from None


def _read_bytes(path: Path) -> bytes:
    with _open(path) as fh:
        return fh.read()


def _too_many_rows(path: Path, sheet: str, max_rows: int) -> BadFileError:
    return BadFileError(
        path, f"工作表「{sheet}」超过 {max_rows} 行（可在配置 [limits] max_rows 中调整）"
    )


def _rows_to_grid(rows: list[list], *, first_row: int = 1) -> pd.DataFrame:
    """Rows of values ('' counts as empty) → the RawSheet grid: object dtype, columns
    0..n-1, index first_row.., trailing empty rows and columns dropped."""
    width = max((len(r) for r in rows), default=0)
    if width and any(len(r) != width for r in rows):
        rows = [list(r) + [None] * (width - len(r)) for r in rows]
    arr = np.empty((len(rows), width), dtype=object)
    if rows and width:
        arr[:, :] = rows
    return _array_to_grid(arr, first_row=first_row)


def _array_to_grid(arr: np.ndarray, *, first_row: int = 1, index=None,
                   filled: np.ndarray | None = None) -> pd.DataFrame:
    """``filled``: where ``arr`` holds a value, if known (then no cell is '')."""
    if arr.size:
        if filled is None:
            arr[arr == ""] = None  # object array: compared element by element
            filled = np.not_equal(arr, None)
        rows_used = np.flatnonzero(filled.any(axis=1))
        cols_used = np.flatnonzero(filled.any(axis=0))
        n_rows = int(rows_used[-1]) + 1 if rows_used.size else 0
        n_cols = int(cols_used[-1]) + 1 if cols_used.size else 0
        arr = arr[:n_rows, :n_cols]
    else:
        arr = arr.reshape(0, 0)
    if index is None:
        index = pd.RangeIndex(first_row, first_row + arr.shape[0])
    else:
        index = pd.Index(np.asarray(index)[: arr.shape[0]], dtype="int64")
    # copy=False: arr is this function's own (a copy would touch every cell again)
    return pd.DataFrame(arr, index=index, columns=pd.RangeIndex(arr.shape[1]), dtype=object,
                        copy=False)


# ---------------------------------------------------------------------------- xlsx / xls


def _read_workbook(path: Path, kind: str, *, max_file_mb: float, max_rows: int) -> list[RawSheet]:
    import python_calamine as pc

    if kind == "xlsx":
        _check_zip(path, max_file_mb)
    wb = None
    try:
        # from_path picks the reader by extension; a renamed file goes through
        # from_filelike, which tries every format.
        native = {".xlsx", ".xlsm"} if kind == "xlsx" else {".xls"}
        if path.suffix.lower() in native:
            wb = pc.CalamineWorkbook.from_path(str(path))
        else:
            with _open(path) as fh:
                wb = pc.CalamineWorkbook.from_filelike(fh)
        sheets = []
        for meta in wb.sheets_metadata:
            if meta.visible != pc.SheetVisibleEnum.Visible:
                continue  # hidden and very hidden sheets: not what the user sees
            if meta.typ != pc.SheetTypeEnum.WorkSheet:
                continue  # chart, dialog, macro sheets hold no table
            sheet = wb.get_sheet_by_name(meta.name)
            # skip_empty_area=False: rows and columns start at A1, so positions are
            # Excel's even when the data starts at B3.
            rows = sheet.to_python(skip_empty_area=False, nrows=max_rows + 1)
            last_row = sheet.end[0] + 1 if sheet.end is not None else 0
            sheets.append((meta.name, rows, last_row))
    except BadFileError:
        raise
    except BaseException as exc:  # calamine raises its own errors and, rarely, panics
        if isinstance(exc, (KeyboardInterrupt, SystemExit, MemoryError)):
            raise
        raise BadFileError(path, _calamine_reason(path, kind, exc)) from None
    finally:
        if wb is not None:
            with contextlib.suppress(Exception):  # closing is best effort
                wb.close()

    if kind == "xls" and _needs_utf16_fix(sheets):
        sheets = _fix_utf16_workbook(sheets)

    out = []
    for name, rows, last_row in sheets:
        grid = _rows_to_grid(rows)
        if len(grid) > max_rows or last_row > max_rows:
            raise _too_many_rows(path, name, max_rows)
        out.append(RawSheet(path, name, grid, None, kind))
    return out


def _check_zip(path: Path, max_file_mb: float) -> None:
    """Cheap zip-bomb guard and "is there a workbook in this zip" check."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        raise BadFileError(path, R_CORRUPT) from None
    except OSError:
        raise BadFileError(path, "无法打开文件") from None
    names = {i.filename.lower() for i in infos}
    is_ooxml = any(n.startswith("xl/workbook.") for n in names)
    is_ods = "content.xml" in names and "mimetype" in names
    if not (is_ooxml or is_ods):
        raise BadFileError(path, f"{R_NOT_SHEET}（压缩包中没有工作簿）")
    total = sum(i.file_size for i in infos)
    limit = ZIP_EXPANSION_FACTOR * max_file_mb * _MB
    if total > limit:
        raise BadFileError(
            path,
            f"解压后内容 {total / _MB:.0f} MB 超过上限 {limit / _MB:.0f} MB"
            f"（{ZIP_EXPANSION_FACTOR} 倍 [limits] max_file_mb），疑似损坏或压缩炸弹",
        )


_ENCRYPTION_MARKERS = ("EncryptionInfo".encode("utf-16-le"), "EncryptedPackage".encode("utf-16-le"))


def _has_encryption_marker(path: Path) -> bool:
    """An OLE2 container holding an ``EncryptionInfo`` stream is a password-protected
    xlsx (MS-OFFCRYPTO). Looked for only after calamine failed, so a cell that happens
    to contain the word cannot make a readable file "encrypted"."""
    try:
        with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            return any(mm.find(m) != -1 for m in _ENCRYPTION_MARKERS)
    except (OSError, ValueError):
        return False


def _calamine_reason(path: Path, kind: str, exc: BaseException) -> str:
    import python_calamine as pc

    if isinstance(exc, pc.PasswordError):
        return R_ENCRYPTED
    if kind == "xls":
        if _has_encryption_marker(path):
            return R_ENCRYPTED
        if re.search(r"cannot find .*stream", str(exc), re.IGNORECASE):
            return f"{R_NOT_SHEET}（OLE 文件中没有工作簿）"
    if "password" in str(exc).lower() or "encrypt" in str(exc).lower():
        return R_ENCRYPTED
    return R_CORRUPT


# Old .xls files from some Chinese DMSs hold UTF-16-LE text flagged as 8-bit, which
# calamine decodes as windows-1252: 'V\x00I\x00N\x00÷S' is really 'VIN号'. Re-encode
# (cp1252 where it maps, latin-1 for the five bytes it leaves undefined) and decode as
# UTF-16-LE. Only workbooks showing the symptom (a NUL in a string that then decodes
# cleanly) are fixed, and then every string that decodes cleanly ('ö–.U\nN¥båe\x1fg' is
# '零售上报日期' but has no NUL) except plain printable ASCII: the same files hold
# correctly stored names like 'Template', which would otherwise become '敔灭慬整'.
_FIX_SCAN_ROWS = 50
_PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]*")


def _utf16_fix(s: str) -> str | None:
    buf = bytearray()
    for ch in s:
        try:
            buf += ch.encode("cp1252")
        except UnicodeEncodeError:
            if ord(ch) > 0xFF:
                return None
            buf.append(ord(ch))
    if len(buf) % 2:
        return None
    try:
        fixed = buf.decode("utf-16-le")
    except UnicodeDecodeError:
        return None
    for ch in fixed:
        cat = unicodedata.category(ch)
        if cat in ("Cs", "Co", "Cn") or (cat == "Cc" and ch not in "\t\r\n"):
            return None
    return fixed


def _needs_utf16_fix(sheets) -> bool:
    for name, rows, _ in sheets:
        if "\x00" in name and _utf16_fix(name):
            return True
        for row in rows[:_FIX_SCAN_ROWS]:
            for v in row:
                if isinstance(v, str) and "\x00" in v and _utf16_fix(v):
                    return True
    return False


def _fix_utf16_workbook(sheets):
    memo: dict[str, str] = {}

    def fix(v):
        if not isinstance(v, str) or not v or _PRINTABLE_ASCII.fullmatch(v):
            return v  # plain ASCII ('Sheet1', 'Template') was stored as 8-bit: keep
        if v not in memo:
            memo[v] = _utf16_fix(v) or v
        return memo[v]

    return [
        (fix(name), [[fix(v) for v in row] for row in rows], last_row)
        for name, rows, last_row in sheets
    ]


# ---------------------------------------------------------------------------- CSV


def _csv_utf8(path: Path, data: bytes) -> tuple[bytes, str]:
    """The file's text as UTF-8 bytes with line breaks as \\n, and the encoding it was
    in. A file in UTF-8 is only checked, not decoded: decoding a group's RO file into a
    Python string took a fifth of reading it."""
    if not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and b"\x00" not in data:
        bom = data.startswith(codecs.BOM_UTF8)
        body = data[len(codecs.BOM_UTF8):] if bom else data
        try:
            pa.LargeStringArray.from_buffers(
                1, pa.py_buffer(np.array([0, len(body)], dtype=np.int64)),
                pa.py_buffer(body)).validate(full=True)  # strict UTF-8, in C
        except pa.ArrowInvalid:
            pass  # not UTF-8: decoded below
        else:
            if b"\r" in body:
                body = body.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
            return body, "utf-8-sig" if bom else "utf-8"
    text, encoding = _decode_csv(path, data)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.encode("utf-8"), encoding


def _decode_csv(path: Path, data: bytes) -> tuple[str, str]:
    if data.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]  # Excel's "Unicode text" export
    else:
        if b"\x00" in data:
            raise BadFileError(path, R_NUL)
        candidates = ["utf-8", "gb18030"]  # GB18030 is a superset of GBK and GB2312
    return _decode_first(path, data, candidates)


def _decode_first(path: Path, data: bytes, candidates: list[str]) -> tuple[str, str]:
    """The text in the first candidate encoding that decodes the whole file strictly."""
    for enc in candidates:
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError:
            continue
    raise BadFileError(path, R_MIXED if _mixed_encoding(data) else R_ENCODING)


_DELIMITERS = ",\t;|"


def _sniff_delimiter(lines: list[str]) -> str:
    """The candidate that splits most records (at least two, unless the sample has one
    line) into the same number (>1) of fields; comma on ties or when nothing splits.
    Title rows above the header (one field) count for no candidate, and only the most
    common field count scores, so a short totals row does not disturb the vote."""
    best, best_score = ",", 0
    for delim in _DELIMITERS:
        try:
            counts = [len(r) for r in csv.reader(lines, delimiter=delim)]
        except csv.Error:
            continue
        multi = [c for c in counts if c > 1]
        if not multi:
            continue
        _, score = Counter(multi).most_common(1)[0]
        if score > best_score and score >= min(2, len(lines)):
            best, best_score = delim, score
    return best


_SAW_FIELDS = re.compile(r"saw (\d+)")


def _per_line(utf8: bytes, delim: str) -> np.ndarray:
    """How many ``delim`` characters (ASCII) each line of UTF-8 text holds. In UTF-8 an
    ASCII byte is always that character: the lines are cut from the bytes in numpy
    and counted in pyarrow, without a Python string per line."""
    raw = np.frombuffer(utf8, dtype=np.uint8)
    if not len(raw):
        return np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(raw == ord("\n")) + 1
    offsets = np.concatenate(([0], starts, [len(raw)]))  # the last line may be empty
    lines = pa.LargeBinaryArray.from_buffers(
        pa.large_binary(), len(offsets) - 1,
        [None, pa.py_buffer(offsets.astype(np.int64)), pa.py_buffer(utf8)])
    return pc.count_substring(lines, delim).to_numpy(zero_copy_only=False)


_SHORT_ROWS_MAX = 10_000  # rows with fewer fields (titles, totals) put back one by one


def _read_csv_typed(utf8: bytes, delim: str, width: int, n_lines: int) -> pd.DataFrame | None:
    """Every cell as text, in pyarrow's CSV reader (no Python string per cell), for
    ``RawSheet.typed``: columns 0..width-1 of pandas ``str`` ('' missing), index = the
    line number. ``width``: the most common field count. Only when every record is one
    line (``n_lines`` records): a record over several lines (a line break inside quotes),
    a row with more fields, or a short one with a quote in it give None, and the general
    reader (pandas' C engine) reads the file. Short rows (titles above the header,
    totals) are put back where they were."""
    import pyarrow.csv as pacsv

    names = [str(i) for i in range(width)]
    short: list[tuple[int, str]] = []

    def on_invalid(row) -> str:
        if (row.actual_columns > row.expected_columns or '"' in row.text
                or row.number is None or len(short) >= _SHORT_ROWS_MAX):
            return "error"
        short.append((row.number, row.text))
        return "skip"

    try:
        table = pacsv.read_csv(
            io.BytesIO(utf8),
            read_options=pacsv.ReadOptions(column_names=names, use_threads=False,
                                           block_size=8 * _MB),
            parse_options=pacsv.ParseOptions(delimiter=delim, newlines_in_values=False,
                                             ignore_empty_lines=False,
                                             invalid_row_handler=on_invalid),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.large_string() for n in names}, strings_can_be_null=True,
                null_values=[""], quoted_strings_can_be_null=True))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    n = table.num_rows + len(short)
    if n != n_lines:  # a record over several lines: line numbers need the general reader
        return None
    cols = [table.column(i) for i in range(width)]  # chunked: combining copies them all
    if short:  # each on its own line: record i+1 is line i+1
        at = np.array([number - 1 for number, _ in short], dtype=np.int64)
        if at.max() >= n or len(np.unique(at)) != len(at):
            return None
        fields = [next(csv.reader([text], delimiter=delim), []) for _, text in short]
        order = np.empty(n, dtype=np.int64)  # where each output row comes from
        rest = np.ones(n, dtype=bool)
        rest[at] = False
        order[rest] = np.arange(table.num_rows)
        order[at] = table.num_rows + np.arange(len(short))
        order = pa.array(order)
        for j in range(width):
            extra = pa.array([f[j] if j < len(f) and f[j] != "" else None for f in fields],
                             type=pa.large_string())
            cols[j] = pa.chunked_array([*cols[j].chunks, extra], pa.large_string()).take(order)
    return pd.DataFrame({j: pd.arrays.ArrowStringArray(c, dtype=STR_DTYPE)
                         for j, c in enumerate(cols)}, index=pd.RangeIndex(1, n + 1))


def _parse_csv_text(utf8: bytes, delim: str, width: int, quoting: int) -> pd.DataFrame:
    for _ in range(20):
        try:
            return pd.read_csv(
                io.BytesIO(utf8),  # bytes: the C parser reads them without a text wrapper
                encoding="utf-8",
                sep=delim,
                header=None,
                names=range(width),
                dtype=object,
                keep_default_na=False,  # 'NA'/'null' stay text; only an empty cell
                na_values=[""],  # is missing (NaN here, None in the grid)
                skip_blank_lines=False,  # keeps line numbers aligned
                quoting=quoting,
                engine="c",
            )
        except pd.errors.ParserError as exc:
            m = _SAW_FIELDS.search(str(exc))
            if not m or int(m.group(1)) <= width:
                raise
            width = int(m.group(1))  # a record wider than counted: widen and retry
    raise pd.errors.ParserError("too many retries")


def _read_csv(path: Path, data: bytes, *, max_rows: int) -> RawSheet:
    utf8, encoding = _csv_utf8(path, data)
    if not utf8 or (utf8[:4096].decode("utf-8", "ignore").isspace() and utf8.decode().isspace()):
        raise BadFileError(path, R_EMPTY)
    n_breaks = utf8.count(b"\n")
    if n_breaks + 1 > max_rows + 1 and sum(1 for ln in utf8.split(b"\n") if ln) > max_rows:
        raise _too_many_rows(path, path.stem, max_rows)
    end = -1
    for _ in range(200):  # the first 200 lines (a split would copy the whole rest)
        end = utf8.find(b"\n", end + 1)
        if end < 0:
            end = len(utf8)
            break
    sample = [ln for ln in utf8[:end].decode("utf-8").split("\n") if ln.strip()][:50]
    delim = _sniff_delimiter(sample)
    n_lines = n_breaks + (not utf8.endswith(b"\n"))  # physical lines
    has_quotes = b'"' in utf8
    counts = _per_line(utf8, delim)
    if len(counts) and n_lines > 1:
        # the width of most records: the commonest field count, titles (one field) apart
        split = counts[counts > 0]
        width = int(np.bincount(split).argmax()) + 1 if len(split) else 1
        typed = _read_csv_typed(utf8, delim, width, n_lines)
        if typed is not None:
            if len(typed) > max_rows:
                raise _too_many_rows(path, path.stem, max_rows)
            return RawSheet(path, path.stem, None, encoding, "csv", typed=typed)
    # An upper bound of the width for single-line records (quoted delimiters overcount;
    # the empty extra columns are trimmed); multi-line records are widened on retry.
    width = int(counts.max()) + 1 if len(counts) else 1
    quoting = csv.QUOTE_MINIMAL
    try:
        df = _parse_csv_text(utf8, delim, width, quoting)
    except pd.errors.ParserError:
        # Typically a stray '"' opening a field that never closes (EOF inside string):
        # read quotes as plain text instead of swallowing the rest of the file.
        quoting = csv.QUOTE_NONE
        try:
            df = _parse_csv_text(utf8, delim, width, quoting)
        except pd.errors.ParserError:
            raise BadFileError(path, f"{R_CORRUPT}（CSV 格式无法解析）") from None
    if len(df) > max_rows:
        raise _too_many_rows(path, path.stem, max_rows)
    arr = df.to_numpy(dtype=object, copy=True)  # writable (copy-on-write views are not)
    missing = arr != arr  # NaN: cells are str (never unequal to themselves) or NaN
    arr[missing] = None
    # Row index = physical line number of each record's first line. Records span
    # several lines only when a quoted field holds line breaks: count those (line
    # breaks were normalised to \n above, so this is exact). Every record takes at least
    # one line, so as many records as lines means none holds a line break.
    line_no = None
    if quoting != csv.QUOTE_NONE and has_quotes and len(df) != n_lines:
        extra = np.zeros(len(df), dtype=np.int64)
        for col in df.columns:
            s = df[col].fillna("")
            if s.str.contains("\n", regex=False).any():
                extra += s.str.count("\n").to_numpy(dtype=np.int64)
        if extra.any():
            line_no = 1 + np.arange(len(df)) + np.concatenate(([0], np.cumsum(extra)[:-1]))
    del df
    grid = _array_to_grid(arr, first_row=1, index=line_no, filled=~missing)
    return RawSheet(path, path.stem, grid, encoding, "csv")


# ---------------------------------------------------------------------------- HTML


_META_CHARSET = re.compile(
    rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)""", re.IGNORECASE
)
_XML_ENCODING = re.compile(
    rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9_.:\-]+)""", re.IGNORECASE
)
_GB_ALIASES = {
    "gbk",
    "gb2312",
    "gb_2312-80",
    "gb_2312",
    "x-gbk",
    "cp936",
    "ms936",
    "936",
    "euc-cn",
    "csgb2312",
}


def _norm_encoding(label: str | None) -> str | None:
    if not label:
        return None
    label = label.strip().lower()
    if label in _GB_ALIASES or label.startswith("gb2312"):
        return "gb18030"
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    return "gb18030" if name in ("gbk", "gb2312") else name


def _decode_markup(path: Path, data: bytes, declared: re.Pattern) -> tuple[str, str]:
    """BOM, else the declared charset, else UTF-8, else GB18030 (all strict)."""
    if data.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    else:
        m = declared.search(data[:_SNIFF_BYTES])
        first = _norm_encoding(m.group(1).decode("ascii")) if m else None
        if first in ("utf-16", "utf-16-le", "utf-16-be"):
            first = None  # a declaration without a BOM written in 8-bit text lies
        candidates = [c for c in (first, "utf-8", "gb18030") if c]
        candidates = list(dict.fromkeys(candidates))
    return _decode_first(path, data, candidates)


_WS = re.compile(r"[\r\n]+|\s{2,}")


def _cell_text(el) -> str | None:
    text = _WS.sub(" ", el.text_content().strip())  # as pandas.read_html does
    return text or None


def _span(el, attr: str, limit: int) -> int:
    try:
        return max(1, min(int(str(el.get(attr, "1")).strip() or 1), limit))
    except ValueError:
        return 1


def _read_html(path: Path, data: bytes, *, max_rows: int) -> list[RawSheet]:
    # Parsed with lxml directly rather than pandas.read_html, which would infer a header
    # from <th> rows (and rename duplicate headers "a.1"), drop leading zeros of phone
    # numbers ("0755…" → 755) and strip thousands separators: this layer keeps text.
    import lxml.etree
    import lxml.html

    text, encoding = _decode_markup(path, data, _META_CHARSET)
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text, count=1)  # lxml refuses it in str
    if not text.strip():
        raise BadFileError(path, R_EMPTY)
    try:
        parser = lxml.html.HTMLParser(huge_tree=True)
        doc = lxml.html.document_fromstring(text, parser=parser)
    except (lxml.etree.ParserError, ValueError):
        raise BadFileError(path, f"{R_CORRUPT}（HTML 无法解析）") from None
    tables = doc.xpath("//table")
    if not tables:
        raise BadFileError(path, f"{R_NOT_SHEET}（HTML 中没有表格）")
    out = []
    for n, table in enumerate(tables, start=1):
        name = f"Table{n}"
        trs = table.xpath("./tr|./thead/tr|./tbody/tr|./tfoot/tr")
        if len(trs) > max_rows:
            raise _too_many_rows(path, name, max_rows)
        rows: list[list] = []
        carry: dict[int, int] = {}  # column → rows still covered by a rowspan above
        for tr in trs:
            row: list = []
            col = 0
            for td in tr.xpath("./td|./th"):
                while carry.get(col, 0) > 0:  # covered by a rowspan: empty, like Excel
                    carry[col] -= 1
                    row.append(None)
                    col += 1
                colspan = _span(td, "colspan", 1000)
                rowspan = _span(td, "rowspan", 65534)
                row.append(_cell_text(td))  # a merged cell's value sits top-left
                row.extend([None] * (colspan - 1))
                if rowspan > 1:
                    for c in range(col, col + colspan):
                        carry[c] = rowspan - 1
                col += colspan
            for c, left in carry.items():
                if c >= col and left > 0:
                    carry[c] = left - 1
            rows.append(row)
        out.append(RawSheet(path, name, _rows_to_grid(rows), encoding, "html-xls"))
    return out


# ---------------------------------------------------------------------------- SpreadsheetML


def _ss(tag: str) -> str:
    return f"{{{_SS_NS}}}{tag}"


_MAX_COLUMNS = 16384  # Excel's limit; a larger ss:Index is a corrupt file


def _xml_int(el, attr: str, path: Path) -> int | None:
    v = el.get(_ss(attr))
    if v is None:
        return None
    try:
        return int(v)
    except ValueError:
        raise BadFileError(path, f"{R_CORRUPT}（ss:{attr} 不是数字）") from None


def _xml_value(data_el):
    if data_el is None:
        return None
    text = "".join(data_el.itertext())  # String cells may hold rich-text markup
    if text == "":
        return None
    typ = data_el.get(_ss("Type"), "String")
    try:
        if typ == "Number":
            return float(text)
        if typ == "DateTime":
            return dt.datetime.fromisoformat(text.strip())
        if typ == "Boolean":
            return text.strip() not in ("0", "false", "FALSE", "")
    except ValueError:
        return text
    return text


def _read_spreadsheetml(path: Path, data: bytes, *, max_rows: int) -> list[RawSheet]:
    text, encoding = _decode_markup(path, data, _XML_ENCODING)
    # ElementTree never fetches external entities; internal ones can still be bombs.
    if "<!ENTITY" in text:
        raise BadFileError(path, f"{R_NOT_SHEET}（XML 含有实体声明 ENTITY，拒绝读取）")
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        raise BadFileError(path, f"{R_CORRUPT}（XML 格式错误）") from None
    if root.tag != _ss("Workbook"):
        raise BadFileError(path, R_NOT_SHEET)
    out = []
    for n, ws in enumerate(root.findall(_ss("Worksheet")), start=1):
        name = ws.get(_ss("Name")) or f"Sheet{n}"
        visible = ws.find(f"{{{_X_NS}}}WorksheetOptions/{{{_X_NS}}}Visible")
        if visible is not None and (visible.text or "").strip() in (
            "SheetHidden",
            "SheetVeryHidden",
        ):
            continue
        cells: dict[tuple[int, int], object] = {}
        n_rows = n_cols = 0
        table = ws.find(_ss("Table"))
        row_idx = 0
        for row in table.findall(_ss("Row")) if table is not None else ():
            row_idx = _xml_int(row, "Index", path) or row_idx + 1
            if row_idx > max_rows:
                raise _too_many_rows(path, name, max_rows)
            col_idx = 0
            for cell in row.findall(_ss("Cell")):
                col_idx = _xml_int(cell, "Index", path) or col_idx + 1
                if col_idx > _MAX_COLUMNS or col_idx < 1:
                    raise BadFileError(path, f"{R_CORRUPT}（列号超出范围）")
                value = _xml_value(cell.find(_ss("Data")))
                if value is not None:
                    cells[(row_idx, col_idx)] = value
                    n_rows, n_cols = max(n_rows, row_idx), max(n_cols, col_idx)
                col_idx += max(0, _xml_int(cell, "MergeAcross", path) or 0)
            row_idx += max(0, _xml_int(row, "Span", path) or 0)  # Span: repeated empty rows
        arr = np.full((n_rows, n_cols), None, dtype=object)
        for (r, c), value in cells.items():
            arr[r - 1, c - 1] = value
        out.append(RawSheet(path, name, _array_to_grid(arr), encoding, "xml-xls"))
    return out


# ---------------------------------------------------------------------------- parquet


def _read_parquet(path: Path, *, max_rows: int) -> list[RawSheet]:
    """Row 1 of the grid holds the column names, data starts at row 2, so the header
    detection above treats parquet like any other sheet. The data rows also come typed
    (``RawSheet.typed``) and the object grid is built only if something asks for it:
    going cell by cell through it took half of parsing a group's Parquet RO file."""
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise BadFileError(path, "需要安装 pyarrow 才能读取 parquet") from None
    try:
        if pq.ParquetFile(path).metadata.num_rows > max_rows:
            raise _too_many_rows(path, path.stem, max_rows)
        df = pd.read_parquet(path, engine="pyarrow")
    except BadFileError:
        raise
    except Exception:  # noqa: BLE001 - pyarrow raises many kinds of errors
        raise BadFileError(path, R_CORRUPT) from None
    header = [str(c) for c in df.columns]
    typed = pd.DataFrame({j: _typed_column(df.iloc[:, j]) for j in range(df.shape[1])},
                         index=pd.RangeIndex(2, 2 + len(df)))
    del df
    return [RawSheet(path, path.stem, None, None, "parquet", typed=typed, header=header)]


def _typed_column(s: pd.Series):
    """A Parquet column as ``RawSheet.typed`` holds it (see there)."""
    if isinstance(s.dtype, pd.StringDtype) and s.dtype.storage == "pyarrow":
        arr = s.array.__arrow_array__().cast(pa.large_string())
        arr = pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.large_string()), arr)
        return pd.arrays.ArrowStringArray(arr.combine_chunks(), dtype=STR_DTYPE)
    if pd.api.types.is_datetime64_dtype(s.dtype):  # naive: as the grid's datetimes become
        return s.to_numpy()
    return _object_column(s)


def _object_column(s: pd.Series) -> np.ndarray:
    """A column's values as the grid holds them: Python objects, None when empty;
    datetime objects as calamine gives them for xlsx dates (converted in C: a Python
    loop over a group's 7M ROs took over a minute for four date columns)."""
    missing = s.isna().to_numpy(dtype=bool)
    if isinstance(s.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(s.dtype):
        vals = s.array.to_pydatetime()
    else:
        if pd.api.types.is_string_dtype(s.dtype) or s.dtype == object:
            missing = missing | (s == "").fillna(False).to_numpy(dtype=bool)  # no value
        vals = s.astype(object).to_numpy(dtype=object, copy=True)
    vals[missing] = None
    return vals


def _typed_to_grid(header: list | None, typed: pd.DataFrame) -> pd.DataFrame:
    """The object grid of a typed sheet: ``header`` (Parquet's column names) as row 1
    and the values from row 2, or without a header the rows as they are (CSV: its
    typed rows start at line 1)."""
    cols = [_object_column(typed[j]) for j in typed.columns]
    arr = np.column_stack(cols) if cols and len(typed) else np.empty(
        (len(typed), len(cols)), dtype=object)
    filled = np.not_equal(arr, None)
    if header is not None:
        head = np.array(header, dtype=object).reshape(1, len(header))
        head_filled = head != ""
        head[~head_filled] = None
        arr, filled = np.vstack([head, arr]), np.vstack([head_filled, filled])
    return _array_to_grid(arr, filled=filled)
