"""Reading filled contact logs (aftercare.logs.read): codes and labels, dates as staff
type them, data issues instead of crashes, headers in either language, copies read once,
and which files of the output folder are looked at."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from aftercare.logs.read import code_of, read_logs, scan_out_folder
from tests.logs.helpers import call, read, source

T = pd.Timestamp


def test_codes_and_chinese_labels_read_as_codes():
    """A result cell takes a code or its label (either half of 占线/挂断), any case."""
    assert code_of("已预约") == "reached_booked"
    assert code_of(" 占线 ") == "busy" and code_of("挂断") == "busy"
    assert code_of("拒绝联系") == "opt_out" and code_of("拒绝") == "reached_declined"
    assert code_of("No_Answer") == "no_answer" and code_of("no answer") == "no_answer"
    assert code_of("打不通") is None and code_of(None) is None


def test_unknown_code_is_an_issue_and_reads_as_empty():
    """An unknown result is a data issue at its row naming the allowed codes; the rest of
    the row is still read."""
    rows, issues = read([call("2026-10-00001", "C1", "粤B1", attempt1_result="打不通",
                              attempt2_result="已预约")])
    assert rows.loc[0, "attempt1_result"] is None
    assert rows.loc[0, "attempt2_result"] == "reached_booked"
    assert rows.loc[0, "outcome"] == "reached_booked"
    [issue] = issues.to_dict("records")
    assert (issue["row"], issue["field"], issue["value"], issue["reason"]) == (
        2, "attempt1_result", "打不通", "log_unknown_code")
    assert "拒绝联系/opt_out" in issue["detail"]


def test_attempt_dates_as_planned_as_typed_and_impossible():
    """No date: the plan's day; "10.9", the number 10.1 and a real date: read; an
    impossible date is an issue and the plan's day stands in."""
    rows, issues = read([
        call("c1", "C1", "粤B1", attempt1_result="无人接听"),
        call("c2", "C2", "粤B2", attempt1_result="busy", attempt1_date="10.9",
             attempt2_result="busy", attempt2_date=10.1,
             attempt3_result="busy", attempt3_date=dt.datetime(2026, 10, 12, 15, 30)),
        call("c3", "C3", "粤B3", attempt1_result="busy", attempt1_date="2026-13-45"),
    ])
    assert rows.loc[0, "attempt1_date"] == T("2026-10-08")
    assert pd.isna(rows.loc[0, "attempt2_date"])  # not attempted
    assert list(rows.loc[1, ["attempt1_date", "attempt2_date", "attempt3_date"]]) == [
        T("2026-10-09"), T("2026-10-01"), T("2026-10-12")]
    assert rows.loc[1, "log_date"] == T("2026-10-12")
    assert rows.loc[2, "attempt1_date"] == T("2026-10-08")
    assert issues[["row", "field", "reason"]].values.tolist() == [
        [4, "attempt1_date", "date_unparseable"]]


def test_a_december_log_dated_in_january():
    """A month-day without a year takes the year nearest the log's month."""
    rows, _ = read([call("c1", "C1", "粤B1", month="2026-12", plan="2026-12-28",
                         attempt1_result="busy", attempt1_date="1/4")])
    assert rows.loc[0, "attempt1_date"] == T("2027-01-04")


def test_staff_columns_typed():
    """Booked and other-shop dates, km with units, new numbers normalised; a bad new
    number is an issue."""
    rows, issues = read([
        call("c1", "C1", "粤B1", result="已在他店保养", other_shop="途虎 宝安 ¥380",
             other_shop_date="2026-10-05", other_shop_km="1.2万", new_mobile="+86 139-0000-0001"),
        call("c2", "C2", "粤B2", result="已预约", booked_date=dt.date(2026, 10, 20),
             new_mobile="12345"),
    ])
    assert rows.loc[0, "other_shop_date"] == T("2026-10-05")
    assert rows.loc[0, "other_shop_km"] == 12000
    assert rows.loc[0, "new_mobile"] == "13900000001"
    assert rows.loc[1, "booked_date"] == T("2026-10-20") and rows.loc[1, "new_mobile"] is None
    assert issues[["row", "field"]].values.tolist() == [[3, "new_mobile"]]


def test_english_headers_title_rows_and_empty_rows():
    """An English log with a title above the header reads the same; blank rows between
    are skipped; rows keep their Excel row numbers."""
    recs = [call("c1", "C1", "粤B1", attempt1_result="no_answer"), {},
            call("c2", "C2", "粤B2", result="moved")]
    rows, issues = read(recs, lang="en", title_rows=2)
    assert rows["_row"].tolist() == [4, 6] and issues.empty
    assert rows["outcome"].tolist() == ["no_answer", "moved"]
    assert rows["has_entry"].tolist() == [True, True]


def test_unfilled_row_has_no_entry_and_its_plan_date():
    """A row as due wrote it: no entry, dated by its first plan."""
    rows, _ = read([call("c1", "C1", "粤B1", plan="2026-10-20")])
    assert not rows.loc[0, "has_entry"] and rows.loc[0, "log_date"] == T("2026-10-20")
    assert rows.loc[0, "month_start"] == T("2026-10-01") and pd.isna(rows.loc[0, "list_day"])


def test_day_list_log_month_is_its_day():
    """A day list's log (月份 2026-10-09) is dated by that day."""
    rows, _ = read([call("c1", "C1", "粤B1", month="2026-10-09", kinds="followup")])
    assert rows.loc[0, "list_day"] == T("2026-10-09")
    assert rows.loc[0, "month_start"] == T("2026-10-01")


def test_the_same_row_in_two_files_is_read_once_filled_copy_first():
    """A copy in the data folder and a filled renamed copy: one row, the filled one,
    whatever the files' times."""
    empty = source([call("c1", "C1", "粤B1")], file="log-2026-10-甲.xlsx", mtime=200.0)
    filled = source([call("c1", "C1", "粤B1", result="sold")], file="10月回访.xlsx",
                    mtime=100.0)
    rows, _ = read_logs([empty, filled])
    assert len(rows) == 1 and rows.loc[0, "outcome"] == "sold"
    assert rows.loc[0, "_file"] == "10月回访.xlsx"


def test_a_log_file_without_a_log_header_is_an_issue_only_in_the_data_folder():
    """A ``log-*`` file of the data folder with no 呼叫编号 header is a data issue; another
    workbook of the output folder is just not a log."""
    grid = source([]).raw.grid.copy()
    grid.iloc[0, 0] = "工单号"
    strict = source([], strict=True)
    strict.raw.grid = grid
    rows, issues = read_logs([strict])
    assert rows.empty and issues.frame()["reason"].tolist() == ["log_no_header"]
    loose = source([], strict=False, file="other.xlsx")
    loose.raw.grid = grid
    rows, issues = read_logs([loose])
    assert rows.empty and len(issues) == 0


def test_out_folder_scan(tmp_path):
    """Renamed workbooks and --force backups are looked at; our own workbooks, lock files
    and other files are not."""
    for name in ("log-2026-10-甲.xlsx", "10月回访.xlsx", "log-2026-10-乙.xlsx.bak-20261101-0900",
                 "due-2026-10.xlsx", "churn-2026-10-31.xlsx", "report-2026-10.xlsx",
                 "~$10月回访.xlsx", ".hidden.xlsx", "opt-outs.csv", "notes.txt"):
        (tmp_path / name).write_bytes(b"x")
    assert [p.name for p in scan_out_folder(tmp_path)] == [
        "10月回访.xlsx", "log-2026-10-乙.xlsx.bak-20261101-0900", "log-2026-10-甲.xlsx"]
    assert scan_out_folder(tmp_path / "missing") == []


def test_rows_of_blanks_and_whitespace_are_skipped_others_kept():
    """A row counts as empty when every cell is missing or whitespace-only text (full-width
    spaces too); a 0, a lone staff entry or text with spaces around it keeps its row."""
    import numpy as np

    from aftercare.logs.read import _blank_rows

    f = pd.DataFrame({"a": [None, " ", "x", np.nan, "\u3000", 0, None, None, pd.NaT],
                      "b": [None, "\t", None, pd.NaT, None, None, 0.0, "  y ", None],
                      "c": [np.nan, None, None, None, " \n", None, None, None, None]},
                     dtype=object)
    assert _blank_rows(f).tolist() == [True, True, False, True, True, False, False, False,
                                       True]
    recs = [call("c1", "C1", "粤B1"), {"call_id": "  ", "agent": "\u3000"},
            {"note": "客户说下周来"}]
    rows, _ = read(recs)
    assert rows["_row"].tolist() == [2, 4]
