"""Run a heavy batch computation aside: in a child process at the lowest CPU priority.

The app server is one Python process serving every screen. A batch job inside it (the twin's forecast
refit costs minutes of CPU at the reference scale) competes with the screens as an equal: for the GIL,
and for the two cores. In a child process at nice 19 the kernel gives the job only the CPU the
server leaves idle, and the server's memory does not keep the job's working set afterwards.

The child is a fresh `python -m tower.aside` reading the pickled call on stdin, not a
multiprocessing child: those re-import the parent's `__main__`, which inside Streamlit is the page
script being run (it would draw the app in the child). The job may be named ("package.module:function")
instead of passed: the child imports it, the asking process never does (the forecast model's
libraries cost the server ~100 MB it would hold for nothing)."""
from __future__ import annotations

import importlib
import os
import pickle
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable, TypeVar

T = TypeVar("T")
LOWEST = 19  # Linux niceness: runs only when nothing else wants the CPU
ROOT = Path(__file__).resolve().parents[1]
PARENT_ENV = "TOWER_ASIDE_PARENT"  # the pid the child serves (its parent when it started)


class AsideFailed(RuntimeError):
    """The child died without an answer (killed, out of memory, an unpicklable result)."""


def run(fn: Callable[..., T] | str, *args, **kwargs) -> T:
    """`fn(*args, **kwargs)` in a fresh low-priority child process: its result, or its exception
    raised here. `fn` and its arguments must be picklable (a module-level function, DataFrames);
    `fn` may be a name, "package.module:function", imported only in the child."""
    child = subprocess.run([sys.executable, "-m", "tower.aside"], input=pickle.dumps((fn, args, kwargs)),
                           capture_output=True, cwd=ROOT, check=False,
                           env={**os.environ, PARENT_ENV: str(os.getpid())})
    try:
        ok, value = pickle.loads(child.stdout)
    except Exception as e:  # noqa: BLE001 - no answer at all: say how the child ended
        tail = child.stderr.decode(errors="replace").strip().splitlines()[-1:] or [""]
        raise AsideFailed(f"{getattr(fn, '__name__', fn)} ended with code {child.returncode}: {tail[0]}") from e
    if ok:
        return value
    raise value


def _end_with_parent(parent: int, every_s: float = 1.0) -> None:
    """Exit as soon as the process that asked is gone: an app server stopped or killed mid-refit
    left its child fitting on for up to an hour of CPU at the reference scale, with nobody to
    read the answer (found after soak runs)."""
    while os.getppid() == parent:
        time.sleep(every_s)
    os._exit(1)


def _child() -> None:
    os.nice(LOWEST)
    parent = int(os.environ.get(PARENT_ENV, os.getppid()))
    threading.Thread(target=_end_with_parent, args=(parent,), daemon=True).start()
    answer, sys.stdout = sys.stdout.buffer, sys.stderr  # a library's print must not corrupt the answer
    fn, args, kwargs = pickle.loads(sys.stdin.buffer.read())
    try:
        if isinstance(fn, str):
            module, _, name = fn.partition(":")
            fn = getattr(importlib.import_module(module), name)
        result = (True, fn(*args, **kwargs))
    except Exception as e:  # noqa: BLE001 - handed back to the caller, which raises it
        result = (False, e)
    answer.write(pickle.dumps(result))
    answer.flush()


if __name__ == "__main__":
    _child()
