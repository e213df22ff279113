"""The one Excel writer every command uses (03-outputs.md, "For every workbook").

``write_workbook(path, [Sheet(...), ...], mask=...)`` turns frames whose columns are
canonical field names into a workbook that agents open in Excel or WPS:

- written atomically: a dot-prefixed ``.tmp`` file in the target's folder, flushed and
  fsynced, then ``os.replace``-d onto the target, so a crash or a ``kill -9`` leaves the
  old file or the new one, never half of one; the file gets the process's umask;
- text that looks like a formula (``=``, ``+``, ``-``, ``@``, tab, CR first) is written as
  a text cell with the quote-prefix style, never as a formula;
- header row bold, frozen and autofiltered; column widths from the header and the first
  rows (CJK characters count double); real Excel dates (``yyyy-mm-dd``, with ``hh:mm``
  when the column carries a time); phones and ID numbers always text, masked on request;
- list validations (drop-downs) per column, inline or, when long, from a hidden sheet;
- a sheet longer than Excel's row limit continues on ``<name> (2)``, ``<name> (3)`` …,
  and the whole sheet is also written as a CSV copy beside the workbook
  (``<workbook stem>.<sheet name>.csv``, UTF-8 with BOM so Excel and WPS read the Chinese
  headers; 05-operations.md, "Speed"), so that one file holds every row;

Speed. The package (workbook, styles, views, column widths, autofilter, validations,
charts) is written by openpyxl in write-only mode. The rows are serialised here, a chunk
of rows at a time and column by column (each distinct text converted once, dates and
numbers from numpy arrays), and streamed straight into the sheet's zip entry inside
openpyxl's own sheet XML. openpyxl's per-cell path (``WriteOnlyCell``) costs about 7 µs a
cell: 200k rows × 16 columns took ~23 s on the dev box; this path takes ~4 s, and needs
no temp file in the system temp folder. Cells are plain ``inlineStr`` / number / boolean
cells whose style ids are registered in openpyxl's style tables, so the result is an
ordinary workbook for openpyxl, calamine, Excel and WPS.

``extra(workbook)`` may add charts to these sheets or add sheets of its own, but must not
append rows to the sheets built here (their rows come from the frames only).
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import math
import os
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from io import BytesIO
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.writer.excel import ExcelWriter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.drawing.spreadsheet_drawing import SpreadsheetDrawing
from openpyxl.worksheet._writer import ALL_TEMP_FILES, WorksheetWriter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from aftercare.atomic import atomic_path
from aftercare.frames import arrow_text, map_distinct
from aftercare.prefetch import Prefetch
from aftercare.parse import mask_id_number, mask_phone

__all__ = [
    "Sheet",
    "write_workbook",
    "safe_sheet_names",
    "mask_phone",
    "mask_id_number",
    "mask_phones_joined",
    "display_width",
    "PHONE_FIELDS",
    "ID_FIELDS",
]

# Columns that are phones / ID numbers whatever the caller says (always text, maskable).
PHONE_FIELDS = frozenset({"mobile", "phone", "new_mobile", "other_phones", "extra_phones"})
ID_FIELDS = frozenset({"id_number"})

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
PERCENT_FORMAT = "0.0%"

MAX_ROWS_PER_SHEET = 1_048_575  # data rows; Excel's 1,048,576 rows minus the header
MAX_CELL_CHARS = 32_767  # Excel's limit for one cell's text
MIN_WIDTH, MAX_WIDTH = 8.0, 60.0
WIDTH_SAMPLE_ROWS = 200
CHUNK_ROWS = 20_000
LISTS_SHEET = "_lists"
INLINE_LIST_MAX = 255  # Excel's limit for an inline validation list ("a,b,c")

_SHEET_NAME_MAX = 31
_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\\x00-\x1f]")
# Characters XML 1.0 cannot carry (and lone surrogates, which UTF-8 cannot encode).
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_NEEDS_ESCAPE = re.compile("[&<>\r]")
# Excel (and calamine) decode ``_xHHHH_`` in cell text; a literal one is escaped as
# ``_x005F_xHHHH_`` so that it reads back as written.
_OOXML_ESCAPE = re.compile("_(?=x[0-9A-Fa-f]{4}_)")
_EXCEL_EPOCH = dt.datetime(1899, 12, 30)
_EXCEL_EPOCH_DATE = _EXCEL_EPOCH.date()
_EXCEL_EPOCH_TS = pd.Timestamp(_EXCEL_EPOCH)
# Before 1900-03-01 Excel's serials are off by one (its 1900 leap-year bug), and before
# 1900 there are none: such dates are written as ISO text.
_FIRST_DATE = dt.datetime(1900, 3, 1)
_FIRST_DATE_TS = pd.Timestamp(_FIRST_DATE)
_MAX_EXACT_INT = 10**15  # Excel keeps 15 significant digits; longer integers become text
_PHONE_SPLIT = re.compile(r"([;；,，、/|]+)")
_FLOAT_TEXT = re.compile(r"^(-?[0-9]+)\.0+$")


# --------------------------------------------------------------------------- public API
@dataclass
class Sheet:
    """One sheet to write.

    ``frame`` columns are canonical field names; ``headers`` maps a field to its display
    header (a field missing from it is shown as the field name). ``percent_columns`` hold
    fractions shown as ``0.0%``; ``number_formats`` maps a field to an Excel number
    format; ``text_columns`` are written as text even when they hold numbers (codes,
    plates); ``bool_labels`` is ``(true_label, false_label)``, e.g. ``("是", "否")``,
    to write booleans as words instead of TRUE/FALSE.
    """

    name: str
    frame: pd.DataFrame
    headers: dict[str, str] | None = None
    phone_columns: Iterable[str] = ()
    id_columns: Iterable[str] = ()
    validations: dict[str, list[str]] = field(default_factory=dict)
    widths: dict[str, float] = field(default_factory=dict)
    percent_columns: Iterable[str] = ()
    number_formats: dict[str, str] = field(default_factory=dict)
    text_columns: Iterable[str] = ()
    bool_labels: tuple[str, str] | None = None


def write_workbook(
    path: Path | str,
    sheets: Sequence[Sheet],
    *,
    mask: bool = False,
    extra: Callable[[Workbook], None] | None = None,
    csv_copies: bool = True,
) -> Path:
    """Write ``sheets`` to ``path`` atomically and return the path.

    ``mask`` masks phone and ID-number columns. ``extra(workbook)`` is called after the
    sheets are laid out and before saving (native charts: ``ws.add_chart``; look sheets
    up by the names :func:`safe_sheet_names` gives). Raises :class:`OutputError` when the
    folder cannot be written or the disk is full; any other exception propagates. Either
    way the target keeps its previous content and no temp file is left behind.

    A sheet longer than :data:`MAX_ROWS_PER_SHEET` also gets a CSV copy beside the
    workbook (:func:`csv_copy_path`) unless ``csv_copies`` is false.
    """
    target = Path(path)
    wb = _build_workbook(sheets, mask)
    try:
        if extra is not None:
            extra(wb)
        _save_atomically(wb, target)
    finally:
        _drop_openpyxl_temp_files(wb)
    if csv_copies:
        for sheet in sheets:
            copy = csv_copy_path(target, sheet.name)
            if len(sheet.frame) > MAX_ROWS_PER_SHEET:
                write_csv_copy(copy, sheet, mask=mask)
            elif copy.exists():  # an earlier run's copy of this sheet: now out of date
                copy.unlink(missing_ok=True)
    return target


def files_written(target: Path) -> list[str]:
    """The workbook and its CSV copies, for a command's summary."""
    target = Path(target)
    return [str(target), *sorted(str(p) for p in target.parent.glob(f"{target.stem}.*.csv"))]


def csv_copy_path(workbook: Path, sheet_name: str) -> Path:
    """Where the CSV copy of a long sheet goes: ``<stem>.<sheet name>.csv`` beside it."""
    safe = _SHEET_NAME_BAD.sub("_", sheet_name).strip() or "sheet"
    return workbook.with_name(f"{workbook.stem}.{safe}.csv")


def write_csv_copy(path: Path, sheet: Sheet, *, mask: bool = False) -> Path:
    """Write the whole of ``sheet`` as CSV (UTF-8 with BOM), atomically.

    The same text as in the workbook: display headers, phones and ID numbers as text
    (masked with ``mask``), booleans as their labels, dates as ``yyyy-mm-dd`` (with the
    time when there is one). Text that a spreadsheet would take for a formula gets a
    leading ``'`` (CSV has no quote-prefix style). Work is per column and per distinct
    text, never per row in Python."""
    frame = sheet.frame
    headers = sheet.headers or {}
    phones = set(map(str, sheet.phone_columns)) | PHONE_FIELDS
    ids = set(map(str, sheet.id_columns)) | ID_FIELDS
    cols: dict[str, pd.Series] = {}
    for j, name in enumerate(frame.columns):
        fld = str(name)
        s = frame.iloc[:, j]
        if fld in phones:
            out = map_distinct(s, lambda v: _phone_text(v, mask))
        elif fld in ids:
            out = map_distinct(s, lambda v: _id_text(v, mask))
        elif pd.api.types.is_datetime64_any_dtype(s.dtype):
            naive = _naive(s)
            timed = bool((naive.dropna() != naive.dropna().dt.normalize()).any())
            out = naive.dt.strftime("%Y-%m-%d %H:%M" if timed else "%Y-%m-%d")
        elif pd.api.types.is_bool_dtype(s.dtype) and sheet.bool_labels:
            out = s.map({True: sheet.bool_labels[0], False: sheet.bool_labels[1]})
        elif pd.api.types.is_numeric_dtype(s.dtype):
            out = s
        else:
            labels = sheet.bool_labels
            out = map_distinct(s, lambda v: _csv_text(v, labels))
        cols[str(headers.get(fld, fld))] = out
    table = pd.DataFrame(cols, index=frame.index)
    with atomic_path(path) as tmp:
        table.to_csv(tmp, index=False, encoding="utf-8-sig", lineterminator="\r\n")
    return path


def _csv_text(v: Any, labels) -> str | None:
    if isinstance(v, (bool, np.bool_)) and labels:
        return str(labels[0 if v else 1])
    if isinstance(v, (float, np.floating)) and v == v and math.isfinite(v):
        return f"{float(v):.15g}"
    t = _as_text(v)
    if t is None:
        return None
    t = _ILLEGAL_XML.sub("", t)
    return "'" + t if t.startswith(FORMULA_PREFIXES) else t


def safe_sheet_names(names: Sequence[str], reserved: Iterable[str] = ()) -> list[str]:
    """Excel-legal, unique (case-insensitively) sheet names, in order.

    Forbidden characters ``[]:*?/\\`` become ``_``, names are cut to 31 characters, an
    empty name becomes ``Sheet``, and a repeated name gets `` (2)``, `` (3)`` …
    ``reserved`` names are never produced.
    """
    used = {r.casefold() for r in reserved}
    out = []
    for raw in names:
        base = _SHEET_NAME_BAD.sub("_", str(raw)).strip().strip("'").strip()
        if not base:
            base = "Sheet"
        if base.casefold() == "history":  # reserved by Excel
            base = base + "_"
        name = _cut_utf16(base, _SHEET_NAME_MAX).rstrip().rstrip("'")
        k = 2
        while name.casefold() in used:
            suffix = f" ({k})"
            name = _cut_utf16(base, _SHEET_NAME_MAX - len(suffix)).rstrip() + suffix
            k += 1
        used.add(name.casefold())
        out.append(name)
    return out


def mask_phones_joined(value: str) -> str:
    """Mask each number of a cell holding several (``a;b``, ``a/b`` …), keeping separators."""
    return _mask_each(value, mask_phone)


def _mask_each(value: str, mask: Callable[[str], str]) -> str:
    parts = _PHONE_SPLIT.split(value)
    for i in range(0, len(parts), 2):  # even positions: the numbers; odd: separators
        core = parts[i].strip()
        if core:
            lead = parts[i][: len(parts[i]) - len(parts[i].lstrip())]
            trail = parts[i][len(parts[i].rstrip()) :]
            parts[i] = lead + mask(core) + trail
    return "".join(parts)


def display_width(text: str) -> int:
    """Width of ``text`` in Excel columns: East Asian wide/full-width characters count 2."""
    if text.isascii():
        return max(len(line) for line in text.split("\n")) if "\n" in text else len(text)
    best = 0
    for line in text.split("\n"):
        w = 0
        for ch in line:
            w += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
        best = max(best, w)
    return best


# ------------------------------------------------------------------------ atomic saving
def _save_atomically(wb: Workbook, target: Path) -> None:
    with atomic_path(target) as tmp, open(tmp, "wb") as fh:
        _save_to(wb, fh)


def _save_to(wb: Workbook, fh) -> None:
    """``Workbook.save`` into an open file, closing the zip even when saving fails (so no
    half-written zip is finalised later by the garbage collector, with a stray warning)."""
    if not wb.worksheets:
        wb.create_sheet()
    # Deflate level 1: a third of level 6's time for files ~15% larger (sheet XML is
    # repetitive); the write dominated a warm `due` run on a store's data.
    archive = zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED, allowZip64=True,
                              compresslevel=1)
    try:
        wb.properties.modified = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        _ExcelWriter(wb, archive).save()  # writes every part, then closes the archive
    except BaseException:
        try:
            archive.close()
        except Exception:  # noqa: BLE001 — the original error is the one to report
            pass
        raise


def _drop_openpyxl_temp_files(wb: Workbook) -> None:
    """openpyxl streams each write-only sheet through a temp file in the system temp dir
    and removes it once archived; after a failure remove the leftovers now, not at exit."""
    for ws in wb._sheets:
        writer = getattr(ws, "_writer", None)
        out = getattr(writer, "out", None)
        if isinstance(out, str) and out in ALL_TEMP_FILES:
            try:
                os.remove(out)
            except OSError:
                pass
            ALL_TEMP_FILES.remove(out)


# ------------------------------------------------------------------------ building
class _Styles:
    """Cell style ids (indexes into the workbook's cellXfs), registered once each."""

    def __init__(self, wb: Workbook):
        self._wb = wb
        self._ids: dict[tuple, int] = {}

    def id(self, *, bold: bool = False, quote: bool = False, number_format: str | None = None):
        key = (bold, quote, number_format)
        if key not in self._ids:
            holder = _StyleHolder(self._wb)
            cell = Cell(holder)
            if bold:
                cell.font = Font(bold=True)
            if quote:
                cell.quotePrefix = True
            if number_format:
                cell.number_format = number_format
            self._ids[key] = cell.style_id
        return self._ids[key]

    def attr(self, **kw) -> str:
        return f' s="{self.id(**kw)}"'


class _StyleHolder:
    """Stands in for a worksheet: a Cell only needs ``parent.parent`` (the workbook)."""

    def __init__(self, wb: Workbook):
        self.parent = wb


@dataclass
class _Column:
    field: str
    header: str
    letter: str
    kind: str  # text | phone | id | number | bool | datetime | mixed
    fmt: str | None = None  # number format of the column's dates / numbers
    style: str = ""  # ' s="N"': that format's style id, as an XML attribute
    has_time: bool = False
    width: float = MIN_WIDTH
    factorize: bool = True  # text-like: convert each distinct value once (exact)


@dataclass
class _Plan:
    frame: pd.DataFrame
    columns: list[_Column]
    header_bold: str
    header_bold_quote: str
    quote: str
    mask: bool
    bool_labels: tuple[str, str] | None


class _FrameSheet(WriteOnlyWorksheet):
    """A write-only sheet whose rows :class:`_ExcelWriter` serialises at save time."""

    add_data_validation = Worksheet.add_data_validation

    def __init__(self, parent: Workbook, title: str, plan: _Plan):
        super().__init__(parent, title)
        self._plan = plan

    def calculate_dimension(self) -> str:
        n, m = len(self._plan.frame), len(self._plan.columns)
        return f"A1:{get_column_letter(m)}{n + 1}" if m else "A1:A1"


class _ExcelWriter(ExcelWriter):
    """openpyxl's package writer, except that a :class:`_FrameSheet` is streamed straight
    into its zip entry: openpyxl's XML for everything but the rows (views, columns,
    autofilter, validations, drawings), with our rows in its ``<sheetData>``. No temp
    file in the system temp folder (nothing left there by a kill, no /tmp space needed)."""

    _prefetch: Prefetch | None = None
    _order: dict[int, int] = {}

    def _write_worksheets(self):
        # the frame sheets' rows are built ahead in a thread while this one compresses
        # (aftercare/prefetch.py): a store's churn workbook in 0.64 s instead of 0.72 s
        # (median of 7, in-process, 2 cores)
        sheets = [ws for ws in self.workbook.worksheets if isinstance(ws, _FrameSheet)]
        with Prefetch([functools.partial(_rows, ws._plan) for ws in sheets]) as pre:
            self._prefetch, self._order = pre, {id(ws): i for i, ws in enumerate(sheets)}
            try:
                super()._write_worksheets()
            finally:
                self._prefetch = None

    def write_worksheet(self, ws):
        if not isinstance(ws, _FrameSheet):
            return super().write_worksheet(ws)
        ws._drawing = SpreadsheetDrawing()
        ws._drawing.charts = ws._charts
        ws._drawing.images = ws._images
        skeleton = WorksheetWriter(ws, out=BytesIO())
        skeleton.write_top()
        skeleton.write_rows()  # no cells: an empty <sheetData>
        skeleton.write_tail()
        xml = skeleton.read()
        ws._rels = skeleton._rels
        found = list(_EMPTY_SHEETDATA.finditer(xml))
        if len(found) != 1:
            raise RuntimeError("unexpected worksheet XML from openpyxl (no empty sheetData)")
        head, tail = xml[: found[0].start()], xml[found[0].end() :]
        pre = self._prefetch
        rows = pre.items(self._order[id(ws)]) if pre is not None else _rows(ws._plan)
        first = b"".join(itertools.islice(rows, 2))  # header + first chunk
        with self._archive.open(ws.path[1:], "w", force_zip64=_big(ws._plan, first)) as dest:
            dest.write(head + b"<sheetData>" + first)
            for piece in rows:
                dest.write(piece)
            dest.write(b"</sheetData>" + tail)
        self.manifest.append(ws)


def _big(plan: _Plan, first: bytes) -> bool:
    """Whether a sheet's XML might pass 2 GiB (zip64 needed), from its first rows with a
    wide margin; zip64 only then, since it is needless for ordinary files."""
    sample = min(len(plan.frame), CHUNK_ROWS) + 1
    return len(first) / sample * (len(plan.frame) + 1) > zipfile.ZIP64_LIMIT / 8


def _build_workbook(sheets: Sequence[Sheet], mask: bool) -> Workbook:
    wb = Workbook(write_only=True)
    styles = _Styles(wb)
    parts: list[tuple[Sheet, pd.DataFrame, str]] = []
    for sheet in sheets:
        frame = sheet.frame
        if len(frame) <= MAX_ROWS_PER_SHEET:
            parts.append((sheet, frame, sheet.name))
            continue
        for k, start in enumerate(range(0, len(frame), MAX_ROWS_PER_SHEET), 1):
            name = sheet.name if k == 1 else f"{sheet.name} ({k})"
            parts.append((sheet, frame.iloc[start : start + MAX_ROWS_PER_SHEET], name))
    titles = safe_sheet_names([name for _, _, name in parts], reserved=[LISTS_SHEET])

    lists: dict[tuple[str, ...], str] = {}  # list values -> hidden-sheet column letter
    for (sheet, frame, _), title in zip(parts, titles):
        plan = _plan_sheet(sheet, frame, styles, mask)
        ws = _FrameSheet(wb, title, plan)
        wb._add_sheet(ws)
        if plan.columns:
            last = plan.columns[-1].letter
            ws.freeze_panes = "A2"
            ws.auto_filter.ref = f"A1:{last}{len(frame) + 1}"
        for col in plan.columns:
            ws.column_dimensions[col.letter].width = col.width
        _add_validations(ws, sheet, plan, len(frame), lists)

    if lists:
        width = max(len(v) for v in lists)
        data = {letter: list(values) + [None] * (width - len(values))
                for values, letter in lists.items()}
        frame = pd.DataFrame(data, dtype=object)
        frame.columns = [f"list{i}" for i in range(1, len(lists) + 1)]
        hidden = Sheet(LISTS_SHEET, frame, text_columns=list(frame.columns))
        ws = _FrameSheet(wb, LISTS_SHEET, _plan_sheet(hidden, frame, styles, False))
        ws.sheet_state = "hidden"
        wb._add_sheet(ws)
    return wb


def _add_validations(ws, sheet: Sheet, plan: _Plan, n: int, lists: dict) -> None:
    by_field = {c.field: c for c in plan.columns}
    for fld, values in sheet.validations.items():
        col = by_field.get(str(fld))
        if col is None:
            raise ValueError(f"validation for {fld!r}: no such column in sheet {sheet.name!r}")
        values = tuple(_clean_text(str(v)) for v in values if v is not None and str(v) != "")
        if not values:
            continue
        inline = ",".join(values)
        if len(inline) <= INLINE_LIST_MAX and not any(('"' in v or "," in v) for v in values):
            formula = f'"{inline}"'
        else:
            letter = lists.setdefault(values, get_column_letter(len(lists) + 1))
            formula = f"'{LISTS_SHEET}'!${letter}$2:${letter}${len(values) + 1}"
        dv = DataValidation(
            type="list",
            formula1=formula,
            allow_blank=True,
            showErrorMessage=True,
            errorStyle="warning",  # warn, don't block: staff may type a code or a label
            sqref=f"{col.letter}2:{col.letter}{max(n, 1) + 1}",
        )
        ws.add_data_validation(dv)


def _plan_sheet(sheet: Sheet, frame: pd.DataFrame, styles: _Styles, mask: bool) -> _Plan:
    headers = sheet.headers or {}
    phones = set(map(str, sheet.phone_columns)) | PHONE_FIELDS
    ids = set(map(str, sheet.id_columns)) | ID_FIELDS
    texts = set(map(str, sheet.text_columns))
    percents = set(map(str, sheet.percent_columns))
    formats = {str(k): v for k, v in sheet.number_formats.items()}
    plan = _Plan(
        frame=frame,
        columns=[],
        header_bold=styles.attr(bold=True),
        header_bold_quote=styles.attr(bold=True, quote=True),
        quote=styles.attr(quote=True),
        mask=mask,
        bool_labels=sheet.bool_labels,
    )
    for j, name in enumerate(frame.columns):
        fld = str(name)
        col = _Column(fld, str(headers.get(fld, fld)), get_column_letter(j + 1), "mixed")
        if fld in phones:
            col.kind = "phone"
        elif fld in ids:
            col.kind = "id"
        elif fld in texts:
            col.kind = "text"
        else:
            col.kind, dates = _detect_kind(frame.iloc[:, j])
            if dates is not None:  # a datetime64 column, or an object column holding dates
                col.has_time = dates
                col.fmt = formats.get(fld) or (DATETIME_FORMAT if dates else DATE_FORMAT)
            elif col.kind == "number":
                col.fmt = formats.get(fld) or (PERCENT_FORMAT if fld in percents else None)
        col.style = styles.attr(number_format=col.fmt) if col.fmt else ""
        if col.kind in ("text", "phone", "id"):
            col.factorize = _factorizable(frame.iloc[:, j])
        explicit = sheet.widths.get(fld)
        if explicit is not None:
            col.width = float(explicit)
        else:
            sample = _display_texts(
                frame.iloc[:WIDTH_SAMPLE_ROWS, j], col, mask, sheet.bool_labels
            )
            longest = max([display_width(col.header)] +
                          [display_width(t) for t in dict.fromkeys(sample)])
            col.width = float(min(MAX_WIDTH, max(MIN_WIDTH, longest + 2)))
        plan.columns.append(col)
    return plan


def _detect_kind(s: pd.Series) -> tuple[str, bool | None]:
    """A column's kind from its dtype (one scan for object columns).

    For ``mixed`` the second value is None when the column holds no dates, else whether
    any of them carries a time of day (that picks the column's date format).
    """
    dtype = s.dtype
    if isinstance(dtype, pd.StringDtype):
        return "text", None
    if pd.api.types.is_bool_dtype(dtype):
        return "bool", None
    if isinstance(dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(dtype):
        v = _naive(s).dropna()
        return "datetime", bool(len(v)) and bool((v != v.dt.normalize()).any())
    if pd.api.types.is_numeric_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype):
        if pd.api.types.is_complex_dtype(dtype):
            return "mixed", None
        return "number", None
    # object, category and anything else: look at the values
    has_date = False
    has_time = False
    all_str = True
    for v in s.to_numpy(dtype=object):
        if v is None or v is pd.NA or v is pd.NaT:
            continue
        if isinstance(v, str):
            continue
        if isinstance(v, float) and v != v:
            continue
        all_str = False
        if isinstance(v, np.datetime64):
            if np.isnat(v):
                continue
            v = pd.Timestamp(v)
        if isinstance(v, dt.datetime):
            has_date = True
            if not has_time and (v.hour or v.minute or v.second or v.microsecond
                                 or getattr(v, "nanosecond", 0)):
                has_time = True
        elif isinstance(v, dt.date):
            has_date = True
    if all_str:
        return "text", None
    return "mixed", (has_time if has_date else None)


def _factorizable(s: pd.Series) -> bool:
    """Whether equal-comparing values always give the same text: not so for an object
    column mixing booleans with numbers (True == 1, but they read 'TRUE' and '1')."""
    if s.dtype != object:
        return True
    values = s.to_numpy(dtype=object)
    if pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty", "integer",
                                                         "floating", "mixed-integer-float",
                                                         "decimal", "date", "datetime"):
        return True  # no booleans among them (inferred in C)
    return not any(isinstance(v, (bool, np.bool_)) for v in values.tolist())


def _naive(s: pd.Series) -> pd.Series:
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        return s.dt.tz_localize(None)  # wall-clock time where it was recorded
    return s


# ------------------------------------------------------------------------ conversion
def _clean_text(v: str) -> str:
    if _ILLEGAL_XML.search(v):
        v = _ILLEGAL_XML.sub("", v)
    if len(v) > MAX_CELL_CHARS:
        v = v[:MAX_CELL_CHARS]
    return v


def _as_text(v: Any) -> str | None:
    """Any cell value as text (phones, IDs, text columns): 13812345678.0 -> '13812345678'."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, str):
        return v if v != "" else None
    if isinstance(v, (bool, np.bool_)):
        return "TRUE" if v else "FALSE"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        if v != v:
            return None
        if math.isfinite(v) and float(v).is_integer() and abs(v) < 1e17:
            return str(int(v))
        return str(float(v))
    if isinstance(v, np.datetime64):
        if np.isnat(v):
            return None
        v = pd.Timestamp(v)
    if isinstance(v, dt.datetime):
        if v.hour or v.minute or v.second or v.microsecond:
            return v.strftime("%Y-%m-%d %H:%M:%S")
        return v.strftime("%Y-%m-%d")
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v)


def _number_text(v: Any) -> str | None:
    """A phone or ID cell as text: stripped, a float's `.0` dropped; None when empty."""
    t = _as_text(v)
    if t is None:
        return None
    return _FLOAT_TEXT.sub(r"\1", t.strip()) or None


def _phone_text(v: Any, mask: bool) -> str | None:
    t = _number_text(v)
    return mask_phones_joined(t) if mask and t else t


def _id_text(v: Any, mask: bool) -> str | None:
    t = _number_text(v)
    return _mask_each(t, mask_id_number) if mask and t else t


def _text_xml(v: str, quote: str) -> str:
    """The tail of a ``<c r="..."`` element holding text ``v`` (non-empty)."""
    v = _clean_text(v)
    if not v:
        return ""
    s_attr = quote if v.startswith(FORMULA_PREFIXES) else ""
    space = ' xml:space="preserve"' if (v[0].isspace() or v[-1].isspace()) else ""
    if _NEEDS_ESCAPE.search(v):
        v = (v.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
             .replace("\r", "&#13;"))
    if "_x" in v:
        v = _OOXML_ESCAPE.sub("_x005F_", v)
    return f'{s_attr} t="inlineStr"><is><t{space}>{v}</t></is></c>'


def _number_xml(x: Any, style: str, quote: str) -> str:
    """Numbers as numbers; NaN/inf empty; integers beyond 15 digits as text (exact)."""
    if isinstance(x, (int, np.integer)):
        x = int(x)
        if -_MAX_EXACT_INT < x < _MAX_EXACT_INT:
            return f"{style}><v>{x}</v></c>"
        return _text_xml(str(x), quote)
    x = float(x)
    if not math.isfinite(x):
        return ""
    return f"{style}><v>{x!r}</v></c>"


def _serial(v: dt.datetime | dt.date) -> float | int:
    if isinstance(v, dt.datetime):
        if v.tzinfo is not None:
            v = v.replace(tzinfo=None)
        d = v - _EXCEL_EPOCH
        frac = d.seconds + d.microseconds / 1e6 + getattr(v, "nanosecond", 0) / 1e9
        return d.days + frac / 86400 if frac else d.days
    return (v - _EXCEL_EPOCH_DATE).days


def _date_xml(v: dt.datetime | dt.date, style: str, quote: str) -> str:
    naive = v.replace(tzinfo=None) if isinstance(v, dt.datetime) else v
    first = _FIRST_DATE if isinstance(v, dt.datetime) else _FIRST_DATE.date()
    if naive < first:
        return _text_xml(_as_text(naive) or "", quote)
    return f"{style}><v>{_serial(naive)!r}</v></c>"


def _mixed_xml(v: Any, col: _Column, plan: _Plan) -> str:
    if v is None or v is pd.NA or v is pd.NaT:
        return ""
    if isinstance(v, str):
        return _text_xml(v, plan.quote) if v else ""
    if isinstance(v, (bool, np.bool_)):
        return _bool_xml(bool(v), plan)
    if isinstance(v, (int, np.integer, float, np.floating)):
        return _number_xml(v, "", plan.quote)
    if isinstance(v, np.datetime64):
        if np.isnat(v):
            return ""
        v = pd.Timestamp(v)
    if isinstance(v, dt.date):  # datetime, Timestamp, date
        return _date_xml(v, col.style, plan.quote)
    if isinstance(v, Decimal):
        return _number_xml(float(v), "", plan.quote) if v.is_finite() else ""
    return _text_xml(str(v), plan.quote)


def _bool_xml(b: bool, plan: _Plan) -> str:
    if plan.bool_labels is not None:
        return _text_xml(str(plan.bool_labels[0 if b else 1]), plan.quote)
    return f' t="b"><v>{1 if b else 0}</v></c>'


def _objects(s: pd.Series) -> list:
    return s.to_numpy(dtype=object, na_value=None).tolist()


def _encode(s: pd.Series, col: _Column, plan: _Plan) -> list[str]:
    """One chunk of one column -> the tail of each cell's XML ('' for an empty cell)."""
    q = plan.quote
    kind = col.kind
    if kind in ("text", "phone", "id"):
        if kind == "phone":
            conv = functools.partial(_phone_text, mask=plan.mask)
        elif kind == "id":
            conv = functools.partial(_id_text, mask=plan.mask)
        else:
            conv = _as_text
        values = s.to_numpy(dtype=object, na_value=None)
        if not col.factorize:
            return ["" if v is None else _text_xml(conv(v) or "", q) for v in values.tolist()]
        # each distinct value is converted once (names, labels and codes repeat a lot)
        codes, uniques = pd.factorize(values)
        table = [_text_xml(conv(u) or "", q) for u in uniques.tolist()]
        table.append("")  # code -1: an empty cell
        return np.array(table, dtype=object)[codes].tolist()
    if kind == "number":
        style = col.style
        dtype = s.dtype
        if isinstance(dtype, np.dtype) and dtype.kind in "iu":
            arr = s.to_numpy()
            if not len(arr) or (arr.min() > -_MAX_EXACT_INT and arr.max() < _MAX_EXACT_INT):
                return [f"{style}><v>{x}</v></c>" for x in arr.tolist()]
        elif isinstance(dtype, np.dtype) and dtype.kind == "f":
            arr = s.to_numpy(dtype="float64")
            fin = np.isfinite(arr).tolist()
            return [f"{style}><v>{x!r}</v></c>" if f else "" for x, f in zip(arr.tolist(), fin)]
        return ["" if x is None else _number_xml(x, style, q) for x in _objects(s)]
    if kind == "bool":
        yes, no = _bool_xml(True, plan), _bool_xml(False, plan)
        return ["" if b is None else (yes if b else no) for b in _objects(s)]
    if kind == "datetime":
        return _datetime_xml(_naive(s), col, plan)
    return [_mixed_xml(v, col, plan) for v in s.to_numpy(dtype=object).tolist()]


def _datetime_xml(s: pd.Series, col: _Column, plan: _Plan) -> list[str]:
    """A datetime64 chunk, vectorised: Excel serials (days since 1899-12-30)."""
    nat = s.isna().to_numpy()
    early = (s < _FIRST_DATE_TS).to_numpy()
    td = (s.where(~nat, _EXCEL_EPOCH_TS) - _EXCEL_EPOCH_TS).to_numpy()  # in the column's unit
    one_day = np.timedelta64(1, "D")
    days = td // one_day
    style = col.style
    if col.has_time:
        frac = ((td - days * one_day) / one_day).tolist()
        out = [
            f"{style}><v>{d if not f else d + f!r}</v></c>"
            for d, f in zip(days.tolist(), frac)
        ]
    else:
        out = [f"{style}><v>{d}</v></c>" for d in days.tolist()]
    if nat.any() or early.any():
        fmt = "%Y-%m-%d %H:%M:%S" if col.has_time else "%Y-%m-%d"
        for i in np.flatnonzero(nat | early).tolist():
            out[i] = "" if nat[i] else _text_xml(s.iloc[i].strftime(fmt), plan.quote)
    return out


def _display_texts(s: pd.Series, col: _Column, mask: bool, labels) -> list[str]:
    """How a sample of a column looks on screen (for the column width)."""
    date_text = "0" * (16 if col.has_time else 10)
    percent = bool(col.fmt) and "%" in col.fmt
    out = []
    for v in _objects(s):
        if v is None or v is pd.NaT or (isinstance(v, float) and v != v):
            continue
        if col.kind == "phone":
            t = _phone_text(v, mask)
        elif col.kind == "id":
            t = _id_text(v, mask)
        elif col.kind == "text":
            t = _as_text(v)
        elif isinstance(v, (bool, np.bool_)):
            t = str(labels[0 if v else 1]) if labels else "FALSE"
        elif isinstance(v, (dt.date, np.datetime64)):
            t = date_text
        elif isinstance(v, (float, np.floating)) and percent:
            t = f"{float(v) * 100:.1f}%"
        elif isinstance(v, (float, np.floating)):
            t = f"{float(v):.10g}"
        else:
            t = _as_text(v)
        if t:
            out.append(t)
    return out


# ------------------------------------------------------------------------ row streaming
_EMPTY_SHEETDATA = re.compile(rb"<sheetData\s*/>|<sheetData>\s*</sheetData>")


def _rows(plan: _Plan):
    """The sheet's rows as UTF-8 XML: the header, then one piece per chunk of rows.

    Each chunk is built column by column as Arrow string arrays (:func:`_tails`) and
    joined into ``<row>`` elements by Arrow's kernels, so no Python code runs per cell
    on the common paths."""
    cols = plan.columns
    if not cols:
        return
    header = []
    for c in cols:
        text = _clean_text(c.header)
        style = plan.header_bold_quote if text.startswith(FORMULA_PREFIXES) else plan.header_bold
        body = _text_xml(text, "") if text else ""
        header.append(f'<c r="{c.letter}1"{style}{body or "/>"}')
    yield ('<row r="1">' + "".join(header) + "</row>").encode("utf-8")
    frame = plan.frame
    n = len(frame)
    for start in range(0, n, CHUNK_ROWS):
        stop = min(start + CHUNK_ROWS, n)
        rnum = pa.array(np.arange(start + 2, stop + 2, dtype=np.int64)).cast(pa.string())
        cells = [pc.binary_join_element_wise(f'<c r="{c.letter}', rnum, '"',
                                             _tails(frame.iloc[start:stop, j], c, plan), "")
                 for j, c in enumerate(cols)]
        # one join makes the rows (an empty cell adds nothing); a row without a cell is
        # left out, as openpyxl leaves it out
        rows = pc.binary_join_element_wise('<row r="', rnum, '">', *cells, "</row>", "",
                                           null_handling="replace", null_replacement="")
        if any(c.null_count for c in cells):
            filled = np.zeros(stop - start, dtype=bool)
            for c in cells:
                filled |= c.is_valid().to_numpy(zero_copy_only=False)
            if not filled.all():
                rows = rows.filter(pa.array(filled))
        yield _utf8(rows)


def _utf8(arr: pa.Array) -> bytes:
    """The concatenated bytes of a string array without nulls."""
    if not len(arr):
        return b""
    arr = arr.cast(pa.large_string()) if arr.type != pa.large_string() else arr
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset: arr.offset + len(arr) + 1]
    return arr.buffers()[2].to_pybytes()[offsets[0]: offsets[-1]]


# ------------------------------------------------------------- vectorised cell XML
# The tail of each cell's XML (after ``<c r="A2"``) for a chunk of one column, as an
# Arrow string array with null for an empty cell. Fast paths cover what our frames hold
# (plain text, 11-digit phones, numbers, dates, booleans); anything else goes through
# the per-value functions above (``_encode``), which define the output: the fast paths
# must give the same cells, which tests/test_writer.py checks value by value.
_INLINE_OPEN, _INLINE_CLOSE = ' t="inlineStr"><is><t>', "</t></is></c>"
# Texts the fast path may not write as they are: XML-special or illegal characters, the
# OOXML escape, formula prefixes, whitespace at either end (kept with xml:space), and
# over-long cells. Conservative: a text flagged here only takes the per-value path.
_NOT_PLAIN = (r"[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\x{fffe}\x{ffff}]|_x|^[=+\-@\t]"
              r"|^[\s\p{Z}\x0b\x1c-\x1f\x{85}]|[\s\p{Z}\x0b\x1c-\x1f\x{85}]$")
_NULL_STR = pa.scalar(None, pa.string())


def _tails(s: pd.Series, col: _Column, plan: _Plan) -> pa.Array:
    fast = None
    try:
        if col.kind in ("text", "phone", "id") and col.factorize:
            fast = _text_tails(s, col, plan)
        elif col.kind == "number":
            fast = _number_tails(s, col)
        elif col.kind == "datetime":
            fast = _datetime_tails(s, col, plan)
        elif col.kind == "bool" and s.dtype == bool:
            yes, no = _bool_xml(True, plan), _bool_xml(False, plan)
            fast = pc.if_else(pa.array(s.to_numpy()), yes, no)  # no str per cell
    except (pa.ArrowException, UnicodeError):
        fast = None
    if fast is not None:
        return fast
    return _from_list(_encode(s, col, plan))


def _from_list(tails) -> pa.Array:
    arr = pa.array(list(tails), pa.string())
    return pc.if_else(pc.equal(arr, ""), _NULL_STR, arr)


def _plain_tails(texts: pa.Array, quote: str) -> pa.Array:
    """Cell tails for distinct texts (null or '' → empty cell)."""
    out = pc.binary_join_element_wise(_INLINE_OPEN, texts, _INLINE_CLOSE, "")
    odd = pc.fill_null(pc.or_(pc.match_substring_regex(texts, _NOT_PLAIN),
                              pc.greater(pc.utf8_length(texts), MAX_CELL_CHARS)), False)
    if pc.any(odd).as_py():
        picked = texts.filter(odd).to_pylist()
        out = pc.replace_with_mask(out, odd, pa.array([_text_xml(t, quote) for t in picked],
                                                      pa.string()))
    empty = pc.or_(pc.fill_null(pc.equal(texts, ""), True), pc.equal(out, ""))  # '' : cleaned away
    return pc.if_else(empty, _NULL_STR, out)


def _text_tails(s: pd.Series, col: _Column, plan: _Plan) -> pa.Array:
    arrow = _arrow_text(s)
    if arrow is not None:  # Arrow-backed text: its distinct values found in Arrow
        enc = pc.dictionary_encode(arrow)  # nulls stay null in the indices
        texts = _distinct_texts(enc.dictionary.cast(pa.string()), col.kind, plan.mask)
        return _plain_tails(texts, plan.quote).take(enc.indices)
    values = s.to_numpy(dtype=object, na_value=None)
    codes, uniques = pd.factorize(values)
    texts = _distinct_texts(uniques, col.kind, plan.mask)
    tails = _plain_tails(texts, plan.quote)
    return tails.take(pa.array(codes, mask=codes < 0))


def _arrow_text(s: pd.Series) -> pa.Array | None:
    """A text column held in Arrow (:func:`aftercare.frames.arrow_text`) as one Arrow
    array, or None for any other column. Its cells are then never made Python strs: a
    dealer group's churn workbook (~1M vehicles) spent ~3 s turning them into objects and
    hashing them in pandas."""
    arr = arrow_text(s)
    return None if arr is None else arr.combine_chunks()  # a chunk of rows: one slice, mostly


def _distinct_texts(uniques: np.ndarray | pa.Array, kind: str, mask: bool) -> pa.Array:
    """Each distinct value's text (what ``_as_text`` / ``_phone_text`` / ``_id_text`` give);
    strings that need no conversion are taken as they are. ``uniques``: objects, or an
    Arrow string array (all text)."""
    if isinstance(uniques, pa.Array):
        all_str = True
        if kind == "id":
            uniques = np.asarray(uniques.to_pylist(), dtype=object)
    else:
        all_str = pd.api.types.infer_dtype(uniques, skipna=False) == "string"
    if kind == "text":
        if all_str:
            return pa.array(uniques, pa.string())
        return pa.array([_as_text(u) for u in uniques.tolist()], pa.string())
    if kind == "phone" and all_str:
        arr = pa.array(uniques, pa.string())
        digits = pc.match_substring_regex(arr, r"^[0-9]{11}$")  # a bare mobile number
        out = arr
        if mask:
            out = pc.binary_join_element_wise(pc.utf8_slice_codeunits(arr, 0, 3), "****",
                                              pc.utf8_slice_codeunits(arr, 7, 11), "")
        other = pc.invert(digits)
        if pc.any(other).as_py():
            picked = arr.filter(other).to_pylist()
            out = pc.replace_with_mask(out, other, pa.array(
                [_phone_text(t, mask) for t in picked], pa.string()))
        return out
    conv = _id_text if kind == "id" else _phone_text
    return pa.array([conv(u, mask) for u in uniques.tolist()], pa.string())


def _number_tails(s: pd.Series, col: _Column) -> pa.Array | None:
    dtype = s.dtype
    if isinstance(dtype, np.dtype):
        if dtype.kind not in "iuf":
            return None
        arr = s.to_numpy()
        integral = dtype.kind != "f"
    elif pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
        arr = s.to_numpy(dtype="float64", na_value=np.nan)  # Int64, Float64 …: NA → empty
        integral = True  # may hold long integers
    else:
        return None
    ok = np.isfinite(arr) if arr.dtype.kind == "f" else None
    shown = arr if ok is None else arr[ok]
    if integral and len(shown) and not (shown.min() > -_MAX_EXACT_INT
                                        and shown.max() < _MAX_EXACT_INT):
        return None  # long integers: text, per value
    text = pa.array(arr.astype("float64", copy=False) if ok is not None else arr).cast(
        pa.string())
    out = pc.binary_join_element_wise(f"{col.style}><v>", text, "</v></c>", "")
    return out if ok is None or ok.all() else pc.if_else(pa.array(ok), out, _NULL_STR)


def _datetime_tails(s: pd.Series, col: _Column, plan: _Plan) -> pa.Array:
    s = _naive(s)
    nat = s.isna().to_numpy()
    early = (s < _FIRST_DATE_TS).to_numpy() & ~nat
    td = (s.where(~nat, _EXCEL_EPOCH_TS) - _EXCEL_EPOCH_TS).to_numpy()
    one_day = np.timedelta64(1, "D")
    days = (td // one_day).astype(np.int64)
    if col.has_time:
        serial = days + (td - days * one_day) / one_day
        text = pa.array(serial.astype("float64")).cast(pa.string())
    else:
        text = pa.array(days).cast(pa.string())
    out = pc.binary_join_element_wise(f"{col.style}><v>", text, "</v></c>", "")
    if nat.any():
        out = pc.if_else(pa.array(nat), _NULL_STR, out)
    if early.any():
        fmt = "%Y-%m-%d %H:%M:%S" if col.has_time else "%Y-%m-%d"
        picked = [_text_xml(v.strftime(fmt), plan.quote) for v in s[early]]
        out = pc.replace_with_mask(out, pa.array(early), pa.array(picked, pa.string()))
    return out


def _cut_utf16(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` UTF-16 code units (how Excel counts)."""
    if len(text.encode("utf-16-le")) // 2 <= limit:
        return text
    out, used = [], 0
    for ch in text:
        units = 2 if ord(ch) > 0xFFFF else 1
        if used + units > limit:
            break
        out.append(ch)
        used += units
    return "".join(out)
