"""aftercare.memory.release: freed heap pages go back to the OS (glibc)."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from aftercare import memory


def _rss() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * 4096


@pytest.mark.skipif(not sys.platform.startswith("linux") or memory._malloc_trim() is None,
                    reason="glibc's malloc_trim only")
def test_release_returns_freed_heap_memory():
    """300 MB of 1 MB buffers, freed below a buffer still in use, stay resident (glibc
    keeps them for reuse once freeing a 16 MB mmapped buffer has raised its mmap
    threshold) until release() hands them back."""
    big = np.ones(16 << 20, dtype=np.uint8)
    del big
    blocks = [np.ones(1 << 20, dtype=np.uint8) for _ in range(300)]
    pin = np.ones(1 << 20, dtype=np.uint8)  # the heap's top stays in use
    del blocks
    held = _rss()
    assert memory.release() is True
    assert _rss() < held - (200 << 20)
    assert pin.sum() == 1 << 20


def test_release_is_harmless_anywhere(monkeypatch):
    monkeypatch.setattr(memory, "_trim", None)
    monkeypatch.setattr(memory, "_looked", True)
    assert memory.release() is False


_MALLINFO = """
import ctypes, json, sys
class MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd",
                "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]
libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = MallInfo2
from aftercare import memory
tuned = memory.keep_freed_memory() if sys.argv[1] == "tune" else None
before = libc.mallinfo2().hblkhd
buf = ctypes.create_string_buffer(64 << 20)  # one 64 MB malloc
during = libc.mallinfo2().hblkhd
del buf
print(json.dumps({"tuned": tuned, "mmapped": during - before}))
"""


def _glibc_mallinfo2() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        ctypes.CDLL("libc.so.6").mallinfo2  # noqa: B018 - glibc 2.33+
    except (OSError, AttributeError):
        return False
    return True


def _large_malloc(mode: str, env: dict | None = None) -> dict:
    import json
    import os
    import subprocess

    clean = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    out = subprocess.run([sys.executable, "-c", _MALLINFO, mode], env={**clean, **(env or {})},
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


@pytest.mark.skipif(not _glibc_mallinfo2(), reason="glibc 2.33+ only (mallinfo2)")
def test_keep_freed_memory_serves_large_blocks_from_the_heap():
    """Untuned, glibc maps a 64 MB block on its own (unmapped again when freed); after
    keep_freed_memory() it comes from the heap, where freed memory is kept for reuse."""
    assert _large_malloc("plain")["mmapped"] >= 64 << 20
    tuned = _large_malloc("tune")
    assert tuned == {"tuned": True, "mmapped": 0}


@pytest.mark.skipif(not _glibc_mallinfo2(), reason="glibc 2.33+ only (mallinfo2)")
def test_keep_freed_memory_leaves_a_users_malloc_tuning_alone():
    out = _large_malloc("tune", {"MALLOC_TRIM_THRESHOLD_": "131072"})
    assert out["tuned"] is False
    assert out["mmapped"] >= 64 << 20


def test_keep_freed_memory_is_harmless_anywhere(monkeypatch):
    monkeypatch.setattr(memory, "_mallopt", None)
    monkeypatch.setattr(memory, "_opt_looked", True)
    for name in memory.MALLOC_ENV:
        monkeypatch.delenv(name, raising=False)
    assert memory.keep_freed_memory() is False


def test_the_console_script_keeps_freed_memory():
    """cli.main() tunes malloc before the run (it then leaves by os._exit, so it is run in
    a child process)."""
    import subprocess

    code = ("import sys; from aftercare import memory\n"
            "memory.keep_freed_memory = lambda: print('kept', flush=True) or True\n"
            "sys.argv = ['aftercare', '--help']\n"
            "from aftercare.cli import main; main()")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0] == "kept"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc only")
def test_resident_and_available_memory_are_read():
    """resident_bytes() follows this process's memory; available_bytes() is the
    machine's, at most its total."""
    before = memory.resident_bytes()
    block = np.ones(200 << 20, dtype=np.uint8)  # 200 MB, touched
    after = memory.resident_bytes()
    assert before is not None and after - before >= 150 << 20
    del block
    with open("/proc/meminfo") as fh:
        total = int(fh.readline().split()[1]) * 1024  # MemTotal: the first line
    avail = memory.available_bytes()
    assert 0 < avail <= total


def test_room_for_a_copy_compares_available_with_resident_memory(monkeypatch):
    monkeypatch.setattr(memory, "resident_bytes", lambda: 8 << 30)
    monkeypatch.setattr(memory, "available_bytes", lambda: 10 << 30)
    assert memory.room_for_a_copy() is True
    monkeypatch.setattr(memory, "available_bytes", lambda: 6 << 30)
    assert memory.room_for_a_copy() is False
    monkeypatch.setattr(memory, "available_bytes", lambda: None)  # not Linux: not short
    assert memory.room_for_a_copy() is True
