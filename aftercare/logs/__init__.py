"""The contact-log round trip, reading half (03-outputs.md, "Contact log").

``due`` writes the logs (:mod:`aftercare.reports.contact_log`); staff fill them in; every
later run of a command that lists people (``due``, ``churn``, ``report``) reads them back:

    logs = gather(ds, out_dir, cfg)                      # read (I/O, read-only)
    eff = effects.compute(logs.rows, ds, as_of, register=logs.register)
    ds2 = effects.apply(ds, eff)                         # what the rules see
    ...
    record_opt_outs(out_dir, logs)                       # after the run's own checks

- :mod:`~aftercare.logs.read`: log sheets → one typed frame (``log_rows``);
- :mod:`~aftercare.logs.effects`: pure functions from log rows + data → the effects;
- :mod:`~aftercare.logs.register`: the append-only ``opt-outs.csv``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from aftercare.logs import effects, read, register

__all__ = ["LogInputs", "gather", "record_opt_outs", "record_and_count", "effects", "read",
           "register"]

ISSUE_FIELDS = ["file", "sheet", "row", "field", "value", "reason", "detail"]


@dataclass
class LogInputs:
    """Everything read for the round trip: matched log rows, the register as read, the
    opt-outs the register does not hold yet, data issues, and the files read."""

    rows: pd.DataFrame
    register: pd.DataFrame
    new_opt_outs: pd.DataFrame
    issues: pd.DataFrame
    files: list[str] = field(default_factory=list)

    @property
    def all_opt_outs(self) -> pd.DataFrame:
        return pd.concat([self.register, self.new_opt_outs], ignore_index=True)


def gather(ds, out_dir: Path | None, cfg: dict) -> LogInputs:
    """Read the data folder's log sheets (already in ``ds.log_sheets``), every log in the
    output folder and the opt-out register; match each row to a customer and a vehicle.
    Nothing is written (see :func:`record_opt_outs`)."""
    sources = read.sources_from_dataset(ds)
    if out_dir is not None:
        sources += read.read_out_folder(Path(out_dir), cfg)
    rows, issues = read.read_logs(sources)
    rows, match_issues = effects.match(rows, ds)
    reg = register.read_register(out_dir) if out_dir is not None else register._empty()
    new = register.new_entries(rows, reg)
    files = sorted(set(rows["_path"].astype(str))) if len(rows) else []
    all_issues = pd.concat([issues.frame().reindex(columns=ISSUE_FIELDS),
                            match_issues.reindex(columns=ISSUE_FIELDS)], ignore_index=True)
    return LogInputs(rows, reg, new, all_issues, files)


def record_opt_outs(out_dir: Path, logs: LogInputs) -> int:
    """Append the new opt-outs to ``out_dir/opt-outs.csv``; returns how many."""
    register.append_register(Path(out_dir), logs.new_opt_outs)
    return int(len(logs.new_opt_outs))


def record_and_count(out_dir: Path, logs: LogInputs) -> dict:
    """Record the new opt-outs and return what a command's summary says of the logs."""
    record_opt_outs(out_dir, logs)
    return count(logs)


def count(logs: LogInputs) -> dict:
    """What a command's summary says of the logs (:func:`record_and_count` without the
    recording)."""
    return {"files": len(logs.files), "rows": int(len(logs.rows)),
            "new_opt_outs": int(len(logs.new_opt_outs))}
