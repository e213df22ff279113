"""aftercare.prefetch: generators run ahead in a thread, consumed in order."""

from __future__ import annotations

import time

import pytest

from aftercare.prefetch import Prefetch


def test_items_in_order_and_complete():
    sources = [lambda k=k: (f"{k}-{i}" for i in range(k * 3)) for k in range(4)]
    with Prefetch(sources, depth=2) as pre:
        got = [list(pre.items(k)) for k in range(4)]
    assert got == [[f"{k}-{i}" for i in range(k * 3)] for k in range(4)]


def test_out_of_order_is_refused():
    with Prefetch([lambda: iter([1]), lambda: iter([2])]) as pre:
        with pytest.raises(ValueError):
            list(pre.items(1))
        assert list(pre.items(0)) == [1]
        assert list(pre.items(1)) == [2]


def test_error_in_a_generator_reaches_the_consumer():
    def bad():
        yield b"a"
        raise KeyError("boom")

    with Prefetch([bad]) as pre:
        it = pre.items(0)
        assert next(it) == b"a"
        with pytest.raises(KeyError, match="boom"):
            next(it)


def test_runs_ahead_but_bounded():
    """The thread produces while nobody consumes, but no more than ``depth`` items wait."""
    made = []

    def source():
        for i in range(100):
            made.append(i)
            yield i

    with Prefetch([source], depth=3) as pre:
        deadline = time.monotonic() + 5
        while len(made) < 4 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.1)
        assert 3 <= len(made) <= 4  # 3 queued + 1 waiting to be put
        assert list(pre.items(0)) == list(range(100))


def test_close_stops_a_producer_the_consumer_gave_up_on():
    def endless():
        i = 0
        while True:
            yield i
            i += 1

    pre = Prefetch([endless], depth=2)
    it = pre.items(0)
    assert [next(it), next(it)] == [0, 1]
    pre.close()  # returns: the thread saw the stop
    assert not pre._thread.is_alive()
