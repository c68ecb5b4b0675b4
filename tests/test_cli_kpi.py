"""`python -m tower kpi` in a real subprocess on a sandbox-synced database: every KPI of the
glossary, the same numbers as the semantic layer, breakdowns, the snapshot while the file is held,
and clear refusals of bad arguments."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from connectors.testing import write_config
from tower import kpis
from tower.db import Database

ROOT = Path(__file__).resolve().parent.parent


def tower_kpi(*args, config: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, **({"TOWER_CONFIG": str(config)} if config else {})}
    return subprocess.run([sys.executable, "-m", "tower", "kpi", *map(str, args)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=180)


@pytest.fixture(scope="module")
def synced(sandbox_db, tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli_kpi")
    cfg = write_config(folder, "http://127.0.0.1:9")
    sandbox_db.copy_to(folder)
    return cfg, sandbox_db.now


def layer(path: Path, at, hours: float = 24) -> dict:
    db = Database(path, read_only=True)
    try:
        p = {"start": at - timedelta(hours=hours), "end": at, "now": at}
        return {name: kpis.value(db, name, p) for name in kpis.catalog()}
    finally:
        db.close()


def test_json_has_every_kpi_of_the_glossary_with_the_layers_numbers(synced):
    cfg, at = synced
    out = tower_kpi("--db", cfg.db_path, "--at", at.isoformat(), "--window-hours", 6, "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert set(result["kpis"]) == set(kpis.catalog())
    expected = layer(cfg.db_path, at, 6)
    targets = kpis.load_targets()
    for name, fig in result["kpis"].items():
        value, n = expected[name]
        assert fig["n"] == n and (fig["value"] == pytest.approx(value) if value is not None
                                  else fig["value"] is None), name
        assert fig["unit"] == kpis.get(name).unit
        target = targets.for_kpi(name)
        assert fig["status"] == (target.status(value, n) if target else None), name
    # the sandbox's member day is under way: these numbers are not empty
    assert result["kpis"]["on_time_rate"]["n"] > 0 and result["kpis"]["csat"]["n"] > 0


def test_breakdown_by_market_adds_up_to_each_headline(synced):
    cfg, at = synced
    out = tower_kpi("--db", cfg.db_path, "--at", at.isoformat(), "--by", "market", "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)["kpis"]
    headline = layer(cfg.db_path, at)
    assert "stockouts" in result and "tier_share" not in result  # only KPIs a market splits
    for name in ("on_time_rate", "nps", "return_rate", "csat"):
        parts = result[name]["values"]
        assert len(parts) > 1
        value, n = headline[name]
        assert sum(p["n"] for p in parts.values()) == n
        assert sum(p["n"] * p["value"] for p in parts.values()) / n == pytest.approx(value)


def test_table_output_names_every_kpi(synced):
    cfg, at = synced
    out = tower_kpi("--db", cfg.db_path, "--at", at.isoformat())
    assert out.returncode == 0, out.stderr
    for name in kpis.catalog():
        assert f"  {name} " in out.stdout


def test_reads_the_snapshot_while_the_app_holds_the_database(synced, tmp_path):
    cfg, at = synced
    held = write_config(tmp_path, "http://127.0.0.1:9")
    db = Database(held.db_path)  # an empty live database, with a snapshot of the synced one
    db.close()
    held.snapshot_path.parent.mkdir(parents=True, exist_ok=True)
    held.snapshot_path.write_bytes(cfg.db_path.read_bytes())
    owner = duckdb.connect(str(held.db_path))  # "the app" holds the live file
    try:
        out = tower_kpi("--at", at.isoformat(), "--json", config=tmp_path / "tower.toml")
    finally:
        owner.close()
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert "snapshot" in result["source"]
    assert result["kpis"]["on_time_rate"]["n"] == layer(cfg.db_path, at)["on_time_rate"][1] > 0


@pytest.mark.parametrize("args,message", [
    (("--at", "yesterday"), "not an ISO-8601 time"),
    (("--window-hours", "-3"), "--window-hours must be"),
    (("--db", "/nonexistent/tower.duckdb"), "no database at"),
])
def test_bad_arguments_get_a_clear_refusal(synced, args, message):
    cfg, _ = synced
    out = tower_kpi(*(args if "--db" in args else ("--db", cfg.db_path, *args)))
    assert out.returncode == 2 and message in out.stderr and "Traceback" not in out.stderr
