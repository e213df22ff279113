"""Hostile and broken input, kills and concurrency (issue: cron-grade operation)."""

import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aftercare.cli import run

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data"
ROS = "工单号,车牌号,车主,手机,进厂日期,维修类型,进厂里程\nR1,粤B1,张三,13800000000,2026-10-02,保养,5000\n"


def data_dir(tmp_path, name="data"):
    d = tmp_path / name
    d.mkdir()
    (d / "ros.csv").write_text(ROS, encoding="utf-8")
    return d


def cli(*args):
    return subprocess.run([sys.executable, "-m", "aftercare", *map(str, args)],
                          capture_output=True, text=True, cwd=ROOT)


BAD_FILES = {
    "empty.xlsx": b"",
    "image.xlsx": b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4,
    "random.xls": bytes((i * 37) % 256 for i in range(3000)),
    "locked.xlsx": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
                   + "EncryptionInfo".encode("utf-16-le") + b"\x00" * 1000,
    "mixed.csv": "工单号,车牌号\n".encode() + "R1,粤B1\n".encode("gbk"),
    "nul.csv": b"\xe5\xb7\xa5\xe5\x8d\x95\xe5\x8f\xb7,a\nR1,\x00\n",
    "broken.xlsx": b"PK\x03\x04" + b"\x00" * 100,
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_file_is_exit_2_naming_it_or_skipped(tmp_path, name):
    """Each unreadable file stops the run with exit 2 and a one-line message naming it and
    what to do; with --skip-bad-files it is listed and the rest proceeds."""
    data = data_dir(tmp_path)
    (data / name).write_bytes(BAD_FILES[name])
    res = cli("due", "--month", "2026-12", "--data", data, "--out", tmp_path / "out",
              "--as-of", "2026-11-20", "--quiet")
    assert res.returncode == 2
    assert name in res.stderr and "--skip-bad-files" in res.stderr
    assert "Traceback" not in res.stderr and res.stderr.count("\n") == 1
    assert not (tmp_path / "out" / "due-2026-12.xlsx").exists()
    res = cli("check", "--data", data, "--skip-bad-files", "--json")
    assert res.returncode == 0 and name in res.stdout


def test_formulas_and_external_links_are_not_evaluated(tmp_path):
    """Formula cells in an input are read as their cached values (none here), never
    evaluated or followed, and input text that looks like a formula is written as text."""
    data = tmp_path / "data"
    data.mkdir()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["工单号", "车牌号", "车主", "手机", "进厂日期", "维修类型", "结算金额"])
    ws.append(["R1", "粤B1", "=HYPERLINK(\"http://example.invalid\",\"x\")", "13800000000",
               "2026-10-02", "保养", "='[other.xlsx]Sheet1'!A1"])
    wb.save(data / "ros.xlsx")
    out = tmp_path / "out"
    assert run(["due", "--month", "2027-04", "--data", str(data), "--out", str(out),
                "--as-of", "2026-11-20", "--quiet"]) == 0
    with zipfile.ZipFile(out / "due-2027-04.xlsx") as z:
        assert not any(b"<f>" in z.read(n) for n in z.namelist() if n.endswith(".xml"))


def test_read_only_data_folder_is_never_written(tmp_path):
    """A read-only data folder works, and nothing in it changes."""
    data = data_dir(tmp_path)
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in data.iterdir()}
    os.chmod(data, 0o555)
    try:
        assert run(["due", "--month", "2026-12", "--data", str(data), "--out",
                    str(tmp_path / "out"), "--as-of", "2026-11-20", "--quiet"]) == 0
    finally:
        os.chmod(data, 0o755)
    after = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in data.iterdir()}
    assert after == before


def test_killed_run_leaves_whole_files_and_next_run_cleans_up(tmp_path):
    """A run killed at random moments leaves the previous workbook or a whole new one,
    never a broken one; the next run removes the killed run's temp files and the lock."""
    out = tmp_path / "out"
    args = [sys.executable, "-m", "aftercare", "due", "--month", "2026-12", "--data",
            str(SAMPLE), "--out", str(out), "--as-of", "2026-11-20", "--quiet", "--force"]
    assert subprocess.run(args, cwd=ROOT).returncode == 0
    target = out / "due-2026-12.xlsx"
    for delay in (0.8, 1.6, 2.2, 2.8):
        proc = subprocess.Popen(args, cwd=ROOT)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        openpyxl.load_workbook(target, read_only=True).close()  # whole, old or new
    assert subprocess.run(args, cwd=ROOT).returncode == 0
    assert not list(out.glob(".*.tmp"))
    assert not (out / ".aftercare.lock").exists()


def test_two_concurrent_runs(tmp_path):
    """Two runs started together on one output folder: one waits out with exit 3 or both
    finish one after the other; the workbook is whole either way."""
    out = tmp_path / "out"
    args = [sys.executable, "-m", "aftercare", "due", "--month", "2026-12", "--data",
            str(SAMPLE), "--out", str(out), "--as-of", "2026-11-20", "--quiet", "--force"]
    procs = [subprocess.Popen(args, cwd=ROOT, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    results = [(p.returncode, err) for p in procs for _, err in [p.communicate()]]
    codes = sorted(code for code, _ in results)
    assert codes in ([0, 0], [0, 3])
    if codes == [0, 3]:
        assert "pid" in [err for code, err in results if code == 3][0]
    openpyxl.load_workbook(out / "due-2026-12.xlsx", read_only=True).close()


HEADERS = ["工单号", "车牌号", "VIN", "进厂日期", "维修类型", "进厂里程", "手机", "客户名称",
           "交车日期", "品牌", "生日", "身份证号", "xyz", "合计", ""]
CELL = st.one_of(st.text(max_size=12), st.integers(-10**9, 10**12).map(str),
                 st.sampled_from(["2026-01-02", "1.2万", "13800000000", "138****1234", "首保",
                                  "=1+1", "-", "无", "20152-11-28", "45296"]))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(headers=st.lists(st.sampled_from(HEADERS), min_size=1, max_size=8),
       rows=st.lists(st.lists(CELL, min_size=0, max_size=9), max_size=6),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]),
       junk=st.binary(max_size=64))
def test_messy_folders_never_crash(tmp_path_factory, headers, rows, encoding, junk):
    """Any generated folder (random headers from the alias lists, random cells, random
    bytes under a spreadsheet name) gives exit 0 or 2 with one line, never a traceback."""
    data = tmp_path_factory.mktemp("messy")
    lines = [",".join(headers)] + [",".join(c.replace(",", " ").replace("\n", " ")
                                             .replace("\r", " ") for c in r) for r in rows]
    try:
        (data / "export.csv").write_bytes("\n".join(lines).encode(encoding))
    except UnicodeEncodeError:
        (data / "export.csv").write_bytes("\n".join(lines).encode("utf-8"))
    (data / "junk.xls").write_bytes(junk)
    for argv in (["check", "--data", str(data), "--quiet"],
                 ["due", "--month", "2026-12", "--data", str(data), "--out",
                  str(data.parent / (data.name + "-out")), "--as-of", "2026-11-20", "--quiet",
                  "--skip-bad-files"]):
        import contextlib
        import io

        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            code = run(argv)
        assert code in (0, 2), err.getvalue()
        assert "Traceback" not in err.getvalue()
        assert err.getvalue().count("\n") <= 1
    shutil.rmtree(data, ignore_errors=True)


def test_million_empty_formatted_rows(tmp_path):
    """A sheet whose formatting reaches row 1,048,576 (empty styled cells, as when a user
    formats whole columns) loads its few real rows (its speed is for bench/, not here)."""
    data = tmp_path / "data"
    data.mkdir()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["工单号", "车牌号", "进厂日期", "维修类型"])
    ws.append(["R1", "粤B1", "2026-10-02", "保养"])
    wb.save(data / "ros.xlsx")
    # add empty styled cells down to Excel's last row straight into the sheet XML
    src, dst = data / "ros.xlsx", data / "ros2.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            body = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                rows = "".join(f'<row r="{r}"><c r="Z{r}" s="0"/></row>'
                               for r in range(1000, 1048577, 997))
                rows += '<row r="1048576"><c r="Z1048576" s="0"/></row>'
                body = body.replace(b"</sheetData>", rows.encode() + b"</sheetData>")
                body = body.replace(b'<dimension ref="A1:D2"/>', b'<dimension ref="A1:Z1048576"/>')
            zout.writestr(item, body)
    src.unlink()
    res = cli("check", "--data", data, "--json")
    assert res.returncode == 0, res.stderr
    assert '"repair_orders": 1' in res.stdout
