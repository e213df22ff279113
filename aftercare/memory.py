"""Give freed memory back to the operating system.

glibc's malloc keeps the memory of freed objects for reuse instead of returning it:
after loading a dealer group's exports (millions of Python strings made and dropped on
the way) a process held 8.3 GB of which 2.3 GB were free, and dropping the RO columns the
report never reads freed another 2 GB that the process kept. ``malloc_trim(0)`` returns
such free pages. Called after the big frees (end of loading, the report's slimming), it
keeps the peak resident size, which is what a machine's memory limit sees, near what is
actually in use. Not between the report's months: each month's context reuses the last
one's memory (aftercare.rules.kpis.KpiInputs.context).

The console script also asks malloc to keep what is freed (:func:`keep_freed_memory`):
by default glibc gives every allocation above 32 MB its own ``mmap`` and unmaps it when
freed, so each of a dealer group's many large temporaries (a column of 7M ROs is 56 MB)
came back as fresh pages, each page zeroed by the kernel on first touch. A warm group
`report` spent 86 of its 197 s in the kernel that way.

On other C libraries (macOS, musl, Windows) this does nothing.

:func:`room_for_a_copy` tells whether the machine could hold a second copy of this
process (Linux's MemAvailable against its resident memory): `report` forks its month
worker only then.
"""

from __future__ import annotations

import ctypes
import os
import sys

_trim = None
_looked = False
_mallopt = None
_opt_looked = False

# glibc's mallopt(3) parameters
M_TRIM_THRESHOLD = -1
M_MMAP_MAX = -4
#: the free memory at the heap's top that malloc keeps instead of returning it (the most
#: mallopt takes: an int); release() still returns it all at the points that call it
KEEP_TOP_BYTES = 2**31 - 1
#: a user's own glibc tuning in the environment wins over keep_freed_memory()
MALLOC_ENV = ("MALLOC_MMAP_MAX_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_",
              "MALLOC_TOP_PAD_")


def _glibc(name: str, argtypes: list):
    """``name`` from glibc with ``argtypes`` returning int, or None elsewhere."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL("libc.so.6")  # glibc's soname; musl has none such
        fn = getattr(libc, name)  # malloc_trim, mallopt: glibc only
    except (OSError, AttributeError):
        return None
    fn.argtypes, fn.restype = argtypes, ctypes.c_int
    return fn


def _malloc_trim():
    global _trim, _looked
    if not _looked:
        _looked = True
        _trim = _glibc("malloc_trim", [ctypes.c_size_t])
    return _trim


def keep_freed_memory() -> bool:
    """Serve large allocations from malloc's heap and keep freed memory there for reuse
    (glibc: ``mallopt(M_MMAP_MAX, 0)`` and a 2 GB ``M_TRIM_THRESHOLD``); True when set.

    A large block freed in one step is then reused by the next step's allocations
    instead of being unmapped and faulted in anew. A dealer group's warm `report` with
    these settings (given through the environment): 197 s → 156 s wall, 86 s → 44 s in
    the kernel, peak RSS 8.9 → 9.3 GB; warm `due`, runs alternating on a slow host:
    95 → 69 s and 102 → 88 s (a first pair: 65 → 84 s). :func:`release` still hands free
    memory back where the runs call it (after loading, after the report's slimming),
    which is what bounds the peak: without those calls the report peaked at 11.4 GB.

    Called by the console script (``cli.main``) only, before anything is loaded, so its
    forked workers inherit it; library callers keep their malloc as it is. Nothing is
    changed when the environment already tunes malloc (:data:`MALLOC_ENV`) or the C
    library is not glibc."""
    global _mallopt, _opt_looked
    if any(name in os.environ for name in MALLOC_ENV):
        return False
    if not _opt_looked:
        _opt_looked = True
        _mallopt = _glibc("mallopt", [ctypes.c_int, ctypes.c_int])
    if _mallopt is None:
        return False
    # mallopt returns 1 on success; the trim threshold first: setting it also stops
    # glibc from moving its mmap threshold, which no longer matters once mmap is off
    return bool(_mallopt(M_TRIM_THRESHOLD, KEEP_TOP_BYTES)) and bool(_mallopt(M_MMAP_MAX, 0))


def release() -> bool:
    """Return free heap memory to the OS; True when glibc's malloc_trim ran."""
    fn = _malloc_trim()
    if fn is None:
        return False
    fn(0)
    return True


def available_bytes() -> int | None:
    """The machine's available memory (Linux's MemAvailable: free memory plus what the
    kernel can reclaim without swapping), or None where that is not known."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def resident_bytes() -> int | None:
    """This process's resident memory (Linux: /proc/self/statm), or None."""
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def room_for_a_copy() -> bool:
    """Whether the machine could hold a second copy of this process: its available
    memory is at least this process's resident memory. A forked worker shares the
    parent's pages until either writes to them, so a copy is the most it can add beyond
    its own allocations. True where either figure is unknown (then nothing is known to
    be short)."""
    avail, rss = available_bytes(), resident_bytes()
    return avail is None or rss is None or avail >= rss
