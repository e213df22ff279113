"""The output folder's lock (05-operations.md): one run at a time writes a folder.

``.aftercare.lock`` holds the holder's pid, host and start time. A second run exits 3 at
once naming them. A lock whose pid no longer runs on this host (a crashed or killed run)
is stale: it is taken over and reported.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import socket
import sys
from pathlib import Path

from aftercare.errors import LockHeldError, OutputError

LOCK_NAME = ".aftercare.lock"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except OSError:
        return False
    return True


def _read(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


@contextlib.contextmanager
def output_lock(folder: Path, command: str, *, warn=None):
    """Hold the folder's lock for the duration of the block."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{folder}: 无法创建输出文件夹 ({exc.strerror or exc})") from None
    path = folder / LOCK_NAME
    me = {"pid": os.getpid(), "host": socket.gethostname(), "command": command,
          "started": dt.datetime.now().isoformat(timespec="seconds")}
    for attempt in range(2):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            other = _read(path)
            pid = other.get("pid")
            same_host = other.get("host", me["host"]) == me["host"]
            if isinstance(pid, int) and (not same_host or _alive(pid)) and attempt == 0:
                raise LockHeldError(
                    f"另一个 aftercare 正在写入 {folder} (pid {pid}, {other.get('command', '?')}, "
                    f"开始于 {other.get('started', '?')})。请等它结束后再运行；"
                    f"如果确定它已不在运行，删除 {path} (another run holds the lock)"
                ) from None
            if attempt == 0:
                (warn or _stderr)(
                    f"注意: 发现过期的锁 {path} (pid {pid}, 开始于 {other.get('started', '?')})，"
                    f"该进程已不存在，已接管 (stale lock taken over)")
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                continue
            raise LockHeldError(f"无法获得锁 {path} (lock contended)") from None
        except OSError as exc:
            raise OutputError(f"{folder}: 无法写入输出文件夹 ({exc.strerror or exc})") from None
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(me, fh)
        break
    clean_stale_temp_files(folder)
    try:
        yield path
    finally:
        if _read(path).get("pid") == me["pid"]:
            with contextlib.suppress(OSError):
                path.unlink()


def clean_stale_temp_files(folder: Path) -> int:
    """Remove the temp files of runs that were killed mid-write (``.<name>.<pid>.<x>.tmp``,
    see aftercare.atomic) whose process is gone; under the lock no live run of ours can
    be writing them. Returns how many were removed."""
    removed = 0
    for tmp in Path(folder).glob(".*.tmp"):
        parts = tmp.name.split(".")
        pid = parts[-3] if len(parts) >= 5 else ""
        if not pid.isdigit() or _alive(int(pid)):
            continue
        with contextlib.suppress(OSError):
            tmp.unlink()
            removed += 1
    return removed


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)
