"""Contact logs (联系记录), the writing half of the round trip (03-outputs.md, "Contact log").

``due`` writes one workbook per agent, ``log-<stem>-<agent>.xlsx``, sheet 联系记录: one row
per (call, vehicle), prefilled with the call, the customer, the vehicle, its topics and the
three planned attempts, and empty columns for staff to fill in.

A filled log is never overwritten. Before any file is written every target that already
exists is read; when one holds staff entries (or cannot be read as a log: what we cannot
read we must not destroy) nothing is written and :class:`FilledLogError` names the files,
unless ``force``: then each such file is first renamed to ``<name>.bak-<stamp>``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from aftercare.errors import FilledLogError, OutputError
from aftercare.frames import join_unique
from aftercare.writer import LISTS_SHEET, Sheet, write_workbook

__all__ = [
    "LOG_FIELDS", "LOG_HEADERS", "PREFILLED_COLUMNS", "STAFF_COLUMNS", "RESULT_CODES",
    "LOG_SHEET", "build_log_frame", "result_choices", "log_sheet", "log_file_name",
    "write_contact_logs", "log_is_filled",
]

LOG_HEADERS: dict[str, tuple[str, str]] = {
    "call_id": ("呼叫编号", "call_id"),
    "agent": ("坐席", "agent"),
    "month": ("月份", "month"),
    "customer_id": ("客户编号", "customer_id"),
    "customer_name": ("客户名称", "customer_name"),
    "mobile": ("手机", "mobile"),
    "plate": ("车牌号", "plate"),
    "vin": ("VIN", "vin"),
    "kinds": ("提醒类型", "kinds"),
    **{
        f"attempt{n}_{part}": (f"第{n}次{zh}", f"attempt{n}_{part}")
        for n in (1, 2, 3)
        for part, zh in (("plan", "计划"), ("date", "日期"), ("result", "结果"))
    },
    "result": ("结果代码", "result"),
    "booked_date": ("预约日期", "booked_date"),
    "reason": ("未回厂原因", "reason"),
    "other_shop": ("他店信息", "other_shop"),
    "other_shop_date": ("他店日期", "other_shop_date"),
    "other_shop_km": ("他店里程", "other_shop_km"),
    "new_mobile": ("新号码", "new_mobile"),
    "note": ("备注", "note"),
}
LOG_FIELDS = list(LOG_HEADERS)
PREFILLED_COLUMNS = [
    "call_id", "agent", "month", "customer_id", "customer_name", "mobile", "plate", "vin",
    "kinds", "attempt1_plan", "attempt2_plan", "attempt3_plan",
]
STAFF_COLUMNS = [f for f in LOG_FIELDS if f not in PREFILLED_COLUMNS]
RESULT_COLUMNS = ["attempt1_result", "attempt2_result", "attempt3_result", "result"]
TEXT_COLUMNS = [f for f in PREFILLED_COLUMNS if f != "mobile"]

RESULT_CODES: list[tuple[str, str]] = [
    ("reached_booked", "已预约"),
    ("reached_declined", "拒绝"),
    ("reached_later", "考虑/稍后"),
    ("no_answer", "无人接听"),
    ("busy", "占线/挂断"),
    ("wrong_number", "空号/错号"),
    ("done_elsewhere", "已在他店保养"),
    ("sold", "已卖车"),
    ("scrapped", "已报废"),
    ("moved", "外迁"),
    ("opt_out", "拒绝联系"),
]
LOG_SHEET = ("联系记录", "Contact log")

_HEADER_SCAN_ROWS = 20
_FILENAME_BAD = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')
_WINDOWS_RESERVED = re.compile(r"^(con|prn|aux|nul|com[1-9]|lpt[1-9])(\..*)?$", re.I)
_AGENT_MAX_CHARS = 40


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[1] if lang == "en" else pair[0]


# --------------------------------------------------------------------------- the frame
def build_log_frame(calls: pd.DataFrame, reminders: pd.DataFrame, month_label: str) -> pd.DataFrame:
    """One row per (call, vehicle), the stable log columns in order, staff columns empty.

    A call's vehicles are the distinct (plate, vin) of its reminders (a birthday call's
    reminder holds the customer's plates joined by ``;``: one row). ``kinds`` holds the
    codes of that vehicle's reminders in the call, by priority then due date. Rows follow
    呼叫清单: planned date (overflow last), agent, priority, due date, customer id; within
    a call, the vehicle with the most urgent reminder first. A call without reminders (not
    expected) gets one row with the call's own plates, VINs and kinds.
    """
    c = calls.reset_index(drop=True)
    c = c.assign(_rank=_call_order(c))
    r = reminders.assign(
        plate=_blank(reminders["plate"]), vin=_blank(reminders["vin"]),
        call_id=reminders["call_id"].astype(object).astype(str),
    ).sort_values(["call_id", "priority", "due_date", "kind"], kind="stable")
    keys = ["call_id", "plate", "vin"]
    g = r.drop_duplicates([*keys, "kind"]).groupby(keys, sort=False)
    prio, due = g["priority"].min(), g["due_date"].min()
    kinds = join_unique(r, keys, "kind")
    if not kinds.index.equals(prio.index):  # (else no alignment of 300k-key MultiIndexes)
        kinds = kinds.reindex(prio.index)
    veh = pd.DataFrame({"kinds": kinds.to_numpy(), "_prio": prio.to_numpy(),
                        "_due": due.to_numpy()}, index=prio.index).reset_index()
    c = c.assign(call_id=c["call_id"].astype(object).astype(str))
    rows = c.merge(veh, on="call_id", how="left", suffixes=("_call", ""))
    orphan = rows["kinds"].isna()
    if orphan.any():  # a call without reminders: its own plates and kinds
        rows.loc[orphan, "plate"] = _blank(rows.loc[orphan, "plates"])
        rows.loc[orphan, "vin"] = _blank(rows.loc[orphan, "vins"])
        rows.loc[orphan, "kinds"] = _blank(rows.loc[orphan, "kinds_call"])
    rows = rows.sort_values(["_rank", "_prio", "_due", "plate", "vin"], kind="stable",
                            na_position="last")
    out = pd.DataFrame({f: np.full(len(rows), None, dtype=object) for f in LOG_FIELDS},
                       copy=False)
    for fld in PREFILLED_COLUMNS:
        if fld == "month":
            out[fld] = str(month_label)
        elif fld in rows:
            out[fld] = rows[fld].astype(object).where(rows[fld].notna(), None).to_numpy()
    out["plate"] = out["plate"].replace("", None)
    out["vin"] = out["vin"].replace("", None)
    return out


def _blank(s: pd.Series) -> pd.Series:
    return s.astype(object).where(s.notna(), "").astype(str)


def _call_order(calls: pd.DataFrame) -> pd.Series:
    """Each call's position, as on 呼叫清单: planned date (overflow last), agent, priority,
    due date, customer."""
    keys = pd.DataFrame({
        "planned": calls["planned_date"],
        "agent": _blank(calls["agent"]),
        "priority": calls["priority"],
        "due": calls["due_date"],
        "cid": _blank(calls["customer_id"]),
        "call": calls["call_id"].astype(object).astype(str),
    })
    order = keys.sort_values(list(keys.columns), kind="stable", na_position="last").index
    rank = pd.Series(range(len(order)), index=order)
    return rank.reindex(calls.index)


# --------------------------------------------------------------------------- the files
def result_choices(lang: str) -> list[str]:
    """Drop-down entries for a result cell: labels then codes (en: codes then labels).

    Either is accepted when the log is read back."""
    codes = [code for code, _ in RESULT_CODES]
    labels = [label for _, label in RESULT_CODES]
    return codes + labels if lang == "en" else labels + codes


def log_sheet(log: pd.DataFrame, lang: str) -> Sheet:
    """One agent's rows as the 联系记录 sheet, with result drop-downs."""
    frame = log.reindex(columns=LOG_FIELDS)
    choices = result_choices(lang)
    return Sheet(
        name=_pick(LOG_SHEET, lang),
        frame=frame,
        headers={f: _pick(LOG_HEADERS[f], lang) for f in LOG_FIELDS},
        text_columns=TEXT_COLUMNS,
        validations={f: choices for f in RESULT_COLUMNS},
    )


def log_file_name(stem: str, agent: str, lang: str = "zh") -> str:
    """``log-<stem>-<agent>.xlsx`` with the agent's name made safe for a file name."""
    return f"log-{stem}-{_safe_agent(agent, lang)}.xlsx"


def _safe_agent(agent, lang: str) -> str:
    text = "" if agent is None or (isinstance(agent, float) and agent != agent) else str(agent)
    text = _FILENAME_BAD.sub("_", text)
    text = re.sub(r"\s+", "_", text.strip()).strip("._")[:_AGENT_MAX_CHARS].rstrip("._")
    if not text:
        text = "unassigned" if lang == "en" else "未分配"
    if _WINDOWS_RESERVED.match(text):
        text += "_"
    return text


@dataclass(frozen=True)
class LogPlan:
    """Where each agent's log goes (``files``: (path, agent), in agent order) and which
    existing files are to be moved aside first (``backups``: only with --force)."""

    files: list[tuple[Path, object]]
    backups: frozenset

    def agents(self) -> set:
        return {agent for _, agent in self.files}


def _agent_texts(agents: pd.Series) -> pd.Series:
    return agents.astype(object).where(agents.notna(), "")


def check_contact_logs(out_dir: Path, stem: str, agents: pd.Series, *, lang: str,
                       force: bool) -> LogPlan:
    """The guard, alone: the logs of ``agents`` (one per distinct agent) and where they
    go. Raises :class:`FilledLogError` (nothing is written here) when an existing
    target holds staff entries or cannot be read as a log, unless ``force``: then those
    files are in ``backups``, to be renamed to ``<name>.bak-<stamp>`` before the new ones
    are written (:func:`write_contact_logs`)."""
    out_dir = Path(out_dir)
    files: list[tuple[Path, object]] = []
    used: set[str] = set()
    for agent in sorted(_agent_texts(agents).unique(), key=str):
        name = log_file_name(stem, agent, lang)
        k = 2
        while name.casefold() in used:  # two names made equal by the cleaning
            name = log_file_name(stem, f"{_safe_agent(agent, lang)}-{k}", lang)
            k += 1
        used.add(name.casefold())
        files.append((out_dir / name, agent))

    refused: list[tuple[Path, str]] = []
    for path, _ in files:
        if os.path.lexists(path):
            state = _log_state(path)
            if state != "empty":
                refused.append((path, state))
    if refused and not force:
        raise FilledLogError(_refusal(refused, lang))
    return LogPlan(files, frozenset(path for path, _ in refused))


def write_contact_logs(out_dir: Path, stem: str, log: pd.DataFrame, *, lang: str, force: bool,
                       stamp: str, plan: LogPlan | None = None) -> list[Path]:
    """Write one log per agent into ``out_dir`` and return the paths, in agent order.

    The guard (:func:`check_contact_logs`) runs first, unless ``plan`` says it has run
    already for the agents ``log`` holds (then the log frame could be built after it):
    a refusal writes nothing. With ``force`` each refused file is renamed to
    ``<name>.bak-<stamp>`` before the new one is written.
    """
    agents = _agent_texts(log["agent"])
    if plan is None or plan.agents() != set(agents.unique()):
        plan = check_contact_logs(out_dir, stem, log["agent"], lang=lang, force=force)
    written = []
    for path, agent in plan.files:
        if path in plan.backups:
            _back_up(path, stamp)
        rows = log[(agents == agent).to_numpy()]
        # No CSV copy for a log past Excel's row limit: a ``log-*.csv`` in the folder would
        # be read back as a second log; the workbook's continuation sheets hold every row.
        written.append(write_workbook(path, [log_sheet(rows.reset_index(drop=True), lang)],
                                      csv_copies=False))
    return written


def _refusal(refused: list[tuple[Path, str]], lang: str) -> str:
    names = ", ".join(
        str(p) + ((" (unreadable)" if lang == "en" else "（无法读取）") if s == "unreadable" else "")
        for p, s in refused
    )
    if lang == "en":
        return (f"{names}: contact log already filled in by staff (or unreadable as a log); "
                f"not overwritten, nothing written. Use --force to regenerate it "
                f"(the old file is kept as <name>.bak-<timestamp>).")
    return (f"{names}: 联系记录已有员工填写的内容（或无法按联系记录读取），不会覆盖，本次未写入任何文件。"
            f"如确需重新生成，请使用 --force（旧文件会保留为 <文件名>.bak-<时间戳>）。")


def _back_up(path: Path, stamp: str) -> Path:
    """Rename ``path`` aside (never over an existing file) and return the new path."""
    target = path.with_name(f"{path.name}.bak-{stamp}")
    k = 2
    while os.path.lexists(target):
        target = path.with_name(f"{path.name}.bak-{stamp}-{k}")
        k += 1
    try:
        os.rename(path, target)
    except OSError as exc:
        raise OutputError(
            f"{path}: 无法改名为 {target.name} ({exc.strerror or exc}); 文件是否正在 Excel/WPS 中打开？"
            f" (cannot rename the old log aside; is it open?)"
        ) from None
    return target


# --------------------------------------------------------------------------- the guard
def log_is_filled(path: Path | str) -> bool:
    """Whether the workbook at ``path`` holds anything staff wrote, or cannot be read as a
    log (treated as filled: what cannot be read is never destroyed)."""
    return _log_state(Path(path)) != "empty"


def _log_state(path: Path) -> str:
    """'empty' (only what ``due`` prefills), 'filled' or 'unreadable'.

    Filled: in a sheet with a log header (呼叫编号 / call_id in its first rows), a
    non-blank cell below the header in any column that is not prefilled (the staff
    columns, by Chinese or English header, and any column staff added); or any non-blank
    cell above the header, or in a sheet that is neither a log sheet nor the hidden
    drop-down list sheet.
    """
    try:
        from python_calamine import CalamineWorkbook

        wb = CalamineWorkbook.from_path(str(path))
        sheets = [(name, wb.get_sheet_by_name(name).to_python()) for name in wb.sheet_names]
    except BaseException as exc:  # noqa: BLE001 — calamine raises its own errors (and panics)
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        return "unreadable"
    found_log = False
    for name, grid in sheets:
        header_at = _header_row(grid)
        if header_at is None:
            if name != LISTS_SHEET and any(_filled(v) for row in grid for v in row):
                return "filled"
            continue
        found_log = True
        if any(_filled(v) for row in grid[:header_at] for v in row):
            return "filled"  # a title or note typed above the header
        header = grid[header_at]
        staff = [j for j, h in enumerate(header) if _norm(h) not in _PREFILLED_HEADERS]
        for row in grid[header_at + 1:]:
            if any(_filled(row[j]) for j in staff if j < len(row)):
                return "filled"
    return "empty" if found_log else "unreadable"


def _norm(value) -> str:
    return "" if value is None else str(value).strip().casefold()


_PREFILLED_HEADERS = {_norm(h) for f in PREFILLED_COLUMNS for h in LOG_HEADERS[f]}
_MARKERS = {_norm(h) for h in LOG_HEADERS["call_id"]}


def _header_row(grid: list[list]) -> int | None:
    for i, row in enumerate(grid[:_HEADER_SCAN_ROWS]):
        if _MARKERS & {_norm(v) for v in row}:
            return i
    return None


def _filled(value) -> bool:
    return value is not None and str(value).strip() != ""
