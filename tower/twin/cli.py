"""`python -m tower twin …`: run the digital twin from the command line.

    python -m tower twin list [--db PATH]
    python -m tower twin run --scenario NAME [--runs N] [--seed S] [--at ISO] [--db PATH] [--json]

`run` builds the network from the database (as of now, or --at), simulates every default response
under the scenario and prints each response's figures and the winner. Exit codes: 0 ok, 2 a bad
argument (unknown scenario: the known names are listed) or a database that cannot be read."""
from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timezone
from pathlib import Path

from tower import config as config_mod
from tower.clock import utc
from tower.db import Database, DatabaseLocked
from tower.twin import network, scenarios, simulate
from tower.twin.errors import TwinCancelled, TwinInvalid


class UsageError(ValueError):
    """A bad argument: the message says which and why."""


def parse_args(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m tower twin", description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    ls = sub.add_parser("list", help="list the scenario library")
    ls.add_argument("--db", help="database file (default: the one in tower.toml)")
    run = sub.add_parser("run", help="simulate a scenario and compare the responses")
    run.add_argument("--scenario", required=True, help="scenario name (see `twin list`)")
    run.add_argument("--runs", type=int, default=1000, help="Monte Carlo runs per response (default 1000)")
    run.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    run.add_argument("--at", help="replay the network as known at this moment, ISO-8601 (default: now)")
    run.add_argument("--db", help="database file (default: the one in tower.toml)")
    run.add_argument("--json", action="store_true", help="print JSON instead of a table")
    return ap.parse_args(argv)


def open_database(path: Path, snapshot: Path) -> Database:
    if not path.exists():
        raise UsageError(f"no database at {path}: run the app or `python -m connectors sync` first")
    try:
        return Database(path)
    except DatabaseLocked:
        if not snapshot.exists():
            raise UsageError(f"{path} is held by the running app and no snapshot exists at {snapshot}") from None
        return Database(snapshot, read_only=True)


def data_now(db) -> datetime:
    """Now: the wall clock, or the data's clock when a simulated world runs ahead of it."""
    wall = datetime.now(timezone.utc)
    synced = db.query("ops/data_clock")["synced_until"].iloc[0]
    return max(wall, synced.to_pydatetime()) if synced is not None and synced == synced else wall


def parse_at(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return utc(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        raise UsageError(f"--at {text!r} is not an ISO-8601 time (e.g. 2026-12-04T10:00:00Z)") from None


def render_table(result: dict) -> str:
    lines = [f"Twin: {result['scenario']['title']} — {result['runs']} runs over {result['horizon_h'] // 24} days "
             f"from {result['now']} ({result['elapsed_s']:.1f} s)",
             f"  {'response':<38} {'P(stockout)':>11} {'lost p50':>9} {'lost $ p50':>11} {'lost $ p90':>11} "
             f"{'extra $':>10} {'on-time pp':>10} {'net p50':>10} {'net p90':>10}"]
    for o in result["responses"]:
        mark = "*" if o["name"] == result["winner"] else " "
        lines.append(f"{mark} {o['name']:<38} {o['stockout_probability_any']:>11.0%} {o['lost_units_p50']:>9.0f} "
                     f"{o['lost_sales_usd_p50']:>11,.0f} {o['lost_sales_usd_p90']:>11,.0f} {o['extra_cost_usd']:>10,.0f} "
                     f"{o['on_time_pp']:>+10.1f} {o['net_benefit_p50']:>+10,.0f} {o['net_benefit_p90']:>+10,.0f}")
    lines.append(f"Winner: {result['winner']} (best net benefit p50; ties go to the cheaper)")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    try:
        args = parse_args(argv)
    except SystemExit as e:           # argparse already printed why
        return int(e.code or 0)
    try:
        cfg = config_mod.load()
        path = Path(args.db) if args.db else cfg.db_path
        db = open_database(path, cfg.snapshot_path)
    except (UsageError, config_mod.ConfigError) as e:
        print(f"tower twin: {e}", file=sys.stderr)
        return 2
    try:
        library = scenarios.library(db)
        if args.command == "list":
            for name, s in library.items():
                print(f"{name:<24} {s.title}")
            return 0
        if args.scenario not in library:
            raise UsageError(f"unknown scenario {args.scenario!r}; known: {', '.join(library)}")
        now = parse_at(args.at) or data_now(db)
        net = network.build(db, now)
        comparison = simulate.compare(net, library[args.scenario], runs=args.runs, seed=args.seed)
    except (UsageError, TwinInvalid) as e:
        print(f"tower twin: {e}", file=sys.stderr)
        return 2
    except TwinCancelled as e:
        print(f"tower twin: {e}", file=sys.stderr)
        return 1
    finally:
        db.close()
    result = comparison.to_json(per_key=False)
    print(json.dumps(result, indent=2, default=str) if args.json else render_table(result))
    return 0
