"""`python -m tower actions list [--db PATH] [--json]`: the executable playbooks with their mode,
trigger, limits and kill switch; `python -m tower actions log [--db PATH] [--json]`: the action log,
newest first, with each action's status changes. Reads the live database, or the analysts' snapshot while the running app
holds the file (and says so on stderr). `COMMANDS` maps sub-command → function(argv) → exit code, so
`actions list` (the playbooks) can sit beside it."""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from tower import config as config_mod
from tower.actions import log, playbooks, runner
from tower.actions.errors import ActionInvalid
from tower.db import Database, DatabaseLocked


def open_database(path: Path, snapshot: Path) -> Database:
    if not path.exists():
        raise SystemExit(f"no database at {path}: run the app or `python -m connectors sync` first")
    try:
        return Database(path)
    except DatabaseLocked:
        if not snapshot.exists():
            raise SystemExit(f"{path} is held by the running app and no snapshot exists at {snapshot}") from None
        print(f"reading the snapshot {snapshot}: the app holds {path}", file=sys.stderr)
        return Database(snapshot, read_only=True)


def log_command(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m tower actions log", description=__doc__.splitlines()[0])
    ap.add_argument("--db", help="database file (default: the one in tower.toml)")
    ap.add_argument("--status", action="append", choices=sorted({*log.IN_FLIGHT, *log.FINAL, "reverting"}),
                    help="only actions in this status (repeatable)")
    ap.add_argument("--playbook", help="only actions of this playbook, e.g. B-03")
    ap.add_argument("--limit", type=int, default=500, help="at most this many actions (default 500)")
    ap.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = ap.parse_args(argv)
    cfg = config_mod.load()
    db = open_database(Path(args.db) if args.db else cfg.db_path, cfg.snapshot_path)
    try:
        actions = log.listing(db, statuses=args.status, playbook=args.playbook, limit=args.limit)
        if args.json:
            rows = [{**asdict(a), "transitions": log.transitions(db, a.action_id)} for a in actions]
            print(json.dumps(rows, default=str, ensure_ascii=False, indent=2))
            return 0
    finally:
        db.close()
    print(f"{'id':>5}  {'status':<13} {'kind':<23} {'playbook':<9} {'proposed at':<17} {'vendor id':<18} last error")
    for a in actions:
        print(f"{a.action_id:>5}  {a.status:<13} {a.kind:<23} {a.playbook or '-':<9} "
              f"{a.proposed_at:%Y-%m-%d %H:%M}  {a.external_id or '-':<18} {(a.last_error or '')[:60]}")
    return 0


def list_command(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m tower actions list", description="the executable playbooks")
    ap.add_argument("--db", help="database file for the kill switches (default: the one in tower.toml)")
    ap.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = ap.parse_args(argv)
    cfg = config_mod.load()
    try:
        books = playbooks.load_all(cfg)
    except ActionInvalid as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    path = Path(args.db) if args.db else cfg.db_path
    switches: dict[str, bool | None] = {b.id: None for b in books}
    if path.exists():
        db = open_database(path, cfg.snapshot_path)
        try:
            switches = {b.id: runner.enabled(db, b.id) for b in books}
        finally:
            db.close()
    rows = [{"id": b.id, "title": b.title, "explains": f"playbooks/{b.explains}.md", "mode": b.mode,
             "enabled": switches[b.id], "trigger": b.trigger.model_dump(), "plan": b.plan.model_dump(),
             "limits": b.limits.model_dump()} for b in books]
    if args.json:
        print(json.dumps(rows, default=str, ensure_ascii=False, indent=2))
        return 0
    for r in rows:
        state = {None: "unknown (no database)", True: "on", False: "KILLED"}[r["enabled"]]
        limits = r["limits"]
        print(f"{r['id']:<6} {r['mode']:<9} automatic runs {state}; trigger {r['trigger']['rule']} "
              f"({', '.join(r['trigger']['severities'])}); limits {limits['spend_per_day_usd']:g} USD/day, "
              f"{limits['max_quantity']} units, cooldown {limits['cooldown_hours']:g} h, "
              f"approval above {limits['approval_above_usd']:g} USD — {r['title'].get('en', '')}")
    return 0


COMMANDS = {"list": list_command, "log": log_command}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in COMMANDS:
        print(f"usage: python -m tower actions {{{','.join(COMMANDS)}}} …", file=sys.stderr)
        return 2
    return COMMANDS[argv[0]](argv[1:])
