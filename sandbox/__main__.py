"""Run the sandbox on its own: `python -m sandbox --port 8765 --seed 7 --speed 60 --scenario member_day`.

Defaults come from tower.toml's [sandbox] table; flags override them. Ctrl-C (or SIGTERM) stops it."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from sandbox.server import start
from tower import config as config_mod


def parse_args(argv: list[str] | None, defaults: config_mod.SandboxConfig) -> config_mod.SandboxConfig:
    p = argparse.ArgumentParser(
        prog="python -m sandbox",
        description="Tower's simulated supply chain "
        "behind real vendor API formats (AfterShip, Shopify, Delighted, …).",
    )
    p.add_argument("--host", default=defaults.host)
    p.add_argument("--port", type=int, default=defaults.port, help="0 picks a free port")
    p.add_argument("--seed", type=int, default=defaults.seed)
    p.add_argument(
        "--speed",
        type=float,
        default=defaults.speed,
        help="simulated seconds per real second (60: a real minute is a simulated hour)",
    )
    p.add_argument("--history-days", type=float, default=defaults.history_days)
    p.add_argument(
        "--scenario",
        action="append",
        dest="scenarios",
        metavar="NAME",
        help="switch a scenario on (repeatable; default from tower.toml)",
    )
    args = p.parse_args(argv)
    if args.speed <= 0:
        p.error("--speed must be > 0")
    return config_mod.SandboxConfig.model_validate({
        **defaults.model_dump(),
        "host": args.host,
        "port": args.port,
        "seed": args.seed,
        "speed": args.speed,
        "history_days": args.history_days,
        "scenarios": tuple(args.scenarios) if args.scenarios else defaults.scenarios,
    })


def main(argv: list[str] | None = None) -> int:
    try:
        defaults = config_mod.load().sandbox
    except config_mod.ConfigError as exc:
        print(f"note: {exc}; using built-in sandbox defaults", file=sys.stderr)
        defaults = config_mod.SandboxConfig()
    cfg = parse_args(argv, defaults)

    clock = cfg.clock()  # the process entry point owns "now"
    try:
        server = start(cfg, clock)
    except OSError as exc:
        print(f"cannot listen on {cfg.host}:{cfg.port}: {exc}", file=sys.stderr)
        return 1
    print(
        f"sandbox serving at {server.url} (seed {cfg.seed}, speed {cfg.speed:g}x, "
        f"scenarios: {', '.join(cfg.scenarios) or 'none'}) - Ctrl-C to stop",
        flush=True,
    )

    stop = threading.Event()
    # Ctrl-C by our own handler, not Python's: a shell starts a background job (`… &` in a script)
    # with SIGINT ignored, and Python then never raises KeyboardInterrupt (the suite saw it hang)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
        print("sandbox stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
