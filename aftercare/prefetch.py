"""Run a sequence of generators ahead in a background thread.

The workbook writer builds each sheet's row XML with Arrow kernels and compresses it with
zlib; both release the GIL, so building the next pieces while the calling thread
compresses the last ones uses the machine's second core (a store's `churn` workbook: about
a million cells). At most ``depth`` pieces wait in between, so memory stays bounded
whatever the sheets' size.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence

_END = object()


class Prefetch:
    """``Prefetch(sources)``: ``sources[i]()`` gives the i-th generator; :meth:`items`
    yields its items in order, while a thread is already producing the next ones.

    The generators are consumed strictly in order (``items(0)`` to the end, then
    ``items(1)`` …). An exception raised by a generator is raised again by
    :meth:`items` in the calling thread. :meth:`close` (also on leaving a ``with``
    block) stops the thread, also when the caller gave up half-way (disk full)."""

    def __init__(self, sources: Sequence[Callable[[], Iterable]], depth: int = 4):
        self._queue: queue.Queue = queue.Queue(max(1, depth))
        self._stop = threading.Event()
        self._next = 0
        self._thread = threading.Thread(target=self._run, args=(list(sources),),
                                        name="aftercare-prefetch", daemon=True)
        self._thread.start()

    def _run(self, sources) -> None:
        try:
            for i, source in enumerate(sources):
                for item in source():
                    if not self._put((i, item)):
                        return
                if not self._put((i, _END)):
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            self._put((None, exc))

    def _put(self, entry) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(entry, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def items(self, i: int) -> Iterator:
        """The items of generator ``i`` (the next one not yet consumed)."""
        if i != self._next:
            raise ValueError(f"generator {i} asked for, {self._next} is next")
        while True:
            j, item = self._queue.get()
            if j is None:
                self._next = -1
                raise item
            if item is _END:
                self._next = i + 1
                return
            yield item

    def close(self) -> None:
        self._stop.set()
        self._thread.join()

    def __enter__(self) -> "Prefetch":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
