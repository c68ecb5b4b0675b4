"""tower.aside: a heavy batch job runs in a child process at the lowest CPU priority, so the app
server's screens keep the CPU; its result or its error comes back to the caller."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

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


def test_a_named_job_is_imported_by_the_child_alone():
    """The app server hands the forecast fit over by name, so it never loads the model's libraries."""
    probe = ("import sys; from tower import aside; "
             "print(aside.run('statistics:median', [3, 1, 2]), 'statistics' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], cwd=aside.ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["2", "False"]


def test_a_child_that_dies_is_a_clear_error_not_a_hang():
    with pytest.raises(aside.AsideFailed, match="_exit ended with code 3"):
        aside.run(os._exit, 3)


def test_the_child_ends_when_the_process_that_asked_is_killed():
    """A server killed mid-refit must not leave its child fitting on for an hour with nobody to answer."""
    kids: list[int] = []
    asker = subprocess.Popen([sys.executable, "-c", "import time; from tower import aside; aside.run(time.sleep, 120)"],
                             cwd=aside.ROOT)
    try:
        deadline = time.time() + 30
        while not (kids := children(asker.pid)) and time.time() < deadline:
            time.sleep(0.1)
        assert kids, "the child never started"
        os.kill(asker.pid, signal.SIGKILL)
        asker.wait()
        deadline = time.time() + 10
        while alive(kids[0]) and time.time() < deadline:
            time.sleep(0.1)
        assert not alive(kids[0]), "the child outlived the process that asked"
    finally:
        asker.kill()
        for pid in kids:  # (without the fix it would sleep on for two minutes)
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def children(pid: int) -> list[int]:
    try:
        return [int(k) for k in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except OSError:
        return False
