"""DuckLake figures (issue 15 item 5) beside the embedded DuckDB file measured in the same run.

    .venv-ducklake/bin/python -m bench.bench_lake [--runs 2] [--history-days 7] [--no-write]

Runs only in the DuckLake venv (DuckDB 1.5.5 + the extension wheels, docs/ducklake.md), so it is not
in `python -m bench`'s default list. It starts its own throwaway PostgreSQL (tests/pg.py) and one
sandbox (member day under way, `history_days` of history) on loopback, then measures:

- sync throughput: the real `python -m connectors sync` (every standard source, a first sync of the
  whole history) into a fresh embedded file, into a fresh lake with 1 worker process, and with 2
  concurrent worker processes on one lake (both pull the same sandbox, as two hosts polling the
  same vendors would). Rows/s = rows fetched by all runs / seconds from the first run's start to
  the last run's end (from sync_runs, so process start-up and the lake attach are not counted);
- the derived-table maintainer (connectors/lake_derived.py): `catch_up` after the first sync (every
  row new) and after an incremental sync an hour later (the steady-state lag it adds);
- read latency: the war room's KPIs for a 24-h window (tower.kpis.frame, median of runs) on the lake
  (after catch_up) and on the file holding the same rows; the values must agree.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from bench.__main__ import header, machine, write_section
from bench.dataset import EVENT_OFFSET
from bench.peer import window
from connectors import lake_derived
from connectors.testing import write_config
from sandbox.server import start as start_sandbox
from tests.pg import Postgres, installed, throwaway
from tower import config, kpis, store
from tower.clock import ManualClock
from tower.config import SandboxConfig
from tower.db import Database

ROOT = Path(__file__).resolve().parent.parent
HOURS_INTO_EVENT = 8


def worker_config(folder: Path, sandbox_url: str, lake_data: Path | None) -> Path:
    """A worker host's tower.toml: the standard sandbox sources, into the file or the lake."""
    write_config(folder, sandbox_url)
    path = folder / "tower.toml"
    if lake_data is not None:
        with path.open("a", encoding="utf-8") as f:
            f.write(f'\n[store]\nkind = "ducklake"\ndata_path = "{lake_data}/"\nmaintain = false\n')
    return path


def run_workers(configs: list[Path], dsn: str | None) -> int:
    """`python -m connectors sync` once per config, all at once; raises if one fails. Returns how
    many lake commits had to be retried (a conflict with the other worker, connectors/lake_writes.py)."""
    env = {**os.environ, **({"TOWER_STORE_CATALOG_DSN": dsn} if dsn else {})}
    procs = [subprocess.Popen([sys.executable, "-m", "connectors", "sync", "--config", str(c)], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for c in configs]
    retries = 0
    for p in procs:
        out, _ = p.communicate()
        if p.returncode != 0:
            raise RuntimeError(f"connector worker failed:\n{out}")
        retries += out.count("lake write failed")
    return retries


def open_store(config_path: Path, dsn: str | None) -> Database:
    """The store a worker config names, as an app server opens it."""
    if dsn:
        os.environ["TOWER_STORE_CATALOG_DSN"] = dsn
    return store.open_database(config.load(config_path))


def throughput(db: Database) -> tuple[int, float]:
    """(rows fetched by every run, seconds from the first start to the last finish)."""
    rows, span = db.query("bench/lake_sync_span").iloc[0]
    return int(rows), float(span)


def timed(fn, runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def same(a, b) -> bool:
    return a.round(6).astype(str).values.tolist() == b.round(6).astype(str).values.tolist()


def measure(pg: Postgres, root: Path, runs: int, history_days: float, log=print) -> dict:
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    sim = ManualClock(now - timedelta(hours=HOURS_INTO_EVENT) - EVENT_OFFSET)
    server = start_sandbox(SandboxConfig(port=0, seed=7, history_days=history_days, scenarios=("member_day",)), sim)
    fig: dict = {"sync": {case: [] for case in ("file", "lake ×1", "lake ×2")}}
    try:
        first = now - timedelta(hours=1)
        sim.set(first)
        kept = {}
        for run in range(runs):
            for case, workers in (("file", 1), ("lake ×1", 1), ("lake ×2", 2)):
                dsn = None if case == "file" else pg.create_database(f"lake_{run}_{workers}")
                data = None if case == "file" else root / f"lake-{run}-{workers}"
                configs = [worker_config(root / f"{case[:4]}{workers}-{run}-{w}", server.url, data) for w in range(workers)]
                retries = run_workers(configs, dsn)
                db = open_store(configs[0], dsn)
                try:
                    rows, span = throughput(db)
                finally:
                    db.close()
                fig["sync"][case].append((rows, span, retries))
                log(f"run {run} {case}: {rows:,} rows in {span:.1f} s ({rows / span:,.0f} rows/s), {retries} retried commits")
                if case != "lake ×2":
                    kept[case] = (configs[0], dsn)

        lake = open_store(*kept["lake ×1"])
        try:
            fig["catch_up_first"] = timed(lambda: lake_derived.catch_up(lake), 1)
            sim.set(now)  # an hour later: the incremental sync, into both stores
            run_workers([kept["file"][0]], None)
            run_workers([kept["lake ×1"][0]], kept["lake ×1"][1])
            fig["catch_up_next"] = timed(lambda: lake_derived.catch_up(lake), 1)
            log(f"catch-up: first {fig['catch_up_first'][0]:.2f} s ({fig['catch_up_first'][1]:,} rows), "
                f"after an incremental sync {fig['catch_up_next'][0]:.2f} s ({fig['catch_up_next'][1]:,} rows)")
            file = open_store(kept["file"][0], None)
            try:
                params = window(now)
                fig["kpi"], fig["agree"] = {}, True
                for name in kpis.WAR_ROOM:
                    on_lake, a = timed(lambda n=name: kpis.frame(lake, n, params), runs + 3)
                    on_file, b = timed(lambda n=name: kpis.frame(file, n, params), runs + 3)
                    fig["kpi"][name] = (on_file, on_lake)
                    fig["agree"] = fig["agree"] and same(a, b)
                    log(f"{name}: file {on_file * 1000:.0f} ms, lake {on_lake * 1000:.0f} ms, same values {same(a, b)}")
            finally:
                file.close()
        finally:
            lake.close()
    finally:
        server.stop()
    return fig


def report(fig: dict, history_days: float) -> str:
    def rate(case):
        return statistics.median(rows / span for rows, span, _ in fig["sync"][case])

    base = rate("file")
    rows = statistics.median(r for r, _, _ in fig["sync"]["file"])
    both = ", ".join(f"{r:,}" for r, _, _ in fig["sync"]["lake ×2"])
    lines = [f"Sync throughput: the real `python -m connectors sync`, every standard source, a first sync of "
             f"{history_days:g} days of sandbox history ({rows:,.0f} rows fetched per worker), into a fresh store; "
             "median of runs. Rows/s counts every worker's fetched rows over the span of all runs (sync_runs). "
             "The file also moves its derived tables (rollups) inside each sync; the lake leaves them to the "
             "maintainer (below). Two lake workers pull the same sandbox and share the lake's cursors (sync_state): "
             "for a source the other finished first a worker fetches only what that cursor leaves, else it "
             "merges rows the other wrote; their commits are serialised by the lake's write lock "
             f"(docs/ducklake.md, a conflict is retried); the machine has {os.cpu_count()} cores for both.",
             "", "| store | workers | rows/s | vs file | retried commits (per run) |", "|---|---:|---:|---:|---:|"]
    for case, workers in (("file", 1), ("lake ×1", 1), ("lake ×2", 2)):
        retried = ", ".join(str(n) for _, _, n in fig["sync"][case])
        lines.append(f"| {case.split()[0]} | {workers} | {rate(case):,.0f} | {rate(case) / base:.2f} | {retried} |")
    lines.append(f"\nRows fetched by the two lake workers together, per run: {both}.")
    (first_s, first_n), (next_s, next_n) = fig["catch_up_first"], fig["catch_up_next"]
    lines += ["", "Derived tables on the lake (connectors/lake_derived.py `catch_up`, one maintainer):", "",
              "| after | changed raw rows | catch-up |", "|---|---:|---:|",
              f"| the first sync | {first_n:,} | {first_s:.2f} s |",
              f"| an incremental sync an hour later | {next_n:,} | {next_s:.2f} s |",
              "", "The maintainer runs every `[store] maintain_every_s` (5 s), so rollup-backed KPIs trail a "
              "committed sync by up to that interval plus one catch-up; raw tables are current at once.",
              "", "Read latency: war-room KPIs, 24-h window (tower.kpis.frame, median), the same rows on both "
              f"stores (values agree: {'yes' if fig['agree'] else '**no**'}):", "",
              "| KPI | file | lake | lake / file |", "|---|---:|---:|---:|"]
    for name, (on_file, on_lake) in fig["kpi"].items():
        lines.append(f"| {name} | {on_file * 1000:.0f} ms | {on_lake * 1000:.0f} ms | {on_lake / on_file:.1f} |")
    f_med = statistics.median(v[0] for v in fig["kpi"].values())
    l_med = statistics.median(v[1] for v in fig["kpi"].values())
    lines.append(f"| median | {f_med * 1000:.0f} ms | {l_med * 1000:.0f} ms | {l_med / f_med:.1f} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> str:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--history-days", type=float, default=7.0)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    try:
        store.extension_path("ducklake"), store.extension_path("postgres_scanner")
    except store.LakeUnavailable as e:
        raise SystemExit(f"bench_lake needs the DuckLake venv: {e}")
    if not installed():
        raise SystemExit("bench_lake needs PostgreSQL's server binaries (apt-get install postgresql)")
    started, host, t0 = datetime.now(timezone.utc), machine(), time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="tower-bench-lake-") as tmp, throwaway() as pg:
        fig = measure(pg, Path(tmp), args.runs, args.history_days)
    text = report(fig, args.history_days)
    print(text)
    if not args.no_write:
        command = (f".venv-ducklake/bin/python -m bench.bench_lake --runs {args.runs}"
                   + (f" --history-days {args.history_days:g}" if args.history_days != 7 else ""))
        write_section("DuckLake", header(command, f"{started:%Y-%m-%d %H:%M}", time.perf_counter() - t0, host)
                      + "Not part of `python -m bench` (DuckDB 1.5.5 venv only: `make test-ducklake` builds it; "
                        "docs/ducklake.md).\n\n" + text)
    return text


if __name__ == "__main__":
    main()
