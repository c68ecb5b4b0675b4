"""`python -m tower kpi`: every KPI of the semantic layer for one window, as a table or JSON.

It reads the database the way the app does (tower.db, the same macros); when the running app holds
the file, it reads the analysts' snapshot instead and says so. JSON keys are the KPIs' names in the
glossary (queries/kpi/<name>.sql)."""
from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from tower import config as config_mod
from tower import kpis
from tower.clock import utc
from tower.db import Database, DatabaseLocked


class UsageError(ValueError):
    """A bad argument: the message says which and why."""


def parse_args(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m tower kpi", description=__doc__.splitlines()[0])
    ap.add_argument("--db", help="database file (default: the one in tower.toml)")
    ap.add_argument("--at", help="end of the window, ISO-8601 (default: now)")
    ap.add_argument("--window-hours", type=float, default=24.0, help="window length in hours (default 24)")
    ap.add_argument("--by", choices=kpis.DIMENSIONS, help="break every KPI down by this dimension")
    ap.add_argument("--json", action="store_true", help="print JSON instead of a table")
    return ap.parse_args(argv)


def parse_at(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return utc(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        raise UsageError(f"--at {text!r} is not an ISO-8601 time (e.g. 2026-12-04T10:00:00Z)") from None


def open_database(path: Path, snapshot: Path) -> tuple[Database, str]:
    """(database, what was read): the live file, or its snapshot while the app holds the file."""
    if not path.exists():
        raise UsageError(f"no database at {path}: run the app or `python -m connectors sync` first")
    try:
        return Database(path), str(path)
    except DatabaseLocked:
        if not snapshot.exists():
            raise UsageError(f"{path} is held by the running app and no snapshot exists at {snapshot}") from None
        return Database(snapshot, read_only=True), f"{snapshot} (snapshot: the app holds {path})"


def data_now(db) -> datetime:
    """Now: the wall clock, or the data's clock when a simulated world runs ahead of it."""
    wall = datetime.now(timezone.utc)
    synced = db.query("ops/data_clock")["synced_until"].iloc[0]
    return max(wall, synced.to_pydatetime()) if synced is not None and synced == synced else wall


def figures(db, params: dict, by: str | None, targets: kpis.Targets) -> dict:
    """{kpi name: its figures}: value, n, unit, target, status; with `by`, one entry per value."""
    out = {}
    for name, kpi in sorted(kpis.catalog().items()):
        target = targets.for_kpi(name, params.get("market"))
        base = {"label": kpi.label, "unit": kpi.unit, "better": kpi.better,
                "target": None if target is None else {"green": target.green, "yellow": target.yellow}}
        if by is None:
            value, n = kpis.value(db, name, params)
            out[name] = {**base, "value": value, "n": n,
                         "status": target.status(value, n) if target else None}
        elif by in kpi.dimensions:
            rows = kpis.breakdown(db, name, params, by)
            out[name] = {**base, "by": by, "values": {
                str(r.dimension_value): {"value": kpis.clean(r.value), "n": int(r.n),
                                         "status": target.status(kpis.clean(r.value), int(r.n)) if target else None}
                for r in rows.itertuples()}}
    return out


def render_table(result: dict) -> str:
    lines = [f"KPIs for {result['window']['start']} → {result['window']['end']} ({result['source']})"]
    for name, f in result["kpis"].items():
        kpi = kpis.get(name)
        entries = f["values"].items() if "values" in f else [("", f)]
        for part, e in entries:
            shown = kpi.format_value(e["value"])
            label = f"{name}[{part}]" if part else name
            lines.append(f"  {label:<40} {shown:>12}  n={e['n']:<7} {e['status'] or '—'}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    try:
        if not 0 < args.window_hours <= 24 * 366:
            raise UsageError(f"--window-hours must be between 0 and {24 * 366}, got {args.window_hours:g}")
        cfg = config_mod.load()
        path = Path(args.db) if args.db else cfg.db_path
        db, source = open_database(path, cfg.snapshot_path)
    except (UsageError, config_mod.ConfigError, kpis.TargetsError) as e:
        print(f"tower kpi: {e}", file=sys.stderr)
        return 2
    try:
        end = parse_at(args.at) or data_now(db)
        start = end - timedelta(hours=args.window_hours)
        params = {"start": start, "end": end, "now": end}
        result = {"window": {"start": start.isoformat(), "end": end.isoformat(), "hours": args.window_hours},
                  "source": source, "kpis": figures(db, params, args.by, kpis.load_targets())}
    except (UsageError, kpis.TargetsError) as e:
        print(f"tower kpi: {e}", file=sys.stderr)
        return 2
    finally:
        db.close()
    print(json.dumps(result, indent=2, default=str) if args.json else render_table(result))
    return 0
