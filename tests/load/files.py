"""Small export files written for loader tests."""

from pathlib import Path

import openpyxl


def xlsx(path: Path, rows, *, start_col=1, sheet="Sheet1"):
    """A one-sheet workbook of ``rows`` (the first cell of each row in ``start_col``)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row, start=start_col):
            ws.cell(row=r, column=c, value=value)
    wb.save(path)
    return path


def csv(path: Path, lines, encoding="utf-8"):
    """A text file of ``lines`` in ``encoding``."""
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path
