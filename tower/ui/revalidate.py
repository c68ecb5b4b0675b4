"""Stale-while-revalidate for screens that refresh on their own.

A cached result is keyed on the data version and the quantised `now` (tower.ui.context), so with
connectors committing every few seconds every refresh of a wall screen asks for a key nobody has
computed yet. At the reference scale (issue 15) twenty screens then queue behind the same
recomputation of the board while the next commit already makes it old, and the server saturates.

Here a refresh that the screen does on its own (a live fragment's timer, tower.ui.context.live) is
answered at once with the newest result computed for the same *shape* — the same query or KPI, the
same filters, the same window relative to `now` — if that result is at most MAX_STALE_S old, and the
exact result it asked for is computed by one background thread; the next refresh shows it. So the
board is computed once per round however many screens show it, never by a screen's own refresh,
and a wall screen's numbers are at most one round of computation behind the live ones (past
MAX_STALE_S the screen computes for itself, as before). A full run a viewer starts — a first visit,
a changed filter, every AppTest run — never takes a stale result; a kiosk's own rotation to its next
page may (tower.ui.context.context)."""
from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Hashable

from tower import foreground

log = logging.getLogger("tower.ui")

MAX_STALE_S = 30.0   # a wall screen never shows a result computed longer ago than this
MAX_SHAPES = 600     # one result per shape (query × filters × relative window), least recently used out
IDLE_EXIT_S = 10.0   # the worker ends after this long with nothing wanted; the next stale answer restarts it


def freeze(params: dict, as_of: datetime | None = None) -> tuple:
    """`params` as a hashable key. With `as_of`, moments become offsets from it and `now` itself is
    dropped, so a rolling window ("the last 24 h") has the same shape in every quantum while a fixed
    one (an event's start and end) does not: `fixed_shape` is its shape."""
    out = []
    for name, value in sorted(params.items()):
        if as_of is not None and isinstance(value, datetime):
            if name == "now":
                continue
            value = ("offset", value - as_of)
        elif isinstance(value, (list, set)):
            value = tuple(value)
        elif not isinstance(value, Hashable):
            value = repr(value)
        out.append((name, value))
    return tuple(out)


def fixed_shape(params: dict) -> tuple:
    """The shape of a board over a fixed window (the running event's start and end): `params`
    without `now`, moments as they are. The war room's default window is the event, and the quantum
    is as long as a wall screen's refresh at 60x, so without this every refresh found a new shape
    and computed the board in the foreground, twenty screens queueing behind one computation."""
    return freeze({name: value for name, value in params.items() if name != "now"})


@dataclass
class _Result:
    exact: Hashable
    value: object
    started: float  # monotonic time its computation started: how old the numbers are


class Revalidator:
    """The newest result per shape, and one thread computing the exact results screens asked for."""

    def __init__(self, max_stale_s: float = MAX_STALE_S, max_shapes: int = MAX_SHAPES,
                 idle_exit_s: float = IDLE_EXIT_S):
        self.max_stale_s, self.max_shapes, self.idle_exit_s = max_stale_s, max_shapes, idle_exit_s
        self._latest: OrderedDict[Hashable, _Result] = OrderedDict()
        self._wanted: dict[Hashable, tuple[Hashable, Callable[[], object]]] = {}
        self._lock = threading.Lock()
        self._work = threading.Condition(self._lock)
        self._worker: threading.Thread | None = None
        self._busy = False
        self.served_stale = 0  # refreshes answered with an older result (tests, bench)

    def get(self, shape: Hashable, exact: Hashable, compute: Callable[[], object],
            background: Callable[[], object], *, stale_ok: bool, aliases: tuple = ()) -> object:
        """The result for `exact`: `compute()` here (through Streamlit's cache, so a full run behaves
        exactly as without this class), or, with `stale_ok`, the exact result the background made,
        else the newest one of `shape` (or of one of its `aliases`: other keys the same board may
        have, see fixed_shape) if it is at most max_stale_s old while `background()` (the same
        computation without Streamlit, which needs a script thread) makes the exact one."""
        keys = (shape, *[a for a in aliases if a != shape])
        with self._lock:
            found = [(key, hit) for key in keys if stale_ok and (hit := self._latest.get(key)) is not None]
            for key, hit in found:
                if hit.exact == exact:
                    self._latest.move_to_end(key)
                    return hit.value
            hit = max((h for _, h in found), key=lambda h: h.started, default=None)
            if hit is not None and time.monotonic() - hit.started <= self.max_stale_s:
                for older, (_, _, its_keys) in list(self._wanted.items()):
                    if set(its_keys) & set(keys):  # a newer request of a board replaces an older one
                        del self._wanted[older]
                self._wanted[shape] = (exact, background, keys)
                self._start_worker()
                self._work.notify_all()
                self.served_stale += 1
                return hit.value
        started = time.monotonic()
        value = compute()
        self._remember(keys, exact, value, started)
        return value

    def clear(self) -> None:
        with self._lock:
            self._latest.clear()
            self._wanted.clear()

    def wait_idle(self, timeout_s: float = 30.0) -> bool:
        """Wait until nothing is computing or wanted (before closing a database it reads)."""
        deadline = time.monotonic() + timeout_s
        with self._lock:
            while self._wanted or self._busy:
                if not self._work.wait(max(0.0, deadline - time.monotonic())):
                    return False
        return True

    def _remember(self, keys: tuple, exact, value, started: float) -> None:
        with self._lock:
            for key in keys:
                hit = self._latest.get(key)
                if hit is not None and hit.started > started:
                    continue  # a newer computation of this shape already landed
                self._latest[key] = _Result(exact, value, started)
                self._latest.move_to_end(key)
            while len(self._latest) > self.max_shapes:
                self._latest.popitem(last=False)

    def _start_worker(self) -> None:
        if self._worker is None or not self._worker.is_alive():
            self._worker = threading.Thread(target=self._run, name="tower-revalidate", daemon=True)
            self._worker.start()

    def _run(self) -> None:
        while True:
            with self._lock:
                self._busy = False
                self._work.notify_all()
                while not self._wanted:
                    if not self._work.wait(self.idle_exit_s) and not self._wanted:
                        self._worker = None  # under the lock, so _start_worker sees it gone
                        return
                shape = next(iter(self._wanted))
                exact, compute, keys = self._wanted.pop(shape)
                hit = self._latest.get(shape)
                if hit is not None and hit.exact == exact:
                    continue  # asked again while it was being computed: it has landed since
                self._busy = True
            foreground.shared.wait_quiet()  # the screens it computes for draw first
            started = time.monotonic()
            try:
                value = compute()
            except Exception as e:  # noqa: BLE001 - the screen keeps the older result until it is
                # max_stale_s old, then computes for itself and shows the error as any page does
                log.warning("background refresh failed: %s", e)
                continue
            self._remember(keys, exact, value, started)


shared = Revalidator()  # one per server process: every session's screens share it
