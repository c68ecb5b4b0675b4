"""The digital twin's core (issue 14): the Monte Carlo against closed forms and against itself, the
disruptions and responses doing what they say, clear refusals, cancelling, and the CLI and the
library on a database synced from the sandbox."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings as hsettings, strategies as st

from tower.auth.policy import Identity, Refused
from tower.db import Database
from tower.twin import decision, network, responses as R, scenarios as S, simulate, store
from tower.twin import settings as twin_settings
from tower.twin.errors import TwinCancelled, TwinInvalid
from tower.twin.network import Lane, Network, Pipeline, Supplier

ROOT = Path(__file__).resolve().parent.parent
CFG = twin_settings.load()
OPERATOR = Identity("oidc|op", "op@example.com", frozenset({"operator"}))
APPROVER = Identity("oidc|ap", "ap@example.com", frozenset({"approver"}))
VIEWER = Identity("oidc|vi", "vi@example.com", frozenset({"viewer"}))


# ── a one-SKU network whose every number is known ───────────────────────────────────────────────
def toy(*, stock=400.0, rate=5.0, sigma=0.1, shipments=(), flow_per_day=0.0, backup=True) -> Network:
    """One SKU in one warehouse selling `rate` units/h; shipments under way as (eta_h, units) landing
    exactly at their ETA; a primary shipping by sea (3 d lead, 5 d transit, all constant) ordering
    `flow_per_day` units a day, and a backup (2 d lead, 2 d air) with spare capacity."""
    hours = CFG.limits.max_horizon_days * 24
    const = lambda v: np.full(8, float(v))  # noqa: E731 - a constant history of samples
    suppliers = {"P": Supplier("P", "Primary", "primary", "VN", 5000, 5000, 3, const(3), True)}
    lanes = {("P", "W"): [Lane("P", "W", "sea", 10, const(120), True, ("PORT",), (0.1,))]}
    if backup:
        suppliers["B"] = Supplier("B", "Backup", "backup", "CN", 5000, 5000, 2, const(2), True)
        lanes[("B", "W")] = [Lane("B", "W", "air", 10, const(48), True, ("AIRPORT",), (0.3,))]
    n = len(shipments)
    pipe = Pipeline(ref=np.array([f"SH{i}" for i in range(n)], object), kind=np.zeros(n, np.int8),
                    key=np.zeros(n, np.int64), supplier=np.full(n, "P", object),
                    units=np.array([u for _, u in shipments], np.float32), order_h=np.full(n, -300.0),
                    promised_h=np.full(n, -200.0), shipped_h=np.full(n, -100.0),
                    eta_h=np.array([e for e, _ in shipments], np.float64), mode=np.full(n, "sea", object))
    flow = pd.DataFrame({"supplier_id": ["P"] if flow_per_day else [], "key": [0] if flow_per_day else [],
                         "units_per_day": [flow_per_day] if flow_per_day else []})
    return Network(
        now=pd.Timestamp("2026-12-04T00:00Z").to_pydatetime(), sku=np.array(["SKU"], object),
        warehouse=np.array(["W"], object), market=np.array(["US"], object), stock=np.array([stock], np.float32),
        safety=np.zeros(1, np.float32), price=np.array([30.0]), cost=np.array([4.0]),
        forecast=np.full((1, hours), rate, np.float32), uplift=np.ones(1, np.float32),
        uplift_sigma=np.array([sigma], np.float32), suppliers=suppliers, lanes=lanes, pipeline=pipe, flow=flow,
        supplier_costs={("P", "SKU"): 4.0, ("B", "SKU"): 4.6}, delivery_slack={"US": np.linspace(0, 48, 49)},
        nodes={"PORT": {"name": "Port", "kind": "port", "country": "VN", "status": "normal"},
               "AIRPORT": {"name": "Airport", "kind": "airport", "country": "CN", "status": "normal"}},
        settings=CFG)


def scenario(*disruptions, days=10, name="t") -> S.Scenario:
    return S.parse({"name": name, "title": name, "horizon_days": days, "disruptions": list(disruptions)})


def steady(days_of_stock: float) -> Network:
    """Stock for `days_of_stock` days, then a shipment a day for 12 days, and the primary's orders
    keep coming (the first lands on day 11.5): no stockout unless something breaks."""
    rate = 5.0
    ships = [(12 + 24 * i, rate * 24) for i in range(12)]
    return toy(stock=rate * 24 * days_of_stock, rate=rate, shipments=ships, flow_per_day=rate * 24)


# ── the simulation against a closed form ──────────────────────────────────────────────────────────
def test_mean_stock_path_matches_stock_minus_cumulative_demand_plus_arrivals():
    net = toy(stock=2000, rate=5.0, sigma=0.1, shipments=[(50.5, 300), (150.2, 300)])
    c = simulate.compare(net, scenario(days=10), [R.DoNothing()], runs=300, seed=1)
    hours = c.fan_hours
    arrivals = 300 * (hours >= 50).astype(float) + 300 * (hours >= 150).astype(float)
    expected = 2000 - 5.0 * (hours + 1) + arrivals
    got = c.outcome("do_nothing").stock_mean[:, 0]
    tolerance = 0.03 * 5.0 * (hours + 1) + 10
    assert np.all(np.abs(got - expected) <= tolerance), np.max(np.abs(got - expected) - tolerance)
    assert c.outcome("do_nothing").stockout_probability_any == 0
    assert c.outcome("do_nothing").lost_units_p90 == 0


def test_a_supplier_stop_raises_the_stockout_probability_over_the_baseline():
    c = simulate.compare(steady(2), scenario({"kind": "supplier_stop", "supplier": "P", "days": 12}, days=30),
                         [R.DoNothing()], runs=200)
    stopped, baseline = c.outcome("do_nothing"), c.baseline
    assert baseline.stockout_probability_any < 0.5      # only runs whose demand level runs high
    assert stopped.stockout_probability_any > 0.9
    assert stopped.lost_units_p50 > baseline.lost_units_p50 + 500
    assert stopped.stockout_hours_p50[0] > 100


@pytest.mark.parametrize("stop_days, shift_wins", [(20, True), (1, False)])
def test_shift_to_backup_wins_only_when_the_primary_stops_long_enough(stop_days, shift_wins):
    c = simulate.compare(steady(2), scenario({"kind": "supplier_stop", "supplier": "P", "days": stop_days}, days=30),
                         [R.DoNothing(), R.ShiftToBackup(share=0.5)], runs=200)
    shift = c.outcome("shift_to_backup_50")
    assert shift.extra_cost_usd > 0
    assert (shift.net_benefit_p50 > 0) is shift_wins
    assert (c.winner == "shift_to_backup_50") is shift_wins


def test_a_closed_port_delays_what_passes_it_and_air_freight_avoids_it():
    sc = scenario({"kind": "port", "node": "PORT", "start_h": 0, "closed": True, "days": 15}, days=30)
    c = simulate.compare(steady(1), sc, [R.DoNothing(), R.AirFreight()], runs=200)
    assert c.outcome("do_nothing").lost_units_p50 > c.baseline.lost_units_p50 + 300
    assert c.outcome("air_freight").lost_units_p50 < c.outcome("do_nothing").lost_units_p50


def test_a_demand_surge_loses_sales_and_capping_the_promotion_loses_fewer():
    sc = scenario({"kind": "demand", "factor": 3, "start_h": 0, "hours": 72}, days=10)
    c = simulate.compare(toy(stock=600, rate=5), sc, [R.DoNothing(), R.CapPromotion(factor=0.5)], runs=200)
    assert c.outcome("do_nothing").lost_units_p50 > 300
    assert c.outcome("cap_promotion_50").lost_units_p50 < c.outcome("do_nothing").lost_units_p50
    assert c.outcome("cap_promotion_50").extra_cost_usd > 0


def test_a_carrier_delay_costs_on_time_points():
    sc = scenario({"kind": "carrier_delay", "hours": 36, "start_h": 0}, days=5)
    c = simulate.compare(toy(stock=5000), sc, [R.DoNothing()], runs=100)
    assert c.outcome("do_nothing").on_time_pp < -50      # 75 % of orders had under 36 h of slack


def test_same_seed_same_figures_and_json_round_trips():
    sc = scenario({"kind": "supplier_stop", "supplier": "P", "days": 5}, days=20)
    a = simulate.compare(steady(2), sc, runs=100, seed=3).to_json()
    b = simulate.compare(steady(2), sc, runs=100, seed=3).to_json()
    a.pop("elapsed_s"), b.pop("elapsed_s")
    assert a == b
    assert json.loads(json.dumps(a))["winner"] in {r["name"] for r in a["responses"]}


def test_vectorised_and_per_run_loop_agree_statistically():
    sc = scenario({"kind": "supplier_stop", "supplier": "P", "days": 8}, days=20)
    net = steady(2)
    vec = simulate.compare(net, sc, [R.DoNothing(), R.ShiftToBackup(share=0.5)], runs=400, seed=5)
    loop = simulate.compare_loop(net, sc, [R.DoNothing(), R.ShiftToBackup(share=0.5)], runs=80, seed=6)
    for name in ("do_nothing", "shift_to_backup_50"):
        v, lp = vec.outcome(name), loop.outcome(name)
        assert lp.lost_units_p50 == pytest.approx(v.lost_units_p50, rel=0.12, abs=30), name
        assert lp.stockout_probability_any == pytest.approx(v.stockout_probability_any, abs=0.15), name
        assert lp.extra_cost_usd == pytest.approx(v.extra_cost_usd, rel=1e-6), name
    assert loop.method == "loop" and vec.method == "vectorised"


# ── refusals in words ────────────────────────────────────────────────────────────────────────────
@hsettings(max_examples=25, deadline=None)
@given(days=st.floats(max_value=0, allow_nan=False, allow_infinity=False), start=st.floats(min_value=0, max_value=100))
def test_a_stop_of_no_days_is_refused_naming_days(days, start):
    with pytest.raises(TwinInvalid, match="days"):
        scenario({"kind": "supplier_stop", "supplier": "P", "start_h": start, "days": days})


@hsettings(max_examples=25, deadline=None)
@given(start=st.floats(max_value=-1e-6, allow_nan=False, allow_infinity=False))
def test_a_negative_start_is_refused_naming_start(start):
    with pytest.raises(TwinInvalid, match="start_h"):
        scenario({"kind": "demand", "factor": 2, "start_h": start})


@hsettings(max_examples=25, deadline=None)
@given(share=st.one_of(st.floats(min_value=1.0001, max_value=1e6), st.floats(max_value=0, allow_nan=False,
                                                                              allow_infinity=False)))
def test_a_share_outside_0_to_100_percent_is_refused(share):
    with pytest.raises(TwinInvalid, match="share"):
        R.parse({"kind": "shift_to_backup", "share": share})


def test_impossible_scenarios_are_refused_in_words():
    with pytest.raises(TwinInvalid, match="closed port needs `days`"):
        scenario({"kind": "port", "node": "PORT", "closed": True})
    with pytest.raises(TwinInvalid, match="extra_days"):
        scenario({"kind": "port", "node": "PORT"})
    with pytest.raises(TwinInvalid, match="either a node or a market"):
        scenario({"kind": "customs_hold", "days": 2})
    with pytest.raises(TwinInvalid, match="horizon_days"):
        scenario(days=0)
    net = toy()
    for bad, said in [({"kind": "supplier_stop", "supplier": "NOPE", "days": 2}, "unknown supplier 'NOPE'"),
                      ({"kind": "port", "node": "XXABC", "extra_days": 2}, "unknown port or node 'XXABC'"),
                      ({"kind": "demand", "factor": 2, "skus": ["GHOST"]}, "unknown SKU 'GHOST'"),
                      ({"kind": "customs_hold", "market": "ZZ", "days": 1}, "unknown market 'ZZ'")]:
        with pytest.raises(TwinInvalid, match=said):
            simulate.compare(net, scenario(bad), runs=10)
    with pytest.raises(TwinInvalid, match="unknown warehouse 'X'"):
        simulate.compare(net, scenario(), [R.Transfer(from_warehouse="W", to_warehouse="X")], runs=10)
    with pytest.raises(TwinInvalid, match="runs must be"):
        simulate.compare(net, scenario(), runs=0)


def test_a_horizon_too_long_for_memory_is_refused_with_the_limit():
    tight = CFG.model_copy(update={"limits": CFG.limits.model_copy(update={"memory_mb": 0.05})})
    net = toy()
    net = Network(**{**net.__dict__, "settings": tight})
    with pytest.raises(TwinInvalid, match=r"limit of 0 MB: shorten the horizon to \d+ days or run fewer runs"):
        simulate.compare(net, scenario(days=90), runs=1000)
    with pytest.raises(TwinInvalid, match="longer than the twin plans"):
        simulate.compare(toy(), scenario(days=CFG.limits.max_horizon_days + 1), runs=10)


def test_an_empty_network_is_refused_in_words(tmp_path):
    db = Database(tmp_path / "empty.duckdb")
    try:
        net = network.build(db, pd.Timestamp("2026-12-04T00:00Z").to_pydatetime())
    finally:
        db.close()
    assert net.size == 0
    with pytest.raises(TwinInvalid, match="network is empty"):
        simulate.compare(net, scenario(), runs=10)


def test_a_running_simulation_stops_promptly_when_cancelled():
    cancel = threading.Event()
    stopped_at = []

    def progress(f):
        if f > 0.1 and not cancel.is_set():
            cancel.set()
            stopped_at.append(time.perf_counter())

    with pytest.raises(TwinCancelled):
        simulate.compare(steady(2), scenario(days=60), runs=2000, cancel=cancel, progress=progress)
    assert stopped_at and time.perf_counter() - stopped_at[0] < 1.0


def test_the_decision_table_finds_where_the_backup_shift_pays():
    sc = scenario({"kind": "supplier_stop", "supplier": "P", "days": 20}, days=30)
    table = decision.sweep(steady(2), sc, [R.DoNothing(), R.ShiftToBackup(share=0.5)],
                           hours_to_stockout=[6, 2000], inbound_eta_h=[24], demand_ratio=[1.0], runs=100)
    assert table.winners[0, 0, 0] == "shift_to_backup_50"   # stock for 6 h: shift
    assert table.winners[1, 0, 0] == "do_nothing"           # stock for 2000 h: nothing to fear
    found = decision.thresholds(table, "B-03")
    assert found["response"] == "shift_to_backup_50" and found["hours_to_stockout_below"] == 6


# ── on a database synced from the sandbox ─────────────────────────────────────────────────────────
@pytest.fixture(scope="module")
def world(sandbox_db, tmp_path_factory):
    path = sandbox_db.copy_to(tmp_path_factory.mktemp("twin_core"))
    return path, sandbox_db.now


def test_the_network_is_built_from_the_database_and_replays_a_past_moment(world):
    path, now = world
    db = Database(path)
    try:
        net = network.build(db, now)
        earlier = network.build(db, at=now - timedelta(hours=8))
    finally:
        db.close()
    assert net.size == 64 and {s.tier for s in net.suppliers.values()} == {"primary", "backup", "emergency"}
    assert all(s.learned for s in net.suppliers.values() if s.tier != "emergency")
    assert any(ln.nodes for lanes in net.lanes.values() for ln in lanes)
    assert len(net.pipeline) > 0 and np.all(net.pipeline.order_h <= 0)
    assert net.forecast[:, :24].sum() > 0 and net.stock.sum() > 0
    assert earlier.now == now - timedelta(hours=8)
    assert np.all(earlier.pipeline.order_h <= 0) and not np.array_equal(earlier.stock, net.stock)


def test_a_tower_forecast_plugs_in_through_the_demand_override(world):
    path, now = world
    seen = {}

    def override(keys, start, hours):
        seen.update(keys=len(keys), start=start, hours=hours)
        return np.full((len(keys), hours), 2.0, np.float32)

    db = Database(path)
    try:
        net = network.build(db, now, demand_override=override)
        sheet = network.build(db, now)
    finally:
        db.close()
    assert seen == {"keys": net.size, "start": now, "hours": net.max_hours}
    assert net.demand_source == "override" and np.allclose(net.demand_mean(48), 2.0)
    assert sheet.demand_source == "forecast" and not np.allclose(sheet.demand_mean(48), 2.0)
    swapped = sheet.with_demand(np.full((sheet.size, 24), 3.0))
    assert np.allclose(swapped.demand_mean(100), 3.0) and swapped.demand_source == "override"


def tower_twin(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tower", "twin", *map(str, args)], cwd=ROOT, env=dict(os.environ),
                          capture_output=True, text=True, timeout=300)


def test_cli_runs_a_library_scenario_and_names_the_winner(world):
    path, _ = world
    out = tower_twin("run", "--scenario", "member_day_surge", "--runs", 200, "--db", path, "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    names = [r["name"] for r in result["responses"]]
    assert result["winner"] in names and "do_nothing" in names and result["runs"] == 200
    for r in result["responses"]:
        assert {"stockout_probability_any", "lost_sales_usd_p50", "lost_sales_usd_p90", "extra_cost_usd",
                "on_time_pp", "net_benefit_p50", "net_benefit_p90"} <= set(r)
    table = tower_twin("run", "--scenario", "typhoon_port", "--runs", 50, "--db", path)
    assert table.returncode == 0 and "Winner:" in table.stdout


def test_cli_refuses_an_unknown_scenario_with_the_known_names(world):
    path, _ = world
    out = tower_twin("run", "--scenario", "no_such_thing", "--db", path)
    assert out.returncode == 2
    assert "unknown scenario 'no_such_thing'" in out.stderr and "trade_route_cut" in out.stderr


def test_users_save_scenarios_runs_and_thresholds_with_permission_and_audit(world):
    path, now = world
    db = Database(path)
    try:
        mine = S.parse({"name": "my_stop", "title": "Primary stops a week", "disruptions": [
            {"kind": "supplier_stop", "supplier": "VN-BAMBOO-01", "days": 7}]})
        with pytest.raises(Refused):
            S.save(db, VIEWER, mine)
        with pytest.raises(TwinInvalid, match="built-in"):
            S.save(db, OPERATOR, S.parse({**mine.to_dict(), "name": "typhoon_port"}))
        S.save(db, OPERATOR, mine, now=now)
        lib = S.library(db)
        assert lib["my_stop"] == mine and {"trade_route_cut", "typhoon_port", "platform_outage",
                                           "member_day_surge"} <= set(lib)
        net = network.build(db, now)
        c = simulate.compare(net, mine, runs=50)
        run_id = store.save_run(db, VIEWER, c, now=now)
        shared = store.get_run(db, run_id)
        assert shared["winner"] == c.winner and shared["created_by"] == VIEWER.subject
        found = {"playbook": "B-03", "response": "shift_to_backup_30", "hours_to_stockout_below": 24.0,
                 "demand_ratio_above": 1.5}
        with pytest.raises(Refused):
            decision.export(db, OPERATOR, "B-03", found, mine, 50, now)
        assert decision.export(db, APPROVER, "B-03", found, mine, 50, now) == 2
        latest = db.query("twin/thresholds_latest", {"playbook": "B-03"})
        assert dict(zip(latest.name, latest.value)) == {"hours_to_stockout_below": 24.0, "demand_ratio_above": 1.5}
        actions = set(db.query("auth/audit_filters").action)
        assert {"twin.scenario.save", "twin.run.save", "twin.thresholds.export"} <= actions
    finally:
        db.close()
