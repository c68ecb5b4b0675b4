"""Server-side render time of the war-room pages on the sandbox database and on a 10× copy of it.

    python -m bench.bench_pages [--runs 3] [--factor 10]

Data: `bench.dataset.sandbox_db` (synced from the sandbox through the real connectors, 8 h into the
member-day promotion, as of now) and `bench.dataset.scaled_db` (every fact table, SKU and merchant
× factor). The app reads them with a SystemClock, so "now" is inside the promotion in both.

Pages: `app.py` (the frame: sidebar filters, status strip, banners) plus each page, run by
`streamlit.testing.v1.AppTest` exactly as the browser gets them (default window: the event). Per
database, one AppTest renders the overview once (warm-up: imports, opening the database), then for
each page: one untimed run after switching to it, then `runs` timed reruns, each with the query
cache (`st.cache_data`) cleared first, so every timed run executes its queries — what a wall screen
costs when its 5 s query cache has expired. Reported: median wall seconds and median process CPU
seconds (CPU time is steadier on a shared machine), and the ratio to the same page on the sandbox
database (the baseline). A page that raises is reported as failed, not timed.

KPI tiles alone: `tower.kpis.tiles(db, WAR_ROOM, params)` for the event window (current and
previous window of every headline KPI), 1× and 10× alternating, median of `kpi_runs`.
"""
from __future__ import annotations

import argparse
import contextlib
import logging
import os
import statistics
import tempfile
import time
from pathlib import Path

import streamlit as st

from bench.dataset import Dataset, sandbox_db, scaled_db

ROOT = Path(__file__).resolve().parent.parent
PAGES = ("pages/overview.py", "pages/map.py", "pages/stock.py", "pages/suppliers.py", "pages/customers.py")
DEFAULT_PAGE = "pages/overview.py"  # what app.py shows first


# ── the app under AppTest ───────────────────────────────────────────────────────────────────────
@contextlib.contextmanager
def app_on(db_path: Path, folder: Path):
    """Point the app at `db_path` (temp tower.toml: sandbox off, no sources, so nothing but the
    pages touches the file) for the duration; closes the runtime it starts and resets caches."""
    import streamlit.testing.v1.app_test as app_test_mod
    import streamlit.testing.v1.local_script_runner as local_runner_mod
    from streamlit.runtime.scriptrunner.script_cache import ScriptCache

    import tower.runtime as runtime_mod
    from tests.ui_fixtures import NavigationPagesManager, write_config

    started = []
    real_start, real_pm = runtime_mod.start, app_test_mod.PagesManager
    real_caches = app_test_mod.ScriptCache, local_runner_mod.ScriptCache

    def tracking_start(*a, **kw):
        rt = real_start(*a, **kw)
        started.append(rt)
        return rt

    folder.mkdir(parents=True, exist_ok=True)
    old_env = os.environ.get("TOWER_CONFIG")
    os.environ["TOWER_CONFIG"] = str(write_config(folder, db_path))
    runtime_mod.start = tracking_start
    # AppTest would otherwise run later pages without app.py (see tests/ui_fixtures.py)
    app_test_mod.PagesManager = NavigationPagesManager
    # the server compiles app.py and each page once (its runtime's ScriptCache) and reruns the
    # bytecode; AppTest makes new caches for every run, which would time parsing and compiling too
    # (~10 ms a render at any scale): one cache shared by the runs, as in the server
    shared_cache = ScriptCache()
    app_test_mod.ScriptCache = local_runner_mod.ScriptCache = lambda: shared_cache
    st.cache_resource.clear()
    st.cache_data.clear()
    try:
        yield
    finally:
        for rt in started:
            rt.stop()
        st.cache_resource.clear()
        st.cache_data.clear()
        runtime_mod.start, app_test_mod.PagesManager = real_start, real_pm
        app_test_mod.ScriptCache, local_runner_mod.ScriptCache = real_caches
        if old_env is None:
            os.environ.pop("TOWER_CONFIG", None)
        else:
            os.environ["TOWER_CONFIG"] = old_env


def _problem(at) -> str | None:
    if at.exception:
        return "exception: " + str(at.exception[0].message)[:200]
    return None


def render_times(db_path: Path, folder: Path, pages, runs: int, log=print) -> dict[str, dict]:
    """{page: {"wall": [s…], "cpu": [s…], "title": str, "error": str | None}} for one database."""
    from streamlit.testing.v1 import AppTest

    out = {}
    with app_on(db_path, folder):
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
        at.run()  # warm-up: imports, runtime start, database open; renders the default page
        for page in pages:
            if page != DEFAULT_PAGE:
                at.switch_page(page)
            at.run()  # untimed: the page's first render
            wall, cpu, error = [], [], _problem(at)
            for _ in range(runs if error is None else 0):
                st.cache_data.clear()
                w0, c0 = time.perf_counter(), time.process_time()
                at.run()
                wall.append(time.perf_counter() - w0)
                cpu.append(time.process_time() - c0)
                if (error := _problem(at)) is not None:
                    break
            title = at.title[0].value if len(at.title) else ""
            out[page] = {"wall": wall, "cpu": cpu, "title": title, "error": error}
            log(f"  {Path(db_path).parent.name:>4} {page:<22} "
                + (f"wall {statistics.median(wall):6.2f} s  cpu {statistics.median(cpu):6.2f} s"
                   if wall and error is None else f"FAILED {error}"))
    return out


# ── KPI tiles alone ─────────────────────────────────────────────────────────────────────────────
def event_params(db, now) -> dict:
    """The war room's default filter (the event window) at `now`, as tower.kpis params."""
    from tower.ui import filters as filters_mod

    ev = db.query("ops/current_event", {"now": now})
    event = ev.iloc[0].to_dict() if len(ev) else None
    f = filters_mod.resolve(filters_mod.ViewState(), now, event)
    return {"start": f.start, "end": f.end, "now": now, "merchant": None, "channel": None, "market": None}


def kpi_times(paths: dict[str, Path], runs: int) -> dict[str, dict]:
    """Tile timings per database, runs alternating between databases to share the machine's noise:
    {label: {"total": [s…], "per_kpi": {name: [s…]}, "values": {name: value}}}."""
    from tower import kpis
    from tower.clock import SystemClock
    from tower.db import Database

    dbs = {label: Database(p, read_only=True) for label, p in paths.items()}
    try:
        now = SystemClock().now().replace(microsecond=0)
        params = {label: event_params(db, now) for label, db in dbs.items()}
        targets = kpis.load_targets()
        out = {label: {"total": [], "per_kpi": {n: [] for n in kpis.WAR_ROOM}, "values": {}} for label in dbs}
        for label, db in dbs.items():  # warm-up: the first query of a file reads it from disk
            kpis.tiles(db, kpis.WAR_ROOM, params[label], targets)
        for _ in range(runs):
            for label, db in dbs.items():
                t0 = time.perf_counter()
                for name in kpis.WAR_ROOM:
                    t1 = time.perf_counter()
                    tile = kpis.tile(db, name, params[label], targets)
                    out[label]["per_kpi"][name].append(time.perf_counter() - t1)
                    out[label]["values"][name] = tile.error or tile.value
                out[label]["total"].append(time.perf_counter() - t0)
        return out
    finally:
        for db in dbs.values():
            db.close()


# ── the run ─────────────────────────────────────────────────────────────────────────────────────
def measure(runs: int = 3, factor: int = 10, kpi_runs: int = 5, log=print) -> dict:
    pages = [p for p in PAGES if (ROOT / p).exists()]
    with tempfile.TemporaryDirectory(prefix="tower-pages-") as tmp:
        tmp = Path(tmp)
        log("pages: building the sandbox database through the connectors …")
        small = sandbox_db(tmp / "1x")
        log(f"  1×: {sum(small.counts.values()):,} rows in {small.build_s:.0f} s; scaling ×{factor} …")
        big = scaled_db(small, tmp / f"{factor}x", factor)
        log(f"  {factor}×: {sum(big.counts.values()):,} rows in {big.build_s:.0f} s")
        labels = {"1×": small, f"{factor}×": big}
        log("pages: KPI tiles …")
        tiles = kpi_times({label: d.path for label, d in labels.items()}, kpi_runs)
        log("pages: rendering with AppTest …")
        renders = {label: render_times(d.path, tmp / f"app-{i}", pages, runs, log)
                   for i, (label, d) in enumerate(labels.items())}
    return {"runs": runs, "kpi_runs": kpi_runs, "factor": factor, "pages": pages,
            "datasets": {label: _describe(d) for label, d in labels.items()},
            "renders": renders, "tiles": tiles}


def _describe(d: Dataset) -> dict:
    return {"rows": sum(d.counts.values()), "orders": d.counts.get("orders", 0),
            "tracking_events": d.counts.get("tracking_events", 0), "skus": d.counts.get("skus", 0),
            "build_s": d.build_s}


def _median(xs) -> float:
    return statistics.median(xs) if xs else float("nan")


def report(fig: dict) -> str:
    (base, base_d), (big, big_d) = fig["datasets"].items()
    datasets = (f"Datasets: {base} = sandbox synced through the connectors ({base_d['rows']:,} rows: "
                f"{base_d['orders']:,} orders, {base_d['tracking_events']:,} checkpoints, {base_d['skus']} SKUs; "
                f"built in {base_d['build_s']:.0f} s); {big} = every fact table, SKU and merchant "
                f"×{fig['factor']} ({big_d['rows']:,} rows; built in {big_d['build_s']:.0f} s).")
    method = (f"Render = `app.py` frame + page in AppTest, query cache cleared before each run; median of "
              f"{fig['runs']} runs after one untimed run. Baseline: the same page on {base}.")
    lines = [datasets, method, "",
             f"| page | {base} CPU | {big} CPU | CPU ratio | {base} wall | {big} wall | wall ratio |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for page in fig["pages"]:
        a, b = fig["renders"][base][page], fig["renders"][big][page]
        if a["error"] or b["error"]:
            lines.append(f"| {Path(page).stem} | failed: {a['error'] or b['error']} ||||||")
            continue
        wa, wb, ca, cb = (_median(x) for x in (a["wall"], b["wall"], a["cpu"], b["cpu"]))
        lines.append(f"| {Path(page).stem} | {ca:.2f} s | {cb:.2f} s | **{cb / ca:.1f}×** | "
                     f"{wa:.2f} s | {wb:.2f} s | {wb / wa:.1f}× |")
    lines += ["", ("CPU = process CPU seconds of the render (all threads, DuckDB's included): steady when "
                   "other processes load the machine. Wall = what a viewer waits at this load.")]
    t = fig["tiles"]
    ta, tb = _median(t[base]["total"]), _median(t[big]["total"])
    tiles = (f"KPI tiles alone (`tower.kpis`, {len(t[base]['per_kpi'])} war-room KPIs × current and previous "
             f"window, event window; median of {fig['kpi_runs']}, {base} and {big} alternating): "
             f"{ta * 1000:.0f} ms → {tb * 1000:.0f} ms, **{tb / ta:.1f}×**. Values side by side check that the "
             f"copy is coherent: rates stay about the same, counts grow ×{fig['factor']}.")
    lines += ["", tiles, "",
              f"| KPI | {base} | {big} | ratio | value {base} | value {big} |",
              "|---|---:|---:|---:|---:|---:|"]
    for name, xs in t[base]["per_kpi"].items():
        a, b = _median(xs), _median(t[big]["per_kpi"][name])
        va, vb = t[base]["values"].get(name), t[big]["values"].get(name)
        lines.append(f"| {name} | {a * 1000:.0f} ms | {b * 1000:.0f} ms | {b / a:.1f}× | {_fmt(va)} | {_fmt(vb)} |")
    return "\n".join(lines)


def _fmt(v) -> str:
    if v is None:
        return "—"
    if isinstance(v, str):
        return f"error: {v[:60]}"
    return f"{v:,.1f}"


def main(argv=None) -> str:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=3, help="timed renders per page and database")
    p.add_argument("--factor", type=int, default=10)
    p.add_argument("--kpi-runs", type=int, default=5)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("streamlit").setLevel(logging.ERROR)
    text = report(measure(args.runs, args.factor, args.kpi_runs))
    print(text)
    return text


if __name__ == "__main__":
    main()
