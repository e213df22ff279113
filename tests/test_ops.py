"""Cron-grade operation: the output lock, --log-file and --max-issue-rate."""

import datetime as dt
import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

from aftercare.cli import run
from aftercare.lock import LOCK_NAME

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data"


def small_data(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    good = "".join(f"R{i},粤B{i},张三,138000000{i:02d},2026-10-02,保养,5000\n" for i in range(3, 11))
    (data / "ros.csv").write_text("工单号,车牌号,车主,手机,进厂日期,维修类型,进厂里程\n"
                                  "R1,粤B1,张三,13800000000,2026-10-02,保养,5000\n"
                                  "R2,粤B2,李四,abc,2026-10-03,保养,xyz\n" + good,
                                  encoding="utf-8")
    return data


def due_args(data, out, *extra):
    return ["due", "--month", "2026-12", "--data", str(data), "--out", str(out),
            "--as-of", "2026-11-20", "--quiet", *extra]


def test_second_run_exits_3_naming_the_holder(tmp_path, capsys):
    """A lock held by a live process stops the run at once with exit 3, naming its pid and
    start time, and nothing is written."""
    out = tmp_path / "out"
    out.mkdir()
    holder = {"pid": os.getpid(), "host": socket.gethostname(), "command": "due",
              "started": "2026-11-20T06:20:00"}
    (out / LOCK_NAME).write_text(json.dumps(holder), encoding="utf-8")
    assert run(due_args(small_data(tmp_path), out)) == 3
    err = capsys.readouterr().err
    assert f"pid {os.getpid()}" in err and "2026-11-20T06:20:00" in err
    assert sorted(p.name for p in out.iterdir()) == [LOCK_NAME]


def test_stale_lock_is_taken_over_and_reported(tmp_path, capsys):
    """A lock left by a process that no longer runs is taken over, reported, and released."""
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    out = tmp_path / "out"
    out.mkdir()
    (out / LOCK_NAME).write_text(json.dumps({"pid": dead.pid, "host": socket.gethostname(),
                                             "started": "2026-11-01T00:00:00"}), encoding="utf-8")
    assert run(due_args(small_data(tmp_path), out)) == 0
    err = capsys.readouterr().err
    assert "stale lock" in err and str(dead.pid) in err
    assert not (out / LOCK_NAME).exists()
    assert (out / "due-2026-12.xlsx").exists()


def test_log_file_appends_one_json_line_per_run(tmp_path):
    """--log-file gets one JSON line per run with command, as_of, counts and exit code —
    also for a failed run — and no phone numbers or names."""
    data = small_data(tmp_path)
    log = tmp_path / "runs.jsonl"
    assert run(due_args(data, tmp_path / "out", "--log-file", str(log))) == 0
    assert run(["due", "--month", "2026-13", "--data", str(data), "--log-file", str(log)]) == 2
    lines = log.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first["command"] == "due" and first["exit_code"] == 0
    assert first["as_of"] == "2026-11-20" and "data_issues" in first
    dt.datetime.fromisoformat(first["time"])
    assert second["exit_code"] == 2 and second["error"] == "UsageError"
    text = log.read_text(encoding="utf-8")
    assert not re.search(r"1[3-9]\d{9}", text) and "张三" not in text


def test_max_issue_rate(tmp_path, capsys):
    """Data issues above --max-issue-rate make a finished run exit 1; files are written.
    Two issues (a bad phone, a bad mileage) in ten rows is a rate of 0.2."""
    data = small_data(tmp_path)
    assert run(due_args(data, tmp_path / "a", "--max-issue-rate", "0.25")) == 0
    assert run(due_args(data, tmp_path / "b", "--max-issue-rate", "0.15")) == 1
    assert "max-issue-rate" in capsys.readouterr().err
    assert (tmp_path / "b" / "due-2026-12.xlsx").exists()


def test_unwritable_output_is_exit_1(tmp_path, capsys):
    """An output path that cannot be a folder (a file is in the way) fails with exit 1."""
    blocker = tmp_path / "out"
    blocker.write_text("not a folder", encoding="utf-8")
    assert run(due_args(small_data(tmp_path), blocker)) == 1
    assert "Error:" in capsys.readouterr().err


def _console(tmp_path, *args):
    """The console script's main() in a fresh process, with an exit handler that would
    print if the interpreter's teardown ran."""
    code = ("import atexit, sys; atexit.register(lambda: print('TEARDOWN', flush=True)); "
            "from aftercare.cli import main; sys.argv = ['aftercare', *sys.argv[1:]]; main()")
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True,
                          text=True, cwd=tmp_path, timeout=300)


def test_console_script_skips_teardown_but_keeps_output_and_exit_code(tmp_path):
    """main() leaves with os._exit after run(): no teardown (0.3 s of a warm store run),
    yet the whole --json summary is on stdout, the files are written, and a failure's
    exit code and message come through."""
    data, out = small_data(tmp_path), tmp_path / "out"
    ok = _console(tmp_path, *due_args(data, out, "--json"))
    assert ok.returncode == 0 and "TEARDOWN" not in ok.stdout
    summary = json.loads(ok.stdout)
    assert summary["files"] and all(Path(f).stat().st_size > 0 for f in summary["files"])
    bad = _console(tmp_path, "due", "--data", str(tmp_path / "missing"), "--month", "2026-12",
                   "--as-of", "2026-11-20")
    assert bad.returncode == 2 and "数据文件夹不存在" in bad.stderr


def test_console_script_under_a_profiler_exits_normally(tmp_path):
    """Under cProfile (bench/README.md's way to profile a run) main() exits as usual, so
    the profiler writes its results."""
    prof = tmp_path / "run.prof"
    code = ("import cProfile, sys; from aftercare.cli import main; "
            "sys.argv = ['aftercare', '--help']; "
            f"cProfile.run('main()', {str(prof)!r})")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0 and "Usage" in done.stdout
    assert prof.stat().st_size > 0
