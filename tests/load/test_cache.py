"""The parse cache: the same Dataset with and without it, only changed files parsed
again, damaged entries rebuilt, never inside the data folder, exact Parquet round trips.

Times are never asserted here (bench/ measures them)."""

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("pyarrow")

import aftercare.load as loader  # noqa: E402
from aftercare.cli import run  # noqa: E402
from aftercare.config import defaults, merge  # noqa: E402
from aftercare import frames  # noqa: E402
from aftercare.load import cache, load_folder  # noqa: E402
from tests.load.files import csv, xlsx  # noqa: E402

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"
GOOD_VIN = "1M8GDM9AXKP042788"
BAD_VIN = "1M8GDM9AXKP042789"  # wrong check digit


# ----------------------------------------------------------------------------- helpers
def assert_same_frame(a: pd.DataFrame, b: pd.DataFrame) -> None:
    """assert_frame_equal, and object columns hold values of the same types (it takes
    None for NaN and 1 for 1.0)."""
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    for col in a.columns:
        if a[col].dtype == object:
            assert list(map(type, a[col])) == list(map(type, b[col])), col


def assert_same_dataset(a, b) -> None:
    for name in ("vehicles", "customers", "repair_orders"):
        assert_same_frame(getattr(a, name), getattr(b, name))
    assert_same_frame(a.issues.frame(), b.issues.frame())
    assert a.sheets == b.sheets
    assert (a.input_rows, a.ro_duplicates, a.skipped_files, a.bad_files) == \
        (b.input_rows, b.ro_duplicates, b.skipped_files, b.bad_files)
    assert [(s.raw.file, s.raw.sheet) for s in a.log_sheets] == \
        [(s.raw.file, s.raw.sheet) for s in b.log_sheets]


@pytest.fixture
def reads(monkeypatch):
    """The names of the files the loader reads (parses), in order."""
    seen = []
    real = loader.read_file

    def counting(path, **kw):
        seen.append(Path(path).name)
        return real(path, **kw)

    monkeypatch.setattr(loader, "read_file", counting)
    monkeypatch.setattr(loader, "_jobs", lambda config, misses: 1)  # reads seen here
    return seen


def entries(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if not p.name.startswith(".")) \
        if root.exists() else []


def set_mtime(path: Path, day: int) -> None:
    t = dt.datetime(2026, 11, day, 8, 0).timestamp()
    os.utime(path, (t, t))


def handmade(folder: Path) -> Path:
    """Vehicles, customers, ROs in two files (one RO and one bad VIN in both), RO lines,
    and the dirt the loader reports: test rows, rows without a key, placeholder and
    totals rows, bad dates, VINs and phones, mixed cell types in one column."""
    folder.mkdir()
    xlsx(folder / "车辆档案.xlsx", [
        ["车辆档案导出"],
        ["VIN", "车牌号", "客户编号", "客户名称", "手机", "品牌", "车型", "交车日期", "身份证号",
         "使用性质", "车辆状态"],
        ["必填", "必填", None, None, None, None, None, None, None, None, None],
        [GOOD_VIN, "粤B12345", "C1", "张三", 13800138000, "丰田", "卡罗拉",
         dt.datetime(2021, 3, 5), "11010519491231002X", "非营运", "正常"],
        [BAD_VIN, "粤b-2345", "C2", "李四", "138-0013-8001", "本田", "雅阁", "2021/04/05",
         "123", "营运", "已售"],
        ["LSVAB4188N2000001", "粤B3", "C3", "测试", "13800138002", "大众", None, 44000, None,
         None, None],
        [None, None, "C4", "王五", "13800138003", "比亚迪", "汉", "abc", None, None, "报废"],
        [None, "粤B5", None, "赵六", "138****8004", "Toyota", "RAV4", 45000.5, None, None,
         None],
    ])
    csv(folder / "车辆档案_旧.csv", [
        "VIN,车牌号,客户编号,品牌,交车日期",
        f"{GOOD_VIN},粤B12345,C1,丰田,2021-03-05",
        "LSVAB4188N2000002,粤B6,C6,本田,2019-07-01",
    ])
    csv(folder / "客户档案.csv", [
        "客户编号,客户名称,手机,地址,性别,免打扰",
        "C1,张三,13800138000,广州,男,否",
        "C2,李四,13800138001;020-12345678,,女,是",
        "C1,张三,13800138009,深圳,男,",
        "C9,测试,13800138010,,,",
        ",,,,,也许",
    ])
    xlsx(folder / "维修工单_新.xlsx", [
        ["工单号", "VIN", "车牌号", "进厂日期", "进厂里程", "维修类型", "结算金额", "是否作废",
         "工单状态", "是否预约", "结算日期"],
        ["R1", GOOD_VIN, "粤B12345", dt.datetime(2026, 1, 5), "1.2万", "保养", 300, False,
         "已结算", "是", dt.datetime(2026, 1, 5, 17, 30)],
        ["R1", GOOD_VIN, "粤B12345", dt.datetime(2026, 1, 5), 12000, "机修", 150.5, None,
         "已结算", None, None],
        ["R2", BAD_VIN, "粤B2345", "2026/02/01", "18,000", "定期保养", "1,234.50", None,
         None, "否", "2026-02-01"],
        ["R3", BAD_VIN, None, 46000, 20000, "钣喷", -1.0, True, None, None, None],
        ["R4", "LSVAB4188N2000002", "粤B6", "2026-03-01", "abc", "洗车", None, "是",
         "已作废", None, None],
        ["R5", None, "粤B7", "2026-03-02", 5000, "神秘项目", 0, 1, None, None, None],
        ["R6", None, None, "2026-03-03", 100, "保养", 10, None, None, None, None],
        [None, GOOD_VIN, None, "2026-03-04", 100, "保养", 10, None, None, None, None],
        ["R7", GOOD_VIN, None, None, 100, "保养", 10, None, None, None, None],
        ["R8", "TEST", "测试", "2026-03-05", 100, "保养", 10, None, None, None, None],
        ["合计", None, None, None, None, None, 1700, None, None, None, None],
    ])
    csv(folder / "维修工单_旧.csv", [
        "维修工单明细表",
        "工单号,VIN,车牌号,进厂日期,进厂里程,维修类型,结算金额",
        f"R2,{BAD_VIN},粤B2345,2026-02-01,18000,定期保养,1234.5",
        f"R0,{BAD_VIN},粤B2345,2025-08-01,9000,首保,0",
        "R9,LSVAB4188N2000002,粤B6,2024-05-06,30000,,",
        "合计,,,,,,1234.5",
    ], encoding="gbk")
    csv(folder / "工单明细.csv", [
        "工单号,项目名称,工段,费用",
        "R9,更换机油,保养,200",
        "R9,四轮定位,机修,100",
    ])
    for i, path in enumerate(sorted(folder.iterdir())):
        set_mtime(path, 1 + i)
    set_mtime(folder / "维修工单_旧.csv", 20)  # the older export of R2 was saved last
    return folder


# ------------------------------------------------------------------ same with or without
@pytest.mark.parametrize("which", ["sample", "handmade"])
def test_same_dataset_without_cache_cold_and_warm(tmp_path, which, reads):
    """load_folder gives the same frames and the same issues in the same order without a
    cache, filling it (cold) and from it (warm); warm reads no data file again."""
    folder = SAMPLE if which == "sample" else handmade(tmp_path / "data")
    root = tmp_path / "cache"
    cfg = defaults()
    plain = load_folder(folder, cfg, cache_dir=None)
    assert not root.exists()
    reads.clear()
    cold = load_folder(folder, cfg, cache_dir=root)
    parsed_cold = list(reads)
    reads.clear()
    warm = load_folder(folder, cfg, cache_dir=root)
    assert_same_dataset(plain, cold)
    assert_same_dataset(plain, warm)
    # logs (log-*, a contact-log sheet) are read every time; data files only when cold
    logs = {s.raw.file.name for s in plain.log_sheets}
    # one entry per data file, and one for the whole dataset when there are no logs
    assert len(entries(root)) == len(set(parsed_cold) - logs) + (not logs) > 1
    assert sorted(reads) == sorted(logs)
    if which == "handmade":
        issues = plain.issues.frame()
        assert {"test_row", "no_vehicle_key", "placeholder_row", "totals_row",
                "duplicate_vehicle", "duplicate_customer", "deleted_ro",
                "vin_check_digit"} <= set(issues["reason"])
        # a bad VIN in both RO files is reported once
        vin = issues[(issues["value"] == BAD_VIN) & issues["file"].str.startswith("维修工单")]
        assert list(vin["file"]) == ["维修工单_新.xlsx"]
        assert plain.ro_duplicates == 1
        assert plain.repair_orders["deleted_raw"].map(type).nunique() > 1  # mixed cells


def test_text_stays_in_arrow_from_the_parse_to_the_cache_and_back(tmp_path):
    """The parse's text columns are Arrow-backed str (frames.to_arrow_text), so the cache
    stores them as Arrow strings ("string": no Python str made to write or to read them
    back), and a warm run gets the same dtypes. Columns of mixed cells stay objects."""
    folder = handmade(tmp_path / "data")
    root = tmp_path / "cache"
    cold = load_folder(folder, defaults(), cache_dir=root)
    warm = load_folder(folder, defaults(), cache_dir=root)
    for ds in (cold, warm):
        for table, col in (("vehicles", "vin"), ("vehicles", "plate"),
                           ("customers", "customer_name"), ("repair_orders", "vin"),
                           ("repair_orders", "service_type"), ("repair_orders", "advisor")):
            assert getattr(ds, table)[col].dtype == frames.TEXT, (table, col)
        assert ds.repair_orders["deleted_raw"].dtype == object  # mixed cells
    kinds = {}
    for entry in entries(root):
        meta = json.loads((root / entry / "manifest.json").read_text(encoding="utf-8"))
        for fname, spec in meta["frames"].items():
            if fname.startswith("table-") or fname in ("vehicles", "customers",
                                                      "repair_orders"):
                for col, col_spec in spec["columns"]:
                    kinds.setdefault(col_spec["kind"], set()).add(col)
    assert {"vin", "plate", "customer_name", "advisor"} <= kinds["string"]
    assert "str" not in kinds  # no text column was written from Python objects
    assert "deleted_raw" in kinds["mixed"]


def test_unchanged_folder_skips_the_step_across_files(tmp_path, monkeypatch):
    """With every file cached and no logs in the folder, a warm run takes the whole
    dataset (dedupe, kinds, links) from the cache: no file read, no join done; the same
    result. A changed file makes it join again (the dataset entry is replaced)."""
    folder = handmade(tmp_path / "data")
    root = tmp_path / "cache"
    cfg = defaults()
    plain = load_folder(folder, cfg, cache_dir=None)
    load_folder(folder, cfg, cache_dir=root)
    n = len(entries(root))

    def boom(*a, **k):
        raise AssertionError("read or joined again")

    with monkeypatch.context() as m:
        m.setattr(loader, "_combine", boom)
        m.setattr(loader, "read_file", boom)
        assert_same_dataset(plain, load_folder(folder, cfg, cache_dir=root))
    old = folder / "维修工单_旧.csv"
    old.write_bytes(old.read_bytes().replace(b"R9,", b"R10,"))
    set_mtime(old, 21)
    warm = load_folder(folder, cfg, cache_dir=root)
    assert "R10" in set(warm.repair_orders["ro_no"])
    assert_same_dataset(load_folder(folder, cfg, cache_dir=None), warm)
    assert len(entries(root)) == n  # the file's and the dataset's old entries replaced


@pytest.mark.parametrize("jobs", [1, 2, 3])
def test_parallel_parse_gives_the_same_dataset(tmp_path, jobs):
    """Files parsed in worker processes ([limits] jobs) give the same frames, issues and
    sheets as one process, with and without a cache; a bad file's error reaches the
    caller whole (its path and reason) or is skipped with --skip-bad-files."""
    folder = handmade(tmp_path / "data")
    cfg = merge(defaults(), {"limits": {"jobs": jobs}})
    serial = load_folder(folder, merge(cfg, {"limits": {"jobs": 1}}), cache_dir=None)
    assert loader._jobs(cfg, 6) == min(jobs, 6)
    assert_same_dataset(serial, load_folder(folder, cfg, cache_dir=None))
    root = tmp_path / "cache"
    assert_same_dataset(serial, load_folder(folder, cfg, cache_dir=root))
    set_mtime(folder / "客户档案.csv", 30)  # one miss, the rest from the cache
    serial = load_folder(folder, merge(cfg, {"limits": {"jobs": 1}}), cache_dir=None)
    assert_same_dataset(serial, load_folder(folder, cfg, cache_dir=root))
    (folder / "坏文件.xlsx").write_bytes(b"PK\x03\x04 not a zip")
    with pytest.raises(loader.BadFileError) as info:
        load_folder(folder, cfg, cache_dir=None)
    assert info.value.path.endswith("坏文件.xlsx") and info.value.reason
    skipped = load_folder(folder, cfg, cache_dir=None, skip_bad_files=True)
    assert [f for f, _ in skipped.bad_files] == ["坏文件.xlsx"]
    assert_same_frame(serial.repair_orders, skipped.repair_orders)


def test_changed_file_is_parsed_again_alone(tmp_path, reads):
    """Editing one export re-parses that file only; the result is that of a fresh load."""
    folder = handmade(tmp_path / "data")
    root = tmp_path / "cache"
    cfg = defaults()
    load_folder(folder, cfg, cache_dir=root)
    before = len(entries(root))
    old = folder / "维修工单_旧.csv"
    old.write_bytes(old.read_bytes().replace(b"R9,", b"R10,"))
    set_mtime(old, 21)
    reads.clear()
    warm = load_folder(folder, cfg, cache_dir=root)
    assert reads == ["维修工单_旧.csv"]
    assert_same_dataset(load_folder(folder, cfg, cache_dir=None), warm)
    assert "R10" in set(warm.repair_orders["ro_no"])
    assert len(entries(root)) == before  # the file's old entry was replaced


def test_same_bytes_new_mtime_or_other_config_is_a_miss(tmp_path, reads):
    """The key holds the mtime and the config that affects parsing: touching a file or
    changing dayfirst parses again; an unrelated setting does not."""
    folder = handmade(tmp_path / "data")
    root = tmp_path / "cache"
    cfg = defaults()
    load_folder(folder, cfg, cache_dir=root)
    set_mtime(folder / "客户档案.csv", 25)
    reads.clear()
    load_folder(folder, cfg, cache_dir=root)
    assert reads == ["客户档案.csv"]
    reads.clear()
    load_folder(folder, merge(cfg, {"kpi": {"base_months": 6}}), cache_dir=root)
    assert reads == []
    reads.clear()
    dayfirst = merge(cfg, {"data": {"dayfirst": True}})
    ds = load_folder(folder, dayfirst, cache_dir=root)
    assert len(reads) == 6
    assert_same_dataset(load_folder(folder, dayfirst, cache_dir=None), ds)


def test_damaged_entries_are_rebuilt(tmp_path, reads):
    """A truncated Parquet file or a broken manifest is a miss: parsed again, the entry
    rebuilt, the same result; never an error."""
    folder = handmade(tmp_path / "data")
    root = tmp_path / "cache"
    cfg = defaults()
    plain = load_folder(folder, cfg, cache_dir=None)
    load_folder(folder, cfg, cache_dir=root)
    found = entries(root)
    per_file = [e for e in found if list(e.glob("table-*.parquet"))]
    first, second = per_file[0], per_file[1]
    parquet = next(first.glob("table-*.parquet"))
    parquet.write_bytes(parquet.read_bytes()[:100])
    (second / "manifest.json").write_text("{not json", encoding="utf-8")
    (whole,) = [e for e in found if (e / "repair_orders.parquet").exists()]
    (whole / "repair_orders.parquet").write_bytes(b"PAR1")  # the dataset's entry too
    reads.clear()
    assert_same_dataset(plain, load_folder(folder, cfg, cache_dir=root))
    assert len(reads) == 2
    reads.clear()
    assert_same_dataset(plain, load_folder(folder, cfg, cache_dir=root))
    assert reads == []


def test_no_cache_inside_the_data_folder(tmp_path, reads):
    """A cache directory inside the data folder is not used: nothing is written there."""
    folder = handmade(tmp_path / "data")
    load_folder(folder, defaults(), cache_dir=folder / "cache")
    load_folder(folder, defaults(), cache_dir=folder)
    assert not (folder / "cache").exists()
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        p.name for p in handmade(tmp_path / "again").iterdir())


def test_default_cache_dir_is_set_by_the_cli_only(tmp_path):
    """load_folder without cache_dir uses cache.set_default's directory (None: none)."""
    folder = handmade(tmp_path / "data")
    root = tmp_path / "cache"
    load_folder(folder, defaults())
    assert not root.exists()
    cache.set_default(root)
    load_folder(folder, defaults())
    assert entries(root)
    shutil.rmtree(root)
    load_folder(folder, defaults(), cache_dir=None)  # explicit None: no cache
    assert not root.exists()


def test_default_dir_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.default_dir() == tmp_path / "xdg" / "aftercare"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/path")  # ignored, as the spec says
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache.default_dir() == tmp_path / "home" / ".cache" / "aftercare"


# ------------------------------------------------------------------------- the store
def test_writes_are_atomic_and_old_entries_pruned(tmp_path):
    """No temporary directory is left behind; an entry unused for 30 days, an older
    version of the same file and a killed run's old temp dir go when an entry is written."""
    folder = handmade(tmp_path / "data")
    root = tmp_path / "cache"
    load_folder(folder, defaults(), cache_dir=root)
    assert not [p for p in root.iterdir() if p.name.startswith(".")]
    assert oct(root.stat().st_mode & 0o777) == "0o700"
    stale = root / ("0123456789ab-" + "f" * 40)
    stale.mkdir()
    other = root / "not-ours"  # a --cache-dir may hold other things: never touched
    other.mkdir()
    (stale / "manifest.json").write_text("{}", encoding="utf-8")
    month_ago = time.time() - 31 * 86400
    os.utime(stale / "manifest.json", (month_ago, month_ago))
    killed = root / f".tmp-{stale.name}-123-0123abcd"
    killed.mkdir()
    os.utime(killed, (month_ago, month_ago))
    fresh = root / f".tmp-{stale.name}-124-0123abcd"
    fresh.mkdir()  # perhaps a run writing right now: kept
    os.utime(other, (month_ago, month_ago))
    set_mtime(folder / "车辆档案_旧.csv", 22)
    kept = len(entries(root))
    load_folder(folder, defaults(), cache_dir=root)
    assert not stale.exists() and not killed.exists() and fresh.exists() and other.exists()
    assert len(entries(root)) == kept - 1  # the stale entry; the file's old one replaced


def test_unwritable_cache_is_no_error(tmp_path):
    """A cache path that cannot be a directory: the run goes on without a cache."""
    folder = handmade(tmp_path / "data")
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    ds = load_folder(folder, defaults(), cache_dir=blocker / "cache")
    assert_same_dataset(load_folder(folder, defaults(), cache_dir=None), ds)


def test_a_chunk_that_fails_to_write_stores_nothing(tmp_path, monkeypatch):
    """Chunks are encoded in a thread while the next is converted: a failure in one of
    them (disk full) reaches put(), which stores nothing and leaves no temporary files."""
    import pyarrow.parquet as pq

    monkeypatch.setattr(cache, "WRITE_CHUNK_ROWS", 2)
    real, calls = pq.ParquetWriter.write_table, []

    def failing(self, table, *a, **kw):
        calls.append(len(table))
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real(self, table, *a, **kw)

    monkeypatch.setattr(pq.ParquetWriter, "write_table", failing)
    frame = pd.DataFrame({"a": ["x", "y", None, "z", "w"], "b": np.arange(5.0)})
    root = tmp_path / "cache"
    assert cache.put(root, "a" * 12 + "-" + "b" * 40, {"t": frame}, {}) is False
    assert list(root.iterdir()) == [] and calls[:2] == [2, 2]


@pytest.mark.parametrize("chunk", [500_000, 4, 1])
def test_codec_round_trips_every_kind_of_column(tmp_path, monkeypatch, chunk):
    """Object columns with mixed values (None vs NaN, 1 vs 1.0 vs True, dates, times),
    str/boolean/Int64/datetime64/timedelta64 columns, gaps in the index, empty frames;
    written in one piece or a few rows at a time (chunks whose columns are all missing
    included)."""
    monkeypatch.setattr(cache, "WRITE_CHUNK_ROWS", chunk)
    values = [None, np.nan, "文字", "", 1, 1.0, 1.5, True, False, 2**70,
              dt.datetime(2024, 1, 5, 9, 30, 1, 123), dt.date(2024, 1, 5), dt.time(9, 30),
              dt.timedelta(days=1, seconds=3), pd.Timestamp("2024-01-05 00:00:00.000000001"),
              pd.NaT, float("inf"), np.float64(2.5), np.int64(7), np.bool_(True), pd.NA,
              pd.Timedelta(5)]
    n = len(values)
    frame = pd.DataFrame({
        "mixed": pd.Series(values, dtype=object),
        "text": pd.Series(["a", None] * (n // 2), dtype=object),
        "text_nan": pd.Series(["a", np.nan] * (n // 2), dtype=object),
        "str": pd.Series(["a", None] * (n // 2), dtype="str"),
        "flag": pd.Series([True, None] * (n // 2), dtype="boolean"),
        "count": pd.Series([1, None] * (n // 2), dtype="Int64"),
        "when": pd.Series([pd.Timestamp("2024-01-05 10:00:00.5"), pd.NaT] * (n // 2),
                          dtype="datetime64[ns]"),
        "when_us": pd.Series([pd.Timestamp("2024-01-05 10:00:00.5"), pd.NaT] * (n // 2),
                             dtype="datetime64[us]"),
        "gap": pd.Series([pd.Timedelta(days=2), pd.NaT] * (n // 2), dtype="timedelta64[ns]"),
        "km": np.linspace(0, 1, n),
        "row": np.arange(n, dtype="int64"),
        "ok": np.arange(n) % 2 == 0,
    })
    frame.index = pd.Index(np.arange(n) * 3 + 5, dtype="int64")
    frames = {"a": frame, "b": frame.iloc[:0], "c": frame.reset_index(drop=True)}
    assert cache.put(tmp_path, "src-key", frames, {"x": [1, "二"]})
    entry = cache.get(tmp_path, "src-key")
    assert entry.meta == {"x": [1, "二"]}
    for name, f in frames.items():
        assert_same_frame(f, entry.frames[name])
        assert type(f.index) is type(entry.frames[name].index)
    got = entry.frames["a"]["mixed"].tolist()
    assert got[1] != got[1] and got[0] is None and got[15] is pd.NaT and got[20] is pd.NA
    assert [type(v) for v in got] == [type(v) for v in values]


def test_values_it_cannot_store_are_not_cached(tmp_path):
    frame = pd.DataFrame({"odd": pd.Series([{1, 2}, "a"], dtype=object)})
    assert not cache.put(tmp_path, "src-key", {"a": frame}, {})
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------------- CLI
def test_cli_cache_options(tmp_path, monkeypatch, capsys):
    """--cache-dir chooses the folder, the default is $XDG_CACHE_HOME/aftercare,
    --no-cache writes none; a --cache-dir inside --data, or both options, is exit 2."""
    folder = handmade(tmp_path / "data")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    base = ["check", "--data", str(folder), "--as-of", "2026-11-20", "--quiet"]
    assert run(base + ["--no-cache"]) == 0
    assert not (tmp_path / "xdg").exists()
    assert run(base) == 0
    assert entries(tmp_path / "xdg" / "aftercare")
    assert run(base + ["--cache-dir", str(tmp_path / "mine")]) == 0
    assert entries(tmp_path / "mine")
    capsys.readouterr()
    assert run(base + ["--cache-dir", str(folder / "c")]) == 2
    assert "--cache-dir" in capsys.readouterr().err
    assert run(base + ["--cache-dir", str(tmp_path / "c2"), "--no-cache"]) == 2
    assert not (folder / "c").exists() and not (tmp_path / "c2").exists()


@pytest.mark.parametrize("command", ["check", "due", "churn", "report"])
def test_every_command_has_the_cache_options(command, capsys):
    assert run([command, "--help"]) == 0
    out = capsys.readouterr().out
    assert "--cache-dir" in out and "--no-cache" in out


def test_manifest_is_json_with_sheets(tmp_path):
    """What `check` prints of a file (its sheets) comes back from the manifest."""
    folder = handmade(tmp_path / "data")
    root = tmp_path / "cache"
    ds = load_folder(folder, defaults(), cache_dir=root)
    names = set()
    for entry in entries(root):
        body = json.loads((entry / "manifest.json").read_text(encoding="utf-8"))
        names |= {s["file"] for s in body["meta"]["sheets"]}
    assert names == {s.file for s in ds.sheets}


def test_costliest_files_are_parsed_first(tmp_path, monkeypatch):
    """Workers get the files by expected cost (xlsx bytes count 4× a CSV's), largest
    first, while results still come back in folder order."""
    import concurrent.futures as cf

    folder = handmade(tmp_path / "data")
    submitted = []

    class Pool(cf.ThreadPoolExecutor):  # records the order, runs in this process
        def __init__(self, jobs, mp_context=None, initializer=None, initargs=()):
            super().__init__(jobs)

        def submit(self, fn, scanned, *a, **kw):
            submitted.append(scanned.path.name)
            return super().submit(fn, scanned, *a, **kw)

    monkeypatch.setattr(cf, "ProcessPoolExecutor", Pool)
    cfg = merge(defaults(), {"limits": {"jobs": 2}})
    ds = load_folder(folder, cfg, cache_dir=None)
    files = sorted(p for p in folder.iterdir() if p.is_file())
    cost = {p.name: p.stat().st_size * (4 if p.suffix == ".xlsx" else 1) for p in files}
    assert len(submitted) == len(files) > 2
    assert submitted == sorted(cost, key=lambda n: -cost[n])
    assert submitted != [p.name for p in files]  # not simply the folder order
    assert [s.file for s in ds.sheets] == [p.name for p in files]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG: Linux")
def test_workers_die_with_a_killed_run(tmp_path):
    """A run killed with SIGKILL (cron's timeout) leaves no parse worker behind."""
    script = tmp_path / "run.py"
    script.write_text(
        "import os, sys, time\n"
        "import aftercare.load as loader\n"
        "pool = loader._pool(2)\n"
        "futures = [pool.submit(time.sleep, 600) for _ in range(2)]\n"
        "time.sleep(0.5)\n"
        "print(' '.join(str(p) for p in pool._processes), flush=True)\n"
        "time.sleep(600)\n")
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True,
                            cwd=Path(__file__).resolve().parents[2])
    try:
        workers = [int(p) for p in proc.stdout.readline().split()]
        assert len(workers) == 2 and all(_alive(p) for p in workers)
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()
    deadline = time.monotonic() + 10
    while any(_alive(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(p) for p in workers)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ")[-1][:1] != "Z"  # a zombie is dead, not reaped
    except OSError:
        return False


def _dataset_entries(root):
    return [e for e in entries(root) if (e / "repair_orders.parquet").exists()]


def test_dataset_entry_is_written_in_the_background(tmp_path, monkeypatch):
    """With the background on (the CLI's setting), the entries are written by forked
    children: one for the files' entries, forked once every file is parsed, one for the
    dataset's. This process writes none; all are there once wait_writers() returns, and
    the next run neither parses nor joins. A folder above BACKGROUND_FILES_MAX_BYTES has
    its files' entries written where they are parsed (here: jobs = 1), a dataset above
    BACKGROUND_STORE_MAX_ROS is written here, as with the background off."""
    folder = handmade(tmp_path / "data")
    cfg = merge(defaults(), {"limits": {"jobs": 1}})
    n_files = len(list(folder.iterdir()))
    here = []
    real_put = cache.put
    monkeypatch.setattr(cache, "put", lambda *a, **k: here.append(a[1]) or real_put(*a, **k))
    plain = load_folder(folder, cfg, cache_dir=None)
    cache.set_background(True)
    try:
        root = tmp_path / "cache"
        load_folder(folder, cfg, cache_dir=root)
        assert here == [] and len(cache._writers) == 2
        cache.wait_writers()
        assert not cache._writers and len(_dataset_entries(root)) == 1
        assert len(entries(root)) == n_files + 1
        with monkeypatch.context() as m:
            m.setattr(loader, "_combine", lambda *a, **k: pytest.fail("joined again"))
            m.setattr(loader, "_parse_file", lambda *a, **k: pytest.fail("parsed again"))
            assert_same_dataset(plain, load_folder(folder, cfg, cache_dir=root))
        shutil.rmtree(_dataset_entries(root)[0])  # the files' entries alone
        with monkeypatch.context() as m:
            m.setattr(loader, "_parse_file", lambda *a, **k: pytest.fail("parsed again"))
            assert_same_dataset(plain, load_folder(folder, cfg, cache_dir=root))
        cache.wait_writers()
        here.clear()
        monkeypatch.setattr(loader, "BACKGROUND_STORE_MAX_ROS", 0)
        monkeypatch.setattr(loader, "BACKGROUND_FILES_MAX_BYTES", 0)
        load_folder(folder, cfg, cache_dir=tmp_path / "cache2")
        cache.before_fork()  # the dataset's entry: written by a thread of this process
        assert len(here) == n_files + 1 and not cache._writers
    finally:
        cache.wait_writers()
        cache.set_background(False)


def test_a_big_dataset_is_written_by_a_thread_while_the_run_goes_on(tmp_path, monkeypatch):
    """Above BACKGROUND_STORE_MAX_ROS the dataset's entry is written by a thread of this
    process (no forked copy of a dealer group's memory): load_folder returns before the
    entry is written, the entry holds the dataset as loaded even when the run changes
    its frames meanwhile (the thread writes copy-on-write copies), before_fork() waits
    for it, and so does every fork: the parse and month workers' pool."""
    import threading

    folder = handmade(tmp_path / "data")
    cfg = merge(defaults(), {"limits": {"jobs": 1}})
    plain = load_folder(folder, cfg, cache_dir=None)
    go = threading.Event()
    real_put = cache.put

    def gated_put(root, name, frames, meta):
        if "repair_orders" in frames:
            assert go.wait(10)
        return real_put(root, name, frames, meta)

    monkeypatch.setattr(cache, "put", gated_put)
    monkeypatch.setattr(loader, "BACKGROUND_STORE_MAX_ROS", 0)
    root = tmp_path / "cache"
    cache.set_background(True)
    try:
        ds = load_folder(folder, cfg, cache_dir=root)
        assert len(cache._threads) == 1 and _dataset_entries(root) == []
        ds.repair_orders.loc[0, "ro_no"] = "CHANGED"  # the run goes on with its frames
        ds.vehicles.loc[0, "plate"] = "CHANGED"
        go.set()
        cache.before_fork()
        assert not cache._threads and len(_dataset_entries(root)) == 1
        with monkeypatch.context() as m:
            m.setattr(loader, "_combine", lambda *a, **k: pytest.fail("joined again"))
            assert_same_dataset(plain, load_folder(folder, cfg, cache_dir=root))
        go.clear()
        load_folder(folder, cfg, cache_dir=tmp_path / "cache2")
        assert len(cache._threads) == 1
        threading.Timer(0.3, go.set).start()
        loader._pool(1).shutdown()  # waits for the writer before it can fork
        assert not cache._threads and len(_dataset_entries(tmp_path / "cache2")) == 1
    finally:
        go.set()
        cache.wait_writers()
        cache.set_background(False)


def test_parse_workers_leave_small_folders_entries_to_the_run(tmp_path):
    """With ``defer`` the parse workers write no entry (their time is a cold run's
    critical path) but name it in FileResult.unsaved; without it they write it."""
    folder = handmade(tmp_path / "data")
    cfg = merge(defaults(), {"limits": {"jobs": 2}})
    files, _ = loader.scan_folder(folder, recursive=False, pins={})
    root = tmp_path / "cache"
    names = loader._entry_names(files, cfg, root)
    results = [r() for _, r in loader._file_results(files, names, cfg, root, defer=True)]
    assert not root.exists() or entries(root) == []
    assert sorted(r.unsaved for r in results) == sorted(n for n, _ in names)
    results = [r() for _, r in loader._file_results(files, names, cfg, root)]
    assert all(r.unsaved is None for r in results) and len(entries(root)) == len(files)


def test_cli_waits_for_the_background_writer(tmp_path, monkeypatch):
    """run() returns only once the dataset's entry is written, and leaves the background
    off for whatever runs next in the process."""
    folder = handmade(tmp_path / "data")
    root = tmp_path / "c"
    real_put = cache.put

    def slow_put(root, name, frames, meta):  # the dataset's entry comes late
        if "repair_orders" in frames:
            time.sleep(1)
        return real_put(root, name, frames, meta)

    monkeypatch.setattr(cache, "put", slow_put)
    assert run(["check", "--data", str(folder), "--as-of", "2026-11-20", "--quiet",
                "--cache-dir", str(root)]) == 0
    assert not cache._writers and len(_dataset_entries(root)) == 1
    assert cache._background is False


def test_code_digest_covers_every_module_the_parse_imports():
    """Every aftercare module that the parsing code imports is hashed into the entries'
    key (else changing it would leave stale parses in the cache), except the ones that
    cannot change a parse's result (errors: exception classes; memory: malloc_trim)."""
    import ast

    files = {p.resolve() for p in cache.code_files()}
    pkg = Path(cache.__file__).resolve().parents[1]
    harmless = {pkg / "errors.py", pkg / "memory.py"}
    for f in files:
        tree = ast.parse(f.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.ImportFrom):
                continue
            if node.level:  # relative: from .frames import …
                base = f.parent
                for _ in range(node.level - 1):
                    base = base.parent
                parts = (node.module or "").split(".") if node.module else []
            elif (node.module or "").startswith("aftercare"):
                base, parts = pkg, node.module.split(".")[1:]
            else:
                continue
            names = [parts] if parts else [[a.name] for a in node.names]
            if parts:  # from aftercare import parse: a module of the package
                names += [parts + [a.name] for a in node.names]
            candidates = [base.joinpath(*n).with_suffix(".py") for n in names if n] + [
                base.joinpath(*n, "__init__.py") for n in names if n]
            hit = [c for c in candidates if c.exists()]
            assert not hit or any(c in files or c in harmless for c in hit), (f, node.module)


def test_files_parsed_before_a_failing_one_keep_their_entries(tmp_path):
    """A run stopped by a file missing a required column (exit 2) still stores the entries
    of the files parsed before it (written by the background child after the workers are
    gone): the fixed re-run parses only the fixed file."""
    from aftercare.errors import MissingColumnError

    data = tmp_path / "data"
    data.mkdir()
    csv(data / "a_ros.csv", ["工单号,车牌号,进厂日期,维修类型", "R1,粤B1,2025-01-02,保养"])
    csv(data / "b_ros.csv", ["工单号,车牌号,维修类型", "R2,粤B2,保养"])
    cfg = merge(defaults(), {"limits": {"jobs": 2}})
    root = tmp_path / "cache"
    cache.set_background(True)
    try:
        with pytest.raises(MissingColumnError):
            load_folder(data, cfg, cache_dir=root)
        cache.wait_writers()
    finally:
        cache.set_background(False)
    assert len(entries(root)) == 1  # a_ros.csv's
    csv(data / "b_ros.csv", ["工单号,车牌号,进厂日期,维修类型", "R2,粤B2,2025-01-03,保养"])
    files, _ = loader.scan_folder(data, recursive=False, pins={})
    names = loader._entry_names(files, cfg, root)
    assert [cache.has(root, n) for n, _ in names] == [True, False]


def test_workers_answer_with_the_entry_they_stored(tmp_path, monkeypatch):
    """A parse worker that wrote a file's entry answers with its name only (pickling a
    dealer group's RO export back took seconds); the run reads the entry, and the result
    is that of a parse in this process. Should the entry be gone by then, the file is
    parsed here."""
    folder = handmade(tmp_path / "data")
    cfg = merge(defaults(), {"limits": {"jobs": 2}})
    files, _ = loader.scan_folder(folder, recursive=False, pins={})
    root = tmp_path / "cache"
    names = loader._entry_names(files, cfg, root)
    answers = _worker_answers(monkeypatch)
    results = [r() for _, r in loader._file_results(files, names, cfg, root)]
    assert answers == ["_Stored"] * len(files)
    assert len(entries(root)) == len(files)
    for f, r in zip(files, results):
        here = loader._parse_file(f, cfg, f.path.stat())
        for table in here.frames:
            assert_same_frame(here.frames[table], r.frames[table])
        assert_same_frame(here.issues, r.issues)
        assert here.sheets == r.sheets
    shutil.rmtree(root / names[0][0])
    stored = loader._file_result(files[0], cfg, root, name=names[0][0], by_entry=True)
    assert stored == loader._Stored(names[0][0]) and cache.has(root, names[0][0])
    shutil.rmtree(root / names[0][0])
    again = loader._InCompletionOrder({}, files, cfg, root)._take(stored, 0)
    assert_same_frame(results[0].issues, again.issues)
    assert cache.has(root, names[0][0])  # parsed here, and stored again


def test_worker_results_are_taken_as_they_finish(tmp_path):
    """The run takes each worker's result when it is finished, whatever the folder order;
    a file's error is raised when the caller asks for that file, not before."""
    import concurrent.futures as cf
    import threading

    first, second, third = cf.Future(), cf.Future(), cf.Future()
    files = [loader.ScannedFile(tmp_path / n, "data") for n in ("a", "b", "c")]
    done = loader._InCompletionOrder({0: first, 1: second, 2: third}, files, {}, tmp_path)
    first.set_exception(loader.BadFileError(str(tmp_path / "a"), "bad"))  # done first
    threading.Timer(0.05, third.set_result, ["c's result"]).start()
    assert done.result(2) == "c's result"  # taken after a's error, which waits its turn
    second.set_result("b's result")
    assert done.result(1) == "b's result"
    with pytest.raises(loader.BadFileError):
        done.result(0)


def test_text_columns_are_told_from_mixed_ones():
    """Stored as plain text only when every value is a str or None: NaN, NA, NaT, bytes,
    numbers or arrays among them make a column "mixed" (its values' types kept)."""
    def column(*values):
        arr = np.empty(len(values), dtype=object)
        for i, v in enumerate(values):
            arr[i] = v
        return arr

    assert frames.all_str_or_none(column("a", None, np.str_("b")))
    assert frames.all_str_or_none(column(None, None)) and frames.all_str_or_none(column())
    for odd in (np.nan, pd.NA, pd.NaT, b"x", 1, 1.5, np.array([1, 2]), pd.Timestamp(0)):
        assert not frames.all_str_or_none(column("a", None, odd)), odd


def test_an_entry_read_with_some_columns_gives_those_columns(tmp_path):
    """cache.get(columns=…) gives, for the frames named, the entry's columns among those
    asked for (in the entry's order, unknown names ignored), equal to the full read's;
    other frames whole. Mixed and text columns, a gappy and a range index, no columns."""
    n = 6
    frame = pd.DataFrame({
        "mixed": pd.Series([None, 1, "二", 2.5, dt.date(2024, 1, 5), True], dtype=object),
        "text": pd.Series(["a", None, "b", "a", "c", "a"], dtype=object),
        "km": np.linspace(0, 1, n),
        "when": pd.Series(pd.to_datetime(["2024-01-05", None] * 3)),
    })
    gappy = frame.set_axis(pd.Index(np.arange(n) * 3 + 5, dtype="int64"))
    assert cache.put(tmp_path, "src-key", {"a": gappy, "b": frame, "c": frame}, {})
    full = cache.get(tmp_path, "src-key")
    part = cache.get(tmp_path, "src-key",
                     {"a": ["when", "mixed", "nope"], "b": [], "c": ["text"]})
    assert_same_frame(full.frames["a"][["mixed", "when"]], part.frames["a"])
    assert_same_frame(full.frames["c"][["text"]], part.frames["c"])
    assert list(part.frames["b"].columns) == [] and len(part.frames["b"]) == n
    assert isinstance(part.frames["b"].index, pd.RangeIndex)
    assert part.frames["a"]["mixed"].tolist()[1:3] == [1, "二"]


def test_load_folder_reads_only_the_ro_columns_asked_for_when_warm(tmp_path):
    """ro_columns: a warm run with the whole dataset cached reads only those RO columns
    (the rest of the dataset the same); a cold run keeps them all."""
    folder = handmade(tmp_path / "data")
    root = tmp_path / "cache"
    cfg = defaults()
    want = ["open_date", "vehicle_id", "kind"]
    cold = load_folder(folder, cfg, cache_dir=root, ro_columns=want)
    assert set(want) < set(cold.repair_orders.columns)
    warm = load_folder(folder, cfg, cache_dir=root, ro_columns=want)
    assert list(warm.repair_orders.columns) == [c for c in cold.repair_orders.columns
                                                if c in want]
    assert_same_frame(cold.repair_orders[list(warm.repair_orders.columns)],
                      warm.repair_orders)
    assert_same_frame(cold.vehicles, warm.vehicles)
    assert_same_frame(cold.customers, warm.customers)


def test_meanwhile_runs_once_while_the_workers_parse(tmp_path, monkeypatch):
    """load_folder's ``meanwhile`` runs once, after the parse workers are started and
    before any file's result is taken; never when the whole dataset is cached."""
    import multiprocessing

    folder = handmade(tmp_path / "data")
    cfg = merge(defaults(), {"limits": {"jobs": 2}})
    taken: list[int] = []
    real_result = loader._InCompletionOrder.result

    def result(self, i):
        taken.append(i)
        return real_result(self, i)

    monkeypatch.setattr(loader._InCompletionOrder, "result", result)
    calls: list[tuple[int, int]] = []  # (results taken so far, live worker processes)

    def meanwhile():
        calls.append((len(taken), len(multiprocessing.active_children())))

    root = tmp_path / "cache"
    cold = load_folder(folder, cfg, cache_dir=root, meanwhile=meanwhile)
    assert len(calls) == 1
    assert calls[0][0] == 0 and calls[0][1] >= 1  # workers up, nothing taken yet
    assert taken  # the files' results came from the workers, after it
    calls.clear()
    warm = load_folder(folder, cfg, cache_dir=root, meanwhile=meanwhile)
    assert calls == []  # the dataset's entry: nothing is parsed
    assert_same_dataset(cold, warm)
    calls.clear()
    taken.clear()
    load_folder(folder, merge(cfg, {"limits": {"jobs": 1}}), cache_dir=None,
                meanwhile=meanwhile)
    assert calls == [(0, 0)]  # no workers: still once, before the first file


@pytest.mark.parametrize("command", ["due", "churn", "report"])
def test_commands_import_their_writers_after_the_workers_start(tmp_path, command):
    """The output modules (openpyxl and the workbooks) are imported while the parse
    workers run, not on the way to them (load_folder's ``meanwhile``)."""
    data = tmp_path / "data"
    shutil.copytree(SAMPLE, data)
    script = (
        "import sys\n"
        "import aftercare.load as L\n"
        "real = L._pool\n"
        "def pool(jobs):\n"
        "    print('openpyxl at fork:', 'openpyxl' in sys.modules, flush=True)\n"
        "    return real(jobs)\n"
        "L._pool = pool\n"
        "from aftercare.cli import main\n"
        f"sys.argv = ['aftercare', {command!r}, '--data', {str(data)!r}, '--out',\n"
        f"            {str(tmp_path / 'out')!r}, '--cache-dir', {str(tmp_path / 'c')!r},\n"
        "            '--quiet'] + sys.argv[1:]\n"
        "main()\n")
    extra = {"due": ["--month", "2026-12", "--as-of", "2026-11-20"],
             "churn": ["--as-of", "2026-11-20"], "report": ["--month", "2026-11"]}[command]
    out = subprocess.run([sys.executable, "-c", script, *extra], capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    # the loader's workers are the first pool (report's month worker comes later)
    assert out.stdout.splitlines()[0] == "openpyxl at fork: False"


def test_writer_children_run_niced(tmp_path, monkeypatch):
    """The background writer children lower their priority (WRITER_NICENESS) before
    writing: the run's own processes go first on a busy machine. Each child writes its
    niceness next to the entries it wrote; the parent's stays as it was."""
    import os

    real_put = cache.put

    def put_and_tell(root, name, frames, meta):
        (tmp_path / f"nice-{os.getpid()}").write_text(str(os.nice(0)))
        return real_put(root, name, frames, meta)

    monkeypatch.setattr(cache, "put", put_and_tell)
    before = os.nice(0)
    frame = pd.DataFrame({"a": [1, 2]})
    cache.set_background(True)
    try:
        cache.put_all_later(tmp_path / "cache", [("0" * 12 + "-" + "1" * 40, {"t": frame}, {})])
        cache.wait_writers()
    finally:
        cache.set_background(False)
    told = [int(p.read_text()) for p in tmp_path.glob("nice-*")]
    assert told == [min(19, before + cache.WRITER_NICENESS)] and os.nice(0) == before
    assert len(entries(tmp_path / "cache")) == 1


def test_small_folders_workers_hand_their_results_over_in_files(tmp_path, monkeypatch):
    """With ``defer`` (a small folder) each parse worker pickles its result to a file in
    a private temporary folder and answers with the file (loader._Handed), not through
    the pool's pipe. The results are those of a parse in this process; the files and
    their folder are gone afterwards; a file that cannot be read is parsed again here."""
    import pickle
    import tempfile

    folder = handmade(tmp_path / "data")
    cfg = merge(defaults(), {"limits": {"jobs": 2}})
    files, _ = loader.scan_folder(folder, recursive=False, pins={})
    root = tmp_path / "cache"
    names = loader._entry_names(files, cfg, root)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    answers = _worker_answers(monkeypatch)
    handed = [r() for _, r in loader._file_results(files, names, cfg, root, defer=True)]
    assert answers == ["_Handed"] * len(files)
    assert list((tmp_path / "tmp").iterdir()) == []
    here = [loader._file_result(f, cfg, None, defer=True) for f in files]
    for a, b in zip(handed, here):
        assert a.sheets == b.sheets and a.raw_rows == b.raw_rows
        for t in b.frames:
            pd.testing.assert_frame_equal(a.frames[t], b.frames[t])
        pd.testing.assert_frame_equal(a.issues, b.issues)
    assert sorted(r.unsaved for r in handed) == sorted(n for n, _ in names)

    def broken(fh):  # a result file that cannot be read: the file is parsed here
        raise pickle.UnpicklingError("damaged")

    monkeypatch.setattr(loader.pickle, "load", broken)
    again = [r() for _, r in loader._file_results(files, names, cfg, root, defer=True)]
    assert [r.raw_rows for r in again] == [r.raw_rows for r in here]
    assert list((tmp_path / "tmp").iterdir()) == []


def _worker_answers(monkeypatch) -> list[str]:
    """The kinds of answer the parse workers give, as this process takes them."""
    answers = []
    take = loader._InCompletionOrder._take

    def spy(self, result, i):
        answers.append(type(result).__name__)
        return take(self, result, i)

    monkeypatch.setattr(loader._InCompletionOrder, "_take", spy)
    return answers
