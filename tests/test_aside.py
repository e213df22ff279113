"""aftercare.aside: work in a forked child, its marks, its result and its errors."""

import os
import signal

import pytest

from aftercare import aside
from aftercare.errors import FilledLogError, OutputError
from aftercare.load import cache


@pytest.fixture
def background():
    cache.set_background(True)
    try:
        yield
    finally:
        cache.set_background(False)


def test_off_without_the_clis_switch():
    assert not aside.enabled()
    assert aside.start(lambda mark: 1) is None


def test_result_and_marks_come_from_a_child(background):
    def work(mark):
        mark("half")
        return {"pid": os.getpid(), "rows": [1, 2, 3]}

    a = aside.start(work)
    assert a is not None
    a.wait("half")
    a.wait("half")  # a mark once passed stays passed
    out = a.result()
    assert out["rows"] == [1, 2, 3] and out["pid"] != os.getpid()


def test_our_errors_arrive_whole_before_a_mark(background):
    def refuse(mark):
        raise FilledLogError("log-2026-12-甲.xlsx: filled in")

    a = aside.start(refuse)
    with pytest.raises(FilledLogError, match="log-2026-12-甲.xlsx") as info:
        a.wait("guarded")
    assert info.value.exit_code == FilledLogError.exit_code


def test_other_errors_name_their_type_only(background):
    def fail(mark):
        mark("guarded")
        raise ValueError("13812345678 张三")  # a message that could quote a customer

    a = aside.start(fail)
    a.wait("guarded")
    with pytest.raises(OutputError) as info:
        a.result()
    assert "ValueError" in str(info.value) and "138" not in str(info.value)


def test_a_child_that_dies_is_an_error(background):
    def die(mark):
        os.kill(os.getpid(), signal.SIGKILL)

    a = aside.start(die)
    with pytest.raises(OutputError):
        a.wait("guarded")


def test_a_large_result_crosses_the_pipe(background):
    a = aside.start(lambda mark: "x" * (3 << 20))
    assert len(a.result()) == 3 << 20


def test_close_reaps_a_child_whose_result_is_not_taken(background):
    """A caller that fails before taking the result closes the child: it is left to
    finish, then reaped (no zombie), whatever it ended with."""
    def work(mark):
        mark("guarded")
        raise ValueError("never seen")

    a = aside.start(work)
    pid = a._pid
    a.close()
    a.close()  # twice is harmless
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # already reaped
