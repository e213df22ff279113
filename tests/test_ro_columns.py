"""`due` and `churn` read only the RO columns their rules read (RULE_RO_COLUMNS): from a
warm cache they decode no others, and a cold run drops the rest after loading. Their
files must be the same as with every RO column."""

from __future__ import annotations

import importlib
import shutil
from pathlib import Path

import openpyxl
import pytest

import aftercare.load as loader
from aftercare.cli import run
from aftercare.rules.context import RULE_RO_COLUMNS

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data"
DATA_FILES = ("车辆档案.xlsx", "客户档案.xlsx", "维修工单_2021-2024.csv", "维修工单_2024-2026.xlsx")
COMMANDS = {
    "due": ["due", "--month", "2026-12", "--agents", "甲,乙"],
    "churn": ["churn"],
}


def _cells(folder: Path) -> dict:
    out = {}
    for path in sorted(folder.glob("*.xlsx")):
        wb = openpyxl.load_workbook(path, read_only=True)
        out[path.name] = {ws.title: [list(r) for r in ws.iter_rows(values_only=True)]
                          for ws in wb}
    return out


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("with_logs", [True, False], ids=["with-logs", "data-only"])
def test_rule_ro_columns_give_the_same_files_as_every_column(
        command, with_logs, tmp_path, monkeypatch):
    """The sample run three ways: with every RO column (the narrowing switched off), cold
    and warm. All write the same cells. With the data files alone the whole dataset
    comes from the cache, and the warm run loads exactly RULE_RO_COLUMNS; with the
    sample's contact logs, their effects (services done elsewhere added as ROs,
    no-shows) run on the narrowed ROs."""
    data = tmp_path / "data"
    if with_logs:
        shutil.copytree(SAMPLE, data, ignore=shutil.ignore_patterns("*.py", "*.md"))
    else:
        data.mkdir()
        for name in DATA_FILES:
            shutil.copy(SAMPLE / name, data / name)
    module = f"aftercare.commands.{command}"
    load = loader.load_folder
    loaded = []

    def spy(*a, **kw):
        ds = load(*a, **kw)
        loaded.append(set(ds.repair_orders.columns))
        return ds

    monkeypatch.setattr(f"{module}.load_folder", spy)
    built = []  # the RO columns the rules get
    build = importlib.import_module(module).build
    monkeypatch.setattr(f"{module}.build", lambda ds, *a, **kw: built.append(
        set(ds.repair_orders.columns)) or build(ds, *a, **kw))

    def once(name: str, *cache: str) -> dict:
        out = tmp_path / name
        code = run([*COMMANDS[command], "--data", str(data), "--out", str(out),
                    "--as-of", "2026-11-20", "--quiet", *cache])
        assert code == 0
        return _cells(out)

    with monkeypatch.context() as m:  # every column: the narrowing switched off
        m.setattr(f"{module}.load_folder", lambda *a, ro_columns=None, **kw: load(*a, **kw))
        m.setattr(loader.Dataset, "with_ro_columns", lambda self, columns: self)
        full = once("full", "--no-cache")
    cache = ["--cache-dir", str(tmp_path / "cache")]
    cold = once("cold", *cache)
    warm = once("warm", *cache)

    assert full and full == cold == warm
    cold_cols, warm_cols = loaded
    assert {"vin", "plate", "customer_name", "advisor"} <= cold_cols
    assert built[1:] == [set(RULE_RO_COLUMNS) & cold_cols] * 2  # cold drops the rest too
    if not with_logs:
        assert warm_cols == set(RULE_RO_COLUMNS) & cold_cols
