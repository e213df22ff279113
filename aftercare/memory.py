"""Give freed memory back to the operating system.

glibc's malloc keeps the memory of freed objects for reuse instead of returning it:
after loading a dealer group's exports (millions of Python strings made and dropped on
the way) a process held 8.3 GB of which 2.3 GB were free, and dropping the RO columns the
report never reads freed another 2 GB that the process kept. ``malloc_trim(0)`` returns
such free pages. Called after the big frees (end of loading, the report's slimming,
between the report's months), it keeps the peak resident size, which is what a machine's
memory limit sees, near what is actually in use.

On other C libraries (macOS, musl, Windows) this does nothing.
"""

from __future__ import annotations

import ctypes
import sys

_trim = None
_looked = False


def _malloc_trim():
    global _trim, _looked
    if not _looked:
        _looked = True
        if sys.platform.startswith("linux"):
            try:
                libc = ctypes.CDLL("libc.so.6")  # glibc's soname; musl has none such
                fn = libc.malloc_trim  # glibc only
                fn.argtypes, fn.restype = [ctypes.c_size_t], ctypes.c_int
                _trim = fn
            except (OSError, AttributeError):
                _trim = None
    return _trim


def release() -> bool:
    """Return free heap memory to the OS; True when glibc's malloc_trim ran."""
    fn = _malloc_trim()
    if fn is None:
        return False
    fn(0)
    return True
