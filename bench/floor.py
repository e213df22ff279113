#!/usr/bin/env python3
"""The floor: a process that merely reads a data folder's input files with the fastest
reader available, imports and start-up included (05-operations.md, "Speed").

    python bench/floor.py DIR

- xlsx/xlsm/xls: python-calamine, every sheet to Python values (`to_python`);
- csv: pyarrow's CSV reader (`pyarrow.csv.read_csv`: multi-threaded, types inferred),
  the header line and encoding taken from the folder's `.bench-manifest.json` when
  present (else UTF-8, falling back to GB18030). It reads a store's GBK export in
  ~0.1 s where pandas' C parser (`dtype=object, na_filter=False`, the floor until
  2026-12-04) took ~0.3 s; without pyarrow, pandas' C parser;
- parquet: pyarrow (`pyarrow.parquet.read_table`), when it is installed.

pandas is imported whatever the formats, as aftercare imports it too. Prints the rows
read per file and in total. Nothing is parsed beyond what the reader does itself.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd  # noqa: F401  (imports are part of the floor, like ours)

MANIFEST = ".bench-manifest.json"
EXTENSIONS = {".xlsx", ".xlsm", ".xls", ".csv", ".parquet"}


def read_xlsx(path: Path) -> int:
    import python_calamine as pc

    wb = pc.CalamineWorkbook.from_path(str(path))
    try:
        return sum(len(wb.get_sheet_by_name(name).to_python()) for name in wb.sheet_names)
    finally:
        wb.close()


def read_csv(path: Path, encoding: str | None, header: int) -> int:
    # GB18030 is a superset of GBK and decodes faster
    encodings = (
        ["gb18030"]
        if encoding in ("gbk", "gb2312", "gb18030")
        else [encoding or "utf-8", "gb18030"]
    )
    try:
        import pyarrow as pa
        import pyarrow.csv as pv
    except ImportError:
        pv = None
    wrong_encoding = (UnicodeDecodeError,) if pv is None else (UnicodeDecodeError,
                                                               pa.ArrowInvalid)
    for i, enc in enumerate(encodings):
        try:
            if pv is not None:  # skip_rows: the lines above the header (title, date …)
                opts = pv.ReadOptions(encoding=enc, skip_rows=header)
                return pv.read_csv(path, read_options=opts).num_rows
            df = pd.read_csv(
                path, encoding=enc, header=header, dtype=object, na_filter=False, engine="c"
            )
            return len(df)
        except wrong_encoding:
            if i == len(encodings) - 1:
                raise
    return 0


def read_parquet(path: Path) -> int:
    import pyarrow.parquet as pq

    return pq.read_table(path).num_rows


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    folder = Path(argv[0])
    hints = {}
    mf = folder / MANIFEST
    if mf.exists():
        hints = {f["file"]: f for f in json.loads(mf.read_text(encoding="utf-8"))["files"]}
        files = [folder / name for name in hints]
    else:
        files = sorted(
            p
            for p in folder.iterdir()
            if p.suffix.lower() in EXTENSIONS and not p.name.startswith((".", "~$"))
        )
    total = 0
    for path in files:
        hint = hints.get(path.name, {})
        ext = path.suffix.lower()
        if ext in (".xlsx", ".xlsm", ".xls"):
            n = read_xlsx(path)
        elif ext == ".csv":
            n = read_csv(path, hint.get("encoding"), hint.get("header_line", 0))
        else:
            n = read_parquet(path)
        total += n
        print(f"{path.name}\t{n}")
    print(f"total\t{total}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
