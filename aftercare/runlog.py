"""``--log-file FILE``: one JSON line per run, appended — time, command, as_of, counts,
exit code. Never personal data: only the keys listed here are copied, and only numbers,
dates and file paths."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

SAFE_KEYS = ("as_of", "month", "day", "reminders", "calls", "overflow", "fix_data",
             "data_issues", "input_rows", "by_kind", "by_status", "excluded", "bands",
             "vehicles", "kpis_with_data", "files")


def append_run(path: Path | str, *, command: str, exit_code: int, summary: dict | None,
               started: dt.datetime, error: str | None = None) -> None:
    record = {
        "time": started.isoformat(timespec="seconds"),
        "seconds": round((dt.datetime.now() - started).total_seconds(), 3),
        "command": command,
        "exit_code": exit_code,
    }
    for key in SAFE_KEYS:
        if summary and key in summary:
            record[key] = summary[key]
    if error:
        record["error"] = error  # the exception's class name only
    line = json.dumps(record, ensure_ascii=False, default=str) + "\n"
    # O_APPEND: concurrent runs each add whole lines
    fd = os.open(Path(path), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, line.encode("utf-8"))
    finally:
        os.close(fd)
