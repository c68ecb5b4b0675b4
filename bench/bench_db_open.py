"""What opening a Tower database costs a process, new or existing, against the same opens when every
open migrates and creates the semantic layer's macros (as before tower/empty_db.py and the layer's
fingerprint).

    python -m bench.bench_db_open [--opens 20] [--no-write]

New file, baseline: migrated from scratch (every queries/schema file, then the layer). Tower: a copy
of the process's empty database. Existing file, baseline: the layer's macros created again. Tower:
left as they are, the file holding this code's layer. Opens alternate (baseline, Tower, …) so a change
in the machine's speed meets both. Every new merchant cut (tower.merchant_snapshot) is a new file;
every process that starts (app server, connector worker, console command, test) reopens one.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.__main__ import header, machine, write_section

CASES = {
    "new_baseline": "new file, migrated from scratch (baseline)",
    "new_tower": "new file, Tower: a copy of the empty database",
    "reopen_baseline": "existing file, layer created again (baseline)",
    "reopen_tower": "existing file, Tower: layer left as it is",
}


def _open(folder: Path, case: str, k: int) -> float:
    from tower.db import Database

    path = folder / case / f"{k}.duckdb"
    if case.startswith("reopen"):
        Database(path).close()  # the file exists, holding this code's layer
    started = time.perf_counter()
    db = Database(path, from_empty=case != "new_baseline")
    if case == "reopen_baseline":
        db.install_layer()  # every open used to create the macros
    elapsed = time.perf_counter() - started
    db.close()
    return elapsed


def measure(opens: int) -> dict[str, list[float]]:
    from tower.db import Database

    out = {case: [] for case in CASES}
    with tempfile.TemporaryDirectory(prefix="tower-bench-open-") as tmp:
        folder = Path(tmp)
        Database(folder / "warm.duckdb").close()  # the process's empty database exists, imports done
        for k in range(opens):
            for case in CASES:
                out[case].append(_open(folder, case, k))
    return out


def report(times: dict[str, list[float]]) -> str:
    def median_ms(case):
        return statistics.median(times[case]) * 1000

    rows = [f"| {label} | {median_ms(case):,.0f} ms |" for case, label in CASES.items()]
    return "\n".join([
        f"{len(times['new_tower'])} opens per case, alternated, in one process.", "",
        "| open | median |", "|---|---:|", *rows, "",
        (f"A new file opens {median_ms('new_baseline') / median_ms('new_tower'):.1f}× faster, an existing one "
         f"{median_ms('reopen_baseline') / median_ms('reopen_tower'):.1f}× faster than the baseline (medians, same run)."),
    ])


def main(argv=None) -> str:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--opens", type=int, default=20)
    p.add_argument("--no-write", action="store_true", help="print only; leave bench/README.md alone")
    a = p.parse_args(argv)
    started_wall, started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M"), time.perf_counter()
    host = machine()
    body = report(measure(a.opens))
    text = header("python -m bench.bench_db_open", started_wall, time.perf_counter() - started, host) + body
    print(text)
    if not a.no_write:
        write_section("Opening a database", text)
    return text


if __name__ == "__main__":
    main()
