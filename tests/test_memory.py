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
