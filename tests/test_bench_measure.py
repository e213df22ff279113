"""bench/run.py's measurement of one run: the memory a run takes counts its forked
workers too (bench/README.md, "What is measured")."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _bench_run():
    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "bench" / "run.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["bench_run"] = mod  # dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


# A parent and a forked child each touch 300 MB of their own and hold it for a second and
# a half: one process's peak RSS sees 300 MB, the machine's anonymous memory ~600 MB.
_TWO_PROCESSES = """
import os, time
def hold():
    b = bytearray(300 * 1024 * 1024)
    b[::4096] = b"x" * len(range(0, len(b), 4096))
    time.sleep(1.5)
    return b
pid = os.fork()
hold()
if pid:
    os.waitpid(pid, 0)
else:
    os._exit(0)
"""


@pytest.mark.skipif(not os.path.exists("/proc/meminfo") or not hasattr(os, "fork"),
                    reason="needs Linux's /proc/meminfo and fork")
def test_used_memory_counts_forked_workers():
    run = _bench_run().measure([sys.executable, "-c", _TWO_PROCESSES], dict(os.environ),
                               timeout=60, max_rss_mb=10_000)
    assert run.rc == 0, run.err
    # ru_maxrss: one process (Linux carries the RSS a child had before exec over into
    # it, i.e. the forking parent's: under pytest that is the test process's size)
    assert run.rss_mb >= 280
    assert run.used_mb >= 500  # both, from the machine's AnonPages


def test_the_results_table_has_a_used_memory_column():
    bench = _bench_run()
    r = bench.Row("due", "warm", runs=[bench.Run(1.0, 0.9, 0.1, 400.0, 0, used_mb=700.0)])
    cells = bench.table_rows([r], input_rows=1000)[0]
    assert cells[bench.HEAD.index("peak RSS MB")] == "400"
    assert cells[bench.HEAD.index("peak used MB")] == "700"
    header, rule = bench.markdown_table([cells]).splitlines()[:2]
    assert header.count("|") == rule.count("|") == len(bench.HEAD) + 1


def test_the_group_memory_target_is_judged_on_the_larger_measure():
    bench = _bench_run()
    rows = [bench.Row("due", "warm",
                      runs=[bench.Run(30.0, 25.0, 5.0, 9_000.0, 0, used_mb=13_000.0)])]
    bench.judge(rows, "group")
    assert "≤ 12 GB: MISSED" in rows[0].target
    rows[0].runs[0].used_mb = 11_000.0
    rows[0].target = ""
    bench.judge(rows, "group")
    assert "≤ 12 GB: met" in rows[0].target
