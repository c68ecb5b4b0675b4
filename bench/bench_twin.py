"""Bench: the twin's Monte Carlo, vectorised vs a straightforward per-run loop, and how it grows
with SKUs. Writes the "## Twin" section of bench/README.md.

    python -m bench.bench_twin               # default world, then ×10 and ×100 SKUs
    python -m bench.bench_twin --no-write    # print only
    python -m bench.bench_twin --db PATH     # an existing sandbox-synced database instead of a new one

What is timed: `compare(network, member_day_surge, default responses, runs=1000)` — every SKU ×
warehouse of the default world, 30 days hourly, the six default responses plus do-nothing and the
no-disruption baseline (eight simulated slots per run). The loop reference (`compare_loop`, the
same model one run at a time) runs LOOP_RUNS runs; its time grows linearly with runs (each run is
independent and identical in work), so it is scaled to 1,000 runs for the ratio. The ×10 and ×100
datasets are bench.dataset.scaled_db copies (SKUs multiplied with their facts); ×100 runs
SCALED_RUNS[100] runs and is reported per 1,000 runs the same way."""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from bench.__main__ import header, machine, write_section
from bench.dataset import sandbox_db, scaled_db
from tower.db import Database
from tower.twin import network, responses, scenarios, simulate
from tower.twin.cli import data_now

RUNS = 1000
LOOP_RUNS = 20
REPEATS = 3
SCALED_RUNS = {10: 1000, 100: 100}
TARGET_S = 5.0


def timed(fn, repeats: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def bench_db(path: Path, now: datetime, runs: int, repeats: int) -> dict:
    db = Database(path, read_only=True)
    try:
        build_s, net = timed(lambda: network.build(db, now), 1)
    finally:
        db.close()
    scenario = scenarios.builtin()["member_day_surge"]
    slots = len(responses.default_responses(net)) + 1
    sim_s, comparison = timed(lambda: simulate.compare(net, scenario, runs=runs, seed=0), repeats)
    return {"keys": net.size, "slots": slots, "runs": runs, "build_s": build_s, "sim_s": sim_s,
            "per_1000_s": sim_s * 1000 / runs, "winner": comparison.winner, "net": net, "scenario": scenario}


def run(db_path: str | None) -> tuple[str, float]:
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench_twin_") as tmp:
        if db_path:
            base_path = Path(db_path)
            db = Database(base_path, read_only=True)
            try:
                now = data_now(db)
            finally:
                db.close()
        else:
            ds = sandbox_db(Path(tmp) / "1x")
            base_path, now = ds.path, ds.now
        one = bench_db(base_path, now, RUNS, REPEATS)
        loop_s, _ = timed(lambda: simulate.compare_loop(one["net"], one["scenario"], runs=LOOP_RUNS, seed=0), 1)
        loop_1000 = loop_s * RUNS / LOOP_RUNS
        rows = [("×1", one)]
        for factor, runs in SCALED_RUNS.items():
            scaled = scaled_db(base_path, Path(tmp) / f"{factor}x", factor=factor)
            rows.append((f"×{factor}", bench_db(scaled.path, now, runs, 1)))
    lines = [
        f"Vectorised, default world ({one['keys']} SKU × warehouse keys, {one['slots']} slots: baseline, "
        f"do-nothing and every default response; 30 days hourly; {RUNS:,} runs): **{one['sim_s']:.2f} s** "
        f"(median of {REPEATS}; target ≤ {TARGET_S:.0f} s: {'met' if one['sim_s'] <= TARGET_S else 'NOT met'}).",
        "",
        f"Per-run Python loop (same model, one run at a time): {loop_s:.2f} s for {LOOP_RUNS} runs → "
        f"{loop_1000:,.0f} s for {RUNS:,} runs. **Vectorised is {loop_1000 / one['sim_s']:,.0f}× faster.**",
        "",
        "| dataset | keys | runs timed | build network (s) | simulate (s) | s per 1,000 runs | × the default world |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, r in rows:
        lines.append(f"| {label} | {r['keys']:,} | {r['runs']:,} | {r['build_s']:.2f} | {r['sim_s']:.2f} | "
                     f"{r['per_1000_s']:.1f} | {r['per_1000_s'] / one['per_1000_s']:.1f} |")
    lines += ["", "Time grows about linearly with keys (state is slots × runs × keys, stepped hour by hour); "
              "past the memory limit (config/twin.toml [limits] memory_mb) the runs go in chunks, so memory "
              "stays bounded and time keeps growing linearly."]
    return "\n".join(lines), time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.bench_twin", description=__doc__.splitlines()[0])
    ap.add_argument("--no-write", action="store_true", help="print, leave bench/README.md alone")
    ap.add_argument("--db", help="a sandbox-synced database to use instead of building one")
    args = ap.parse_args(argv)
    host = machine()
    started_wall = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M")
    body, seconds = run(args.db)
    text = header("python -m bench.bench_twin", started_wall, seconds, host) + body
    print(text)
    if not args.no_write:
        write_section("Twin", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
