"""Issue 15's figures at ×1, ×10 and the reference scale, in one run, beside the pandas peer.

    python -m bench.bench_scale [--runs 3] [--reference-scale 1.0] [--no-write]   (or `python -m bench scale`: 3 runs)

Datasets (built in this run, so "now" is inside the member-day promotion for all three):
×1 = `bench.dataset.sandbox_db` (the sandbox synced through the connectors), ×10 = `scaled_db`
(every fact ×10), reference = `bench.reference.reference_db` (1M orders, ~5M checkpoints, 2,000
SKUs × 20 warehouses with 30 days of stock, ~200 shops, ~5,000 POs).

Figures per dataset (medians of `runs`):
- overview and map page server render: app.py frame + page in AppTest, query cache cleared before
  each run (bench.bench_pages.render_times);
- one KPI of the semantic layer for a 24-h window (tower.kpis.frame), per KPI and the slowest;
- the war room's tiles (tower.kpis.tiles: 8 KPIs in one statement, their previous window in another
  at the same time) beside the baseline of one call per KPI and window (tower.kpis.tile), same tiles
  or the run fails;
- one alert evaluation, all rules (tower.alerts.AlertEngine on a copy of the file);
- the pandas peer (bench/peer.py): load the tables into DataFrames + compute the same KPIs and an
  on-time-by-carrier breakdown, and compute alone on cached frames; Tower's side is the same five
  KPIs and the breakdown through tower.kpis (no cache). The values must agree, else the run fails.
"""
from __future__ import annotations

import argparse
import math
import shutil
import statistics
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from bench import peer
from bench.__main__ import header, machine, write_section
from bench.bench_pages import render_times
from bench.dataset import Dataset, sandbox_db, scaled_db
from bench.reference import reference_db
from tower import kpis
from tower.alerts.engine import AlertEngine
from tower.alerts.settings import load as load_settings
from tower.clock import ManualClock
from tower.db import Database

TARGETS = {"overview": 0.300, "map": 0.500, "kpi": 0.050, "alerts": 1.0, "peer": 10.0}
PAGES = ("pages/overview.py", "pages/map.py")


def _median(xs) -> float:
    return statistics.median(xs) if xs else math.nan


def _timed(fn, runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return _median(times), result


def tower_side(db: Database, params: dict) -> dict:
    """The peer's KPIs and breakdown through the semantic layer."""
    out = {}
    for name in peer.KPIS:
        frame = kpis.frame(db, name, peer.kpi_window(name, params))
        out[name] = None if frame.empty or frame["value"].isna().all() else float(frame["value"].iloc[0])
    by = kpis.breakdown(db, "on_time_rate", params, "carrier")
    out["on_time_rate by carrier"] = {r.dimension_value: float(r.value) for r in by.itertuples()
                                      if r.dimension_value != "(unknown)"}
    return out


def _same(a, b) -> bool:
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-6)


def measure(ds: Dataset, folder: Path, runs: int, log=print) -> dict:
    fig = {"orders": ds.counts.get("orders", 0), "checkpoints": ds.counts.get("tracking_events", 0),
           "stock": ds.counts.get("stock_observations", 0)}
    pages = render_times(ds.path, folder / "app", PAGES, runs, log=log)
    for page in PAGES:
        fig[Path(page).stem] = _median(pages[page]["wall"]) if not pages[page]["error"] else math.nan
    db = Database(ds.path)
    try:
        params = peer.window(ds.now)
        per_kpi = {}
        for name in kpis.WAR_ROOM:
            per_kpi[name], _ = _timed(lambda n=name: kpis.frame(db, n, params), runs + 2)
        fig["kpi_per"] = per_kpi
        fig["kpi"] = _median(list(per_kpi.values()))
        fig["kpi_max"] = max(per_kpi.items(), key=lambda kv: kv[1])
        fig["tower_peer_s"], ours = _timed(lambda: tower_side(db, params), runs)
        # the war room's tiles (8 KPIs over the window and the one before): a statement per window, as
        # the pages get them, against the baseline of one call per KPI and window
        targets = kpis.Targets()
        fig["tiles_s"], together = _timed(lambda: kpis.tiles(db, kpis.WAR_ROOM, params, targets), runs + 2)
        fig["tiles_apart_s"], apart = _timed(
            lambda: [kpis.tile(db, n, params, targets) for n in kpis.WAR_ROOM], runs + 2)
        if together != apart:
            raise RuntimeError(f"tiles together differ from one by one:\n {together}\n {apart}")
    finally:
        db.close()
    started = time.perf_counter()
    frames = peer.load(ds.path)
    load_s = time.perf_counter() - started
    fig["peer_compute_s"], theirs = _timed(lambda: peer.compute(frames, params), runs)
    fig["peer_load_s"] = load_s + fig["peer_compute_s"]
    del frames
    if not _same(ours, theirs):
        raise RuntimeError(f"Tower and the pandas peer disagree:\n tower {ours}\n pandas {theirs}")
    fig["values"] = ours
    fig["alerts"] = alert_evaluation(ds, folder / "alerts", runs)
    return fig


def alert_evaluation(ds: Dataset, folder: Path, runs: int) -> float:
    """Median wall seconds of one evaluation of every rule, on a copy (evaluations write state)."""
    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / "tower.duckdb"
    shutil.copyfile(ds.path, copy)
    db = Database(copy)
    try:
        clock = ManualClock(ds.now)
        engine = AlertEngine(db, load_settings(), clock, None)
        engine.evaluate(force=True)  # the first evaluation opens the alerts: not the steady state
        times = []
        for _ in range(runs):
            clock.advance(minutes=1)
            started = time.perf_counter()
            engine.evaluate(force=True)
            times.append(time.perf_counter() - started)
        return _median(times)
    finally:
        db.close()
        shutil.rmtree(folder, ignore_errors=True)


def report(figs: dict[str, dict]) -> str:
    names = list(figs)
    first, last = figs[names[0]], figs[names[-1]]

    def ms(v):
        return "—" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v * 1000:,.0f} ms"

    def met(ok):
        return "met" if ok else "**not met**"

    lines = ["| figure | " + " | ".join(names) + f" | growth ×1 → {names[-1]} | target at reference |",
             "|---|" + "---:|" * len(names) + "---:|---|",
             "| orders / checkpoints / stock rows | " + " | ".join(
                 f"{f['orders']:,} / {f['checkpoints']:,} / {f['stock']:,}" for f in figs.values()) + " | | |"]
    rows = [("overview render", "overview", TARGETS["overview"]), ("map render", "map", TARGETS["map"]),
            ("one KPI, 24 h (median of the 8 headline KPIs)", "kpi", TARGETS["kpi"]),
            ("one alert evaluation, all rules", "alerts", TARGETS["alerts"])]
    for label, key, target in rows:
        growth = last[key] / first[key] if first[key] else math.nan
        lines.append(f"| {label} | " + " | ".join(ms(f[key]) for f in figs.values())
                     + f" | {growth:.1f}× | ≤ {ms(target)}: {met(last[key] <= target)} |")
    slow = [f"{f['kpi_max'][0]} {ms(f['kpi_max'][1])}" for f in figs.values()]
    lines.append("| slowest KPI | " + " | ".join(slow) + f" | | ≤ 50 ms: {met(last['kpi_max'][1] <= 0.05)} |")
    lines.append("| war-room tiles (8 KPIs, window and the one before), a statement per window | " + " | ".join(
        f"{ms(f['tiles_s'])} (one call each: {ms(f['tiles_apart_s'])}, **{f['tiles_apart_s'] / f['tiles_s']:.1f}×**)"
        for f in figs.values()) + " | | |")
    lines.append("| Tower: 5 KPIs + on-time by carrier | " + " | ".join(ms(f["tower_peer_s"]) for f in figs.values()) + " | | |")
    for label, key in (("pandas peer: load + compute", "peer_load_s"), ("pandas peer: compute on cached frames", "peer_compute_s")):
        cells = [f"{ms(f[key])} (**{f[key] / f['tower_peer_s']:.1f}×** Tower)" for f in figs.values()]
        ratio = last[key] / last["tower_peer_s"]
        lines.append(f"| {label} | " + " | ".join(cells) + f" | | ≥ 10× slower than Tower: {met(ratio >= 10)} |")
    per = ["| KPI (24 h) | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    for name in kpis.WAR_ROOM:
        per.append(f"| {name} | " + " | ".join(ms(f["kpi_per"][name]) for f in figs.values()) + " |")
    def over(name: str) -> str:  # the window the peer compares a KPI over, when not the live 24 h
        hours = peer.WINDOW_HOURS.get(name)
        return f" (over {hours // 24} days)" if hours else ""

    values = ", ".join((f"{k} {v:.1f}" if isinstance(v, float) else f"{k} —") + over(k)
                       for k, v in last["values"].items() if not isinstance(v, dict))
    return ("\n".join(lines) + "\n\n" + "\n".join(per)
            + f"\n\nSame numbers: Tower and the peer agree on every value (checked in the run); at reference: {values}.\n")


def main(argv=None) -> str:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--reference-scale", type=float, default=1.0)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    started, host, t0 = datetime.now(timezone.utc), machine(), time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="tower-scale-") as tmp:
        root = Path(tmp)
        small = sandbox_db(root / "x1")
        sets = {"×1": small, "×10": scaled_db(small, root / "x10", factor=10),
                "reference": reference_db(root / "ref", scale=args.reference_scale)}
        for label, ds in sets.items():
            print(f"{label}: {ds.counts.get('orders', 0):,} orders, built in {ds.build_s:.0f} s", flush=True)
        figs = {label: measure(ds, root / f"run-{i}", args.runs) for i, (label, ds) in enumerate(sets.items())}
    text = report(figs)
    print(text)
    if not args.no_write:
        write_section("Scale", header(f"python -m bench.bench_scale --runs {args.runs}"
                                      + (f" --reference-scale {args.reference_scale}" if args.reference_scale != 1 else ""),
                                      f"{started:%Y-%m-%d %H:%M}", time.perf_counter() - t0, host) + text)
    return text


if __name__ == "__main__":
    main()
