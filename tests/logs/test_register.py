"""The opt-out register (opt-outs.csv): one entry per refusing call, never twice, appended
as whole lines, read back however Excel saved it."""

from __future__ import annotations

from aftercare.logs import register as R
from tests.logs.helpers import call, read


def _opt_rows():
    rows, _ = read([
        call("a", "C1", "粤B1", mobile="13800000001"),
        call("a", "C1", "粤B2", mobile="13800000001", result="拒绝联系",
             attempt1_date="2026-10-09"),
        call("b", "C2", "粤B3", mobile="13800000002", attempt1_result="busy"),
    ])
    return rows


def test_one_entry_per_refusing_call_with_its_plates_and_date():
    """C1's two-car call said 拒绝联系 on its second row: one entry, both plates, that
    row's date and file; C2 did not refuse."""
    new = R.new_entries(_opt_rows(), R.read_register("/nonexistent"))
    assert new.to_dict("records") == [{"customer_id": "C1", "mobile": "13800000001",
                                       "plate": "粤B1;粤B2", "date": "2026-10-09",
                                       "source": "log-2026-10-甲.xlsx"}]


def test_append_writes_the_header_once_and_never_repeats_an_entry(tmp_path):
    """The first append creates the file with a header; an entry already there is not
    added again; earlier lines are never rewritten."""
    rows = _opt_rows()
    R.append_register(tmp_path, R.new_entries(rows, R.read_register(tmp_path)))
    first = (tmp_path / R.REGISTER_NAME).read_bytes()
    assert first.startswith("\ufeffcustomer_id,mobile,plate,date,source\r\n".encode())
    again = R.new_entries(rows, R.read_register(tmp_path))
    assert again.empty and R.append_register(tmp_path, again) is None
    other, _ = read([call("c", "C3", "粤B4", mobile="13800000003", result="opt_out")])
    R.append_register(tmp_path, R.new_entries(other, R.read_register(tmp_path)))
    data = (tmp_path / R.REGISTER_NAME).read_bytes()
    assert data.startswith(first) and data.count(b"\r\n") == 3
    assert R.read_register(tmp_path)["customer_id"].tolist() == ["C1", "C3"]


def test_a_register_saved_by_excel_is_still_read_and_appended_to(tmp_path):
    """GBK without a final line break (saved back from Excel): read, and the next entry
    starts on a line of its own."""
    path = tmp_path / R.REGISTER_NAME
    path.write_bytes("customer_id,mobile,plate,date,source\r\nC9,,粤B9,2026-01-01,手工".encode("gbk"))
    assert R.read_register(tmp_path)["plate"].tolist() == ["粤B9"]
    R.append_register(tmp_path, R.new_entries(_opt_rows(), R.read_register(tmp_path)))
    assert path.read_bytes().endswith(b"\r\nC1,13800000001," + "粤B1;粤B2".encode() +
                                      b",2026-10-09," + "log-2026-10-甲.xlsx".encode() + b"\r\n")
    assert R.read_register(tmp_path)["plate"].tolist() == ["粤B9", "粤B1;粤B2"]
