"""Where one aftercare run spends its time: wall time and memory of chosen steps.

    python bench/steps.py STEPS -- <aftercare arguments>

STEPS is a comma-separated list of ``module:function`` to time, e.g.

    python bench/steps.py aftercare.load:load_folder,aftercare.load:_combine,\
aftercare.load:_store_dataset,aftercare.commands.due:build,aftercare.writer:write_workbook \
-- due --month 2026-12 --data bench/data/store-1/xlsx --out /tmp/o --as-of 2026-11-20 --quiet

Each call of a listed function prints (on stderr, after the run) when it started (seconds
since this script started), how long it took, the process's resident memory after it and
the peak so far, and the CPU time this process (all its threads) spent meanwhile, in user
space and in the kernel; worker processes' CPU time is counted once they have exited, in
the closing line. Like the console script, it asks malloc to keep freed memory
(aftercare.memory.keep_freed_memory). Functions are wrapped where they are defined, so a
step is seen only when its callers look it up at call time (``module.function`` or an
import inside a function); a name bound by ``from module import function`` at import time
keeps the unwrapped one. Work done in the loader's worker processes shows as the time the
main process waits.
Nothing is asserted: this is a reading aid for profiles (bench/README.md).
"""

from __future__ import annotations

import functools
import importlib
import os
import resource
import sys
import time

T0 = time.perf_counter()


def _rss_gb() -> float:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * resource.getpagesize() / 1e9
    except OSError:
        return float("nan")


def _wrap(marks: list, target: str) -> None:
    modname, _, fname = target.partition(":")
    module = importlib.import_module(modname)
    original = getattr(module, fname)

    @functools.wraps(original)
    def timed(*args, **kwargs):
        start, cpu = time.perf_counter(), os.times()
        try:
            return original(*args, **kwargs)
        finally:
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6  # KB → GB
            now = os.times()
            marks.append((target, start - T0, time.perf_counter() - start, _rss_gb(), peak,
                          now.user - cpu.user, now.system - cpu.system))

    setattr(module, fname, timed)


def main(argv: list[str]) -> int:
    if "--" not in argv or argv.index("--") != 1:
        print(__doc__, file=sys.stderr)
        return 2
    steps, args = argv[0], argv[2:]
    marks: list = []
    for target in filter(None, steps.split(",")):
        _wrap(marks, target)
    from aftercare import memory
    from aftercare.cli import run

    memory.keep_freed_memory()  # as the console script (cli.main) does before its run
    code = run(args)
    t = os.times()
    print(f"cpu: user {t.user:.1f} s, system {t.system:.1f} s (this process); "
          f"children user {t.children_user:.1f} s, system {t.children_system:.1f} s",
          file=sys.stderr)
    print(f"total {time.perf_counter() - T0:.2f} s, exit {code}", file=sys.stderr)
    for name, start, took, rss, peak, user, system in sorted(marks, key=lambda m: m[1]):
        print(f"  {name:45s} start {start:7.2f}  took {took:7.2f}  "
              f"rss after {rss:5.2f} GB  peak {peak:5.2f} GB  "
              f"cpu user {user:6.2f}  system {system:6.2f}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
