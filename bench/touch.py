"""What memory costs on this machine the first time a process writes to it.

    python bench/touch.py [GB ...]

For each size (default 0.25, 2 and 6 GB) it fills a fresh numpy array of that many bytes
twice in this process: the first pass takes the pages from the kernel (page faults), the
second writes the same pages again. Prints seconds per GB of each pass and the kernel's
minor page-fault count.

Why it matters (bench/README.md, "Memory is time here"): on the virtual machines this
project is measured on, a page the guest kernel has not used lately is first backed by
the host when it is written, and the freed memory of one process goes back to the host
soon after, so every run pays for the memory it touches. Measured 2026-12-04: 1.1-2.3 s
per GB on the first pass against 0.04-0.14 s per GB on the second; a cold store `due`
made 323k minor page faults (~1.2 GB, ~1.1 s of kernel time) against the floor's 74k.
Nothing is asserted: this describes the machine, not aftercare.
"""

from __future__ import annotations

import resource
import sys
import time

import numpy as np


def _faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def touch(gb: float) -> tuple[float, float, int]:
    """(first pass s/GB, second pass s/GB, page faults of the first pass)."""
    n = int(gb * 1e9)
    before = _faults()
    start = time.perf_counter()
    a = np.empty(n, dtype=np.uint8)
    a.fill(1)
    first = time.perf_counter() - start
    faults = _faults() - before
    start = time.perf_counter()
    a.fill(2)
    second = time.perf_counter() - start
    del a
    return first / gb, second / gb, faults


def main(argv: list[str]) -> int:
    sizes = [float(x) for x in argv] or [0.25, 2.0, 6.0]
    print("GB\tfirst s/GB\tagain s/GB\tpage faults")
    for gb in sizes:
        first, again, faults = touch(gb)
        print(f"{gb:g}\t{first:.3f}\t{again:.3f}\t{faults}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
