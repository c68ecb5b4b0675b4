"""Command line: `python -m connectors sync [SOURCE …] [--loop] [--config PATH]`, `status`, `snapshot`.

The CLI owns the database while it runs, so it only works when the app is not running; if the
file is held it says so and exits with status 2. With `[store] kind = "ducklake"` it writes to the
DuckLake store instead, where any number of these workers (on any host) and the app run at once. With the config's sandbox enabled it starts the
sandbox itself (a fresh simulated world on the configured port) and uses its simulated clock;
otherwise the system clock. Exit status: 0 ok (including partial runs), 1 some source failed,
2 usage/config/locked-database problems.
"""
from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from datetime import datetime, timezone

import pandas as pd

from connectors.base import sql
from connectors.scheduler import Scheduler
from sandbox.server import start as start_sandbox
from tower import config as config_mod, store
from tower.clock import SystemClock
from tower.db import Database, DatabaseLocked

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m connectors", description=__doc__.splitlines()[0])
    p.add_argument("--config", help="config file (default: $TOWER_CONFIG or tower.toml)")
    p.add_argument("-v", "--verbose", action="store_true", help="log each request retry")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("sync", help="pull sources into the database")
    s.add_argument("sources", nargs="*", metavar="SOURCE", help="source names (default: all)")
    s.add_argument("--loop", action="store_true", help="keep syncing on each source's interval")
    s.add_argument("--config", dest="config_sub", help=argparse.SUPPRESS)
    st = sub.add_parser("status", help="last run per source")
    st.add_argument("--config", dest="config_sub", help=argparse.SUPPRESS)
    sn = sub.add_parser("snapshot", help="publish the analyst snapshot now")
    sn.add_argument("--config", dest="config_sub", help=argparse.SUPPRESS)
    return p


def _fmt(value) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "-"
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")
    return str(value)


def _print_result(name: str, r) -> None:
    if r is None:
        print(f"{name:<18} skipped (already running)")
        return
    line = (f"{name:<18} {r.status:<8} fetched {r.rows_fetched:>6}  written {r.rows_written:>6}  "
            f"rejected {r.rows_rejected:>4}  newest {_fmt(r.newest_record_at)}")
    print(line + (f"\n{'':<18} {r.error}" if r.error else ""))


def _start_clock(cfg):
    """(clock, sandbox server or None)."""
    if not cfg.sandbox.enabled:
        return SystemClock(), None

    clock = cfg.sandbox.clock()
    return clock, start_sandbox(cfg.sandbox, clock)


def cmd_sync(cfg, db, args) -> int:

    unknown = [n for n in args.sources if n not in cfg.sources]
    if unknown:
        print(f"unknown source(s): {', '.join(unknown)} (configured: {', '.join(cfg.sources)})",
              file=sys.stderr)
        return EXIT_USAGE
    try:
        clock, sandbox = _start_clock(cfg)
    except OSError as e:
        print(f"cannot start the sandbox on {cfg.sandbox.url}: {e.strerror or e}", file=sys.stderr)
        return EXIT_USAGE
    try:
        scheduler = Scheduler(db, cfg, clock, only=args.sources or None)
        for name, err in scheduler.build_errors.items():
            print(f"{name:<18} not run: {err}", file=sys.stderr)
        if args.loop:
            scheduler.after_sync.append(_print_result)
            stop = threading.Event()
            for signum in (signal.SIGTERM, signal.SIGINT):  # SIGINT too: see sandbox.__main__
                signal.signal(signum, lambda *_: stop.set())
            scheduler.start()
            print(f"syncing {', '.join(scheduler.sources)} on their intervals; Ctrl-C to stop")
            while not stop.wait(0.5):
                pass
            scheduler.stop()
            return EXIT_OK
        results = scheduler.run_all()
        for name, result in results.items():
            _print_result(name, result)
        failed = scheduler.build_errors or any(r is None or r.status == "failed" for r in results.values())
        return EXIT_FAILED if failed else EXIT_OK
    finally:
        if sandbox:
            sandbox.stop()


def cmd_status(cfg, lake=None) -> int:
    """The last run per source, from the lake when given, else from the file (or its snapshot)."""
    path = cfg.db_path
    note = ""
    if lake is not None:
        db = lake
    elif not path.exists():
        print(f"no database yet at {path} (run `python -m connectors sync`)")
        return EXIT_OK
    else:
        try:
            db = Database(path, read_only=True)
        except DatabaseLocked:
            if not cfg.snapshot_path.exists():
                raise
            db = Database(cfg.snapshot_path, read_only=True)
            note = f"(the live database is held by the app; showing the snapshot {cfg.snapshot_path})"
    try:
        rows = db.df(sql("last_runs"))
    except Exception:  # an empty or pre-migration file has no sync_runs table
        rows = None
    finally:
        db.close()
    if note:
        print(note)
    if rows is None or rows.empty:
        print("no runs recorded yet")
        return EXIT_OK
    print(f"{'source':<18} {'status':<8} {'started':<21} {'secs':>6} {'fetched':>8} {'written':>8} "
          f"{'rejected':>8}  newest record")
    for r in rows.itertuples(index=False):
        print(f"{r.source:<18} {r.status:<8} {_fmt(r.started_at):<21} {_fmt(r.duration_s):>6} "
              f"{_fmt(r.rows_fetched):>8} {_fmt(r.rows_written):>8} {_fmt(r.rows_rejected):>8}  "
              f"{_fmt(r.newest_record_at)}")
        if isinstance(r.error, str) and r.error:
            print(f"{'':<18} {r.error}")
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        cfg = config_mod.load(getattr(args, "config_sub", None) or args.config)
    except config_mod.ConfigError as e:
        print(f"config error: {e}", file=sys.stderr)
        return EXIT_USAGE
    try:
        on_lake = store.settings(cfg.raw).kind == "ducklake"
        if args.command == "status" and not on_lake:
            return cmd_status(cfg)
        db = store.open_database(cfg)
    except DatabaseLocked as e:
        print(f"database locked: {e}", file=sys.stderr)
        return EXIT_USAGE
    except store.LakeUnavailable as e:
        print(f"store: {e}", file=sys.stderr)
        return EXIT_USAGE
    try:
        if args.command == "status":
            return cmd_status(cfg, lake=db)
        if args.command == "snapshot":
            print(f"snapshot written to {db.snapshot(cfg.snapshot_path)}")
            return EXIT_OK
        return cmd_sync(cfg, db, args)
    finally:
        db.close()


if __name__ == "__main__":
    sys.exit(main())
