"""Current-state tables (migrations 020, 021, 023, 024, connectors/state_tables.py): the newest stock
observation per SKU × warehouse, progress report per PO and checkpoint per shipment, each shipment
with its newest checkpoint and its first and newest position, kept in step with the histories and the shipments by every write. What a user relies on: the stock, PO and shipment figures (KPI tiles, alerts) read
these tables yet show exactly what the raw history says — live and for any past moment — whatever
order, duplication or replay the rows arrived in."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import queries
from connectors import derived, writes
from connectors.records import Table
from tower import kpis
from tower.alerts import rules
from tower.alerts.settings import load as load_alert_settings
from tower.db import Database

T0 = datetime(2026, 11, 11, 8, 0, tzinfo=timezone.utc)
STOCK = Table("stock_observations", ("sku", "warehouse_id", "observed_at"), "append", None)
PROGRESS = Table("po_progress", ("po_id", "observed_at"), "append", None)
CHECKPOINTS = Table("tracking_events", ("shipment_id", "checkpoint_time", "tag", "message"), "append", None)
SHIPMENTS = Table("shipments", ("shipment_id",), "merge")
STATE_ROWS = ("state_tables/check/stock_latest_rows", "state_tables/check/po_progress_latest_rows",
              "state_tables/check/tracking_latest_rows", "state_tables/check/tracking_superseded_rows",
              "state_tables/check/shipment_latest_rows", "state_tables/check/tracking_fixes_rows")
# (state table + fallback, raw definition) per history
AS_OF_PAIRS = (("state_tables/check/stock_before", "state_tables/check/stock_history"),
               ("state_tables/check/po_before", "state_tables/check/po_history"),
               ("state_tables/check/tracking_before", "state_tables/check/tracking_history"),
               ("state_tables/check/fixes_before", "state_tables/check/fixes_history"))
STATE_KPIS = ("hours_to_stockout", "stockouts", "days_of_supply", "shipments_past_eta", "exceptions",
              "stale_trackings", "fill_rate", "supplier_progress_vs_plan")


def hour(h: int) -> datetime:
    return T0 + timedelta(hours=h)


# Few entities and few instants, so keys collide: duplicates, replays and out-of-order arrivals.
# A stock count may come days before the next one (-40 h): a replay must look past its first day.
stock_rows = st.builds(lambda s, w, h, a: {"sku": s, "warehouse_id": w, "observed_at": hour(h), "available": a},
                       st.sampled_from(["A", "B"]), st.sampled_from(["W1", "W2"]),
                       st.sampled_from([-40, 0, 1, 2, 3, 4, 5]), st.integers(-2, 9))
progress_rows = st.builds(lambda p, h, q, s: {"po_id": p, "observed_at": hour(h), "quantity_produced": q,
                                              "quantity_shipped": q // 2, "status": s, "source": "supplier_portal"},
                          st.sampled_from(["P1", "P2"]), st.integers(0, 5), st.integers(0, 100),
                          st.sampled_from(["in_production", "shipped"]))
# a checkpoint may carry a position or not, and a replay of a key may carry another (the first stored wins)
checkpoint_rows = st.builds(
    lambda s, h, c, tag, m, pos: {"shipment_id": s, "checkpoint_time": hour(h),
                                  "created_at": None if c is None else hour(c), "tag": tag, "message": m,
                                  "lat": None if pos is None else float(pos), "lon": None if pos is None else -float(pos),
                                  "location": None if pos is None else f"place {pos}"},
    st.sampled_from(["S1", "S2"]), st.integers(0, 4), st.none() | st.integers(0, 4),
    st.sampled_from(["InTransit", "Exception", "Delivered"]), st.sampled_from(["scan", "arrived"]),
    st.none() | st.integers(0, 3))
# a shipment's row may come before or after its checkpoints, and change (delivered, re-tagged) later;
# each version has its own updated_at, so the newest one wins whatever order the batches come in
shipment_rows = st.builds(
    lambda s, delivered, tag: {"shipment_id": s, "direction": "outbound", "created_at": hour(-50),
                               "delivered_at": None if delivered is None else hour(delivered), "tag": tag,
                               "updated_at": hour(10 + 2 * (delivered if delivered is not None else -1)
                                                  + (tag == "Delivered"))},
    st.sampled_from(["S1", "S2", "S3"]), st.none() | st.integers(0, 4), st.sampled_from(["InTransit", "Delivered"]))
batches = st.lists(st.one_of(st.tuples(st.just(STOCK), st.lists(stock_rows, min_size=1, max_size=6)),
                             st.tuples(st.just(PROGRESS), st.lists(progress_rows, min_size=1, max_size=6)),
                             st.tuples(st.just(CHECKPOINTS), st.lists(checkpoint_rows, min_size=1, max_size=6)),
                             st.tuples(st.just(SHIPMENTS), st.lists(shipment_rows, min_size=1, max_size=3))),
                   min_size=1, max_size=8)


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    database = Database(tmp_path_factory.mktemp("state_tables") / "tower.duckdb")
    yield database
    database.close()


def write(db: Database, table: Table, rows: list[dict]) -> None:
    """One connector write: the batch and its derived tables in one transaction."""
    with db.cursor() as cur:
        cur.begin()
        writes.upsert(cur, table, rows)
        cur.commit()


def state(db: Database) -> list:
    with db.cursor() as cur:
        return [cur.execute(queries.load(name)).fetchall() for name in STATE_ROWS]


def rebuilt(db: Database) -> list:
    """The state tables recomputed from the raw history (rolled back afterwards)."""
    with db.cursor() as cur:
        cur.begin()
        derived.rebuild(cur)
        rows = [cur.execute(queries.load(name)).fetchall() for name in STATE_ROWS]
        cur.rollback()
    return rows


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=batches, replay_seed=st.randoms(use_true_random=False))
def test_any_sequence_of_writes_leaves_the_state_equal_to_a_rebuild_and_as_of_reads_exact(
        db, batches, replay_seed):
    with db.cursor() as cur:
        cur.execute(queries.load("state_tables/check/clear"))
    for table, rows in batches:
        write(db, table, rows)
        assert state(db) == rebuilt(db)
    settled = state(db)
    # replaying every batch again, in another order, changes nothing
    replay = list(batches)
    replay_seed.shuffle(replay)
    for table, rows in replay:
        write(db, table, rows)
    assert state(db) == settled == rebuilt(db)
    # "as of" any moment — before, between, on and after the rows — equals the raw definition
    with db.cursor() as cur:
        for at in [hour(h) + timedelta(minutes=m) for h in (-41, -40, -30, *range(-1, 7)) for m in (0, 30)]:
            for fast, raw in AS_OF_PAIRS:
                assert (cur.execute(queries.load(fast), {"at": at}).fetchall()
                        == cur.execute(queries.load(raw), {"at": at}).fetchall()), (fast, at)


def test_the_state_follows_the_newest_row_not_the_last_written(db):
    with db.cursor() as cur:
        cur.execute(queries.load("state_tables/check/clear"))
    write(db, STOCK, [{"sku": "A", "warehouse_id": "W1", "observed_at": hour(3), "available": 7}])
    write(db, STOCK, [{"sku": "A", "warehouse_id": "W1", "observed_at": hour(1), "available": 0}])  # late
    with db.cursor() as cur:
        rows = cur.execute(queries.load("state_tables/check/stock_latest_rows")).fetchall()
    assert [(r[0], r[1], r[3]) for r in rows] == [("A", "W1", 7)]


# ── on the synced sandbox world: live and past figures equal the raw definitions ──────────────
def figures(db: Database, now: datetime) -> dict:
    """The state-backed KPIs for the 24 h before `now` and every alert rule's findings at `now`."""
    out = {}
    params = {"start": now - timedelta(hours=24), "end": now, "now": now}
    for name in STATE_KPIS:
        frame = kpis.frame(db, name, params).round(9)
        # an empty window reads NaN/NaT, and NaN != NaN: compare it as None
        out[name] = frame.astype(object).where(frame.notna(), None).to_dict("records")
    sources = json.dumps([])
    with db.cursor() as cur:
        for rule in load_alert_settings().rules.values():
            found = rules.run(cur, rule.name, {"now": now, "sources": sources, **rule.params})
            out[f"rule {rule.name}"] = sorted((f.key, f.severity, f.detail, f.metric) for f in found)
    return out


def test_synced_world_state_equals_rebuild_and_figures_equal_history(sandbox_db, tmp_path):
    maintained = Database(sandbox_db.copy_to(tmp_path / "maintained"))
    history = Database(sandbox_db.copy_to(tmp_path / "history"))
    try:
        # ten real connector syncs maintained the tables incrementally
        assert all(state(maintained))
        assert state(maintained) == rebuilt(maintained)
        with history.cursor() as cur:
            cur.execute(queries.load("state_tables/check/force_history"))  # every read replays history
        for at in (sandbox_db.now, sandbox_db.now - timedelta(hours=3), sandbox_db.now - timedelta(days=2)):
            fast, raw = figures(maintained, at), figures(history, at)
            for name in fast:
                assert fast[name] == raw[name], (name, at)
        assert any(figures(maintained, sandbox_db.now)[f"rule {r}"] for r in ("stock_watermark", "hours_to_stockout"))
    finally:
        maintained.close()
        history.close()
