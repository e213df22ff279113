"""Which files of the data folder are read (01-data-contract.md, "The data folder")."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path

EXTENSIONS = {".xlsx", ".xlsm", ".xls", ".csv", ".parquet"}
OUR_OUTPUTS = ("due-", "churn-", "report-", "opt-outs")  # opt-outs.csv: the PIPL register
LOG_PREFIX = "log-"


@dataclass
class ScannedFile:
    path: Path
    role: str  # "data" or "log"
    pinned_table: str | None = None


@dataclass
class SkippedFile:
    path: Path
    reason: str  # reason code, see aftercare.i18n


def scan_folder(
    folder: Path, *, recursive: bool = False, pins: dict[str, list[str]] | None = None
) -> tuple[list[ScannedFile], list[SkippedFile]]:
    """The files to read, sorted by name, and the ones skipped with a reason.

    Lock and temp files of Office/WPS and hidden files are skipped silently (they are
    not the user's data); our own outputs and unknown extensions are listed as skipped.
    """
    pins = pins or {}
    paths = folder.rglob("*") if recursive else folder.iterdir()
    files: list[ScannedFile] = []
    skipped: list[SkippedFile] = []
    for path in sorted(p for p in paths if p.is_file()):
        name = path.name
        rel = path.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts) or name.startswith("~$"):
            continue  # hidden, `.~lock*`, `~$*`: Office/WPS lock and temp files
        if path.suffix.lower() not in EXTENSIONS:
            skipped.append(SkippedFile(path, "not_a_data_file"))
            continue
        lower = name.lower()
        if lower.startswith(OUR_OUTPUTS):
            skipped.append(SkippedFile(path, "our_output"))
            continue
        if lower.startswith(LOG_PREFIX):
            files.append(ScannedFile(path, "log"))
            continue
        pinned = next(
            (t for t, globs in pins.items() if any(fnmatch.fnmatch(name, g) for g in globs)),
            None,
        )
        files.append(ScannedFile(path, "data", pinned))
    return files, skipped
