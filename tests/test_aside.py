"""tower.aside: a heavy batch job runs in a child process at the lowest CPU priority, so the app
server's screens keep the CPU; its result or its error comes back to the caller."""
from __future__ import annotations

import os

import pytest

from tower import aside


def test_the_job_runs_in_another_process_at_the_lowest_priority():
    assert aside.run(os.getpid) != os.getpid()
    assert aside.run(os.nice, 0) == aside.LOWEST   # os.nice(0) returns the child's niceness
    assert os.nice(0) < aside.LOWEST               # and ours is untouched


def test_the_result_and_the_error_come_back():
    assert aside.run(divmod, 17, 5) == (3, 2)
    with pytest.raises(ZeroDivisionError):
        aside.run(divmod, 1, 0)


def test_a_child_that_dies_is_a_clear_error_not_a_hang():
    with pytest.raises(aside.AsideFailed, match="_exit ended with code 3"):
        aside.run(os._exit, 3)
