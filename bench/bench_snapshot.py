"""The analyst snapshot (tower.db.Database.snapshot) against DuckDB's own whole-database copy.

    python -m bench.bench_snapshot --db <a Tower DuckDB file> [--runs 2] [--memory-limit 1GB] [--no-write]

Baseline, in the same run: `COPY FROM DATABASE … TO snapshot`, which rebuilds every key's index in
the copy. Tower copies the schema, then each table's rows without keys or indexes, in one
transaction. Each copy runs in its own child process on a private copy of the file, so its peak RSS
is its own; `--memory-limit` sets DuckDB's memory_limit in both children (a copy that does not fit
fails with OutOfMemory, which the table shows).
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.__main__ import header, machine, write_section

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
import duckdb
from queries import dynamic
from tower.db import Database
method, src, dest, limit = sys.argv[1:5]
engine = {"memory_limit": limit} if limit else {}
out = {"error": None}
db = Database(src, engine=engine)
started = time.perf_counter()
try:
    if method == "tower":
        db.snapshot(dest)
    else:  # DuckDB's whole-database copy, the way Tower made the snapshot before
        with db.cursor() as cur:
            cur.execute(dynamic.attach_snapshot(dest))
            cur.execute("copy from database " + dynamic.quote(Path(src).stem) + " to tower_snapshot")
            cur.execute("detach tower_snapshot")
except duckdb.Error as e:
    out["error"] = type(e).__name__
out["seconds"] = time.perf_counter() - started
out["peak_rss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
out["bytes"] = Path(dest).stat().st_size if Path(dest).exists() else 0
print(json.dumps(out))
"""


def measure(method: str, source: Path, limit: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="tower-snap-") as tmp:
        src = Path(tmp) / "tower.duckdb"
        shutil.copyfile(source, src)
        dest = Path(tmp) / "snapshot" / "tower.duckdb"
        dest.parent.mkdir()
        proc = subprocess.run([sys.executable, "-c", CHILD, method, str(src), str(dest), limit],
                              cwd=ROOT, capture_output=True, text=True, check=True)
        return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> str:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db", required=True, type=Path)
    p.add_argument("--runs", type=int, default=2)
    p.add_argument("--memory-limit", default="", help="DuckDB memory_limit in both copies (e.g. 1GB)")
    p.add_argument("--no-write", action="store_true")
    args = p.parse_args(argv)
    started_wall, started, host = time.strftime("%Y-%m-%d %H:%M", time.gmtime()), time.monotonic(), machine()
    rows = {m: [measure(m, args.db, args.memory_limit) for _ in range(args.runs)]
            for m in ("copy_database", "tower")}
    mb = 1024 * 1024

    def line(label: str, runs: list[dict]) -> str:
        errors = sorted({r["error"] for r in runs if r["error"]})
        return (f"| {label} | {statistics.median(r['seconds'] for r in runs):.1f} s | "
                f"{max(r['peak_rss'] for r in runs) / mb:,.0f} MB | "
                f"{max(r['bytes'] for r in runs) / mb:,.0f} MB | "
                f"{', '.join(errors) or 'none'} |")
    base, ours = (statistics.median(r["seconds"] for r in rows[m]) for m in ("copy_database", "tower"))
    command = f"python -m bench.bench_snapshot --db <{args.db.name}> --runs {args.runs}" + (
        f" --memory-limit {args.memory_limit}" if args.memory_limit else "")
    body = (header(command, started_wall, time.monotonic() - started, host)
            + f"Source file: {args.db.stat().st_size / mb:,.0f} MB; DuckDB memory_limit: "
            + f"{args.memory_limit or 'default (80 % of RAM)'}; median of {args.runs} runs, "
            + "peak RSS the largest.\n\n"
            + "| copy | time | peak RSS | snapshot file | errors |\n|---|---:|---:|---:|---|\n"
            + line("`COPY FROM DATABASE` (baseline)", rows["copy_database"]) + "\n"
            + line("Tower: schema, then rows without keys", rows["tower"]) + "\n\n"
            + (f"Tower's copy is {base / ours:.1f}× faster than the baseline in the same run.\n"
               if not any(r["error"] for runs in rows.values() for r in runs) else
               "A copy that failed has no speed ratio: see its error.\n"))
    print(body)
    if not args.no_write:
        write_section("Analyst snapshot", body)
    return body


if __name__ == "__main__":
    main()
