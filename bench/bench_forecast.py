"""The twin's forecast refit (tower.twin.forecast.refresh) in memory: Tower's chunked fit handing its
rows over in a Parquet file, against the refit as it was (every series fitted at once, the rows
pickled back to the server and inserted from a DataFrame).

    python -m bench.bench_forecast --db <a Tower DuckDB file> [--series 1000 2000] [--store-runs 3]
                                   [--no-write]

The history is the file's last four weeks of orders per SKU × market × hour, cut to the first
`--series` series (the reference file has 12,000: a refit of all of them is about an hour of CPU,
so the table shows how memory grows with the series instead). Each refit runs in its own process,
which starts the fit's child as the app server does (tower.aside) and stores the rows in DuckDB:
the table gives the peak RSS of both (the child's sampled every 50 ms), and whether the rows stored
agree. Two more tables at the full reference size (12,000 series × 720 h, synthetic values): storing
the rows with twin_forecasts' old primary key and without, and the server's memory for each way of
receiving them from the child.
"""
from __future__ import annotations

import argparse
import json
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq

import queries
from bench.__main__ import header, machine, write_section
from tower.twin.forecast import HISTORY_DAYS, HORIZON_H, PARQUET_SCHEMA, hour_floor
from tower.twin.forecast_model import CHUNK_SERIES

ROOT = Path(__file__).resolve().parent.parent
REFERENCE_SERIES = 12_000  # SKU × market series with orders in the reference file's last four weeks

CHILD = r"""
import json, os, sys, tempfile, threading, time
from pathlib import Path
import duckdb, pandas as pd
import queries
from tower import aside
from tower.twin import forecast as fc, forecast_model as model
method, history_path, until = sys.argv[1], sys.argv[2], pd.Timestamp(sys.argv[3]).to_pydatetime()
peak = {"child": 0}

def kb(pid, field):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(field):
            return int(line.split()[1]) * 1024
    return 0

def sample():  # the fit's child: its RSS every 50 ms (ru_maxrss would carry the forking parent's)
    me = os.getpid()
    while True:
        for pid in open(f"/proc/{me}/task/{me}/children").read().split():
            try:
                peak["child"] = max(peak["child"], kb(pid, "VmRSS:"))
            except OSError:
                pass
        time.sleep(0.05)

threading.Thread(target=sample, daemon=True).start()
history = pd.read_parquet(history_path)
store = duckdb.connect()
started = time.perf_counter()
if method == "whole":  # the refit before: one fit of every series, its rows back through a pickle
    fit = aside.run(model.forecast, history, until, chunk_series=10**9)
    store.register("fit_rows", fit.rows)
    store.execute(queries.load("bench/forecast_store"))
else:
    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "fit.parquet")
        aside.run(model.forecast_to_parquet, history, until, path)
        store.register("fit_rows", fc.parquet_batches(path))
        store.execute(queries.load("bench/forecast_store"))
seconds = time.perf_counter() - started
rows, total = store.execute(queries.load("bench/forecast_stored_totals")).fetchone()
print(json.dumps({"seconds": seconds, "rows": rows, "sum_mean": total,
                  "server_peak": kb(os.getpid(), "VmHWM:"), "child_peak": peak["child"]}))
"""


STORE = r"""
import json, os, sys, tempfile, time
import duckdb
import queries
keyed, series, hours = sys.argv[1] == "keyed", int(sys.argv[2]), int(sys.argv[3])

def rss_mb():
    return int(open("/proc/self/status").read().split("VmRSS:")[1].split()[0]) / 1024

with tempfile.TemporaryDirectory() as folder:
    con = duckdb.connect(os.path.join(folder, "store.duckdb"))
    for migration in ["schema/018_twin_forecast"] + ([] if keyed else ["schema/022_twin_forecast_unkeyed"]):
        con.execute(queries.load(migration))
    started, before = time.perf_counter(), rss_mb()
    con.execute(queries.load("bench/forecast_synthetic_fit"), {"series": series, "hours": hours})
    con.execute("checkpoint")
    print(json.dumps({"seconds": time.perf_counter() - started, "grew_mb": rss_mb() - before,
                      "file_mb": os.path.getsize(os.path.join(folder, "store.duckdb")) / 2**20}))
"""


def store_times(series: int, hours: int, runs: int) -> dict[str, list[dict]]:
    """Storing a refit's rows in twin_forecasts with its old key and without, each in a fresh
    process and file, alternating."""
    out = {"keyed": [], "unkeyed": []}
    for _ in range(runs):
        for how in out:
            proc = subprocess.run([sys.executable, "-c", STORE, how, str(series), str(hours)],
                                  cwd=ROOT, capture_output=True, text=True, check=True)
            out[how].append(json.loads(proc.stdout.strip().splitlines()[-1]))
    return out


HANDOVER = r"""
import json, os, pickle, sys, tempfile, time
from datetime import datetime, timezone
import pyarrow.dataset
from tower.db import Database
from tower.twin import forecast as fc
import queries
how, parquet, pickled = sys.argv[1:4]

def kb(field):
    return int(open("/proc/self/status").read().split(field)[1].split()[0]) * 1024

with tempfile.TemporaryDirectory() as folder:
    db = Database(os.path.join(folder, "tower.duckdb"))
    started, before = time.perf_counter(), kb("VmRSS:")
    with db.cursor() as cur:
        if how == "pickle":  # the refit before: the child's DataFrame unpickled in the server
            rows = pickle.loads(open(pickled, "rb").read())
        elif how == "dataset":
            rows = pyarrow.dataset.dataset(parquet, format="parquet")
        elif how == "batches":  # before arrow's freed buffers were handed back
            rows = fc.parquet_batches(parquet)
        if how == "tower":
            fc.store_rows(cur, parquet, datetime.now(timezone.utc))
        else:
            cur.register("fit_rows", rows)
            cur.execute(queries.load("twin/own_forecast_insert"), {"fitted_at": datetime.now(timezone.utc)})
    print(json.dumps({"seconds": time.perf_counter() - started, "peak_mb": (kb("VmHWM:") - before) / 2**20,
                      "after_mb": (kb("VmRSS:") - before) / 2**20}))
"""


def reference_fit_files(folder: Path) -> tuple[Path, Path]:
    """A reference-scale refit's rows (synthetic values) as the child hands them over now (Parquet,
    CHUNK_SERIES series per row group) and as it did before (a pickled DataFrame)."""
    con = duckdb.connect()
    for migration in ("schema/018_twin_forecast", "schema/022_twin_forecast_unkeyed",
                      "bench/forecast_synthetic_fit"):
        con.execute(queries.load(migration), {"series": REFERENCE_SERIES, "hours": HORIZON_H}
                    if migration.startswith("bench/") else None)
    rows = con.table("twin_forecasts").to_arrow_table().drop_columns(["fitted_at"]).cast(PARQUET_SCHEMA)
    parquet, pickled = folder / "fit.parquet", folder / "fit.pickle"
    pq.write_table(rows, parquet, row_group_size=CHUNK_SERIES * HORIZON_H)
    pickled.write_bytes(pickle.dumps(rows.to_pandas()))
    return parquet, pickled


def handover_times(runs: int) -> dict[str, list[dict]]:
    """Storing those rows in a fresh Tower database: unpickled, as a pyarrow dataset, in batches, and
    in batches with arrow's freed buffers handed back (tower.twin.forecast.store_rows)."""
    out = {"pickle": [], "dataset": [], "batches": [], "tower": []}
    with tempfile.TemporaryDirectory(prefix="tower-fc-") as tmp:
        files = reference_fit_files(Path(tmp))
        for _ in range(runs):
            for how in out:
                proc = subprocess.run([sys.executable, "-c", HANDOVER, how, *map(str, files)],
                                      cwd=ROOT, capture_output=True, text=True, check=True)
                out[how].append(json.loads(proc.stdout.strip().splitlines()[-1]))
    return out


def history_of(db_path: Path, series: int, folder: Path) -> tuple[Path, str, int]:
    """The first `series` SKU × market series of the file's last four weeks, as a Parquet file."""
    con = duckdb.connect(str(db_path), read_only=True)
    until = hour_floor(con.execute(queries.load("bench/forecast_last_order")).fetchone()[0])
    span = {"from": (until - pd.Timedelta(days=HISTORY_DAYS)).to_pydatetime(), "until": until.to_pydatetime()}
    history = con.execute(queries.load("twin/own_forecast_history"), span).df()
    keys = history[["sku", "market"]].drop_duplicates().sort_values(["sku", "market"]).head(series)
    history = history.merge(keys, on=["sku", "market"])
    path = folder / f"history-{series}.parquet"
    history.to_parquet(path)
    return path, until.isoformat(), len(history)


def measure(method: str, history: Path, until: str) -> dict:
    proc = subprocess.run([sys.executable, "-c", CHILD, method, str(history), until],
                          cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def store_line(label: str, runs: list[dict]) -> str:
    each = ", ".join(f"{r['grew_mb']:,.0f}" for r in runs)
    return (f"| {label} | {statistics.median(r['seconds'] for r in runs):.1f} s | "
            f"{statistics.median(r['grew_mb'] for r in runs):,.0f} MB ({each}) | "
            f"{statistics.median(r['file_mb'] for r in runs):,.0f} MB |")


def main(argv: list[str] | None = None) -> str:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db", required=True, type=Path)
    p.add_argument("--series", type=int, nargs="*", default=[1000, 2000],
                   help="series counts to refit (none: only the store and hand-over tables)")
    p.add_argument("--store-runs", type=int, default=3)
    p.add_argument("--no-write", action="store_true")
    args = p.parse_args(argv)
    started_wall, started, host = time.strftime("%Y-%m-%d %H:%M", time.gmtime()), time.monotonic(), machine()
    mb = 1024 * 1024
    lines = []
    with tempfile.TemporaryDirectory(prefix="tower-fc-") as tmp:
        for n in args.series:
            history, until, hours = history_of(args.db, n, Path(tmp))
            runs = {m: measure(m, history, until) for m in ("whole", "chunked")}
            same = (runs["whole"]["rows"] == runs["chunked"]["rows"]
                    and abs(runs["whole"]["sum_mean"] - runs["chunked"]["sum_mean"])
                    <= 1e-9 * abs(runs["whole"]["sum_mean"]))
            for m, label in (("whole", "all at once, rows pickled back (baseline)"),
                             ("chunked", f"Tower: {CHUNK_SERIES} series a chunk, rows in Parquet")):
                r = runs[m]
                lines.append(f"| {n:,} ({hours:,} history rows) | {label} | {r['seconds']:.0f} s | "
                             f"{r['child_peak'] / mb:,.0f} MB | {r['server_peak'] / mb:,.0f} MB | "
                             f"{r['rows']:,} | {'yes' if same else '**no**'} |")
            print(lines[-2], lines[-1], sep="\n", flush=True)
    stores = store_times(REFERENCE_SERIES, HORIZON_H, args.store_runs)
    store_lines = [store_line(label, stores[how])
                   for how, label in (("keyed", "with the primary key (migration 018, baseline)"),
                                      ("unkeyed", "without it (migration 022, Tower now)"))]
    handovers = handover_times(args.store_runs)
    handover_lines = [
        f"| {label} | {statistics.median(r['seconds'] for r in handovers[how]):.1f} s | "
        f"{statistics.median(r['peak_mb'] for r in handovers[how]):,.0f} MB | "
        f"{statistics.median(r['after_mb'] for r in handovers[how]):,.0f} MB |"
        for how, label in (("pickle", "a pickled DataFrame from the child (baseline: the refit before)"),
                           ("dataset", "the Parquet file as a pyarrow dataset"),
                           ("batches", "the Parquet file in record batches"),
                           ("tower", "record batches, then arrow's freed buffers handed back (Tower now)"))]
    series = " ".join(map(str, args.series))
    command = (f"python -m bench.bench_forecast --db <{args.db.name}> --series {series} "
               f"--store-runs {args.store_runs}")
    body = (header(command, started_wall, time.monotonic() - started, host)
            + ("| series | refit | time | fit child's peak RSS | server's peak RSS | rows stored | same rows "
               + "|\n|---|---|---:|---:|---:|---:|---|\n" + "\n".join(lines) + "\n\n" if lines else "")
            + f"Storing a reference-scale refit ({REFERENCE_SERIES:,} series × {HORIZON_H} h = "
            + f"{REFERENCE_SERIES * HORIZON_H:,} rows) in twin_forecasts, each in a fresh process and file, "
            + f"median of {args.store_runs} (growth of each run in brackets):\n\n"
            + "| twin_forecasts | insert + checkpoint | process RSS growth | file |\n|---|---:|---:|---:|\n"
            + "\n".join(store_lines) + "\n\n"
            + "Handing those rows from the fit's child to the server, which stores them in a fresh Tower "
            + f"database (unkeyed table), each in a fresh process, median of {args.store_runs}:\n\n"
            + "| the server receives | store | server RSS peak growth | growth after |\n"
            + "|---|---:|---:|---:|\n"
            + "\n".join(handover_lines) + "\n")
    print(body)
    if not args.no_write:
        write_section("Forecast refit", body)
    return body


if __name__ == "__main__":
    main()
