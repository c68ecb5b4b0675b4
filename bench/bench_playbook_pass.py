"""Bench: the automatic playbook pass's planning on a dataset, against each open alert planned alone.
Writes the "## Automatic playbook pass" section of bench/README.md.

    python -m bench.bench_playbook_pass --db <reference>/tower.duckdb   # python -m bench.reference --out DIR
    python -m bench.bench_playbook_pass                                   # the sandbox world (×1)

After every alert evaluation (at most one per 5 wall seconds in the app) the action worker plans
B-03 for every open alert of its rule; on a promotion day that is hundreds of demand-surge alerts,
and the pass ran back to back on the app server's cores. Set-up on a copy of the file: one evaluation
of every alert rule at the time of its newest sync and one 30 minutes later open the alerts. Then,
alternating, `--runs` times:
- baseline — each alert planned alone, as the Alerts and Actions pages plan the alert they show
  (`planner.plan_for`: its own diagnosis, and the actions it would take even when it does not trigger);
- ours — `runner.plan_all`, what the pass runs: the diagnoses of all alerts in one go, actions only
  for plans that trigger.
Both must reach the same verdict, reasons and diagnosis numbers for every alert, or the bench fails."""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.__main__ import header, machine, write_section
from tower.actions import planner, playbooks, runner
from tower.alerts.engine import AlertEngine
from tower.alerts.settings import load as load_settings
from tower.clock import ManualClock, SystemClock
from tower.config import load as config_load
from tower.db import Database

BOOK = "B-03"
HOLD_MINUTES = 30   # a finding opens an alert once it has held (config/alerts.toml): two evaluations


def verdicts(plans) -> list[tuple]:
    """What must agree: per alert its verdict, reasons and the diagnosis's numbers (an idle plan's
    actions, and what only they add to the numbers, are the page's extra)."""
    skip = {"backup_quick_response_units"}
    return [(a["alert_id"], p.triggered, list(p.reasons), {k: v for k, v in p.numbers.items() if k not in skip})
            for a, p in plans]


def bench(db_path: Path | None, runs: int) -> dict:
    with tempfile.TemporaryDirectory() as d:
        copy = Path(d) / "tower.duckdb"
        if db_path is None:
            from bench.dataset import sandbox_db

            db_path = sandbox_db(Path(d) / "x1").path
        shutil.copy(db_path, copy)
        db = Database(copy)
        try:
            cfg = config_load()
            book = playbooks.get(cfg, BOOK)
            clock = ManualClock(db.query("bench/soak_latest_run", {}).iloc[0, 0].to_pydatetime())
            alert_engine = AlertEngine(db, load_settings(), clock, None)
            alert_engine.evaluate(force=True)
            clock.advance(minutes=HOLD_MINUTES)
            alert_engine.evaluate(force=True)
            now = clock.now()
            alerts = db.query("actions/open_alerts", {"rules": [book.trigger.rule]}).to_dict("records")
            orders = int(db.df("select count(*) as n from orders").n[0])
            alone_s, ours_s = [], []
            for _ in range(runs):
                t = time.perf_counter()
                alone = [(a, planner.plan_for(db, cfg, book, a, now)) for a in alerts]
                alone_s.append(time.perf_counter() - t)
                t = time.perf_counter()
                ours = runner.plan_all(db, cfg, book, alerts, now)
                ours_s.append(time.perf_counter() - t)
                if verdicts(alone) != verdicts(ours):
                    raise AssertionError("the pass and the one-by-one plans disagree")
        finally:
            db.close()
    return {"orders": orders, "alerts": len(alerts), "triggered": sum(p.triggered for _, p in ours),
            "alone_s": statistics.median(alone_s), "ours_s": statistics.median(ours_s)}


def report(r: dict, runs: int) -> str:
    if not r["alerts"]:
        return f"{r['orders']:,} orders; no open {BOOK} alert after two evaluations: nothing to plan."

    def per(seconds: float) -> str:
        return f"{seconds * 1000 / r['alerts']:.0f} ms"

    return "\n".join([
        f"{r['orders']:,} orders; two evaluations opened **{r['alerts']}** alerts of {BOOK}'s rule "
        f"({r['triggered']} of its plans trigger); medians of {runs} alternating runs; same verdicts, reasons and "
        "numbers both ways (checked every run).",
        "",
        "| planning every open alert | total | per alert |",
        "|---|---:|---:|",
        f"| baseline: each alert alone, as a page plans one | {r['alone_s']:.2f} s | {per(r['alone_s'])} |",
        f"| the pass: inputs read in one go, actions only when triggered | {r['ours_s']:.2f} s | {per(r['ours_s'])} |",
        "",
        f"Ratio: the pass is **{r['alone_s'] / r['ours_s']:.1f}×** faster than the baseline.",
    ])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", type=Path, help="a Tower DuckDB file (default: the sandbox world, built here)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    started, host, t0 = SystemClock().now(), machine(), time.perf_counter()
    body = report(bench(args.db, args.runs), args.runs)
    print(body)
    if not args.no_write:
        command = "python -m bench.bench_playbook_pass" + (" --db <reference>" if args.db else "")
        write_section("Automatic playbook pass", header(command, f"{started:%Y-%m-%d %H:%M}",
                                                         time.perf_counter() - t0, host) + body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
