"""Work done in a forked child while the run goes on: `due` writes the agents' contact
logs there while it builds and writes its own workbook (two chains of pure Python, each
on its own core; a dealer group's took 4.3 s and 6.3 s one after the other).

The child reports over a pipe: the marks it passes (:meth:`Aside.wait`, e.g. "the
filled-log guard passed, nothing is written yet") and at the end its result or its
error, which the parent raises as its own (the errors of :mod:`aftercare.errors` and
``OSError`` pickle whole; any other becomes an :class:`OutputError` naming its type
only: no cell value of a customer's reaches the message). A child that dies without a word is an error too.

Only the CLI turns this on (the same switch as the cache's background writers:
:func:`aftercare.load.cache.background`); library callers and tests calling the
commands' functions directly run everything in order, in their own process.
"""

from __future__ import annotations

import os
import pickle
import struct
from typing import Callable

from aftercare.errors import AftercareError, OutputError

_HEADER = struct.Struct("!Q")


def enabled() -> bool:
    """Whether :func:`start` forks (the CLI's background switch, and a platform that
    forks)."""
    from aftercare.load import cache

    return cache.background() and hasattr(os, "fork")


class Aside:
    """A forked child running ``fn(mark)``; see :func:`start`."""

    def __init__(self, pid: int, fd: int) -> None:
        self._pid, self._fd = pid, fd
        self._seen: set[str] = set()
        self._end: tuple | None = None  # ("result", value) or ("error", exc)

    def wait(self, mark: str) -> None:
        """Return once the child has passed ``mark``; raise its error if it ended (or
        died) without passing it."""
        while mark not in self._seen:
            if self._end is not None:
                self._finish()  # raises the child's error
                raise OutputError(f"后台任务未到达 {mark} 就结束了 (the worker ended early)")
            self._read()

    def result(self):
        """The child's result once it has ended; its error raised here."""
        while self._end is None:
            self._read()
        return self._finish()

    def close(self) -> None:
        """Let the child finish and reap it, whatever it ends with: for a caller that
        failed itself before taking the result (the child's own outcome is then moot)."""
        if not self._pid:
            return
        try:
            while self._end is None:
                self._read()
            self._finish()
        except BaseException:  # noqa: BLE001 - the caller's own error is the one to report
            pass

    def _finish(self):
        if self._pid:
            os.waitpid(self._pid, 0)
            os.close(self._fd)
            self._pid = 0
        kind, value = self._end
        if kind == "error":
            raise value
        return value

    def _read(self) -> None:
        head = _read_exactly(self._fd, _HEADER.size)
        body = None if head is None else _read_exactly(self._fd, _HEADER.unpack(head)[0])
        if body is None:  # the pipe closed without a last word: the child died
            self._end = ("error", OutputError(
                "后台写入进程意外退出 (the writer process died); 请重新运行"))
            return
        kind, value = pickle.loads(body)
        if kind == "mark":
            self._seen.add(value)
        else:
            self._end = (kind, value)


def start(fn: Callable[[Callable[[str], None]], object]) -> Aside | None:
    """Run ``fn(mark)`` in a forked child and return at once; ``fn`` calls ``mark(name)``
    at the points the parent may wait for. None when :func:`enabled` is off or the fork
    fails: the caller then does the work itself.

    Fork only where no other thread holds a lock the child could need: this waits for
    the cache's writer threads first (:func:`aftercare.load.cache.before_fork`)."""
    if not enabled():
        return None
    from aftercare.load import _die_with_parent, cache

    cache.before_fork()
    read_fd, write_fd = os.pipe()
    parent = os.getpid()
    try:
        pid = os.fork()
    except OSError:
        os.close(read_fd)
        os.close(write_fd)
        return None
    if pid == 0:  # the child: never returns into the caller's code
        code = 1
        try:
            os.close(read_fd)
            _die_with_parent(parent)

            def mark(name: str) -> None:
                _send(write_fd, ("mark", name))

            try:
                _send(write_fd, ("result", fn(mark)))
            except BaseException as exc:  # noqa: BLE001 - every error goes to the parent
                _send(write_fd, ("error", _portable(exc)))
            code = 0
        finally:
            os._exit(code)
    os.close(write_fd)
    return Aside(pid, read_fd)


def _portable(exc: BaseException) -> BaseException:
    """``exc`` as the parent can raise it: ours and the file system's (a path and a
    reason, as the CLI reports them) as they are; any other as an OutputError naming
    its type (its message may quote a cell)."""
    if isinstance(exc, (AftercareError, OSError)):
        try:
            pickle.loads(pickle.dumps(exc))
            return exc
        except Exception:  # noqa: BLE001
            pass
    return OutputError(f"写入联系记录时出错 (error while writing the contact logs): "
                       f"{type(exc).__name__}")


def _send(fd: int, message: tuple) -> None:
    body = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    data = memoryview(_HEADER.pack(len(body)) + body)
    while data:
        data = data[os.write(fd, data):]


def _read_exactly(fd: int, n: int) -> bytes | None:
    parts, left = [], n
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            return None
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)
