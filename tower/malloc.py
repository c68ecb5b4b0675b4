"""glibc's malloc arenas, capped for the app server.

glibc gives threads that allocate at the same time arenas of their own, up to eight per core, and
memory freed into one arena is not reused by the others. The app server runs a script thread per
screen plus the connectors', alerts' and cache's threads: with twenty screens at the reference
scale its RSS peaked ~250 MB higher than with two arenas, and kept growing (bench/README.md,
"Server memory"). `MALLOC_ARENA_MAX=2` in the environment does the same, but only if it is there
before the process starts; `mallopt` does it from inside, before the server starts any thread."""
from __future__ import annotations

import ctypes
import os

M_ARENA_MAX = -8  # glibc's malloc.h
ARENAS = 2


def cap_arenas(arenas: int = ARENAS) -> bool:
    """Let at most `arenas` malloc arenas exist from now on. Leaves an operator's own
    MALLOC_ARENA_MAX alone; False (and nothing done) where the C library is not glibc."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return False
    try:
        return bool(ctypes.CDLL("libc.so.6").mallopt(M_ARENA_MAX, arenas))
    except (OSError, AttributeError):  # not glibc (macOS, musl): their allocators differ
        return False
