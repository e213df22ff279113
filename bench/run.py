#!/usr/bin/env python3
"""Time aftercare's commands as whole processes on synthetic DMS exports, next to the floor.

The floor is a process that merely reads the same files (bench/floor.py). See bench/README.md.

    python bench/run.py [--size store|group|N] [--seed 1] [--runs 5]
                        [--commands check,due,churn,report] [--formats ...]

The data is generated once into bench/data/<size>-<seed>/<format>/ (git-ignored) and reused while
bench/generate.py is unchanged. Each run: wall seconds (median, min, max over --runs
runs after one untimed warm-up run) and peak RSS (ru_maxrss from os.wait4). "cold" runs
get an empty cache directory each; "warm" runs (when the command has --cache-dir) reuse
one that a first untimed run filled. Results are printed and written to bench/results.md,
replacing the section of that size.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from importlib import metadata, util
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
DATA = BENCH / "data"
RESULTS = BENCH / "results.md"
MANIFEST = ".bench-manifest.json"
AS_OF = "2026-11-20"
COMMANDS = {  # extra options per command (`check` writes nothing: no --out)
    "check": [],
    "due": ["--month", "2026-12"],
    "churn": [],
    "report": ["--month", "2026-10"],
}
WRITES = {"due", "churn", "report"}
# 05-operations.md, "Speed"
TARGETS = {
    "store": {"cold_x_floor": 2.0, "warm_s": {"due": 2.0, "churn": 2.0, "report": 5.0}},
    "group": {"wall_s": 60.0, "rss_mb": 12 * 1024},
}
PACKAGES = ["aftercare", "pandas", "numpy", "python-calamine", "openpyxl", "pyarrow"]

sys.path.insert(0, str(BENCH))
import generate  # noqa: E402  (bench/generate.py: sizes, formats, version)


# ------------------------------------------------------------------------- measuring
@dataclass
class Run:
    wall: float
    user: float
    sys: float
    rss_mb: float
    rc: int
    err: str = ""
    killed: str = ""
    used_mb: float = 0.0  # the largest rise of the machine's AnonPages during the run


def _proc_kb(path: str, key: str) -> int | None:
    """The kB figure of ``key`` ("VmRSS", "AnonPages" …) in a /proc file, or None."""
    try:
        with open(path) as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _rss_kb(pid: int) -> int:
    return _proc_kb(f"/proc/{pid}/status", "VmRSS") or 0


def _anon_kb() -> int | None:
    """The machine's anonymous memory, all processes (AnonPages; None without /proc)."""
    return _proc_kb("/proc/meminfo", "AnonPages")


def measure(argv: list[str], env: dict, timeout: float, max_rss_mb: float) -> Run:
    """Run one process; wall time around it, CPU and peak RSS from os.wait4. A watchdog
    kills it (its whole session) after `timeout` s or above `max_rss_mb` of RSS.

    ru_maxrss is one process's peak: the loader's parse workers, the report's month
    worker and the cache writers are forked children that run alongside it, sharing
    pages copy-on-write, so the sum of their RSS would count shared pages twice. What
    the run takes from the machine is measured instead as the largest rise of the
    machine's anonymous memory (/proc/meminfo's AnonPages: the memory processes
    allocate, a page shared by forked processes counted once) above its value before
    the start, polled with the watchdog every 0.25 s (a shorter peak can be missed). It
    counts every process of the run, and anything else the machine does meanwhile: look
    at the load average. (Not MemFree or MemAvailable: on this VM they drift by tens of
    MB a second while a process's memory stands still.)"""
    with tempfile.TemporaryFile() as err:
        killed = []
        used = [0]
        base = _anon_kb()
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=env,
            start_new_session=True,
        )
        done = threading.Event()

        def watchdog():
            while not done.wait(0.25):
                if base is not None:
                    used[0] = max(used[0], (_anon_kb() or base) - base)
                reason = ""
                if time.perf_counter() - t0 > timeout:
                    reason = f"timeout after {timeout:g} s"
                elif _rss_kb(proc.pid) > max_rss_mb * 1024:
                    reason = f"RSS above {max_rss_mb / 1024:.1f} GB"
                if reason:
                    killed.append(reason)
                    try:
                        os.killpg(proc.pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                    return

        th = threading.Thread(target=watchdog, daemon=True)
        th.start()
        _, status, ru = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        done.set()
        th.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        text = err.read().decode("utf-8", "replace").strip()
    return Run(
        wall,
        ru.ru_utime,
        ru.ru_stime,
        ru.ru_maxrss / 1024,
        proc.returncode,
        text.splitlines()[-1][:200] if text else "",
        killed[0] if killed else "",
        used[0] / 1024,
    )


@dataclass
class Row:
    label: str
    mode: str = ""
    runs: list[Run] = field(default_factory=list)
    status: str = "ok"
    target: str = ""
    floor_walls: list[float] = field(default_factory=list)  # floor runs, one before each run

    @property
    def walls(self) -> list[float]:
        return [r.wall for r in self.runs]

    def floor_median(self, floor: "Row | None") -> float | None:
        """The floor this row is compared with: the floor runs interleaved with its own
        runs when there are any (this host's speed drifts by a third within minutes, so a
        floor timed minutes earlier misjudges a 2× target), else the floor row's."""
        if self.floor_walls:
            return statistics.median(self.floor_walls)
        return floor.median if floor is not None and floor.runs else None

    @property
    def median(self) -> float:
        return statistics.median(self.walls) if self.runs else float("nan")


# ----------------------------------------------------------------------------- data
def folders_for(size: str, seed: int, formats: list[str]) -> dict[str, Path]:
    """One folder per format (``bench/data/<size>-<seed>/<format>``), whatever else is
    asked for in the same run: asking for csv alone finds the csv made with parquet."""
    base = DATA / f"{size}-{seed}"
    return {f: base / f for f in formats}


def load_manifest(folder: Path) -> dict | None:
    try:
        return json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def ensure_data(
    size: str, seed: int, formats: list[str], regen: bool, jobs: int
) -> tuple[dict, str]:
    """{format: (folder, manifest)} for the formats that could be made, and a note on the
    generation (time and peak memory, or 'reused')."""
    folders = folders_for(size, seed, formats)
    pyarrow = util.find_spec("pyarrow") is not None
    wanted = [f for f in formats if f != "parquet" or pyarrow]
    version = generate.generator_version()

    def fresh(f):
        m = load_manifest(folders[f])
        return (
            m is not None
            and m.get("version") == version
            and m.get("seed") == seed
            and m.get("size") == size
        )

    notes = []
    for f in wanted:
        if not regen and fresh(f):
            notes.append(f"{f} reused (generated in {load_manifest(folders[f]).get('seconds')} s)")
            continue
        if folders[f].exists():
            shutil.rmtree(folders[f])
        print(f"generating {size} (seed {seed}, {f}) into {folders[f]} …", flush=True)
        argv = [sys.executable, str(BENCH / "generate.py"), "--size", size, "--seed", str(seed),
                "--out", str(folders[f]), "--formats", f, "--jobs", str(jobs)]
        r = measure(argv, dict(os.environ), timeout=3600, max_rss_mb=_mem_total_mb() * 0.8)
        if r.rc != 0:
            raise SystemExit(f"bench/generate.py failed (exit {r.rc}): {r.killed or r.err}")
        notes.append(f"{f} generated in {r.wall:.1f} s, peak RSS {r.rss_mb:,.0f} MB")
    note = "; ".join(notes)
    if "parquet" in formats and not pyarrow:
        note += "; parquet skipped (pyarrow is not importable)"
    return {f: (folders[f], load_manifest(folders[f])) for f in wanted}, note


# ------------------------------------------------------------------------- commands
def aftercare_exe(given: str | None) -> str:
    if given:
        return given
    local = Path(sys.executable).parent / "aftercare"
    if local.exists():
        return str(local)
    found = shutil.which("aftercare")
    if not found:
        raise SystemExit("aftercare is not installed (make install), or pass --aftercare PATH")
    return found


def probe(exe: str, cmd: str, env: dict) -> set[str] | None:
    """The options `aftercare <cmd> --help` lists, or None when there is no such command."""
    p = subprocess.run([exe, cmd, "--help"], capture_output=True, text=True, env=env, timeout=120)
    out = p.stdout + p.stderr
    if p.returncode != 0 and "No such command" in out:
        return None
    return set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", out))


def not_implemented(r: Run) -> bool:
    return r.rc == 2 and "No such command" in r.err


def command_argv(
    exe: str, cmd: str, data: Path, out: Path, cache: Path | None, options: set[str]
) -> list[str]:
    """`aftercare <cmd> --data DIR [--out TMP] --as-of … [--month …] --quiet [--cache-dir C]`,
    leaving out what the command's --help does not list (e.g. `report` takes its cutoff
    from --month and has no --as-of)."""
    argv = [exe, cmd, "--data", str(data)]
    if cmd in WRITES or (cmd not in COMMANDS and "--out" in options):
        argv += ["--out", str(out)]
    extra = ["--as-of", AS_OF, *COMMANDS.get(cmd, [])]
    for opt, val in zip(extra[::2], extra[1::2]):
        if opt in options:
            argv += [opt, val]
    if "--quiet" in options:
        argv.append("--quiet")
    if cache is not None:
        argv += ["--cache-dir", str(cache)]
    return argv


def bench_folder(exe: str, fmt: str, folder: Path, manifest: dict, a, size_key: str) -> list[Row]:
    rows: list[Row] = []
    base_env = dict(os.environ)
    base_env.pop("AFTERCARE_CONFIG", None)
    # as on a user's machine, where pip compiled the bytecode (or the first cron run did):
    # the warm-up run writes it; without this, a shell that sets the variable (this
    # sandbox does) makes every timed run compile aftercare's modules again (~0.1 s)
    base_env.pop("PYTHONDONTWRITEBYTECODE", None)
    tmp_root = Path(tempfile.mkdtemp(prefix="aftercare-bench-"))
    try:

        def env_with(cache: Path) -> dict:
            e = dict(base_env)
            e["XDG_CACHE_HOME"] = str(cache)  # the default cache dir lives under it
            return e

        def floor_argv(out, cache):
            return [sys.executable, str(BENCH / "floor.py"), str(folder)]

        def timed(argv_for, label: str, mode: str, runs: int, warmup: int, same_cache: bool,
                  interleave: Row | None = None) -> Row:
            """``interleave``: the floor row; a floor run is timed right before each timed
            run (ABAB), and the row is compared with those."""
            row = Row(label, mode)
            shared = tmp_root / f"cache-{label}-{mode}"
            for i in range(warmup + runs):
                cache = shared if same_cache else tmp_root / f"cache-{label}-{mode}-{i}"
                out = tmp_root / f"out-{label}-{mode}-{i}"
                cache.mkdir(parents=True, exist_ok=True)
                if interleave is not None and i >= warmup:
                    f = measure(floor_argv(out, cache), env_with(cache), a.timeout,
                                a.max_rss_gb * 1024)
                    if f.rc == 0 and not f.killed:
                        row.floor_walls.append(f.wall)
                        interleave.runs.append(f)
                        print(f"  floor   (before {label} {mode} run {i + 1 - warmup}): "
                              f"{f.wall:6.2f} s", flush=True)
                r = measure(argv_for(out, cache), env_with(cache), a.timeout, a.max_rss_gb * 1024)
                if out.exists():
                    shutil.rmtree(out, ignore_errors=True)
                if not same_cache:
                    shutil.rmtree(cache, ignore_errors=True)
                if not_implemented(r):
                    row.status = "not implemented"
                    return row
                if r.killed or r.rc != 0:
                    row.status = (
                        f"failed: {r.killed}" if r.killed else f"failed (exit {r.rc}): {r.err}"
                    )
                    if i >= warmup:
                        row.runs.append(r)
                    return row
                if i >= warmup:
                    row.runs.append(r)
                print(
                    f"  {label:<7} {mode:<5} run {i + 1 - warmup if i >= warmup else 'warm-up'}: "
                    f"{r.wall:6.2f} s, {r.rss_mb:7,.0f} MB",
                    flush=True,
                )
            return row

        floor = timed(
            floor_argv,
            "floor",
            "",
            a.runs,
            a.warmup,
            False,
        )
        rows.append(floor)
        for cmd in a.commands:
            options = probe(exe, cmd, env_with(tmp_root))
            if options is None:
                rows.append(Row(cmd, "", status="not implemented"))
                print(f"  {cmd:<7} not implemented", flush=True)
                continue
            has_cache = "--cache-dir" in options

            def cold_argv(out, cache, cmd=cmd, o=options, c=has_cache):
                return command_argv(exe, cmd, folder, out, cache if c else None, o)

            def warm_argv(out, cache, cmd=cmd, o=options):
                return command_argv(exe, cmd, folder, out, cache, o)

            cold = timed(cold_argv, cmd, "cold", a.runs, a.warmup, same_cache=False,
                         interleave=floor)
            rows.append(cold)
            if "warm" in a.cache and cold.status == "ok":
                if has_cache:
                    rows.append(timed(warm_argv, cmd, "warm", a.runs, 1, same_cache=True))
                else:
                    rows.append(Row(cmd, "warm", status="n/a: no --cache-dir option yet"))
    finally:
        shutil.rmtree(tmp_root, ignore_errors=True)
    judge(rows, size_key)
    return rows


def judge(rows: list[Row], size_key: str) -> None:
    """Fill the target column from 05-operations.md."""
    t = TARGETS.get(size_key)
    floor = next((r for r in rows if r.label == "floor" and r.runs), None)
    for r in rows:
        if not r.runs or r.status != "ok" or r.label == "floor" or not t:
            continue
        if size_key == "store":
            if r.mode == "cold" and r.label in ("due", "churn", "report") and floor:
                lim = t["cold_x_floor"] * r.floor_median(floor)
                r.target = f"≤ {t['cold_x_floor']:g}× floor: " + (
                    "met" if r.median <= lim else "MISSED"
                )
            elif r.mode == "warm" and r.label in t["warm_s"]:
                lim = t["warm_s"][r.label]
                r.target = f"≤ {lim:g} s: " + ("met" if r.median <= lim else "MISSED")
        elif size_key == "group":
            peak = max(max(x.rss_mb, x.used_mb) for x in r.runs)
            r.target = (f"≤ {t['wall_s']:g} s: " + ("met" if r.median <= t["wall_s"] else "MISSED")
                        + "; ≤ 12 GB: " + ("met" if peak <= t["rss_mb"] else "MISSED"))


# --------------------------------------------------------------------------- report
HEAD = [
    "command",
    "cache",
    "runs",
    "median s",
    "min s",
    "max s",
    "peak RSS MB",
    "peak used MB",
    "rows/s",
    "× floor",
    "target",
    "status",
]


def table_rows(rows: list[Row], input_rows: int) -> list[list[str]]:
    floor = next((r for r in rows if r.label == "floor" and r.runs), None)
    out = []
    for r in rows:
        if r.runs and r.status != "ok":  # killed or failed: no rates
            cells = [
                r.label,
                r.mode or "-",
                str(len(r.runs)),
                f"{r.median:.2f}",
                f"{min(r.walls):.2f}",
                f"{max(r.walls):.2f}",
                f"{max(x.rss_mb for x in r.runs):,.0f}",
                f"{max(x.used_mb for x in r.runs):,.0f}",
                "-",
                "-",
                "-",
                r.status,
            ]
        elif r.runs:
            med = r.median
            cells = [
                r.label,
                r.mode or "-",
                str(len(r.runs)),
                f"{med:.2f}",
                f"{min(r.walls):.2f}",
                f"{max(r.walls):.2f}",
                f"{max(x.rss_mb for x in r.runs):,.0f}",
                f"{max(x.used_mb for x in r.runs):,.0f}",
                f"{input_rows / med:,.0f}" if med > 0 else "-",
                f"{med / r.floor_median(floor):.2f}"
                if floor and r is not floor
                else ("1.00" if r is floor else "-"),
                r.target or "-",
                r.status,
            ]
        else:
            cells = [r.label, r.mode or "-", "0", "-", "-", "-", "-", "-", "-", "-", "-",
                     r.status]
        out.append(cells)
    return out


def print_table(title: str, cells: list[list[str]]) -> None:
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(HEAD)]
    print(f"\n{title}")
    print("  ".join(h.ljust(w) for h, w in zip(HEAD, widths)))
    print("  ".join("-" * w for w in widths))
    for c in cells:
        print("  ".join(x.ljust(w) for x, w in zip(c, widths)))


def markdown_table(cells: list[list[str]]) -> str:
    lines = [
        "| " + " | ".join(HEAD) + " |",
        "|" + "|".join("---" if h in ("command", "cache", "target", "status") else "---:"
                       for h in HEAD) + "|",
    ]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in cells]
    return "\n".join(lines)


def _mem_total_mb() -> float:
    total = _proc_kb("/proc/meminfo", "MemTotal")
    return total / 1024 if total is not None else 8192.0


def machine() -> list[str]:
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(
                (ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")), cpu
            )
    except OSError:
        pass
    try:
        nproc = len(os.sched_getaffinity(0))
    except AttributeError:
        nproc = os.cpu_count() or 1
    versions = []
    for pkg in PACKAGES:
        try:
            versions.append(f"{pkg} {metadata.version(pkg)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{pkg} not installed")
    return [
        (
            f"- machine: {nproc} CPUs (nproc), {_mem_total_mb() / 1024:.1f} GiB memory, "
            f"CPU {cpu}, {platform.system()} {platform.release()}"
        ),
        f"- Python {platform.python_version()}; " + ", ".join(versions),
        f"- date: {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}; "
        f"load average before the runs: {_loadavg()}",
    ]


def _loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def section_key(size: str) -> str:
    return size if size in generate.SIZES else f"{generate.parse_size(size)[1]} ROs"


def write_results(size: str, body: str) -> None:
    title = f"## {section_key(size)}"
    header = (
        "# Benchmark results\n\nWritten by `bench/run.py` (see `bench/README.md`); each `## size` "
        "section is replaced by the next run of that size.\n"
    )
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else header
    parts = re.split(r"(?m)^(?=## )", text)
    intro, sections = parts[0], parts[1:]
    new = f"{title}\n\n{body.rstrip()}\n\n"
    for i, s in enumerate(sections):
        if s.splitlines()[0].strip() == title:
            sections[i] = new
            break
    else:
        sections.append(new)
    RESULTS.write_text(
        intro.rstrip() + "\n\n" + "".join(sections).rstrip() + "\n", encoding="utf-8"
    )


# ----------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__,
    )
    p.add_argument(
        "--size", default="store", help="store | group | a number of ROs (default: store)"
    )
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--runs", type=int, default=5, help="timed runs per command (default: 5)")
    p.add_argument("--warmup", type=int, default=1, help="untimed runs first (default: 1)")
    p.add_argument("--commands", default="check,due,churn,report")
    p.add_argument(
        "--formats",
        default=None,
        help="data formats (default: store/N xlsx, i.e. the DMS layout; group csv,parquet)",
    )
    p.add_argument("--cache", default="cold,warm", help="cold, warm or both (default: cold,warm)")
    p.add_argument("--regen", action="store_true", help="generate the data again even if present")
    p.add_argument(
        "--aftercare", default=None, help="the aftercare executable (default: the venv's)"
    )
    p.add_argument(
        "--timeout", type=float, default=1800, help="seconds per run before it is killed"
    )
    p.add_argument(
        "--max-rss-gb",
        type=float,
        default=round(_mem_total_mb() * 0.8 / 1024, 1),
        help="kill a run above this RSS (default: 80%% of the memory)",
    )
    p.add_argument(
        "--jobs", type=int, default=min(2, os.cpu_count() or 1), help="generator processes"
    )
    p.add_argument("--no-results", action="store_true", help="do not write bench/results.md")
    a = p.parse_args(argv)
    generate.parse_size(a.size)  # validates
    a.commands = [c.strip() for c in a.commands.split(",") if c.strip()]
    a.cache = {c.strip() for c in a.cache.split(",")}
    formats = (
        [f.strip() for f in a.formats.split(",")]
        if a.formats
        else (["csv", "parquet"] if a.size == "group" else ["xlsx"])
    )
    exe = aftercare_exe(a.aftercare)

    data, note = ensure_data(a.size, a.seed, formats, a.regen, a.jobs)
    size_key = a.size if a.size in generate.SIZES else "N"
    body = machine()
    body.append(f"- data: `bench/generate.py --size {a.size} --seed {a.seed}`: {note}")
    body.append(
        f"- each command: `aftercare <cmd> --data DIR [--out TMP] --as-of {AS_OF} [--month …] "
        f"--quiet` "
        f"(options its --help does not list are left out), "
        f"{a.warmup} untimed warm-up run(s), then {a.runs} timed; cold = empty cache dir per run"
    )
    for fmt, (folder, m) in data.items():
        mb = sum(f["bytes"] for f in m["files"]) / 1e6
        title = (
            f"{a.size} / {fmt}: {m['vehicles']:,} vehicles, {m['customers']:,} customers, "
            f"{m['ros']:,} ROs; {len(m['files'])} files, {mb:,.1f} MB, "
            f"{m['input_rows']:,} input rows ({folder.relative_to(REPO)})"
        )
        print(f"\n{title}", flush=True)
        rows = bench_folder(exe, fmt, folder, m, a, size_key)
        cells = table_rows(rows, m["input_rows"])
        print_table(title, cells)
        files = ", ".join(f"`{f['file']}` {f['rows']:,}" for f in m["files"])
        body += [
            "",
            f"### {fmt}: {m['vehicles']:,} vehicles, {m['ros']:,} ROs, {mb:,.1f} MB",
            "",
            f"Files (data rows): {files}.",
            "",
            markdown_table(cells),
        ]
    body += [
        "",
        (
            "rows/s = input data rows of all files / median wall time; "
            "× floor = median / floor median, for cold runs against the floor runs timed "
            "right before each of them (floor and command alternate: this host's speed "
            "drifts within minutes), else against all floor runs; "
            "peak RSS = the largest ru_maxrss over the runs (one process: the largest of "
            "the run's processes); peak used = the largest rise of the machine's "
            "anonymous memory (AnonPages) during a run: all of the run's processes "
            "together, pages shared by forked workers counted once; polled every 0.25 s. "
            "The 12 GB target "
            "is judged on the larger of the two."
        ),
    ]
    print(f"\n{note}")
    if not a.no_results:
        write_results(a.size, "\n".join(body))
        print(f"results: {RESULTS.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
