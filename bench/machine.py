"""How fast this machine is, apart from Tower's code: a figure to read every soak and benchmark
against. The sessions' machines differ by up to ~3× from one day to the next (bench/README.md,
"Soak": the same overview rerun took 20–25 ms one day and 95–98 ms two days later), so a latency
from one day compared with another's says more about the machine than about a change.

    python -m bench.machine

Two fixed workloads, best of five: the interpreter (what twenty screens' reruns queue for on one
GIL) and DuckDB on every core (what the syncs, rollups and boards take). Lower is faster.
"""
from __future__ import annotations

import time

import duckdb

import queries


def _python_work() -> int:
    # dicts, strings and small loops: the shape of building elements and serialising them
    total = 0
    for i in range(200_000):
        row = {"sku": f"SKU-{i % 2000:04d}", "qty": i % 17, "ok": i % 3 == 0}
        total += len(row["sku"]) + row["qty"] + row["ok"]
    return total


def _duckdb_work(con) -> int:
    return con.execute(queries.load("bench/machine_speed")).fetchone()[0]


def _best_ms(work, repeats: int = 5) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best * 1000


def index() -> dict[str, float]:
    """Milliseconds for each workload (best of five)."""
    con = duckdb.connect()
    try:
        return {"python_ms": _best_ms(_python_work), "duckdb_ms": _best_ms(lambda: _duckdb_work(con))}
    finally:
        con.close()


def describe(figs: dict[str, float]) -> str:
    return f"interpreter {figs['python_ms']:.0f} ms, DuckDB {figs['duckdb_ms']:.0f} ms (bench.machine)"


def main() -> None:
    print("this machine:", describe(index()))


if __name__ == "__main__":
    main()
