"""Webhook latency: event sent → row queryable in DuckDB, against the polling path, in one run.

    python -m bench.webhook_latency [--events 1000] [--rate 200] [--rounds 8] [--write]

Set-up, all real and on loopback: the sandbox (seed 7, 5 days of history, a ManualClock), a fresh
hardened DuckDB file, the app's webhook receiver + loader (connectors.webhooks, as tower.runtime
starts them) and the AfterShip connector on the Scheduler at tower.toml's interval.

1. Webhooks: `--events` distinct trackings of the sandbox world, each as the AfterShip
   `tracking_update` webhook the sandbox's sender builds (signed `aftership-hmac-sha256`), POSTed by
   4 threads at `--rate` events/s; 2 % are posted a second time (a vendor's redelivery). Latency =
   wall time from just before the POST to the first moment a watcher (polling DuckDB every 10 ms
   through the app's own Database) sees the event's webhook_events row — written in the same
   transaction as its shipments row. Then a burst: the same number again (newer versions), all at
   once from 8 threads. Exactly-once check: one webhook_events row and one shipment per event.
2. Polling (baseline): after a catch-up sync, `--rounds` times: wait a random phase of the poll
   interval, move the sandbox clock one 5-minute step (new tracking versions appear in the API at
   that wall instant), and time until every new version is queryable in `shipments`.
`--write` puts the figures and the command into bench/README.md (section "Webhooks").
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import random
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import requests

from bench.__main__ import write_section
from connectors import webhooks
from connectors.scheduler import Scheduler
from connectors.testing import sources_for, write_config
from sandbox.server import start as start_sandbox
from sandbox.webhook_sender import tracking_webhook
from sandbox.world import STEP
from tower import config as config_mod
from tower.clock import ManualClock
from tower.config import SandboxConfig
from tower.db import Database

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)
DUPLICATE_SHARE = 0.02


def pct(values, q) -> float:
    return float(np.percentile(np.array(values), q)) if values else float("nan")


class Watcher:
    """Polls webhook_events through the app's Database and notes when each delivery first shows."""

    def __init__(self, db, every_s: float = 0.01):
        self.db, self.every_s = db, every_s
        self.seen: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        self._thread.join()

    def _loop(self):
        cur = self.db.cursor()
        while not self._stop.is_set():
            rows = cur.execute("select delivery_id from webhook_events").fetchall()
            now = time.monotonic()
            for (d,) in rows:
                self.seen.setdefault(d, now)
            self._stop.wait(self.every_s)


def send_all(url: str, outgoing, rate: float | None, threads: int) -> dict[str, float]:
    """POST every delivery (paced at `rate` per second overall, or all at once); returns send times."""
    sent: dict[str, float] = {}
    local = threading.local()
    start = time.monotonic()

    def post(i_out):
        i, out = i_out
        if rate:
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        session = getattr(local, "s", None) or requests.Session()
        local.s = session
        sent.setdefault(out.delivery_id, time.monotonic())
        r = session.post(f"{url}/{out.path}", data=out.body, headers=out.headers, timeout=10)
        if r.status_code != 200:
            raise RuntimeError(f"receiver answered {r.status_code}")

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(post, enumerate(outgoing)))
    return sent


def webhook_phase(world, db, base_url: str, at: datetime, n: int, rate: float | None, threads: int, rng,
                  bump: timedelta = timedelta(0)) -> dict:
    """`bump` moves every tracking's updated_at on (a newer version of the same trackings)."""
    trackings = world.trackings(at)[:n]
    if len(trackings) < n:
        raise SystemExit(f"the world has only {len(trackings)} trackings at {at}")
    if bump:
        trackings = [dataclasses.replace(t, updated_at=t.updated_at + bump) for t in trackings]
    outgoing = [tracking_webhook(t, at) for t in trackings]
    dups = rng.sample(outgoing, int(len(outgoing) * DUPLICATE_SHARE))
    order = outgoing + dups
    rng.shuffle(order)
    watcher = Watcher(db).start()
    began = time.monotonic()
    sent = send_all(base_url, order, rate, threads)
    ids = {o.delivery_id for o in outgoing}
    deadline = time.monotonic() + 30
    while not ids <= watcher.seen.keys() and time.monotonic() < deadline:
        time.sleep(0.05)
    watcher.stop()
    lat = [watcher.seen[i] - sent[i] for i in ids if i in watcher.seen]
    return {"events": len(ids), "redelivered": len(dups), "sent_s": max(sent.values()) - began,
            "missing": len(ids - watcher.seen.keys()), "p50": pct(lat, 50), "p95": pct(lat, 95),
            "max": max(lat) if lat else float("nan"), "ids": ids,
            "tracking_ids": {t.id for t in trackings},
            "versions": {t.id: t.updated_at for t in trackings}}


def exactly_once(db, ids: set[str], tracking_ids: set[str]) -> dict:
    with db.cursor() as cur:
        cur.register("wanted", id_table(ids))
        rows = cur.execute("select count(*), count(distinct delivery_id) from webhook_events "
                           "where delivery_id in (select id from wanted)").fetchall()[0]
        cur.unregister("wanted")
        cur.register("shipments_wanted", id_table(tracking_ids))
        ships = cur.execute("select count(*) from shipments where shipment_id in "
                            "(select id from shipments_wanted)").fetchall()[0][0]
        cur.unregister("shipments_wanted")
    return {"event_rows": rows[0], "distinct": rows[1], "shipments": ships}


def id_table(values) -> pa.Table:
    return pa.table({"id": pa.array(sorted(values), pa.string())})


def polling_phase(world, db, cfg, clock, rounds: int, rng) -> dict:
    source = "aftership"
    interval = cfg.sources[source].interval_s
    sched = Scheduler(db, cfg, clock, only=[source])
    sched.run_once(source)  # catch-up
    sched.start()
    lat, per_round = [], []
    try:
        for _ in range(rounds):
            time.sleep(rng.uniform(0, interval))
            before = {t.id: t.updated_at for t in world.trackings(clock.now())}
            clock.set(clock.now() + STEP)
            appeared = time.monotonic()
            new = {t.id: t.updated_at for t in world.trackings(clock.now()) if before.get(t.id) != t.updated_at}
            if not new:
                continue
            cur = db.cursor()
            waiting = dict(new)
            deadline = appeared + 3 * interval + 10
            while waiting and time.monotonic() < deadline:
                for tid, upd in list(waiting.items()):
                    got = cur.execute("select updated_at from shipments where shipment_id = $id", {"id": tid}).fetchall()
                    if got and got[0][0] >= upd:
                        lat.append(time.monotonic() - appeared)
                        del waiting[tid]
                time.sleep(0.05)
            cur.close()
            per_round.append(len(new))
    finally:
        sched.stop()
    return {"interval": interval, "rounds": len(per_round), "versions": len(lat),
            "p50": pct(lat, 50), "p95": pct(lat, 95), "max": max(lat) if lat else float("nan")}


def main(argv=None) -> str:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--events", type=int, default=1000)
    p.add_argument("--rate", type=float, default=200.0, help="events per second in the paced run")
    p.add_argument("--rounds", type=int, default=8, help="poll rounds for the polling baseline")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--write", action="store_true", help="write the figures into bench/README.md")
    args = p.parse_args(argv)
    rng = random.Random(args.seed)
    started = time.monotonic()
    started_wall = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    interval = config_mod.load().sources["aftership"].interval_s  # tower.toml's poll interval

    clock = ManualClock(T0)
    server = start_sandbox(SandboxConfig(port=0, seed=7, history_days=5, scenarios=()), clock)
    folder = Path(tempfile.mkdtemp(prefix="tower-webhook-bench-"))
    cfg = write_config(folder, server.url, interval_s=interval,
                       sources={k: v for k, v in sources_for().items() if k == "aftership"})
    cfg = config_mod.load(folder / "tower.toml", webhooks={"port": 0})
    db = Database.for_config(cfg)
    hooks = webhooks.start(cfg)
    hooks.start_loader(db)
    base = hooks.url + "/webhooks"
    try:
        world = server.world
        paced = webhook_phase(world, db, base, T0, args.events, args.rate, 4, rng)
        # a newer version of the same trackings, all at once: each must overwrite the stored row
        burst = webhook_phase(world, db, base, T0, args.events, None, 8, rng, bump=timedelta(hours=1))
        deadline = time.monotonic() + 10
        while hooks.spool.pending() and time.monotonic() < deadline:  # late redeliveries
            time.sleep(0.05)
        once = [exactly_once(db, r["ids"], r["tracking_ids"]) for r in (paced, burst)]
        with db.cursor() as cur:
            cur.register("burst_versions", pa.table({
                "id": pa.array(list(burst["versions"]), pa.string()),
                "updated_at": pa.array(list(burst["versions"].values()), pa.timestamp("us", tz="UTC"))}))
            newest_won = cur.execute("select count(*) from shipments s join burst_versions v "
                                     "on s.shipment_id = v.id and s.updated_at = v.updated_at").fetchall()[0][0]
            cur.unregister("burst_versions")
        leftover = len(hooks.spool.pending())
        polling = polling_phase(world, db, cfg, clock, args.rounds, rng)
    finally:
        hooks.stop()
        db.close()
        server.stop()

    took = time.monotonic() - started
    cmd = "python -m bench.webhook_latency" + (" " + " ".join(a for a in (argv or sys.argv[1:]) if a != "--write")
                                               if (argv or sys.argv[1:]) else "")
    lines = [
        f"Command: `{cmd.strip()}` — run {started_wall} UTC, took {took:.0f} s.  ",
        f"Machine: nproc {os.cpu_count()}, load average {load} (1/5/15 min, at the start), "
        f"{platform.machine()}, Python {platform.python_version()}, DuckDB {duckdb.__version__}.",
        "",
        "Latency = wall seconds from an event leaving the sender (webhooks: just before the POST; "
        "polling: the sandbox starting to serve the new version) to its row being queryable in DuckDB. "
        f"Baseline: the AfterShip poller at tower.toml's interval ({interval:g} s), measured in the same run.",
        "",
        "| path | events | p50 | p95 | max | stored exactly once |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for name, r, o in (("webhooks, paced " + f"{args.rate:g}/s", paced, once[0]), ("webhooks, burst (8 threads)", burst, once[1])):
        ok = o["event_rows"] == o["distinct"] == r["events"] and o["shipments"] == len(r["tracking_ids"]) and not r["missing"]
        lines.append(f"| {name} | {r['events']:,} (+{r['redelivered']} redelivered) in {r['sent_s']:.1f} s "
                     f"| {r['p50']:.3f} s | "
                     f"{r['p95']:.3f} s | {r['max']:.3f} s | {'yes' if ok else 'NO'}: {o['event_rows']:,} event rows, "
                     f"{o['shipments']:,} shipments, {r['missing']} missing |")
    lines.append(f"| polling every {polling['interval']:g} s | {polling['versions']:,} versions in "
                 f"{polling['rounds']} rounds | {polling['p50']:.3f} s | {polling['p95']:.3f} s | "
                 f"{polling['max']:.3f} s | (upserts) |")
    ratio = polling["p95"] / max(paced["p95"], 1e-9)
    lines += ["", f"p95 polling / p95 webhooks (paced): **{ratio:.0f}×**. Goal p95 ≤ 2 s: "
              f"{'met' if max(paced['p95'], burst['p95']) <= 2 else 'NOT met'} "
              f"(paced {paced['p95']:.3f} s, burst {burst['p95']:.3f} s). After the burst "
              f"{newest_won:,} of {len(burst['tracking_ids']):,} shipments carry the burst's newer version; "
              f"spool files left: {leftover}."]
    text = "\n".join(lines)
    print(text)
    if args.write:
        write_section("Webhooks", text)
    return text


if __name__ == "__main__":
    main()
