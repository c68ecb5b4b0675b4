"""Board cache benchmark (issue 15, "one computation for every screen"):

    python -m bench cache                  # ×1 sandbox data and a ×10 scaled copy
    python -m bench.bench_cache --factor 30 --screens 10 --cycles 3

N wall screens with the same filters (the live window, as kiosks run) refresh every 5 s at random
phases, each refresh running the Overview page's data path (war-room tiles, the sales-vs-forecast
trend, forecast by hour, SKUs at risk, in-transit mix, current event, source status) through
tower.ui.context — the same calls the page makes. Two keyings are compared on the same database:

- before: results keyed on `now` to the second (what the cache did before: a screen refreshing in
  another second recomputed everything);
- after:  keyed on the data version and `now` rounded up to the 5-wall-second quantum.

Figures:
- CPU-seconds per refresh cycle (all N screens refresh once): the screens' refreshes are replayed in
  time order on a virtual clock (no sleeping), so the figure is the CPU the server spends per 5 s.
- a new viewer's time to its first KPI tiles while the N screens refresh for real (threads, 5 s
  period): wall seconds from arrival to `kpi_tiles` returning, median of a few arrivals.

Data: `bench.dataset.sandbox_db` (×1) and `bench.dataset.scaled_db` (×factor). Nothing is written
while measuring, so the data version stays put (each committed sync costs one recomputation per
distinct filter set, whatever the number of screens)."""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

import streamlit as st

from bench.dataset import sandbox_db, scaled_db
from tower.db import Database
from tower.ui import filters as filters_mod
from tower.ui import frame
from tower.ui.context import Context, as_of

REFRESH_S = 5


def screen(db, now, keying: str) -> Context:
    """What context() builds for a kiosk screen on the live window at `now`."""
    state = filters_mod.ViewState(window="live", kiosk=True, refresh=REFRESH_S)
    at = as_of(now) if keying == "after" else now.replace(microsecond=0)
    return Context(db=db, now=now.replace(microsecond=0), filters=filters_mod.resolve(state, at),
                   lang="en", kiosk=True, refresh_s=REFRESH_S, state=state, tz="UTC", as_of=at)


def overview(ctx: Context) -> None:
    """The Overview page's data path (pages/overview.py), without drawing."""
    frame.kpi_tiles(ctx)
    ctx.query("ops/current_event")
    ctx.kpi("sales_vs_forecast", bucket="hour")
    ctx.query("pages/overview_forecast_by_hour")
    ctx.query("pages/overview_skus_at_risk", limit=5)
    ctx.query("pages/overview_intransit_mix")
    frame.source_status(ctx)


def cpu_per_cycle(db, now, keying: str, screens: int, cycles: int, seed: int = 7) -> float:
    """CPU-seconds the server spends per refresh cycle of `screens` screens (virtual clock)."""
    rng = random.Random(seed)
    phases = [rng.uniform(0, REFRESH_S) for _ in range(screens)]
    events = sorted(p + REFRESH_S * k for p in phases for k in range(cycles + 1))
    st.cache_data.clear()
    warm = [t for t in events if t < REFRESH_S]  # the first cycle fills the cache: not counted
    for t in warm:
        overview(screen(db, now + timedelta(seconds=t), keying))
    c0 = time.process_time()
    for t in events[len(warm):]:
        overview(screen(db, now + timedelta(seconds=t), keying))
    return (time.process_time() - c0) / cycles


def first_tiles(db, now, keying: str, screens: int, arrivals: int = 3) -> float:
    """Median wall seconds a new viewer waits for its KPI tiles while `screens` refresh every 5 s."""
    st.cache_data.clear()
    stop = threading.Event()
    t0 = time.perf_counter()

    def clock():
        return now + timedelta(seconds=time.perf_counter() - t0)

    def refreshing(phase: float):
        if stop.wait(phase):
            return
        while not stop.is_set():
            started = time.perf_counter()
            overview(screen(db, clock(), keying))
            stop.wait(max(0.0, REFRESH_S - (time.perf_counter() - started)))

    rng = random.Random(11)
    threads = [threading.Thread(target=refreshing, args=(rng.uniform(0, REFRESH_S),), daemon=True)
               for _ in range(screens)]
    for t in threads:
        t.start()
    waits = []
    try:
        stop.wait(REFRESH_S * 1.5)  # the screens are up and refreshing
        for _ in range(arrivals):
            a0 = time.perf_counter()
            frame.kpi_tiles(screen(db, clock(), keying))
            waits.append(time.perf_counter() - a0)
            stop.wait(rng.uniform(1.0, REFRESH_S))
    finally:
        stop.set()
        for t in threads:
            t.join(120)
    return statistics.median(waits)


def measure(path: Path, now, label: str, screens: int, cycles: int, log=print) -> list[str]:
    db = Database(path, read_only=True)
    rows = []
    try:
        overview(screen(db, now, "after"))  # imports, macros, file cache: not counted
        cpu = {k: cpu_per_cycle(db, now, k, screens, cycles) for k in ("before", "after")}
        wait = {k: first_tiles(db, now, k, screens) for k in ("before", "after")}
    finally:
        db.close()
    for k in ("before", "after"):
        rows.append(f"| {label} | {k} | {cpu[k]:.2f} | {cpu[k] / REFRESH_S:.2f} | {wait[k]:.2f} |")
        log(rows[-1])
    return rows


def main(argv=None) -> str:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--screens", type=int, default=10)
    p.add_argument("--cycles", type=int, default=3)
    p.add_argument("--factor", type=int, default=10, help="scaled copy: × this many orders (0: skip)")
    p.add_argument("--no-write", action="store_true", help="accepted for `python -m bench`; prints only")
    args = p.parse_args(argv)
    lines = [f"{args.screens} kiosk screens, live window, refresh {REFRESH_S} s, {args.cycles} cycles "
             "replayed; new viewer = median of 3 arrivals while the screens refresh (threads).", "",
             "| data | keying | CPU-s per refresh cycle | cores busy | new viewer's first tiles (s) |",
             "|---|---|---|---|---|"]
    print("\n".join(lines), flush=True)
    with tempfile.TemporaryDirectory(prefix="bench_cache_") as tmp:
        base = sandbox_db(Path(tmp) / "x1")
        lines += measure(base.path, base.now, f"×1 ({base.counts.get('orders', 0):,} orders)",
                         args.screens, args.cycles)
        if args.factor > 1:
            big = scaled_db(base, Path(tmp) / f"x{args.factor}", factor=args.factor)
            lines += measure(big.path, big.now, f"×{args.factor} ({big.counts.get('orders', 0):,} orders)",
                             args.screens, args.cycles)
    return "\n".join(lines)


if __name__ == "__main__":
    main(sys.argv[1:])
    sys.exit(0)
