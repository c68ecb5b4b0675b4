"""Soak: the real app under N wall screens refreshing every few seconds for minutes on end.

    python -m bench soak [--sessions 20] [--minutes 10] [--refresh 5] [--db PATH | --dataset x1|x10|reference]

Set-up, all real: `python -m tower` (as `make run` starts it) on a temp copy of the given DuckDB file,
with tower.toml's sandbox and connectors enabled (free ports), so the sources keep pulling and writing
during the whole soak. Then N sessions connect: even ones on the overview (`?refresh=R`), odd ones on a
kiosk playlist rotation (`?kiosk=1&refresh=R&playlist=overview,stock,map&rotate=30`).

The sessions are Streamlit clients speaking Streamlit's own websocket protocol (bench/stclient.py), not
Chromium pages: 20 Chromium renderers on a 2-core machine would take the CPU the server needs and the
figures would measure the browser. From the server's point of view a protocol client is a real
session: it connects to /_stcore/stream, sends rerun_script BackMsgs (the full run, then every
auto-rerun fragment at its interval, as the frontend's timers do, with the page the server switched
to) and reads every ForwardMsg until each run's script_finished.

Figures: exceptions in any session (exception elements), refresh latency (fragment rerun request →
its script_finished), server RSS (server pid + children) at start / peak / end, a new viewer's first
KPI tile (connect → first st.metric element) measured every 30 s while the screens refresh, and per
source the gaps between connector run starts (sync_runs, simulated time / sandbox speed) against the
configured interval.
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import math
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
import numpy as np
import requests

import queries
from bench import machine, stclient

ROOT = Path(__file__).resolve().parent.parent
QUIET = ["--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
KIOSK_PLAYLIST = "overview,stock,map"
NEW_VIEWER_EVERY_S = 30
TRACEBACK = "Traceback (most recent call last)"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_soak_config(folder: Path, db_path: Path, history_days: float | None,
                      speed: float | None = None, start: datetime | None = None) -> tuple[Path, dict]:
    """tower.toml with the database, snapshot, sandbox and webhook ports moved into `folder`/free
    ports, and the sandbox's clock starting at `start`; everything else (sources, intervals, speed
    unless given) exactly as shipped."""
    text = (ROOT / "tower.toml").read_text(encoding="utf-8")
    if start is not None:
        text = re.sub(r"^\[sandbox\]\n", f"[sandbox]\nstart = {start.isoformat()}\n", text, count=1,
                      flags=re.MULTILINE)
    text = re.sub(r'^path = "data/tower.duckdb"', f'path = "{db_path.as_posix()}"', text, count=1, flags=re.MULTILINE)
    text = re.sub(r'^snapshot = "data/snapshot/tower.duckdb"',
                  f'snapshot = "{(folder / "snapshot" / "tower.duckdb").as_posix()}"', text, count=1, flags=re.MULTILINE)
    for section in ("sandbox", "webhooks"):
        text = re.sub(rf"(^\[{section}\][^\[]*?^port = )\d+", rf"\g<1>{free_port()}", text, count=1,
                      flags=re.MULTILINE | re.DOTALL)
    if history_days is not None:
        text = re.sub(r"^history_days = [\d.]+", f"history_days = {history_days:g}", text, count=1, flags=re.MULTILINE)
    if speed is not None:
        text = re.sub(r"^speed = [\d.]+", f"speed = {speed:g}", text, count=1, flags=re.MULTILINE)
    path = folder / "tower.toml"
    path.write_text(text, encoding="utf-8")
    return path, tomllib.loads(text)


def process_rss(pid: int) -> tuple[int, int]:
    """Resident bytes of `pid` alone, and of `pid` with all its descendants (from /proc)."""
    own, total, todo = 0, 0, [pid]
    while todo:
        p = todo.pop()
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
                    own = own or total  # the first process read is `pid` itself
            for task in Path(f"/proc/{p}/task").iterdir():
                kids = (task / "children").read_text().split()
                todo += [int(k) for k in kids]
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return own, total


def process_cpu_s(pid: int) -> float:
    """CPU seconds `pid` has used, all its threads (DuckDB's included) and its waited-for children."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")  # utime stime cutime cstime


class RssSampler(threading.Thread):
    def __init__(self, pid: int, every_s: float = 1.0):
        super().__init__(daemon=True)
        self.pid, self.every_s, self.samples, self.stop = pid, every_s, [], threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.samples.append((time.time(), process_rss(self.pid)))
            self.stop.wait(self.every_s)


def start_server(cfg_path: Path, port: int, log_path: Path, timeout_s: float = 180) -> subprocess.Popen:
    env = {**os.environ, "TOWER_CONFIG": str(cfg_path)}
    env.pop("TOWER_AUTH", None)
    with log_path.open("w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "tower", "--server.port", str(port), *QUIET],
                                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + timeout_s
    while True:
        try:
            if requests.get(f"http://127.0.0.1:{port}/_stcore/health", timeout=1).ok:
                return proc
        except requests.RequestException:
            pass
        if proc.poll() is not None or time.time() > deadline:
            stop_server(proc)
            raise RuntimeError("tower did not become healthy:\n" + log_path.read_text()[-4000:])
        time.sleep(0.5)


def stop_server(proc: subprocess.Popen, timeout_s: float = 60) -> int:
    """SIGTERM, as a service manager stops it; killed if it is not gone in `timeout_s`. Its exit code."""
    proc.terminate()
    try:
        return proc.wait(timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()


def prepare_db(args, folder: Path) -> Path:
    """The DuckDB file to soak on: --db copied, or a dataset built into `folder`."""
    if args.db:
        return Path(args.db)
    from bench.dataset import sandbox_db, scaled_db

    if args.dataset == "x1":
        return sandbox_db(folder / "x1").path
    if args.dataset == "x10":
        return scaled_db(sandbox_db(folder / "x1"), folder / "x10", factor=10).path
    from bench.reference import reference_db

    return reference_db(folder / "reference").path


def connector_gaps(db_path: Path, since, speed: float, intervals: dict) -> dict:
    """Per source: wall-second gaps between consecutive run starts, p50/p95/max vs the interval."""
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        runs = con.execute(queries.load("bench/soak_sync_starts"), {"since": since}).df()
    finally:
        con.close()
    out = {}
    for source, interval in intervals.items():
        starts = runs[runs.source == source].started_at.sort_values()
        gaps = starts.diff().dropna().dt.total_seconds().to_numpy() / speed
        out[source] = {"interval_s": interval, "runs": len(starts),
                       "p50_s": float(np.percentile(gaps, 50)) if len(gaps) else float("nan"),
                       "p95_s": float(np.percentile(gaps, 95)) if len(gaps) else float("nan"),
                       "max_s": float(gaps.max()) if len(gaps) else float("nan")}
    return out


def db_now(db_path: Path):
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        return con.execute(queries.load("bench/soak_latest_run")).fetchone()[0]
    finally:
        con.close()


def session_query(i: int, refresh: int) -> str:
    if i % 2:
        return f"kiosk=1&refresh={refresh}&playlist={KIOSK_PLAYLIST}&rotate=30"
    return f"refresh={refresh}"


async def drive(url: str, sessions: int, seconds: float, refresh: int, log, stagger: bool = False) -> dict:
    """With `stagger`, session i opens i × refresh / sessions seconds after the first, as screens
    opened at different moments do; without, all at once, so every screen's timer fires in the same
    half second for the whole run (the worst case: a restart that reconnects every wall at once)."""
    clients = [stclient.Session(url, session_query(i, refresh), name=f"s{i}") for i in range(sessions)]
    step = refresh / sessions if stagger else 0.0
    tasks = [asyncio.create_task(opened_later(c, i * step, seconds)) for i, c in enumerate(clients)]
    first_tiles, viewer_errors, viewers_refused = [], 0, 0
    started = time.time()
    await asyncio.sleep(min(NEW_VIEWER_EVERY_S / 2, seconds / 3))
    while time.time() - started < seconds - 5:
        viewer = stclient.Session(url, "", name="viewer")
        t = await viewer.first_metric(timeout_s=30)
        viewer_errors += viewer.exceptions
        viewers_refused += viewer.refused
        first_tiles.append(t)
        log(f"  new viewer: first KPI tile after {t:.2f} s" if not math.isnan(t) else "  new viewer: no KPI tile in 30 s")
        await asyncio.sleep(max(0.0, min(NEW_VIEWER_EVERY_S, seconds - 5 - (time.time() - started))))
    await asyncio.gather(*tasks)
    lat = [x for c in clients for x in c.latencies]
    return {"exceptions": sum(c.exceptions for c in clients) + viewer_errors,
            "exception_texts": [m for c in clients for m in c.exception_texts][:5],
            "refreshes": len(lat), "overdue": sum(c.overdue for c in clients),
            "disconnects": sum(c.disconnects for c in clients),
            "refused": sum(c.refused for c in clients) + viewers_refused,
            "latency_p50_s": float(np.percentile(lat, 50)) if lat else float("nan"),
            "latency_p95_s": float(np.percentile(lat, 95)) if lat else float("nan"),
            "latency_max_s": float(max(lat)) if lat else float("nan"),
            "first_tile_s": first_tiles, "full_runs": sum(c.full_runs for c in clients),
            "refresh_samples": sorted((t, x, c.name) for c in clients for t, x in zip(c.asked_at, c.latencies))}


async def opened_later(client: stclient.Session, delay_s: float, seconds: float) -> None:
    await asyncio.sleep(delay_s)
    await client.run(seconds - delay_s)


def measure(db_path: Path, sessions: int = 20, minutes: float = 10, refresh: int = 5,
            history_days: float | None = None, warmup_s: float = 20, log=print,
            keep_log: Path | None = None, keep_rss: Path | None = None, speed: float | None = None,
            keep_latencies: Path | None = None, stagger: bool = False) -> dict:
    with tempfile.TemporaryDirectory(prefix="tower-soak-") as tmp:
        tmp = Path(tmp)
        db = tmp / "tower.duckdb"
        shutil.copyfile(db_path, db)
        # the sandbox's world starts where the file's data ends: its demand follows the markets'
        # local hour, so a soak launched at noon would otherwise load the server half again as much
        # as one launched at 08:00 UTC on the same file (bench/README.md, "Soak")
        ends = db_now(db)
        start = ends.astimezone(timezone.utc) if ends else None
        cfg_path, cfg = write_soak_config(tmp, db, history_days, speed, start)
        port = free_port()
        t0 = time.time()
        proc = start_server(cfg_path, port, tmp / "tower.log")
        log(f"  tower up in {time.time() - t0:.1f} s (pid {proc.pid}); warming up {warmup_s:.0f} s …")
        sampler = RssSampler(proc.pid)
        try:
            time.sleep(warmup_s)
            since_wall = time.time()
            sampler.start()
            log(f"  {sessions} sessions × {minutes:g} min at refresh={refresh} s …")
            cpu0, server_cpu0, wall0 = time.process_time(), process_cpu_s(proc.pid), time.time()
            figs = asyncio.run(drive(f"ws://127.0.0.1:{port}/_stcore/stream", sessions, minutes * 60,
                                     refresh, log, stagger))
            # the protocol clients' own CPU (this process): what they take from the server's cores
            figs["client_cores"] = (time.process_time() - cpu0) / (time.time() - wall0)
            figs["server_cores"] = (process_cpu_s(proc.pid) - server_cpu0) / (time.time() - wall0)
            time.sleep(1.5)
        finally:
            sampler.stop.set()
            # what the server logged while it ran, apart from what its stop cuts short (a query or a
            # write caught mid-way by the interpreter shutting down is not a fault of the soak)
            running_log = (tmp / "tower.log").read_text(errors="replace")
            stopping = time.time()
            figs_stop = {"exit_code": stop_server(proc), "stop_s": time.time() - stopping}
        server_log = (tmp / "tower.log").read_text(errors="replace")
        stopping_log = server_log[len(running_log):] if server_log.startswith(running_log) else ""
        if keep_log is not None:
            shutil.copyfile(tmp / "tower.log", keep_log)
        if keep_latencies is not None:
            keep_latencies.write_text("".join(f"{t:.3f},{x:.3f},{n}\n" for t, x, n in figs["refresh_samples"]))
        if keep_rss is not None:
            keep_rss.write_text("".join(f"{t:.1f},{own},{total}\n" for t, (own, total) in sampler.samples))
        speed = float(cfg["sandbox"]["speed"])
        intervals = {n: float(s["interval_s"]) for n, s in cfg.get("sources", {}).items()}
        runs_after = db_now(db)
        # sync_runs is on the simulated clock: look back over the soak's wall span at sandbox speed
        since = runs_after - timedelta(seconds=(time.time() - since_wall) * speed)
        gaps = connector_gaps(db, since, speed, intervals)
    own = [o for _, (o, _) in sampler.samples]
    rss = [r for _, (_, r) in sampler.samples]
    figs.update(figs_stop)
    figs["speed"] = speed
    figs["clock_start"] = start
    figs["own_rss_second_half"] = second_half_growth(sampler.samples)
    figs.update({"sessions": sessions, "minutes": minutes, "refresh_s": refresh, "stagger": stagger,
                 "rss_start": rss[0] if rss else 0, "rss_peak": max(rss, default=0),
                 "rss_end": rss[-1] if rss else 0, "own_rss_start": own[0] if own else 0,
                 "own_rss_peak": max(own, default=0), "own_rss_end": own[-1] if own else 0, "connectors": gaps,
                 "server_tracebacks": running_log.count(TRACEBACK),
                 "server_errors": traceback_ends(running_log),
                 "stop_tracebacks": stopping_log.count(TRACEBACK),
                 "stop_errors": traceback_ends(stopping_log)})
    return figs


def second_half_growth(samples: list[tuple[float, tuple[int, int]]], span_s: float = 60) -> float:
    """The server process's RSS over the run's last minute against the minute ending at its midpoint,
    in percent: growth once the warm-up (sessions opening, DuckDB's buffer pool filling to its limit,
    the first snapshot copy and refit) is over, which is what a leak shows as."""
    if not samples or samples[-1][0] - samples[0][0] < 4 * span_s:
        return float("nan")
    middle = (samples[0][0] + samples[-1][0]) / 2

    def mean_own(start: float, end: float) -> float:
        window = [own for t, (own, _) in samples if start <= t <= end]
        return sum(window) / len(window)
    return (mean_own(samples[-1][0] - span_s, samples[-1][0]) / mean_own(middle - span_s, middle) - 1) * 100


def traceback_ends(log: str, most: int = 3) -> list[str]:
    """The distinct exception lines (the line ending each traceback) of a server log, most frequent first."""
    ends = collections.Counter()
    lines = log.splitlines()
    for i, line in enumerate(lines):
        if line.startswith(TRACEBACK):
            j = i + 1
            while j < len(lines) and (lines[j].startswith(" ") or not lines[j].strip()):
                j += 1
            if j < len(lines):
                ends[lines[j][:200]] += 1
    return [f"{n}× {end}" for end, n in ends.most_common(most)]


def report(f: dict) -> str:
    mb = 1024 * 1024
    growth = (f["rss_end"] / f["rss_start"] - 1) * 100 if f["rss_start"] else float("nan")
    tiles = [t for t in f["first_tile_s"] if not math.isnan(t)]
    missing = len(f["first_tile_s"]) - len(tiles)
    tile_txt = (f"p50 {np.percentile(tiles, 50):.2f} s, max {max(tiles):.2f} s over {len(tiles)} viewers"
                if tiles else "none measured") + (f" ({missing} got no tile in 30 s)" if missing else "")
    lines = [
        (f"{f['sessions']} sessions (half overview `?refresh={f['refresh_s']}`, half kiosk playlist "
        f"`{KIOSK_PLAYLIST}` rotating every 30 s; "
        + ("opened spread over one refresh interval" if f.get("stagger")
           else "opened at once: every timer fires together")
        + f") × {f['minutes']:g} min on `python -m tower` with the sandbox "
        f"(at speed {f.get('speed', 60):g}: {f.get('speed', 60):g} simulated seconds per wall second, orders, "
        "webhooks and syncs' work included"
        + (f"; its clock starting at {f['clock_start']:%Y-%m-%d %H:%M} UTC, where the file's data ends"
           if f.get("clock_start") else "")
        + ") and every connector running. Sessions are Streamlit websocket-protocol clients (bench/stclient.py): "
        "Chromium pages would measure the browser, not the server "
        "(measured: 4 Chromium pages on the kiosk at refresh=5 took 1.5 of the 2 cores, the server 0.9)."
        + (f" This machine: {machine.describe(f['machine'])} before the run"
           + (f", {machine.describe(f['machine_after'])} after it" if "machine_after" in f else "")
           + "; read latencies against it (the machine is shared: it may change while the soak runs)."
           if "machine" in f else "")),
        "",
        "| figure | value | target |", "|---|---:|---|",
        f"| exceptions seen by sessions | **{f['exceptions']}** | 0 |",
        f"| server log tracebacks while it ran (while it stopped) | {f['server_tracebacks']}"
        f" ({f.get('stop_tracebacks', 0)}) | 0 |",
        f"| CPU of the {f['sessions']} protocol clients | {f.get('client_cores', float('nan')):.2f} cores | — |",
        (f"| CPU of the server (all its threads: Streamlit, DuckDB, connectors, alerts) | "
         f"{f.get('server_cores', float('nan')):.2f} cores | — |"),
        (f"| fragment refreshes completed | {f['refreshes']} (overdue ticks {f['overdue']}, "
         f"full runs {f['full_runs']}) | — |"),
        (f"| connections the server did not accept within 30 s | **{f.get('refused', 0)}** "
         f"(reconnects after a drop {f.get('disconnects', 0)}) | 0 |"),
        (f"| refresh latency p50 / p95 / max | {f['latency_p50_s']:.2f} / **{f['latency_p95_s']:.2f}** / "
         f"{f['latency_max_s']:.2f} s | p95 ≤ 1 s |"),
        (f"| server RSS start / peak / end (with its children: the forecast refit) | {f['rss_start'] / mb:.0f} / "
         f"{f['rss_peak'] / mb:.0f} / {f['rss_end'] / mb:.0f} MB (end vs start {growth:+.1f} %) | growth < 10 %, "
         "≤ 1.5 GB |"),
        (f"| the server process alone, start / peak / end | {f.get('own_rss_start', 0) / mb:.0f} / "
         f"{f.get('own_rss_peak', 0) / mb:.0f} / {f.get('own_rss_end', 0) / mb:.0f} MB | — |"),
        (f"| the server process alone, last minute vs the minute ending halfway | "
         f"{f.get('own_rss_second_half', float('nan')):+.1f} % | growth < 10 % |"),
        (f"| stopping the server (SIGTERM): exit code, time | {f.get('exit_code', '—')}, "
         f"{f.get('stop_s', float('nan')):.1f} s | 0 |"),
        f"| new viewer's first KPI tile | {tile_txt} | ≤ 2 s |",
        "", "| source | interval | runs | gap p50 | gap p95 | max gap | p95 / interval |",
        "|---|---:|---:|---:|---:|---:|---:|"]
    for name, g in f["connectors"].items():
        ratio = g["p95_s"] / g["interval_s"] if g["interval_s"] else float("nan")
        lines.append(f"| {name} | {g['interval_s']:g} s | {g['runs']} | {g['p50_s']:.1f} s | {g['p95_s']:.1f} s "
                     f"| {g['max_s']:.1f} s | **{ratio:.2f}** |")
    if f.get("server_errors"):
        lines += ["", "Server log tracebacks end in: " + "; ".join(f"`{t}`" for t in f["server_errors"])]
    if f.get("stop_errors"):
        lines += ["", "While the server stopped: " + "; ".join(f"`{t}`" for t in f["stop_errors"])]
    if f["exception_texts"]:
        lines += ["", "First exceptions: " + "; ".join(f"`{t[:160]}`" for t in f["exception_texts"])]
    return "\n".join(lines) + "\n"


def main(argv=None) -> str:
    p = argparse.ArgumentParser(description="Soak the real app with N refreshing sessions.")
    p.add_argument("--sessions", type=int, default=20)
    p.add_argument("--minutes", type=float, default=10)
    p.add_argument("--refresh", type=int, default=5)
    p.add_argument("--history-days", type=float, default=None, help="sandbox history (default: tower.toml)")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--db", help="a Tower DuckDB file (copied; never written)")
    src.add_argument("--dataset", choices=("x1", "x10", "reference"), default="x1")
    p.add_argument("--speed", type=float, default=None,
                   help="the sandbox's simulated seconds per wall second (default: tower.toml's 60)")
    p.add_argument("--keep-log", type=Path, help="also copy the server's log here")
    p.add_argument("--keep-rss", type=Path, help="also write the RSS samples here (time, server, with children)")
    p.add_argument("--keep-latencies", type=Path,
                   help="also write every refresh here (when asked, latency in s, session)")
    p.add_argument("--stagger", action="store_true",
                   help="open the sessions spread over one refresh interval (default: all at once)")
    args = p.parse_args(argv)
    machine_speed = machine.index()   # before the server starts: the machine alone
    with tempfile.TemporaryDirectory(prefix="tower-soak-data-") as tmp:
        db = prepare_db(args, Path(tmp))
        figs = measure(db, args.sessions, args.minutes, args.refresh, args.history_days,
                       keep_log=args.keep_log, keep_rss=args.keep_rss, speed=args.speed,
                       keep_latencies=args.keep_latencies, stagger=args.stagger)
    figs["machine"], figs["machine_after"] = machine_speed, machine.index()  # the server stopped again
    body = report(figs)
    print(body)
    return body


if __name__ == "__main__":
    main()
