"""Atomic file replacement: write a dot-prefixed temp file in the target's folder, fsync,
then rename over the target. A crash or kill leaves the old file or the new one, never a
half-written one. Files get the process's umask, like any other file the user creates."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Callable, Iterator

from aftercare.errors import OutputError

TEMP_SUFFIX = ".tmp"


def _umask() -> int:
    try:  # Linux: read it without the racy set-and-restore
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync_dir(folder: Path) -> None:
    """Make the rename durable; best effort (not every file system allows it)."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(target: Path | str) -> Iterator[Path]:
    """Yield a temp path beside ``target``; on success it replaces ``target``."""
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.{os.getpid()}.", suffix=TEMP_SUFFIX,
                                   dir=target.parent)
        os.close(fd)
    except OSError as exc:
        raise OutputError(f"无法写入 {target.parent}: {exc.strerror or exc} (cannot write)") from None
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp_path, 0o666 & ~_umask())
        os.replace(tmp_path, target)
        _fsync_dir(target.parent)
    except OSError as exc:
        _unlink(tmp_path)
        raise OutputError(f"{target}: 无法写入输出文件 ({exc.strerror or type(exc).__name__})") from None
    except BaseException:
        _unlink(tmp_path)
        raise


def _unlink(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()


def atomic_write(target: Path | str, write: Callable[[Path], None]) -> Path:
    """Call ``write(temp_path)`` and move the result onto ``target`` atomically."""
    with atomic_path(target) as tmp:
        write(tmp)
    return Path(target)


def atomic_write_text(target: Path | str, text: str, encoding: str = "utf-8") -> Path:
    return atomic_write(target, lambda p: p.write_text(text, encoding=encoding))
