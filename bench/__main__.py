"""Run every benchmark and record the latest figures in bench/README.md.

    python -m bench                       # ingest, alerts, freshness, pages, actions (about 7 minutes)
    python -m bench freshness pages       # only these
    python -m bench --no-write            # print, leave the README alone

Ingest and alerts are run as their own scripts (they print, and bench_alerts writes its own README
section). Freshness and pages run here, and this module writes their "## Freshness" and "## Pages"
sections, with the command, the date, the machine (`nproc`, load average: the machine is shared,
so the figures are ratios to a baseline measured in the same run) and the figures. Other sections
of the README are left exactly as they are.
"""
from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = Path(__file__).resolve().parent / "README.md"
INTRO = ("# Benchmarks\n\n"
         "Tower's benchmarks and their latest results. Run them all with `python -m bench` (or one with\n"
         "`python -m bench <name>`). Machines are shared and noisy, so every figure is compared with a\n"
         "baseline measured in the same run: read the ratios, not the absolute seconds.\n")
THEIRS = {"ingest": "bench.bench_ingest", "alerts": "bench.bench_alerts",  # run as scripts
          "twin": "bench.bench_twin", "actions": "bench.bench_actions",
          "cache": "bench.bench_cache", "scale": "bench.bench_scale"}
OURS = {"freshness": "Freshness", "pages": "Pages", "soak": "Soak"}      # run here, README sections
ORDER = ("ingest", "alerts", "freshness", "pages", "twin", "actions", "cache", "scale")
ON_REQUEST = ("soak",)  # long (10 min by default): only when named; `python -m bench soak --sessions 20 …`


def write_section(title: str, body: str, readme: Path = README) -> None:
    """Replace the `## <title>` section of the README (up to the next `## ` heading), or append it;
    create the README with a short intro if it does not exist. The old section's `### ` subsections
    that the new body does not write itself are kept after it: they are hand-written records of
    earlier runs (a soak re-run had erased them). Nothing else in the file changes."""
    current = readme.read_text(encoding="utf-8") if readme.exists() else INTRO
    pattern = re.compile(rf"^## {re.escape(title)}[ \t]*\n.*?(?=^## |\Z)", re.MULTILINE | re.DOTALL)
    old = pattern.search(current)
    written = set(re.findall(r"^### (.+?)[ \t]*$", body, re.MULTILINE))
    kept = [sub.strip() for sub in re.findall(r"^### .*?(?=^### |\Z)", old.group(0), re.MULTILINE | re.DOTALL)
            if sub.splitlines()[0][4:].strip() not in written] if old else []
    section = "\n\n".join([f"## {title}\n\n{body.strip()}", *kept]) + "\n"
    if old:
        current = pattern.sub(lambda _: section + "\n", current, count=1).rstrip("\n") + "\n"
    else:
        current = current.rstrip("\n") + "\n\n" + section
    readme.write_text(current, encoding="utf-8")


def machine() -> str:
    import duckdb
    import streamlit

    from bench import machine as speed

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (f"nproc {os.cpu_count()}, load average {load} (1/5/15 min, at the start), {platform.machine()}, "
            f"Python {platform.python_version()}, DuckDB {duckdb.__version__}, Streamlit {streamlit.__version__}; "
            f"speed: {speed.describe(speed.index())}")


def header(command: str, started_wall: str, seconds: float, host: str) -> str:
    return (f"Command: `{command}` — run {started_wall} UTC, took {seconds:.0f} s.  \n"
            f"Machine: {host}.\n\n")


def run_ours(name: str, extra: list[str] = ()) -> str:
    if name == "soak":
        from bench import soak

        return soak.main(list(extra))
    if name == "freshness":
        from bench import bench_freshness

        return bench_freshness.main([])
    from bench import bench_pages

    return bench_pages.main([])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="Run Tower's benchmarks.")
    p.add_argument("names", nargs="*", help=f"which benchmarks: {', '.join(ORDER)} (default: all)")
    p.add_argument("--no-write", action="store_true", help="print only; leave bench/README.md alone")
    args, extra = p.parse_known_args(argv)  # options after a name go to it (soak: --sessions …)
    if extra and "soak" not in args.names:
        p.error(f"unrecognized arguments: {' '.join(extra)}")
    unknown = [n for n in args.names if n not in ORDER + ON_REQUEST]
    if unknown:
        p.error(f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(ORDER + ON_REQUEST)}")
    names = [n for n in ORDER + ON_REQUEST if n in (args.names or ORDER)]
    command = "python -m bench" + (" " + " ".join(args.names + extra) if args.names else "")
    failed = []
    from tower.clock import SystemClock

    for name in names:
        print(f"\n=== {name} ===", flush=True)
        started, host = SystemClock().now(), machine()
        t0 = time.perf_counter()
        if name in THEIRS:
            extra = ["--no-write"] if args.no_write and name in ("alerts", "twin", "actions", "scale") else []
            code = subprocess.call([sys.executable, "-m", THEIRS[name], *extra], cwd=ROOT)
            if code:
                failed.append(f"{name} (exit {code})")
            continue
        try:
            body = run_ours(name, extra if name == "soak" else ())
        except Exception as e:  # noqa: BLE001 - one broken benchmark must not stop the others
            failed.append(f"{name} ({type(e).__name__}: {e})")
            print(f"{name} failed: {type(e).__name__}: {e}", file=sys.stderr)
            continue
        if not args.no_write:
            write_section(OURS[name], header(command, f"{started:%Y-%m-%d %H:%M}",
                                             time.perf_counter() - t0, host) + body)
    if failed:
        print("\nfailed: " + "; ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
