"""tower.malloc: the app server caps glibc's malloc arenas before it starts a thread (its RSS with
twenty screens at the reference scale was ~250 MB lower with two: bench/README.md)."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Sixteen threads allocate at once, then glibc's malloc_info says how many arenas ("heaps") exist.
SCRIPT = r"""
import ctypes, os, sys, tempfile, threading
sys.path.insert(0, sys.argv[2])
from tower import malloc
if sys.argv[1] == "capped":
    assert malloc.cap_arenas()
libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
libc.fopen.restype, libc.fopen.argtypes = ctypes.c_void_p, [ctypes.c_char_p, ctypes.c_char_p]
libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
libc.fclose.argtypes = [ctypes.c_void_p]
together = threading.Barrier(16)

def allocate():
    together.wait()
    blocks = [libc.malloc(4096) for _ in range(100)]
    together.wait()  # every thread holds its blocks at the same moment
    for b in blocks:
        libc.free(b)

threads = [threading.Thread(target=allocate) for _ in range(16)]
for t in threads:
    t.start()
for t in threads:
    t.join()
path = os.path.join(tempfile.mkdtemp(), "malloc.xml")
out = libc.fopen(path.encode(), b"w")
libc.malloc_info(0, out)
libc.fclose(out)
print(open(path).read().count("<heap nr="))
"""


def arenas(mode: str) -> int:
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    done = subprocess.run([sys.executable, "-c", SCRIPT, mode, str(ROOT)], capture_output=True, text=True,
                          timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    return int(done.stdout.strip())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator")
def test_the_servers_threads_share_two_malloc_arenas_instead_of_one_each():
    assert arenas("default") > 4  # without the cap, threads allocating together get arenas of their own
    assert arenas("capped") <= 2
