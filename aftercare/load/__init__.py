"""The loader: a data folder of DMS exports in, typed tables and data issues out.

    dataset = load_folder(Path("data"), config)

Steps: scan the folder (scan.py); per file (``_parse_file``): read it into raw grids
(readers.py), find each sheet's header row and table (headers.py, sheets.py), and parse
its values into typed rows (tables.py ``parse_*``: values, test rows, rows without a key,
their data issues); then across files: deduplicate vehicles and customers, aggregate RO
lines and deduplicate ROs across files, apply RO-line kinds, and link ROs to vehicles and
vehicles to customers (link.py). Nothing is written anywhere, except the parse cache.

The per-file step depends only on the file and the config, so its result is cached
(cache.py) and a run whose inputs did not change skips reading and parsing. The result is
the same with and without the cache: the same frames, and the same data issues in the
same order (each file's own, in file order: its sheets' issues, then its rows' by table;
then those found across files).
"""

from __future__ import annotations

import dataclasses
import functools
import os
import pickle
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from aftercare import memory
from aftercare.errors import BadFileError, InputError, MissingColumnError
from aftercare.frames import concat_rows, to_arrow_text
from aftercare.issues import IssueLog
from aftercare.load import cache, link, tables
from aftercare.load.aliases import ALIASES, REQUIRED, VEHICLE_KEYS
from aftercare.load.headers import alias_table
from aftercare.load.readers import read_file
from aftercare.load.scan import ScannedFile, scan_folder
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

    def with_ro_columns(self, columns: Sequence[str]) -> "Dataset":
        """This dataset with only ``columns`` of the repair orders (those it has, in the
        frame's order): a command drops the RO columns it never reads (VIN, plate, the
        owner columns …: ~2 GB of a dealer group's 7M ROs) once the contact logs are
        matched. The same columns whether the ROs came from the cache or were parsed."""
        ros = self.repair_orders
        wanted = set(columns)
        keep = [c for c in ros.columns if c in wanted]
        if len(keep) == len(ros.columns):
            return self
        return dataclasses.replace(self, repair_orders=ros[keep])

    def date_range(self) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
        dates = self.repair_orders["open_date"] if len(self.repair_orders) else pd.Series([])
        if not len(dates):
            return None, None
        return dates.min(), dates.max()


ProgressFn = Callable[[str, int, int], None]
TABLES = ("vehicles", "customers", "repair_orders", "ro_lines")  # the order they are parsed


@dataclass
class FileResult:
    """What the loader derives from one file alone: the unit the parse cache stores."""

    role: str  # "data" or "log" (scan.py)
    sheets: list[SheetInfo]
    frames: dict[str, pd.DataFrame]  # table → typed rows; index: the row's position among
    raw_rows: dict[str, int]  # ... the file's `raw_rows[table]` rows of that table
    issues: pd.DataFrame  # the file's data issues in order, without the bad VINs of ROs
    bad_vins: pd.DataFrame  # the first issue of each bad VIN of its ROs, + "_vin"
    vins_at: int  # where bad_vins go among issues
    logs: list[SheetFrame]  # contact-log sheets (raw grids: never cached)
    unsaved: str | None = None  # its cache entry's name when the caller is to store it


def load_folder(
    folder: Path,
    config: dict,
    *,
    skip_bad_files: bool = False,
    progress: ProgressFn | None = None,
    require: bool = True,
    cache_dir: Path | None | object = cache.DEFAULT,
    ro_columns: Sequence[str] | None = None,
    meanwhile: Callable[[], object] | None = None,
) -> Dataset:
    """Load a data folder.

    ``cache_dir``: the parse cache's directory; None: no cache; not given: the default
    the CLI sets with :func:`cache.set_default` (None unless set). A directory inside
    ``folder`` is not used (the data folder is never written to).

    ``ro_columns``: the repair-order columns the caller reads. When the whole dataset
    comes from the cache, only those are read (the others are left out); otherwise the
    ROs keep every column. `report` reads 16 of the 42: a dealer group's warm read of
    its 7M ROs took 3.3 s instead of 10.5 s.

    ``meanwhile``: work of the caller's that needs no data (importing the modules that
    write its outputs, say), done while the parse workers run: this process only waits
    for them then. Called once, when files are parsed, before the first file's result
    is taken; not called when the whole dataset comes from the cache. On a store's cold
    `due` the output modules (openpyxl and the workbooks: ~0.1 s) were imported before
    the workers were started, on the way to every result."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"数据文件夹不存在: {folder} (用 --data 指定，或设置 [data] dir)")
    data_cfg = config["data"]
    files, skipped = scan_folder(folder, recursive=data_cfg["recursive"], pins=data_cfg["tables"])
    root = cache.get_default() if cache_dir is cache.DEFAULT else cache_dir
    if root is not None and (not cache.available() or cache.is_inside(root, folder)):
        root = None
    names = _entry_names(files, config, root)
    whole = _dataset_name(folder, names, config) if names is not None else None
    ds = _cached_dataset(root, whole, ro_columns) if whole is not None else None
    if ds is not None:
        for name, _ in names:  # the files' own entries stay as fresh as the dataset's
            cache.touch(root, name)
    bad: list[tuple[str, str]] = []
    if ds is None:
        results: list[FileResult] = []
        defer = root is not None and cache.background() and _small(files)
        parsed = _file_results(files, names, config, root, defer=defer)
        try:
            for i, (scanned, result) in enumerate(parsed):
                if i == 0 and meanwhile is not None:  # the workers are running now
                    meanwhile()
                if progress:
                    progress(scanned.path.name, i, len(files))
                try:
                    results.append(result())
                except BadFileError as exc:
                    if not skip_bad_files:
                        raise
                    bad.append((scanned.path.name, exc.reason))
        finally:  # the files read so far keep their entries, whatever stopped the run
            parsed.close()  # the workers are gone before the writer is forked
            cache.put_all_later(root, [(r.unsaved, *_to_entry(r)) for r in results
                                       if r.unsaved is not None])
        ds = _combine(results, config)
        if whole is not None and not bad and not ds.log_sheets and _unchanged(files, names):
            _store_dataset(root, whole, ds)
    memory.release()  # the parse's and the join's temporaries: GBs on a dealer group
    if progress:
        progress("", len(files), len(files))
    ds.skipped_files = [(s.path.name, s.reason) for s in skipped]
    ds.bad_files = bad
    if require:
        require_data(ds, folder)
    return ds


# ------------------------------------------------------------------ the whole dataset
# When every file of the folder is a data file whose parse is cached, the result of the
# step across files (dedupe, RO kinds, links; nothing as_of-dependent) is cached too, keyed
# by the files' entry names (content, size, mtime, config) in folder order: a re-run on
# unchanged inputs then reads four frames instead of joining them again. Folders holding
# contact logs (never cached) or unreadable files take the ordinary path.
def _entry_names(files: list[ScannedFile], config: dict, root: Path | None) -> list | None:
    """Each file's cache entry name and (size, mtime) as read for it, or None when the
    whole dataset cannot be cached."""
    if root is None or not files or any(f.role != "data" for f in files):
        return None

    def name(f: ScannedFile):
        try:
            st = f.path.stat()
            return (cache.entry_name(f.path, st, cache.parse_params(config, f.pinned_table)),
                    (st.st_size, st.st_mtime_ns))
        except Exception:  # noqa: BLE001 - unreadable now: read_file will say why
            return None

    # each file's content is hashed (sha256 releases the GIL): two at a time halves the
    # ~3 s a dealer group's 1.3 GB of exports take to hash on every run
    with ThreadPoolExecutor(max(1, min(len(files), os.cpu_count() or 1))) as pool:
        names = list(pool.map(name, files))
    return None if any(n is None for n in names) else names


def _dataset_name(folder: Path, names: list, config: dict) -> str | None:
    params = {"dataset": True, "tables": config["data"]["tables"],
              **cache.parse_params(config, None)}
    try:
        return cache.dataset_entry_name(folder, [n for n, _ in names], params)
    except Exception:  # noqa: BLE001 - no cache, never an error
        return None


def _unchanged(files: list[ScannedFile], names: list) -> bool:
    """Whether no file changed while the run read it (else its key no longer holds)."""
    try:
        return all((st.st_size, st.st_mtime_ns) == was
                   for st, (_, was) in zip((f.path.stat() for f in files), names))
    except OSError:
        return False


def _cached_dataset(root: Path, name: str, ro_columns: Sequence[str] | None = None
                    ) -> Dataset | None:
    entry = cache.get(root, name,
                      None if ro_columns is None else {"repair_orders": ro_columns})
    if entry is None:
        return None
    meta = entry.meta
    return Dataset(entry.frames["vehicles"], entry.frames["customers"],
                   entry.frames["repair_orders"], _FrameLog(entry.frames["issues"]),
                   [SheetInfo(**s) for s in meta["sheets"]],
                   ro_duplicates=int(meta["ro_duplicates"]), input_rows=int(meta["input_rows"]))


#: a dataset with up to this many ROs is written to the cache in a forked child while
#: the run goes on (cache.put_later); a bigger one by a thread of this process
#: (cache.put_in_thread): writing touches every text value's reference count, so a child
#: would copy the pages of all of them, adding up to the dataset's size again to the
#: peak memory (a dealer group's 7M ROs: GBs). The thread's encoding and writing run
#: beside the rules: a group's cold `due` took 95-100 s instead of 103-109 s (two
#: alternating pairs), its 12.6 s entry no longer all before the rules
BACKGROUND_STORE_MAX_ROS = 1_000_000


#: the files' own entries are written in a forked child too (not by the parse workers,
#: whose time is the cold run's critical path) when the folder holds at most this many
#: bytes, counted as CSV (about 1M ROs: a dealer group's exports are ~170 bytes per RO
#: as CSV, Parquet a third of that); a bigger folder's workers write them in parallel
BACKGROUND_FILES_MAX_BYTES = 160_000_000
_BYTES_AS_CSV = {".parquet": 3.0}


def _small(files: list[ScannedFile]) -> bool:
    total = 0.0
    for f in files:
        try:
            total += f.path.stat().st_size * _BYTES_AS_CSV.get(f.path.suffix.lower(), 1.0)
        except OSError:
            pass
    return total <= BACKGROUND_FILES_MAX_BYTES


def _store_dataset(root: Path, name: str, ds: Dataset) -> None:
    frames = {"vehicles": ds.vehicles, "customers": ds.customers,
              "repair_orders": ds.repair_orders, "issues": ds.issues.frame()}
    meta = {"sheets": [dataclasses.asdict(s) for s in ds.sheets],
            "ro_duplicates": ds.ro_duplicates, "input_rows": ds.input_rows}
    if len(ds.repair_orders) <= BACKGROUND_STORE_MAX_ROS:
        cache.put_later(root, name, frames, meta)
    else:
        cache.put_in_thread(root, name, frames, meta)


# ------------------------------------------------------------- files in parallel
def _file_results(files: list[ScannedFile], names: list | None, config: dict,
                  root: Path | None, *, defer: bool = False):
    """(file, a callable giving its FileResult or raising its error), in folder order.
    ``defer``: a parsed file's entry is not written but named in ``FileResult.unsaved``.

    Files the cache does not hold are parsed in worker processes (``[limits] jobs``), the
    rest read from the cache here meanwhile. Workers are forked at the first submit,
    before this process reads any cache entry; each parses whole files, so a file's
    result and its data issues are the same as in one process."""
    keys = [names[i][0] if names is not None else None for i in range(len(files))]
    misses = [i for i, f in enumerate(files)
              if not (keys[i] is not None and cache.has(root, keys[i]))]
    jobs = _jobs(config, len(misses))
    if jobs < 2:
        for i, f in enumerate(files):
            yield f, functools.partial(_file_result, f, config, root, name=keys[i],
                                       defer=defer)
        return
    pool = _pool(jobs)
    handovers = _handover_folder() if defer else None  # small folders (_Handed)
    try:
        # the costliest files first (longest-processing-time order): the last worker
        # to finish is not the one that picked the big workbook up last
        futures = {i: pool.submit(_file_result, files[i], config, root, name=keys[i],
                                  defer=defer, by_entry=not defer,
                                  handover=None if handovers is None else handovers / str(i))
                   for i in sorted(misses, key=lambda i: -_parse_cost(files[i]))}
        done = _InCompletionOrder(futures, files, config, root)
        for i, f in enumerate(files):
            if i in futures:
                yield f, functools.partial(done.result, i)
            else:
                yield f, functools.partial(_file_result, f, config, root, name=keys[i])
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        if handovers is not None:  # what no one took (an error, a stopped run)
            import shutil

            shutil.rmtree(handovers, ignore_errors=True)


def _handover_folder() -> Path | None:
    """A private temporary folder for the workers' results (:class:`_Handed`), or None."""
    import tempfile

    try:
        return Path(tempfile.mkdtemp(prefix="aftercare-results-"))
    except OSError:
        return None


#: parse seconds per byte relative to CSV, measured on bench/ data: xlsx is compressed
#: XML (≈4× a CSV's cost per byte), Parquet is columnar and typed already
_COST_PER_BYTE = {".xlsx": 4.0, ".xlsm": 4.0, ".xls": 2.0, ".parquet": 0.5}


def _parse_cost(scanned: ScannedFile) -> float:
    """A file's expected parse time, in the units of a CSV byte."""
    try:
        size = scanned.path.stat().st_size
    except OSError:
        return 0.0
    return size * _COST_PER_BYTE.get(scanned.path.suffix.lower(), 1.0)


def _pool(jobs: int):
    """Forked worker processes that die with this one (a run killed by cron's timeout
    leaves no workers behind, each holding a copy of the parent's memory)."""
    import concurrent.futures as cf
    import multiprocessing

    cache.before_fork()  # no writer thread holds a lock the workers would inherit
    return cf.ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork"),
                                  initializer=_die_with_parent, initargs=(os.getpid(),))


def _die_with_parent(parent: int) -> None:
    """In a worker: be killed when the parent process dies (Linux; elsewhere nothing)."""
    import signal
    import sys

    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def _jobs(config: dict, misses: int) -> int:
    import multiprocessing

    if misses < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    want = int(config["limits"].get("jobs", 0)) or (os.cpu_count() or 1)
    return max(1, min(want, misses))


# ------------------------------------------------------------------------ one file
@dataclass
class _Stored:
    """A worker's answer when it stored the file's result in the cache: the entry's name."""

    name: str


@dataclass
class _Handed:
    """A small folder's parse worker's answer: the file its result is pickled to.

    Sent through the pool's pipe, a result blocks its worker until this process has read
    all of it, and this process's reading thread waits for a core the two workers hold:
    a store's old RO export (49 MB pickled) kept its worker 0.1-0.18 s from its next
    file. Written to a file (this process reads it when it takes the result), it costs
    the worker the pickling alone."""

    path: Path


class _InCompletionOrder:
    """The workers' results, taken (and read from the cache) in the order the workers
    finish them, while the caller asks for them in folder order: this process reads each
    stored entry while the workers parse the next files, instead of waiting for the first
    file of the folder. A file's error is raised when the caller asks for that file."""

    def __init__(self, futures: dict, files: list[ScannedFile], config: dict,
                 root: Path | None) -> None:
        import concurrent.futures as cf

        self._files, self._config, self._root = files, config, root
        self._index = {id(fut): i for i, fut in futures.items()}
        self._pending = cf.as_completed(futures.values())
        self._ready: dict[int, Callable[[], FileResult]] = {}

    def result(self, i: int) -> FileResult:
        while i not in self._ready:
            fut = next(self._pending)
            j = self._index[id(fut)]
            try:
                res = self._take(fut.result(), j)
                self._ready[j] = lambda res=res: res
            except Exception as exc:  # noqa: BLE001 - raised when file j is asked for
                self._ready[j] = functools.partial(_reraise, exc)
        return self._ready.pop(i)()

    def _take(self, result, i: int) -> FileResult:
        """A worker's result, read from the cache entry it wrote when it answered with
        its name (:class:`_Stored`); parsed here again should the entry be gone already."""
        if isinstance(result, _Handed):
            try:
                with open(result.path, "rb") as fh:
                    return pickle.load(fh)
            except (OSError, pickle.UnpicklingError, EOFError):  # parse here instead
                return _file_result(self._files[i], self._config, self._root, defer=True)
            finally:
                result.path.unlink(missing_ok=True)
        if not isinstance(result, _Stored):
            return result
        entry = cache.get(self._root, result.name)
        if entry is None:  # pruned by another run in between (or unreadable): parse here
            return _file_result(self._files[i], self._config, self._root, name=result.name)
        return _from_entry(entry)


def _reraise(exc: BaseException):
    raise exc


def _file_result(scanned: ScannedFile, config: dict, root: Path | None, *,
                 name: str | None = None, defer: bool = False,
                 by_entry: bool = False, handover: Path | None = None
                 ) -> FileResult | _Stored | _Handed:
    """The file's result, from the cache when it holds this version of the file.
    ``name``: its entry name when already known. ``defer``: a parsed file's entry is left
    to the caller (``result.unsaved``) instead of being written here. ``by_entry`` (in a
    parse worker): once the entry is written, only its name is returned (:class:`_Stored`).

    Why ``by_entry``: sending a result back pickles it in the worker and unpickles it in
    the parent, one result at a time, and the worker waits meanwhile. For a dealer group's
    877k-row RO export that is 1.2 s to pickle 234 MB, the pipe, 0.8 s to unpickle: the
    workers stood idle 3-5 s after each file, a third of the parse phase. Reading the
    entry back takes the parent ~1 s, and the worker goes on with its next file.
    ``handover`` (a small folder's parse worker): a result to send back is pickled to
    this file instead (:class:`_Handed`)."""
    path = scanned.path
    try:
        st = path.stat()
    except OSError:
        st = None  # read_file says what is wrong
    if name is None and root is not None and st is not None and scanned.role == "data":
        try:
            name = cache.entry_name(path, st, cache.parse_params(config, scanned.pinned_table))
        except Exception:  # noqa: BLE001 - no cache for this file, never an error
            name = None
    if name is not None:
        entry = cache.get(root, name)
        if entry is not None:
            return _from_entry(entry)
    result = _parse_file(scanned, config, st)
    if name is not None and not result.logs:
        try:
            now = path.stat()
            unchanged = (now.st_size, now.st_mtime_ns) == (st.st_size, st.st_mtime_ns)
        except OSError:
            unchanged = False
        if unchanged and defer:  # not modified while it was read
            result.unsaved = name
        elif unchanged and cache.put(root, name, *_to_entry(result)) and by_entry:
            return _Stored(name)
    if handover is not None:
        try:
            with open(handover, "wb") as fh:
                pickle.dump(result, fh, protocol=pickle.HIGHEST_PROTOCOL)
            return _Handed(handover)
        except Exception:  # noqa: BLE001 - then through the pipe, as usual
            Path(handover).unlink(missing_ok=True)
    return result


def _parse_file(scanned: ScannedFile, config: dict, st: os.stat_result | None) -> FileResult:
    """Read one file and parse its rows: everything that needs no other file. ``st``: the
    file's stat before reading (its mtime decides which copy of a row wins)."""
    aliases = alias_table(config["aliases"])
    join = {"repair_orders": config["join"]["repair_orders_key"],
            "ro_lines": config["join"]["ro_lines_key"]}
    dayfirst = config["data"]["dayfirst"]
    extra_types = config["service_types"]
    raws = read_file(scanned.path, max_file_mb=config["limits"]["max_file_mb"],
                     max_rows=config["limits"]["max_rows"])
    mtime = (st if st is not None else scanned.path.stat()).st_mtime
    issues = IssueLog()
    sheets: list[SheetInfo] = []
    parts: dict[str, list[pd.DataFrame]] = {t: [] for t in ALIASES}
    logs: list[SheetFrame] = []
    for raw in raws:
        sf = sheet_to_frame(raw, aliases, issues, pinned=scanned.pinned_table,
                            join_headers=join)
        rows = 0 if sf.frame is None else len(sf.frame)
        sheets.append(SheetInfo(raw.file.name, raw.sheet, sf.table, rows, sf.header_row,
                                sf.columns, sf.reason, raw.kind, raw.encoding, _headers(sf)))
        if sf.table == "contact_logs" or scanned.role == "log":
            logs.append(sf)
            continue
        if sf.frame is None:
            raw.grid = None
            continue
        _check_required(sf, config["aliases"])
        raw.grid = None  # its rows are in sf.frame now: the raw cells are freed before
        # the next sheet is read into a frame and the rows are parsed (~600 MB of Python
        # strings for a 900k-row export)
        sf.frame["_mtime"] = mtime
        parts[sf.table].append(sf.frame)
    frames: dict[str, pd.DataFrame] = {}
    raw_rows: dict[str, int] = {}
    vin_log = IssueLog()
    bad_vins = np.array([], dtype=object)
    at = 0
    for table in TABLES:
        if not parts[table]:
            continue
        frame = pd.concat(parts[table], ignore_index=True)
        raw_rows[table] = len(frame)
        frames[table], bad_vins, at = _parse_table(table, frame, issues, vin_log, dayfirst,
                                                   extra_types, bad_vins, at)
        # the text in Arrow from here on (frames.py says why)
        frames[table] = to_arrow_text(frames[table])
    bad = vin_log.frame()
    bad["_vin"] = pd.Series(bad_vins, index=bad.index, dtype=object)
    return FileResult(scanned.role, sheets, frames, raw_rows, issues.frame(), bad, at, logs)


def _parse_table(table, frame, issues, vin_log, dayfirst, extra_types, bad_vins, at):
    if table == "vehicles":
        return tables.parse_vehicles(frame, issues, dayfirst=dayfirst), bad_vins, at
    if table == "customers":
        return tables.parse_customers(frame, issues, dayfirst=dayfirst), bad_vins, at
    if table == "repair_orders":
        return tables.parse_repair_orders(frame, issues, dayfirst=dayfirst,
                                          extra_types=extra_types, vin_issues=vin_log)
    return tables.build_ro_lines(frame, issues, extra_types), bad_vins, at


def _to_entry(result: FileResult) -> tuple[dict[str, pd.DataFrame], dict]:
    frames = {f"table-{t}": f for t, f in result.frames.items()}
    frames["issues"] = result.issues
    frames["bad_vins"] = result.bad_vins
    meta = {"sheets": [dataclasses.asdict(s) for s in result.sheets],
            "raw_rows": result.raw_rows, "vins_at": result.vins_at}
    return frames, meta


def _from_entry(entry: cache.Entry) -> FileResult:
    meta = entry.meta
    frames = {t: entry.frames[f"table-{t}"] for t in TABLES if f"table-{t}" in entry.frames}
    return FileResult("data", [SheetInfo(**s) for s in meta["sheets"]], frames,
                      dict(meta["raw_rows"]), entry.frames["issues"], entry.frames["bad_vins"],
                      int(meta["vins_at"]), [])


# ---------------------------------------------------------------------- across files
class _FrameLog(IssueLog):
    """Issues already collected as a frame (one file's)."""

    def __init__(self, frame: pd.DataFrame) -> None:
        super().__init__()
        self._parts.append(frame)


def _combine(results: list[FileResult], config: dict) -> Dataset:
    issues = IssueLog()
    seen_vins: set = set()
    for r in results:
        part = r.issues
        if len(r.bad_vins):
            keep = tables.first_bad_vins(r.bad_vins["_vin"].to_numpy(dtype=object), seen_vins)
            vins = r.bad_vins.loc[keep].drop(columns="_vin")
            part = pd.concat([p for p in (part.iloc[:r.vins_at], vins, part.iloc[r.vins_at:])
                              if len(p)], ignore_index=True)
        if len(part):
            issues.extend(_FrameLog(part))
    sheets = [s for r in results for s in r.sheets]
    data = [r for r in results if r.role == "data"]
    if any("repair_orders" in r.frames for r in data) and \
            not any("ro_lines" in r.frames for r in data):
        for info in (s for r in data for s in r.sheets if s.table == "repair_orders"):
            if "service_type" not in info.columns:
                raise _missing(info, "repair_orders", "service_type", config["aliases"])
    dayfirst = config["data"]["dayfirst"]
    extra_types = config["service_types"]

    def combined(table: str) -> pd.DataFrame | None:
        parts, offset = [], 0
        for r in data:
            if table in r.frames:
                # taken out of the result: the per-file frames are freed once joined (a
                # dealer group's ROs would otherwise sit in memory twice)
                frame = r.frames.pop(table).copy(deep=False)
                frame.index = pd.Index(frame.index.to_numpy(dtype="int64") + offset)
                offset += r.raw_rows[table]
                parts.append(frame)
        if not parts:
            return None
        nonempty = [p for p in parts if len(p)] or parts[:1]
        del parts, frame  # concat_rows lets each part's columns go as it joins them
        return concat_rows(nonempty)

    def empty() -> pd.DataFrame:
        return pd.DataFrame(columns=["_file", "_sheet", "_row", "_mtime"])

    vehicles = combined("vehicles")
    if vehicles is None:
        vehicles = to_arrow_text(tables.parse_vehicles(empty(), issues, dayfirst=dayfirst))
    customers = combined("customers")
    if customers is None:
        customers = to_arrow_text(tables.parse_customers(empty(), issues, dayfirst=dayfirst))
    ros = combined("repair_orders")
    if ros is None:
        ros, _, _ = tables.parse_repair_orders(empty(), issues, dayfirst=dayfirst,
                                               extra_types=extra_types, vin_issues=issues)
        ros = to_arrow_text(ros)
    # the RO numbers are hashed by Arrow, which lets the GIL go: in a thread, beside the
    # vehicles' and customers' dedupe (a dealer group's 7M: ~1.5 s, mostly hidden)
    with ThreadPoolExecutor(1) as pool:
        coded = pool.submit(tables.ro_no_codes, ros)
        vehicles = tables.dedupe_vehicles(vehicles, issues)
        customers = tables.dedupe_customers(customers, issues)
        codes = coded.result()
    merged = tables.aggregate_lines(ros, codes)
    if merged is not ros:  # lines merged: other rows, so their codes are found again
        ros, codes = merged, None
    ros, dups = tables.dedupe_across_files(ros, codes)
    issues.add_rows(ros, ros["deleted"], field="deleted", reason="deleted_ro",
                    value=ros["deleted_raw"])
    lines = combined("ro_lines")
    if lines is not None:
        ros = tables.apply_line_kinds(ros, lines)
    # the key RO lines join on is spent: mostly a second copy of every RO number (~0.5 GB
    # on a dealer group's 7M ROs once read back from the cache)
    ros = ros.drop(columns="join_key")
    no_kind = ros["kind"].isna()
    if no_kind.any():
        issues.add_rows(ros, no_kind, field="service_type", reason="no_service_type", value="")
        ros.loc[no_kind, "kind"] = "repair"
    ros["is_visit"] = ~ros["deleted"] & (ros["kind"] != "internal")
    vehicles, ros = link.link_ros_to_vehicles(vehicles, ros)
    vehicles, customers = link.link_customers(vehicles, customers)
    ros["ro_key"] = tables.ro_keys(ros)
    return Dataset(vehicles, customers, ros.reset_index(drop=True), issues, sheets,
                   ro_duplicates=dups, log_sheets=[sf for r in results for sf in r.logs],
                   input_rows=sum(s.rows for s in sheets))


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
    return [str(h).strip() for h in sf.headers if h is not None]


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
