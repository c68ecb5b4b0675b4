"""The SQL console's answer time, as an analyst sees it: queries one after another, each in its own
child process (tower.sql_console), against the same queries with no child started ahead.

    python -m bench.bench_console [--db <tower.duckdb>] [--queries 20] [--pause-s 2] [--no-write]

Baseline, in the same run: a fresh child started for each query when it is asked (as before the
spare). Tower: the child for the next query is started when a query ends, so its Python, DuckDB
and Arrow imports are done while the analyst reads the result (`--pause-s` between queries).
Without `--db` a small database with 10,000 orders is made; the query is the same in both.
Rounds alternate (baseline, Tower, baseline, …) so a change in the machine's speed meets both.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import queries
from bench.__main__ import header, machine, write_section

QUERY = "bench/console_query"  # what the analyst types


def _small_db(folder: Path):
    from tower.db import Database

    db = Database(folder / "tower.duckdb")
    with db.cursor() as cur:
        cur.execute(queries.load("bench/console_orders"), {"n": 10_000})
    return db


def _round(db, count: int, pause_s: float, spare: bool) -> list[float]:
    from tower import sql_console as sc
    from tower.auth.policy import Identity

    analyst = Identity("bench-analyst", "bench analyst", frozenset({"analyst"}))
    keep = sc._keep_spare
    sc._drop_spare()
    if not spare:
        sc._keep_spare = lambda: None  # the baseline: every query starts its own child when asked
    try:
        times = []
        for _ in range(count):
            started = time.perf_counter()
            sc.run(db, queries.load(QUERY), who=analyst, per_minute=0, snapshot_max_age_s=3600)
            times.append(time.perf_counter() - started)
            time.sleep(pause_s)  # the analyst reads the result
        return times
    finally:
        sc._keep_spare = keep
        sc._drop_spare()


def measure(db, count: int, pause_s: float, rounds: int = 2) -> dict[str, list[float]]:
    out = {"baseline": [], "tower": []}
    for _ in range(rounds):
        for name, spare in (("baseline", False), ("tower", True)):
            out[name] += _round(db, count, pause_s, spare)
    return out


def report(times: dict[str, list[float]], per_round: int, pause_s: float, source: str) -> str:
    def row(name, label):
        t = sorted(times[name])
        return f"| {label} | {statistics.median(t) * 1000:,.0f} ms | {t[int(0.9 * (len(t) - 1))] * 1000:,.0f} ms |"

    ratio = statistics.median(times["baseline"]) / statistics.median(times["tower"])
    sql = " ".join(line for line in queries.load(QUERY).splitlines() if not line.startswith("--"))
    return "\n".join([
        (f"{len(times['tower'])} queries per side ({per_round} a round, rounds alternated), {pause_s:g} s apart, "
         f"on {source}: `{sql}`."),
        "", "| child | median answer | p90 |", "|---|---:|---:|",
        row("baseline", "started when asked (baseline)"), row("tower", "Tower: started when the last query ended"),
        "", f"Tower answers {ratio:.1f}× faster than the baseline in the same run (median).",
    ])


def main(argv=None) -> str:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--db", type=Path, help="a Tower DuckDB file (copied; never written)")
    p.add_argument("--queries", type=int, default=20)
    p.add_argument("--pause-s", type=float, default=2.0)
    p.add_argument("--no-write", action="store_true", help="print only; leave bench/README.md alone")
    a = p.parse_args(argv)
    from tower.db import Database

    started_wall, started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M"), time.perf_counter()
    host = machine()
    with tempfile.TemporaryDirectory(prefix="tower-bench-console-") as tmp:
        if a.db:
            copy = Path(tmp) / "tower.duckdb"
            copy.write_bytes(a.db.read_bytes())
            db, source = Database(copy), f"a copy of {a.db.name}"
        else:
            db, source = _small_db(Path(tmp)), "a database of 10,000 orders"
        try:
            body = report(measure(db, a.queries, a.pause_s), a.queries, a.pause_s, source)
        finally:
            db.close()
    command = "python -m bench.bench_console" + (" --db <tower.duckdb>" if a.db else "")
    text = header(command, started_wall, time.perf_counter() - started, host) + body
    print(text)
    if not a.no_write:
        write_section("SQL console", text)
    return text


if __name__ == "__main__":
    main()
