"""The CLI: exit codes, one-line errors, --json, config init."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from aftercare.cli import run

ROOT = Path(__file__).resolve().parents[1]


def ros_folder(tmp_path, header="工单号,车牌号,进厂日期,维修类型"):
    data = tmp_path / "data"
    data.mkdir()
    (data / "ros.csv").write_text(f"{header}\nR1,粤B1,2025-01-02,保养\n", encoding="utf-8")
    return data


def test_check_json_reports_tables_and_counts(tmp_path, capsys):
    """check --json prints the files, tables and counts found, and exits 0."""
    data = ros_folder(tmp_path)
    code = run(["check", "--data", str(data), "--json", "--as-of", "2025-06-30"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert out["sheets"][0]["table"] == "repair_orders"
    assert out["counts"]["repair_orders"] == 1
    assert out["date_range"] == {"first": "2025-01-02", "last": "2025-01-02"}


def test_missing_column_is_exit_2_one_line(tmp_path, capsys):
    """A missing required column exits 2 with one line on stderr and no traceback."""
    data = ros_folder(tmp_path, header="工单号,车牌号,日期,维修类型")
    code = run(["check", "--data", str(data)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("Error: ")
    assert "open_date" in err and "[aliases.repair_orders] open_date" in err
    assert "Traceback" not in err


def test_debug_shows_traceback(tmp_path, capsys):
    """--debug adds the traceback to the same message."""
    data = ros_folder(tmp_path, header="工单号,车牌号,日期,维修类型")
    assert run(["check", "--data", str(data), "--debug"]) == 2
    assert "Traceback" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [
    ["check", "--lang", "fr"],
    ["check", "--as-of", "2026-13-01"],
    ["check", "--no-such-option"],
    ["nonsense"],
])
def test_usage_errors_exit_2(tmp_path, capsys, argv):
    """Bad option values and unknown commands are usage errors (exit 2)."""
    data = ros_folder(tmp_path)
    assert run(argv + (["--data", str(data)] if argv[0] == "check" else [])) == 2
    assert capsys.readouterr().err.startswith("Error: ")


def test_missing_data_folder_is_exit_2(tmp_path, capsys):
    """A data folder that does not exist is unusable input."""
    assert run(["check", "--data", str(tmp_path / "nope")]) == 2
    assert "nope" in capsys.readouterr().err


def test_bad_config_key_is_exit_2(tmp_path, capsys):
    """An unknown config key stops with exit 2 naming the key."""
    data = ros_folder(tmp_path)
    cfg = tmp_path / "c.toml"
    cfg.write_text("[calling]\nagent = ['a']\n", encoding="utf-8")
    assert run(["check", "--data", str(data), "--config", str(cfg)]) == 2
    assert "calling.agent" in capsys.readouterr().err


def test_config_init_writes_a_loadable_commented_file(tmp_path, capsys):
    """config init writes the commented defaults, refuses to overwrite without --force."""
    from aftercare.config import defaults, load_config

    path = tmp_path / "aftercare.toml"
    assert run(["config", "init", str(path)]) == 0
    assert "#" in path.read_text(encoding="utf-8")
    assert load_config(path) == defaults()
    assert run(["config", "init", str(path)]) == 2
    assert run(["config", "init", str(path), "--force"]) == 0


def test_every_command_documents_an_example():
    """Every command's help has an Example block and the exit codes are in --help."""
    out = subprocess.run([sys.executable, "-m", "aftercare", "--help"], capture_output=True,
                         text=True, cwd=ROOT)
    assert out.returncode == 0 and "Exit codes" in out.stdout
    for cmd in (["check"], ["config", "init"]):
        out = subprocess.run([sys.executable, "-m", "aftercare", *cmd, "--help"],
                             capture_output=True, text=True, cwd=ROOT)
        assert out.returncode == 0 and "Example" in out.stdout, cmd


def test_check_on_sample_data_finds_every_table(capsys):
    """The committed sample data loads: four data sheets, all four tables' rows, known
    dirt, and the two filled contact logs set aside."""
    code = run(["check", "--data", str(ROOT / "sample_data"), "--json", "--as-of", "2026-11-20"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert sorted(s["table"] for s in out["sheets"] if s["table"]) == [
        "contact_logs", "contact_logs", "customers", "repair_orders", "repair_orders",
        "vehicles"]
    assert out["counts"]["ro_duplicates_across_files"] > 0
    reasons = {r["reason"] for r in out["issues_by_reason"]}
    assert {"totals_row", "test_row", "phone_masked", "vin_check_digit",
            "service_type_unknown", "event_date_suspect"} <= reasons
    # no personal value in --json: phone examples are masked
    for r in out["issues_by_reason"]:
        if r["field"] == "mobile":
            assert all("*" in e["value"] for e in r["examples"] if e["value"])
