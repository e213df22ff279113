"""Parquet files, and CSV files whose records are each one line, are loaded from typed
columns (``RawSheet.typed``: pyarrow's, Arrow text), not cell by cell through the object
grid. The result must be the same as through the grid (and for CSV, as pandas' C reader
gives): the same frames and the same data issues, row numbers included."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from aftercare.config import load_config
from aftercare.load import load_folder
from aftercare.load import readers
from aftercare.load.readers import RawSheet, read_file

ROOT = Path(__file__).resolve().parents[2]


def _through_grid(monkeypatch):
    """Make the loader take every sheet's rows from the object grid, as before, and read
    every CSV with pandas' C reader."""
    monkeypatch.setattr(readers, "_read_csv_typed", lambda *a: None)

    def rows_below(self, header_row):
        grid = self.grid
        return grid.loc[grid.index > header_row]

    monkeypatch.setattr(RawSheet, "rows_below", rows_below)


def _assert_same(typed, grid):
    for name in ("vehicles", "customers", "repair_orders"):
        pd.testing.assert_frame_equal(getattr(typed, name), getattr(grid, name), obj=name)
    pd.testing.assert_frame_equal(typed.issues.frame(), grid.issues.frame(), obj="issues")
    assert [(s.table, s.rows, s.header_row, s.columns, s.headers) for s in typed.sheets] == \
        [(s.table, s.rows, s.header_row, s.columns, s.headers) for s in grid.sheets]


def _load(folder):
    config = load_config(None)
    config["limits"]["jobs"] = 1  # in this process: the monkeypatches and `used` apply
    return load_folder(folder, config, cache_dir=None)


@pytest.mark.parametrize("fmt", ["parquet", "csv", "xlsx"])
def test_generated_data_loads_as_through_the_grid(tmp_path, monkeypatch, fmt):
    """The benchmark generator's layouts give the same dataset either way: Parquet
    (typed dates, float mileage and money, dirty mileage text, missing values), CSV (one
    file per year, quoted fields), and a store's (xlsx, and a GBK CSV with title rows
    above the header and a totals row)."""
    out = tmp_path / "gen"
    subprocess.run([sys.executable, str(ROOT / "bench" / "generate.py"), "--size", "3000",
                    "--seed", "3", "--out", str(out), "--formats", fmt],
                   check=True, capture_output=True)
    used = []
    real = readers._read_csv_typed
    monkeypatch.setattr(readers, "_read_csv_typed",
                        lambda *a: used.append(r := real(*a)) or r)
    typed = _load(out)
    assert len(typed.repair_orders) > 2000 and len(typed.vehicles) > 100
    if fmt != "parquet":
        assert used and all(t is not None for t in used)  # the typed reader read them
    _through_grid(monkeypatch)
    _assert_same(typed, _load(out))


def test_odd_parquet_loads_as_through_the_grid(tmp_path, monkeypatch):
    """Edge cells: '' and None text, a timezone-aware timestamp, a date column, text in
    a date and a mileage column, a bad VIN, an empty row and a totals row at the end."""
    ro = pd.DataFrame({
        "工单号": ["RO1", "RO2", "", "RO4", None, "合计"],
        "VIN": ["LSVAA4182E2123456", "BAD", "LSVAA4182E2123456", "LSVAA4182E2123457",
                None, None],
        "车牌号": ["粤A12345", "", "粤A12345", "粤B23456", None, None],
        "进厂日期": pd.to_datetime(["2024-01-05 00:00", "2024-02-01 10:30", None, "2023-05-06 00:00",
                                  None, None]),
        "结算日期": pd.Series(["2024-01-06", "2024/2/1", "不详", "", None, None], dtype=object),
        "结算时间": pd.to_datetime(["2024-01-06 17:30", None, None, "2023-05-06 09:00",
                                  None, None]).tz_localize("Asia/Shanghai"),
        "进厂里程": pd.Series([12345.0, np.nan, 800.0, 9000.0, np.nan, np.nan]),
        "维修类型": ["保养", "首保", "保养", "一般维修", None, None],
        "金额": pd.Series(["100", "abc", "", "2,000.50", None, "2100.5"], dtype=object),
    })
    folder = tmp_path / "data"
    folder.mkdir()
    ro.to_parquet(folder / "维修工单.parquet", index=False)
    vehicles = pd.DataFrame({
        "VIN": ["LSVAA4182E2123456", "LSVAA4182E2123457", ""],
        "车牌号": ["粤A12345", "粤B23456", "粤C1"],
        "销售日期": pd.to_datetime(["2022-03-01", None, "2021-01-01"]).date,
        "品牌": ["大众", "大众", None],
        "客户名称": ["张三", "李四", "王五"],
        "手机": ["13800138000", "1390013900", None],
    })
    vehicles.to_parquet(folder / "车辆档案.parquet", index=False)
    typed = _load(folder)
    assert len(typed.repair_orders) >= 2
    assert len(typed.issues.frame())  # the odd cells were reported
    _through_grid(monkeypatch)
    _assert_same(typed, _load(folder))


def test_typed_parquet_sheet(tmp_path):
    """What a Parquet sheet holds typed: text as ``str`` with '' missing, naive
    timestamps as datetime64, other columns as the grid's objects; the grid is built
    only when asked for, and ``head`` builds only the first rows."""
    path = tmp_path / "ro.parquet"
    pd.DataFrame({
        "工单号": ["RO1", "", None],
        "进厂日期": pd.to_datetime(["2024-01-05", None, "2024-01-07"]),
        "里程": [1.0, np.nan, 3.0],
    }).to_parquet(path)
    (raw,) = read_file(path)
    assert raw._grid is None
    assert list(raw.typed.index) == [2, 3, 4]
    assert str(raw.typed[0].dtype) == "str" and raw.typed[0].isna().tolist() == [False, True, True]
    assert raw.typed[1].dtype.kind == "M"
    assert raw.typed[2].dtype == object and raw.typed[2].tolist() == [1.0, None, 3.0]
    head = raw.head(2)
    assert head.to_numpy().tolist() == [["工单号", "进厂日期", "里程"],
                                        ["RO1", pd.Timestamp("2024-01-05").to_pydatetime(), 1.0]]
    assert raw._grid is None  # head did not build the whole grid
    assert raw.rows_below(1).equals(raw.typed)
    assert raw.grid.shape == (4, 3)
    assert len(raw.rows_below(2)) == 2  # a header lower down: the grid's rows below it


def test_csv_typed_puts_short_rows_back(tmp_path):
    """Title rows above the header and a totals row (fewer fields) are back at their line
    numbers; an empty line is an empty row; quoted delimiters stay in their field."""
    path = tmp_path / "ro.csv"
    path.write_bytes("维修工单导出\n导出日期: 2024-05-01\n工单号,VIN,金额\n"
                     'RO1,"LSV,A",100\n\nRO2,,""\n合计,,100\n总计\n'.encode("gbk"))
    (raw,) = read_file(path)
    assert raw.typed is not None and raw._grid is None
    assert list(raw.typed.index) == list(range(1, 9))
    assert raw.typed.to_numpy(dtype=object, na_value=None).tolist() == [
        ["维修工单导出", None, None], ["导出日期: 2024-05-01", None, None],
        ["工单号", "VIN", "金额"], ["RO1", "LSV,A", "100"], [None, None, None],
        ["RO2", None, None], ["合计", None, "100"], ["总计", None, None]]
    assert len(raw.rows_below(3)) == 5


@pytest.mark.parametrize("text", [
    'a,b\n"1","x\ny"\n3,4\n',  # a line break inside quotes: a record over two lines
    "a,b\n1,2,3\n4,5\n6,7\n",  # a row wider than most
    'a,b\n"1\n',  # an open quote
])
def test_csv_typed_leaves_odd_files_to_pandas(tmp_path, text):
    """Files the typed reader cannot number line by line are read by pandas' reader."""
    path = tmp_path / "odd.csv"
    path.write_text(text, encoding="utf-8")
    (raw,) = read_file(path)
    assert raw.typed is None and raw.grid is not None
