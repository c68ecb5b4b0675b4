"""A real Tower/Streamlit server in a child process for browser and end-to-end tests."""
from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from tests.ui_fixtures import ROOT

QUIET = ["--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]


def streamlit_app(port: int) -> list[str]:
    """`streamlit run app.py` on loopback: the app without `python -m tower`'s runtime preload."""
    return [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
            "--server.port", str(port), "--server.address", "127.0.0.1", *QUIET]


def tower_app(port: int) -> list[str]:
    """`python -m tower` as `make run` starts it."""
    return [sys.executable, "-m", "tower", "--server.port", str(port), *QUIET]


def shipped_config(folder: Path, sandbox_port: int, snapshot_interval_s: float = 3) -> Path:
    """The shipped tower.toml (sandbox speed, scenarios, sources and intervals) with only the
    sandbox's port, the data folder and the snapshot interval changed."""
    shipped = (ROOT / "tower.toml").read_text()
    config = folder / "tower.toml"
    config.write_text(textwrap.dedent(f"""
        [database]
        path = "{folder / 'data' / 'tower.duckdb'}"
        snapshot = "{folder / 'data' / 'snapshot' / 'tower.duckdb'}"
        snapshot_interval_s = {snapshot_interval_s}

        [sandbox]
        port = {sandbox_port}

    """) + shipped[shipped.index("\n[sources."):])
    return config


@contextmanager
def serve(argv: list[str], url: str, env: dict, log_path: Path, *, timeout_s: float = 90,
          stop_s: float = 15) -> Iterator[str]:
    """Run `argv` until its /_stcore/health answers at `url` (else fail with its log), yield `url`,
    then stop it."""
    with log_path.open("w") as log:
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + timeout_s
        while True:
            try:
                if requests.get(f"{url}/_stcore/health", timeout=1).ok:
                    break
            except requests.RequestException:
                pass
            if proc.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"{argv[2:4]} did not become healthy:\n" + log_path.read_text()[-4000:])
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(stop_s)
        except subprocess.TimeoutExpired:
            proc.kill()
