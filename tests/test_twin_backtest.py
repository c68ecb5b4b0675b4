"""The twin against the world (tower/twin/backtest.py): a Tower database synced over real HTTP from a
sandbox world at one moment; the twin run from there with a scenario and the same disruption
injected into the world, run forward a week. Where the sandbox's outcome falls in the twin's
p10–p90 band, where it does not (and why) — the figures are in bench/README.md "Twin backtest"."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.ui_fixtures import tower_env  # noqa: F401
from tower.db import Database
from tower.twin import backtest
from tower.twin import scenarios as S
from tower.twin.errors import TwinInvalid

START = datetime(2026, 11, 20, 10, tzinfo=UTC)   # a plain week: no promotion running in the world
SEED, RUNS = 11, 1000
PRIMARY, SHENZHEN_PORT = "VN-BAMBOO-01", "CNYTN"
SEEDED = {
    # the primary stops for the whole week while demand runs at 2.5 × (a member-week surge)
    "stop_surge": [{"kind": "supplier_stop", "supplier": PRIMARY, "start_h": 0, "days": 7},
                   {"kind": "demand", "factor": 2.5, "start_h": 0, "hours": 168}],
    # Yantian closed for 5 days while demand doubles
    "port_surge": [{"kind": "port", "node": SHENZHEN_PORT, "closed": True, "days": 5},
                   {"kind": "demand", "factor": 2.0}],
}
CRUNCH_KEY = "stockout_hours:GL-SOAP-01@US-WEST-LA"   # the shelf that really runs empty in this world


def scenario(name: str) -> S.Scenario:
    return S.parse({"name": name, "title": name, "horizon_days": 7, "disruptions": SEEDED[name]})


@pytest.fixture(scope="module")
def world_db(tmp_path_factory):
    at = backtest.WorldAt.make(SEED, START)
    path = backtest.synced_database(tmp_path_factory.mktemp("backtest"), at)
    return path, at


@pytest.fixture(scope="module")
def results(world_db):
    path, at = world_db
    db = Database(path)
    try:
        out = {name: backtest.run(db, at.fresh(), scenario(name), runs=RUNS, seed=0) for name in SEEDED}
        backtest.save(db, out["stop_surge"], ran_at=START)
        backtest.save(db, out["port_surge"], ran_at=START + timedelta(minutes=1))
    finally:
        db.close()
    for name, r in out.items():
        print(f"\n{name}: {r.inside_share:.0%} of metrics inside the band\n{r.frame().head(3).to_string()}")
    return out


STOP_SURGE_MISS = pytest.mark.xfail(strict=False, reason=(
    "known miss since the member-day drama calibration (issue 13): with the primary stopped and demand x2.5 "
    "the soap shelf in LA ran empty 76 h in the world against a twin band of 87-151 h (p50 127.5): the twin "
    "empties it too early (no spill-over between warehouses of a market, wide demand spread)"))


@pytest.mark.parametrize("name", [pytest.param("stop_surge", marks=STOP_SURGE_MISS), "port_surge"])
def test_stockout_hours_per_shelf_fall_inside_the_twin_band(results, name):
    r = results[name]
    per_key = [m for m in r.metrics if m.name.startswith("stockout_hours:")]
    assert len(per_key) >= 10
    # the shelf that really ran empty: the world's hours inside the twin's band, the median close
    crunch = r.metric(CRUNCH_KEY)
    assert crunch.observed >= 72 and crunch.inside, crunch
    assert abs(crunch.error) <= 0.25 * crunch.observed
    # and across every shelf either side saw at risk, at least 80 % inside p10–p90: what a calibrated
    # band promises (a CI run saw 89 %; the twin's draws are not bit-for-bit repeatable across machines)
    inside = sum(m.inside for m in per_key) / len(per_key)
    assert inside >= 0.8, [m for m in per_key if not m.inside]


@pytest.mark.xfail(strict=True, reason=(
    "known miss: the sandbox serves an order from any warehouse of the market that has the goods "
    "(sandbox/world_demand.py), the twin keeps each SKU x warehouse apart, so an empty shelf in LA is a "
    "lost sale in the twin but an order shipped from New Jersey in the world (figures in bench/README.md)"))
@pytest.mark.parametrize("name", sorted(SEEDED))
def test_lost_units_and_total_stockout_hours_fall_inside_the_twin_band(results, name):
    r = results[name]
    assert r.metric("lost_units").inside and r.metric("stockout_hours_total").inside


def test_the_last_backtest_is_stored_with_its_error(results, world_db):
    path, _ = world_db
    db = Database(path)
    try:
        last = backtest.last(db)
    finally:
        db.close()
    assert set(last["scenario"]) == {"port_surge"}   # the newest run only
    row = last.set_index("metric").loc[CRUNCH_KEY]
    expected = results["port_surge"].metric(CRUNCH_KEY)
    assert row["observed"] == expected.observed and row["p50"] == pytest.approx(expected.p50)
    assert row["error"] == pytest.approx(expected.p50 - expected.observed) and bool(row["inside"])
    assert last["metric"].iloc[0] == "lost_units"


def test_a_disruption_the_sandbox_cannot_play_is_refused_in_words():
    delay = S.parse({"name": "late", "title": "late", "horizon_days": 7,
                     "disruptions": [{"kind": "carrier_delay", "hours": 24}]})
    with pytest.raises(TwinInvalid, match="cannot play carrier_delay"):
        backtest.sandbox_windows(delay, START)
    congested = S.parse({"name": "slow", "title": "slow", "horizon_days": 7,
                         "disruptions": [{"kind": "port", "node": SHENZHEN_PORT, "extra_days": 2}]})
    with pytest.raises(TwinInvalid, match="cannot play port"):
        backtest.sandbox_windows(congested, START)


def test_windows_match_the_twin_scenario():
    windows = backtest.sandbox_windows(scenario("stop_surge"), START)
    assert [(w.name, w.starts_at, w.ends_at, w.params) for w in windows] == [
        ("supplier_outage", START, START + timedelta(days=7), {"supplier": PRIMARY}),
        ("demand_surge", START, START + timedelta(hours=168), {"factor": 2.5})]


def _panel_script():
    from tower.ui import backtest_panel
    from tower.ui.frame import context

    backtest_panel.section(context())


def test_the_what_if_panel_shows_the_last_backtest_error(results, world_db, tower_env):
    from streamlit.testing.v1 import AppTest

    path, _ = world_db
    tower_env(path)
    at = AppTest.from_function(_panel_script, default_timeout=30).run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    r = results["port_surge"]
    assert metrics["Inside the twin's p10–p90 band"] == f"{sum(m.inside for m in r.metrics)} / {len(r.metrics)}"
    assert metrics["Lost units: twin median − world"] == f"+{r.metric('lost_units').error:,.0f}"
    assert "port_surge" in at.caption[0].value
    assert CRUNCH_KEY in set(at.dataframe[0].value["metric"])


def test_the_what_if_panel_without_a_backtest_says_so_in_chinese(tmp_path, tower_env):
    from streamlit.testing.v1 import AppTest

    Database(tmp_path / "empty.duckdb").close()
    tower_env(tmp_path / "empty.duckdb")
    at = AppTest.from_function(_panel_script, default_timeout=30)
    at.query_params["lang"] = "zh"
    at.run()
    assert not at.exception
    assert "尚未运行回测" in at.info[0].value
