"""The parse cache: what the loader derives from one input file, kept between runs
(05-operations.md, "Speed").

What is cached, per data file: the result of the loader's per-file step (load/__init__.py,
``_parse_file``): its typed rows per table, its data issues and its sheet list. Nothing
that depends on ``--as-of`` or on the other files: deduplication across files, RO-line
aggregation, linking and every rule run on every run. Not cached: ``log-*`` files and
files holding a contact-log sheet (aftercare.logs reads their raw grids), and files that
cannot be read (they fail or are listed as bad on every run).

Where: ``--cache-dir DIR``, else ``$XDG_CACHE_HOME/aftercare``, else ``~/.cache/aftercare``
(:func:`default_dir`); ``--no-cache`` turns it off. Never inside the data folder: the CLI
refuses such a ``--cache-dir`` (exit 2) and the loader ignores such a directory. The
cache holds the same personal data as the exports, so it is created private (0700).

Key of an entry: sha256 over the file's content hash (sha256), size, mtime (ns) and name,
:data:`LOADER_VERSION`, a digest of the loader's and parsers' source files, the versions
of pandas, numpy, pyarrow and python-calamine, and a canonical JSON of the config that
affects parsing (aliases, join keys, service types, dayfirst, the file's pinned table,
limits). Any change to one of those is a miss: that file alone is parsed again.

Layout: ``<dir>/<source>-<key>/`` with one Parquet file per frame and ``manifest.json``
(column dtypes, so that object columns holding mixed values, ``None`` versus NaN,
``boolean``/``Int64``/``str`` dtypes and the index come back exactly; the rest of the
per-file result). ``<source>`` is a hash of the file's absolute path and of the config
that affects parsing.

Robustness: an entry is written into a temporary directory and renamed into place
(readers never see half an entry); an entry that cannot be read is removed and rebuilt;
no cache problem is ever an error (the file is parsed as without a cache).

Size: writing an entry removes the older entries of its source (the same file read with
the same config: its previous versions), entries unused for :data:`MAX_AGE_DAYS` days (a
hit refreshes the manifest's mtime), and temporary directories of killed runs older than
a day. So the cache holds about one entry per input file and config in use, roughly half
the size of the exports (Parquet, compressed).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import sys
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

# Bump when the layout or the meaning of a cached entry changes. Changes to the parsing
# code need no bump: the source digest (_code_digest) is part of every key.
LOADER_VERSION = "1"
WRITE_CHUNK_ROWS = 500_000
MAX_AGE_DAYS = 30
_TMP_MAX_AGE_S = 24 * 3600
_MANIFEST = "manifest.json"
_INDEX = "__index__"

# ------------------------------------------------------------------ the default directory
# The commands' run_* functions call load_folder without a cache_dir; instead of threading
# the option through every one of them, the CLI sets this process-wide default (from
# --cache-dir / --no-cache) before running a command, and load_folder uses it when its
# caller passes no cache_dir. Library callers and tests get no cache unless they pass
# cache_dir= or call set_default().
DEFAULT = object()  # load_folder(cache_dir=DEFAULT): use the default set here
_default: Path | None = None


def set_default(path: Path | str | None) -> None:
    """The cache directory load_folder uses when its caller gives none (None: no cache)."""
    global _default
    _default = Path(path) if path is not None else None


def get_default() -> Path | None:
    return _default


def default_dir() -> Path | None:
    """``$XDG_CACHE_HOME/aftercare``, else ``~/.cache/aftercare`` (None: no home)."""
    base = os.environ.get("XDG_CACHE_HOME") or ""
    if base and Path(base).is_absolute():  # the XDG spec: a relative value is ignored
        return Path(base) / "aftercare"
    try:
        return Path.home() / ".cache" / "aftercare"
    except RuntimeError:
        return None


def is_inside(path: Path, folder: Path) -> bool:
    """Whether ``path`` is ``folder`` or below it (symlinks resolved)."""
    try:
        p, f = Path(path).resolve(), Path(folder).resolve()
    except OSError:
        return False
    return p == f or f in p.parents


# ------------------------------------------------------------------------------ keys
_code: str | None = None


def code_files() -> list[Path]:
    """The source files whose code decides a file's parse (tests check that every module
    they import is among them, or cannot change a parse)."""
    pkg = Path(__file__).resolve().parents[1]
    return sorted(pkg.glob("load/*.py")) + sorted(pkg.glob("parse*.py")) + [
        pkg / "issues.py", pkg / "frames.py"]


def _code_digest() -> str:
    """A digest of the source of everything the per-file step runs, and of the versions
    of the libraries it runs on: changing the parsing code invalidates every entry."""
    global _code
    if _code is None:
        from importlib import metadata

        h = hashlib.sha256()
        for f in code_files():
            h.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
        for dist in ("aftercare", "pandas", "numpy", "pyarrow", "python-calamine", "openpyxl"):
            try:
                version = metadata.version(dist)
            except metadata.PackageNotFoundError:
                version = "-"
            h.update(f"{dist}={version}\0".encode())
        h.update(f"python={sys.version_info[0]}.{sys.version_info[1]}".encode())
        _code = h.hexdigest()
    return _code


def parse_params(config: dict, pinned_table: str | None) -> dict:
    """The config that affects how one file is parsed."""
    return {
        "aliases": config["aliases"],
        "join": config["join"],
        "service_types": config["service_types"],
        "dayfirst": config["data"]["dayfirst"],
        "pinned_table": pinned_table,
        "limits": config["limits"],
    }


def file_digest(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def entry_name(path: Path, st: os.stat_result, params: dict) -> str:
    """The entry's directory name for ``path`` as it is now (reads the whole file)."""
    key = {
        "version": LOADER_VERSION,
        "code": _code_digest(),
        "content": file_digest(path),
        "size": st.st_size,
        "mtime_ns": st.st_mtime_ns,
        "name": path.name,
        "params": params,
    }
    return f"{_source(path, params)}-{_digest(key)[:40]}"


def dataset_entry_name(folder: Path, names: list[str], params: dict) -> str:
    """The entry name of a whole folder's dataset (the step across files), from its
    files' entry names in order: a new one replaces the folder's older ones."""
    key = {"version": LOADER_VERSION, "code": _code_digest(), "files": names, "params": params}
    return f"{_source(folder, params)}-{_digest(key)[:40]}"


def _source(path: Path, params: dict) -> str:
    """Which file, read with which config: a new entry replaces older ones of its source."""
    return _digest({"path": str(Path(path).resolve()), "params": params})[:12]


def _digest(obj) -> str:
    text = json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


# ----------------------------------------------------------------------------- store
@dataclass
class Entry:
    frames: dict[str, pd.DataFrame]
    meta: dict


def available() -> bool:
    try:
        import pyarrow  # noqa: F401
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        return False
    return True


def get(root: Path, name: str, columns: dict[str, Sequence[str]] | None = None
        ) -> Entry | None:
    """The entry, or None when there is none or it cannot be read (then it is removed).
    ``columns``: for the frames it names, only those of their columns that the entry has
    (in the entry's order); the others are not read (Parquet is read column by column)."""
    entry = Path(root) / name
    manifest = entry / _MANIFEST
    try:
        text = manifest.read_text(encoding="utf-8")
    except OSError:
        return None
    try:
        meta = json.loads(text)
        if meta.get("version") != LOADER_VERSION:
            raise ValueError("version")
        frames = {fname: _read_frame(entry / f"{fname}.parquet", spec,
                                     None if columns is None else columns.get(fname))
                  for fname, spec in meta["frames"].items()}
    except Exception:  # noqa: BLE001 - a damaged entry is a miss, never an error
        shutil.rmtree(entry, ignore_errors=True)
        return None
    try:
        os.utime(manifest)  # used now: keeps it from expiring
    except OSError:
        pass
    return Entry(frames, meta["meta"])


def has(root: Path | None, name: str) -> bool:
    """Whether the entry is there (it may still turn out damaged when read)."""
    return root is not None and (Path(root) / name / _MANIFEST).is_file()


def touch(root: Path, name: str) -> None:
    """Mark an entry as used now (keeps it from expiring) without reading it."""
    try:
        os.utime(Path(root) / name / _MANIFEST)
    except OSError:
        pass


def put(root: Path, name: str, frames: dict[str, pd.DataFrame], meta: dict) -> bool:
    """Store an entry atomically; prune old entries. False (and nothing stored) when the
    frames cannot be stored exactly or the directory cannot be written: never raises."""
    root = Path(root)
    tmp = root / f".tmp-{name}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        specs = {}
        root.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp.mkdir(mode=0o700)
        for fname, frame in frames.items():
            specs[fname] = _write_frame(frame, tmp / f"{fname}.parquet")
        body = {"version": LOADER_VERSION, "frames": specs, "meta": meta}
        (tmp / _MANIFEST).write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
        try:
            os.rename(tmp, root / name)
        except OSError:  # another run stored the same entry first
            shutil.rmtree(tmp, ignore_errors=True)
        _prune(root, keep=name)
        return True
    except Exception:  # noqa: BLE001 - the cache never fails a run
        shutil.rmtree(tmp, ignore_errors=True)
        return False


# ------------------------------------------------------------- writing in the background
# The CLI turns this on: a dataset's entry, and on a store-sized folder each file's
# entry too, are then written by forked child processes while the run goes on (on a
# store, writing the dataset's took 0.5-0.7 s of a cold run's 6 s, the four files'
# 0.5-0.7 s of the parse workers' time), and the CLI waits for the children before it
# exits, so the next run finds the entries. Off for library callers and tests:
# put_later() is put().
_background = False
_writers: list[int] = []
_threads: list = []  # threading.Thread of put_in_thread()


def set_background(on: bool) -> None:
    global _background
    _background = bool(on)


def background() -> bool:
    """Whether put_later() writes in a child process (the CLI turns it on)."""
    return _background and hasattr(os, "fork")


def put_later(root: Path, name: str, frames: dict[str, pd.DataFrame], meta: dict) -> None:
    """put(), in a forked child when the background is on and the platform forks. The
    child sees the frames as they are now (copy-on-write), whatever the run does next;
    it is atomic like put(), so a child killed with its run leaves no entry."""
    put_all_later(root, [(name, frames, meta)])


def put_all_later(root: Path, entries: list[tuple[str, dict[str, pd.DataFrame], dict]]) -> None:
    """put() of each (name, frames, meta), one after the other in one forked child (see
    put_later()) at a lower priority (:data:`WRITER_NICENESS`); here, in this process,
    when the background is off."""
    if not entries:
        return
    pid = None
    if background():
        before_fork()
        try:
            pid = os.fork()
        except OSError:
            pid = None
    if pid is None:
        for name, frames, meta in entries:
            put(root, name, frames, meta)
        return
    if pid == 0:  # the child: write, then leave without running the parent's exit code
        code = 1
        try:
            _yield_cpu()
            code = 0 if all([put(root, *entry) for entry in entries]) else 1
        finally:
            os._exit(code)
    _writers.append(pid)


#: the writer child's niceness: the run's own processes (the report's month worker, the
#: rules) go first on a busy machine, and the writer takes the time they leave (the
#: workbook's write, the end of the run). A store's cold runs, alternating with the
#: child at normal priority (5-6 pairs each): report 3.82 -> 3.67 s, churn 3.52 -> 3.40 s,
#: due 3.33 -> 3.23 s
WRITER_NICENESS = 10


def _yield_cpu() -> None:
    try:
        os.nice(WRITER_NICENESS)
    except (AttributeError, OSError):  # not on this platform, or not allowed
        pass


def put_in_thread(root: Path, name: str, frames: dict[str, pd.DataFrame], meta: dict) -> None:
    """put(), in a thread of this process when the background is on (else here): for a
    dataset too big to fork a writer for (its text values' reference counts would copy
    their pages into the child). The thread writes shallow copies of the frames: with
    pandas' copy-on-write, what the run changes in them afterwards is copied first.
    pyarrow encodes, compresses and writes without the GIL, so that part runs beside the
    rules on the other core. :func:`before_fork` waits for it: a process forked while it
    holds a lock (pyarrow's memory pool, say) could hang on that lock."""
    if not background():
        put(root, name, frames, meta)
        return
    import threading

    copies = {k: f.copy(deep=False) for k, f in frames.items()}
    thread = threading.Thread(target=put, args=(root, name, copies, meta),
                              name="aftercare-cache-writer", daemon=False)
    thread.start()
    _threads.append(thread)


def before_fork() -> None:
    """Wait for the writer threads (:func:`put_in_thread`): call before forking."""
    while _threads:
        _threads.pop().join()


def wait_writers() -> None:
    """Wait for the children put_later() started and the threads put_in_thread() started
    (the CLI calls this before exiting)."""
    before_fork()
    while _writers:
        pid = _writers.pop()
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass


_ENTRY = re.compile(r"[0-9a-f]{12}-[0-9a-f]{40}")
_TMP = re.compile(r"\.tmp-[0-9a-f]{12}-[0-9a-f]{40}-[0-9]+-[0-9a-f]{8}")


def _prune(root: Path, *, keep: str) -> None:
    """Remove stale entries. Only names this module makes are ever touched: a --cache-dir
    pointed at a folder holding other things loses none of them."""
    source = keep.split("-", 1)[0]
    now = time.time()
    for entry in root.iterdir():
        name = entry.name
        ours, tmp = _ENTRY.fullmatch(name), _TMP.fullmatch(name)
        if name == keep or not (ours or tmp):
            continue
        try:
            if not entry.is_dir() or entry.is_symlink():
                continue
            if tmp:  # a killed run's, or one being written right now
                stale = now - entry.stat().st_mtime > _TMP_MAX_AGE_S
            elif name.split("-", 1)[0] == source:
                stale = True  # an older version of the same file
            else:
                used = (entry / _MANIFEST).stat().st_mtime
                stale = now - used > MAX_AGE_DAYS * 86400
        except OSError:
            stale = bool(ours)  # an entry without a manifest: broken
        if stale:
            shutil.rmtree(entry, ignore_errors=True)


# ------------------------------------------------------------------ frames ↔ Parquet
class Uncacheable(Exception):
    """A value the codec cannot store exactly (the file is then not cached)."""


def _write_frame(frame: pd.DataFrame, path: Path) -> dict:
    import pyarrow as pa
    import pyarrow.parquet as pq

    names = [str(c) for c in frame.columns]
    if len(set(names)) != len(names) or _INDEX in names or \
            not all(isinstance(c, str) for c in frame.columns):
        raise Uncacheable("column names")
    index = frame.index
    if index.dtype.kind != "i" or index.nlevels != 1 or index.name is not None or (
            isinstance(index, pd.RangeIndex) and index.step != 1):
        raise Uncacheable("index")
    specs = [_spec(frame[name]) for name in names]
    columns = [[name, spec] for name, spec in zip(names, specs)]
    # written a chunk of rows at a time: at most two chunks' Arrow copies exist at once (a
    # dealer group's joined ROs are gigabytes). A thread encodes and compresses each
    # chunk (pyarrow does so without the GIL) while this one converts the next: a dealer
    # group's dataset entry took 12-16 s with the two one after the other
    index_values = index.to_numpy(dtype="int64")
    writer = None
    pending = None
    with ThreadPoolExecutor(1) as pool:
        try:
            for start in range(0, max(len(frame), 1), WRITE_CHUNK_ROWS):
                part = frame.iloc[start:start + WRITE_CHUNK_ROWS]
                arrays = [pa.array(index_values[start:start + WRITE_CHUNK_ROWS],
                                   type=pa.int64())]
                fields = [_INDEX]
                for name, spec in zip(names, specs):
                    for suffix, arr in _arrays(part[name], spec):
                        arrays.append(arr)
                        fields.append(name + suffix)
                table = pa.Table.from_arrays(arrays, names=fields)
                if writer is None:
                    writer = pq.ParquetWriter(path, table.schema, compression="snappy")
                if pending is not None:
                    pending.result()
                pending = pool.submit(writer.write_table, table.cast(writer.schema))
            if pending is not None:
                pending.result()
        finally:
            if pending is not None:
                pending.exception()  # wait for it (a failure here is already raised)
            if writer is not None:
                writer.close()
    return {"columns": columns, "columns_dtype": str(frame.columns.dtype),
            "index": "range" if isinstance(index, pd.RangeIndex) else "int64",
            "start": int(index.start) if isinstance(index, pd.RangeIndex) else 0}


def _read_frame(path: Path, spec: dict, keep: Sequence[str] | None = None) -> pd.DataFrame:
    """The frame stored at ``path`` as ``spec`` says; ``keep``: only these columns."""
    import pyarrow.parquet as pq

    read = None  # the Parquet columns to read: all
    if keep is not None:
        wanted = set(keep)
        spec = dict(spec, columns=[c for c in spec["columns"] if c[0] in wanted])
        read = [] if spec["index"] == "range" else [_INDEX]
        for name, col_spec in spec["columns"]:
            read += ([name + ":tag", name + ":text"] if col_spec["kind"] == "mixed"
                     else [name])
    # strings read dictionary-encoded: each distinct value becomes one Python str, shared
    text = [name + (":text" if col_spec["kind"] == "mixed" else "")
            for name, col_spec in spec["columns"]
            if col_spec["kind"] in ("str", "mixed") and col_spec.get("dict", True)]
    table = pq.read_table(path, columns=read, read_dictionary=text)
    data = {}
    for name, col_spec in spec["columns"]:
        data[name] = _decode(table, name, col_spec)
    if spec["index"] == "range":
        index = pd.RangeIndex(spec["start"], spec["start"] + table.num_rows)
    else:
        index = pd.Index(table.column(_INDEX).to_numpy(), dtype="int64")
    columns = pd.Index(list(data), dtype=spec["columns_dtype"])
    out = pd.DataFrame(dict(enumerate(data.values())), copy=False)  # positional
    if not len(out.columns):
        out = pd.DataFrame(index=range(table.num_rows))
    out.index = index
    out.columns = columns
    return out


# One column → Parquet columns + a spec saying how to rebuild it exactly.
#  {"kind": "str"}          object column: str or None
#  {"kind": "mixed"}        object column of any other values: a type tag + their text
#  {"kind": "dtype", ...}   any other dtype, rebuilt with that dtype
_TAGS = ["none", "str", "float", "int", "bool", "datetime", "timestamp", "date", "time",
         "timedelta", "pd_timedelta", "nat", "na", "np_float64", "np_int64", "np_bool"]
_TAG = {t: i for i, t in enumerate(_TAGS)}


def _spec(s: pd.Series) -> dict:
    """How a column is stored, decided on the whole column."""
    from aftercare.frames import all_str_or_none

    if s.dtype == object:
        values = s.to_numpy(dtype=object)
        kind = "str" if all_str_or_none(values) else "mixed"
        return {"kind": kind, "dict": _repeats(values)}
    dtype = s.dtype
    if isinstance(dtype, pd.StringDtype):
        return {"kind": "string", "storage": dtype.storage,
                "na": "nan" if dtype.na_value is not pd.NA else "NA"}
    if isinstance(dtype, (pd.BooleanDtype, pd.Int64Dtype, pd.Float64Dtype)):
        return {"kind": "dtype", "dtype": str(dtype)}
    if isinstance(dtype, np.dtype) and dtype.kind in "biufmM":  # numpy: Arrow keeps units
        return {"kind": "dtype", "dtype": str(dtype)}
    raise Uncacheable(str(dtype))


def _arrays(s: pd.Series, spec: dict) -> list:
    """(name suffix, Arrow array) for (a chunk of) a column stored as ``spec`` says."""
    import pyarrow as pa

    from aftercare.frames import arrow_text

    kind = spec["kind"]
    if kind == "str":
        return [("", pa.array(s.to_numpy(dtype=object), type=pa.string()))]
    if kind == "mixed":
        tags, texts = _tag_values(s.to_numpy(dtype=object))
        return [(":tag", pa.array(tags, type=pa.int8())),
                (":text", pa.array(texts, type=pa.string()))]
    if kind == "string":
        arrow = arrow_text(s)
        if arrow is not None:  # Arrow already: no Python strs
            return [("", arrow.cast(pa.string()))]
        return [("", pa.array(s.to_numpy(dtype=object, na_value=None), type=pa.string()))]
    if isinstance(s.dtype, np.dtype):
        return [("", pa.array(s.to_numpy()))]
    return [("", pa.array(s.array, from_pandas=True))]


def _encode(s: pd.Series):
    spec = _spec(s)
    return _arrays(s, spec), spec


def _repeats(values: np.ndarray, sample: int = 10_000) -> bool:
    """Whether a text column repeats its values (then it is read dictionary-encoded, each
    distinct text one shared str): judged on its first rows. RO numbers do not repeat:
    building a dictionary of them on reading only costs time. Judged on the whole column
    instead, a dealer group's RO VINs (0.9M distinct in 7M rows) were read as
    dictionaries, and reading them took 3.2 s instead of 0.9 s: each Parquet row group
    has its own dictionary, which repeats hardly any VIN within it."""
    head = values[:sample]
    try:
        return len(pd.unique(head)) <= 0.5 * len(head)
    except TypeError:  # unhashable values: no dictionary
        return False


def _decode(table, name: str, spec: dict) -> pd.Series:
    kind = spec["kind"]
    if kind == "str":
        return pd.Series(_strings(table.column(name)), dtype=object, copy=False)
    if kind == "mixed":
        tags = table.column(name + ":tag").to_numpy()
        texts = _strings(table.column(name + ":text"))
        return pd.Series(_untag(tags, texts), dtype=object)
    col = table.column(name)
    if kind == "string":
        dtype = pd.StringDtype(spec["storage"], na_value=np.nan if spec["na"] == "nan"
                               else pd.NA)
        return pd.Series(dtype.__from_arrow__(col), dtype=dtype)  # no Python strs
    dtype = pd.api.types.pandas_dtype(spec["dtype"])
    if hasattr(dtype, "__from_arrow__"):
        return pd.Series(dtype.__from_arrow__(col), dtype=dtype)
    return pd.Series(col.to_numpy(), dtype=dtype, copy=False)


def _strings(col) -> np.ndarray:
    """A (dictionary-encoded) string column as an object array of str/None."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not pa.types.is_dictionary(col.type):
        return col.to_numpy(zero_copy_only=False).astype(object, copy=False)
    parts = []
    for chunk in col.chunks:
        values = np.empty(len(chunk.dictionary) + 1, dtype=object)
        values[:-1] = chunk.dictionary.to_numpy(zero_copy_only=False)
        values[-1] = None
        parts.append(values[pc.fill_null(chunk.indices, len(values) - 1).to_numpy()])
    if not parts:
        return np.empty(0, dtype=object)
    return np.concatenate(parts) if len(parts) > 1 else parts[0]


def _tag_values(values: np.ndarray):
    tags = np.empty(len(values), dtype=np.int8)
    texts: list = [None] * len(values)
    for i, v in enumerate(values):
        t = type(v)
        if v is None:
            tags[i] = _TAG["none"]
        elif t is str:
            tags[i], texts[i] = _TAG["str"], v
        elif t is float:
            tags[i], texts[i] = _TAG["float"], repr(v)
        elif t is bool:
            tags[i], texts[i] = _TAG["bool"], "1" if v else "0"
        elif t is int:
            tags[i], texts[i] = _TAG["int"], str(v)
        elif t is pd.Timestamp and v.tzinfo is None:
            tags[i], texts[i] = _TAG["timestamp"], str(v.value)
        elif t is dt.datetime and v.tzinfo is None:
            tags[i], texts[i] = _TAG["datetime"], v.isoformat()
        elif t is dt.date:
            tags[i], texts[i] = _TAG["date"], v.isoformat()
        elif t is dt.time and v.tzinfo is None:
            tags[i], texts[i] = _TAG["time"], v.isoformat()
        elif t is dt.timedelta:
            tags[i], texts[i] = _TAG["timedelta"], f"{v.days},{v.seconds},{v.microseconds}"
        elif t is pd.Timedelta:
            tags[i], texts[i] = _TAG["pd_timedelta"], str(v.value)
        elif v is pd.NaT:
            tags[i] = _TAG["nat"]
        elif v is pd.NA:
            tags[i] = _TAG["na"]
        elif t is np.float64:
            tags[i], texts[i] = _TAG["np_float64"], repr(float(v))
        elif t is np.int64:
            tags[i], texts[i] = _TAG["np_int64"], str(int(v))
        elif t is np.bool_:
            tags[i], texts[i] = _TAG["np_bool"], "1" if v else "0"
        else:
            raise Uncacheable(t.__name__)
    return tags, texts


def _untag(tags: np.ndarray, texts: np.ndarray) -> np.ndarray:
    out = np.empty(len(tags), dtype=object)
    out[:] = None
    conv = {
        "str": lambda x: x,
        "float": float,
        "int": int,
        "bool": lambda x: x == "1",
        "datetime": dt.datetime.fromisoformat,
        "timestamp": lambda x: pd.Timestamp(int(x)),
        "date": dt.date.fromisoformat,
        "time": dt.time.fromisoformat,
        "timedelta": lambda x: dt.timedelta(*map(int, x.split(","))),
        "pd_timedelta": lambda x: pd.Timedelta(int(x)),
        "nat": lambda x: pd.NaT,
        "na": lambda x: pd.NA,
        "np_float64": lambda x: np.float64(float(x)),
        "np_int64": lambda x: np.int64(int(x)),
        "np_bool": lambda x: np.bool_(x == "1"),
    }
    for tag in np.unique(tags):
        name = _TAGS[int(tag)]
        if name == "none":
            continue
        rows = np.flatnonzero(tags == tag)
        fn = conv[name]
        if name == "str":
            out[rows] = texts[rows]
        else:
            vals = [fn(x) for x in texts[rows]]
            for r, v in zip(rows, vals):
                out[r] = v
    return out
