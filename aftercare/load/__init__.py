"""The loader: a data folder of DMS exports in, typed tables and data issues out.

    dataset = load_folder(Path("data"), config)

Steps: scan the folder (scan.py), read each file into raw grids (readers.py), find each
sheet's header row and table (headers.py, sheets.py), parse values into typed tables
(tables.py), aggregate RO lines and deduplicate ROs across files, link ROs to vehicles
and vehicles to customers (link.py). Nothing is written anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd

from aftercare.errors import BadFileError, InputError, MissingColumnError
from aftercare.issues import IssueLog
from aftercare.load import link, tables
from aftercare.load.aliases import ALIASES, REQUIRED, VEHICLE_KEYS
from aftercare.load.headers import alias_table
from aftercare.load.readers import read_file
from aftercare.load.scan import scan_folder
from aftercare.load.sheets import SheetFrame, sheet_to_frame


@dataclass
class SheetInfo:
    file: str
    sheet: str
    table: str | None
    rows: int
    header_row: int | None
    columns: dict[str, str]
    reason: str = ""
    kind: str = ""
    encoding: str | None = None
    headers: list[str] = field(default_factory=list)


@dataclass
class Dataset:
    vehicles: pd.DataFrame
    customers: pd.DataFrame
    repair_orders: pd.DataFrame
    issues: IssueLog
    sheets: list[SheetInfo] = field(default_factory=list)
    skipped_files: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    bad_files: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    ro_duplicates: int = 0
    log_sheets: list[SheetFrame] = field(default_factory=list)
    input_rows: int = 0

    def date_range(self) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
        dates = self.repair_orders["open_date"] if len(self.repair_orders) else pd.Series([])
        if not len(dates):
            return None, None
        return dates.min(), dates.max()


ProgressFn = Callable[[str, int, int], None]


def load_folder(
    folder: Path,
    config: dict,
    *,
    skip_bad_files: bool = False,
    progress: ProgressFn | None = None,
    require: bool = True,
) -> Dataset:
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"数据文件夹不存在: {folder} (用 --data 指定，或设置 [data] dir)")
    data_cfg = config["data"]
    files, skipped = scan_folder(folder, recursive=data_cfg["recursive"], pins=data_cfg["tables"])
    aliases = alias_table(config["aliases"])
    join = {"repair_orders": config["join"]["repair_orders_key"],
            "ro_lines": config["join"]["ro_lines_key"]}
    issues = IssueLog()
    ds_sheets: list[SheetInfo] = []
    frames: dict[str, list[pd.DataFrame]] = {t: [] for t in ALIASES}
    bad: list[tuple[str, str]] = []
    logs: list[SheetFrame] = []
    input_rows = 0
    for i, scanned in enumerate(files):
        if progress:
            progress(scanned.path.name, i, len(files))
        try:
            raws = read_file(scanned.path, max_file_mb=config["limits"]["max_file_mb"],
                             max_rows=config["limits"]["max_rows"])
        except BadFileError as exc:
            if not skip_bad_files:
                raise
            bad.append((scanned.path.name, exc.reason))
            continue
        mtime = scanned.path.stat().st_mtime
        for raw in raws:
            sf = sheet_to_frame(raw, aliases, issues, pinned=scanned.pinned_table,
                                join_headers=join)
            rows = 0 if sf.frame is None else len(sf.frame)
            input_rows += rows
            ds_sheets.append(SheetInfo(raw.file.name, raw.sheet, sf.table, rows, sf.header_row,
                                       sf.columns, sf.reason, raw.kind, raw.encoding,
                                       _headers(sf)))
            if sf.table == "contact_logs" or scanned.role == "log":
                logs.append(sf)
                continue
            if sf.frame is None:
                continue
            _check_required(sf, config["aliases"])
            sf.frame["_mtime"] = mtime
            frames[sf.table].append(sf.frame)
    if progress:
        progress("", len(files), len(files))

    def concat(table: str) -> pd.DataFrame:
        parts = frames[table]
        if not parts:
            return pd.DataFrame(columns=["_file", "_sheet", "_row", "_mtime"])
        return pd.concat(parts, ignore_index=True)

    dayfirst = data_cfg["dayfirst"]
    extra_types = config["service_types"]
    ro_frames = frames["repair_orders"]
    if ro_frames and not frames["ro_lines"]:
        for sheet_frame, info in zip(ro_frames, [s for s in ds_sheets
                                                 if s.table == "repair_orders"]):
            if "service_type" not in sheet_frame.columns:
                raise _missing(info, "repair_orders", "service_type", config["aliases"])
    vehicles = tables.build_vehicles(concat("vehicles"), issues, dayfirst=dayfirst)
    customers = tables.build_customers(concat("customers"), issues, dayfirst=dayfirst)
    ros = tables.build_repair_orders(concat("repair_orders"), issues, dayfirst=dayfirst,
                                     extra_types=extra_types)
    ros = tables.aggregate_lines(ros)
    ros, dups = tables.dedupe_across_files(ros)
    issues.add_rows(ros, ros["deleted"], field="deleted", reason="deleted_ro",
                    value=ros["deleted_raw"])
    if frames["ro_lines"]:
        lines = tables.build_ro_lines(concat("ro_lines"), issues, extra_types)
        ros = tables.apply_line_kinds(ros, lines)
    no_kind = ros["kind"].isna()
    if no_kind.any():
        issues.add_rows(ros, no_kind, field="service_type", reason="no_service_type", value="")
        ros.loc[no_kind, "kind"] = "repair"
    ros["is_visit"] = ~ros["deleted"] & (ros["kind"] != "internal")
    vehicles, ros = link.link_ros_to_vehicles(vehicles, ros)
    vehicles, customers = link.link_customers(vehicles, customers)
    ros["ro_key"] = ros["store"].fillna("").astype(str) + "|" + ros["ro_no"].astype(str)
    ds = Dataset(vehicles, customers, ros.reset_index(drop=True), issues, ds_sheets,
                 [(s.path.name, s.reason) for s in skipped], bad, dups, logs, input_rows)
    if require:
        require_data(ds, folder)
    return ds


def require_data(ds: Dataset, folder) -> None:
    """Stop (exit 2) when the folder held no vehicles and no repair orders at all."""
    if len(ds.vehicles) or len(ds.repair_orders):
        return
    seen = ", ".join(sorted({s.file for s in ds.sheets})) or "(无)"
    raise InputError(
        f"{folder}: 没有找到可用的车辆档案或维修工单 (no vehicles or ROs found)。读取的文件: {seen}。"
        "请确认导出文件在该文件夹中，表头能被识别（用 aftercare check 查看），"
        "必要时在 [aliases.<表>] 中添加列名。")


def _headers(sf: SheetFrame) -> list[str]:
    grid = sf.raw.grid
    if sf.header_row is None or sf.header_row not in grid.index:
        return []
    return [str(h).strip() for h in grid.loc[sf.header_row].tolist() if h is not None]


def _check_required(sf: SheetFrame, user_aliases) -> None:
    table = sf.table
    present = set(sf.frame.columns)
    info = SheetInfo(sf.raw.file.name, sf.raw.sheet, table, 0, sf.header_row, sf.columns,
                     headers=_headers(sf))
    if table in ("vehicles", "repair_orders") and not (set(VEHICLE_KEYS) & present):
        raise _missing(info, table, "vin", user_aliases, also="plate", path=sf.raw.file)
    for fname in REQUIRED.get(table, ()):
        if fname == "service_type":
            continue  # may come from an RO-lines table; checked once all sheets are read
        if fname not in present:
            raise _missing(info, table, fname, user_aliases, path=sf.raw.file)


def _missing(info: SheetInfo, table, fname, user_aliases, also=None, path=None):
    """The error for a missing required column, naming the aliases as the user wrote them."""

    def tried_for(f):
        return [*user_aliases.get(table, {}).get(f, []), *ALIASES[table][f]]

    tried = tried_for(fname) + (tried_for(also) if also else [])
    return MissingColumnError(file=path or info.file, sheet=info.sheet, table=table,
                              field=fname if not also else f"{fname}/{also}", aliases=tried,
                              headers_found=info.headers)
