"""One unresolved alert per (rule, entity), enforced by the store (alerts.open_key, unique), not only
by the engine's memory: a direct insert of a twin fails, a lost state row or a second engine on the
same database does not produce a twin, and the migration resolves twins already in a database."""
from __future__ import annotations

import threading

import duckdb
import pytest

from tower.alerts import lifecycle
from tower.alerts.engine import AlertEngine, open_key
from tower.clock import ManualClock
from tower.db import Database
from test_alerts_helpers import MEI, T0, hours, make_settings, policy, put, stock

KEY = ("stock_watermark", "sku_warehouse", "SKU-A@WH-1")


def open_alert(db, alert_id, key=KEY, state="open"):
    put(db, "alerts", dict(alert_id=alert_id, rule=key[0], entity_type=key[1], entity_id=key[2],
                           severity="yellow", state=state, title="t", opened_at=T0,
                           open_key=None if state == "resolved" else open_key(key)))


def open_rows(db):
    return db.df("select rule, entity_type, entity_id, count(*) as n from alerts "
                 "where state <> 'resolved' group by all order by all")


@pytest.fixture
def db(tmp_path):
    d = Database(tmp_path / "u.duckdb")
    yield d
    d.close()


def test_the_store_refuses_a_second_open_alert_for_the_same_rule_and_entity(db):
    open_alert(db, 1)
    with pytest.raises(duckdb.ConstraintException):
        open_alert(db, 2)
    open_alert(db, 3, key=("stock_watermark", "sku_warehouse", "SKU-B@WH-1"))   # another entity: fine
    lifecycle.resolve(db, 1, MEI, "restocked", T0)
    open_alert(db, 4)                                  # once resolved, the key is free again
    assert list(open_rows(db).n) == [1, 1]


def test_a_lost_state_row_does_not_open_a_twin(db):
    clock = ManualClock(T0)
    policy(db, "SKU-A", "WH-1", warning=100, limit=20)
    stock(db, "SKU-A", "WH-1", T0, 50)
    engine = AlertEngine(db, make_settings(engine={"hold_count": 1, "min_interval_s": 0},
                                           only=["stock_watermark"]), clock)
    first = engine.evaluate().opened
    with db.cursor() as cur:
        cur.execute("delete from alert_state")         # the engine's memory is gone …
    clock.advance(minutes=5)
    r = engine.evaluate()
    assert r.opened == [] and not r.errors             # … the open alert is adopted, not twinned
    assert list(open_rows(db).n) == [1]
    stock(db, "SKU-A", "WH-1", clock.now(), 150)       # and it still resolves by itself
    for _ in range(3):
        clock.advance(minutes=5)
        r = engine.evaluate()
    assert r.resolved == first


def test_concurrent_evaluations_by_two_engines_give_one_alert_per_key(db):
    """The timer, the post-sync trigger and a second engine on the same file (a second runtime)
    evaluate at the same instant: no twin, no evaluation lost to a conflict."""
    clock = ManualClock(T0)
    for i in range(30):
        policy(db, f"SKU-{i}", "WH-1", warning=100, limit=20)
        stock(db, f"SKU-{i}", "WH-1", T0, 50)
    settings = make_settings(engine={"hold_count": 1, "min_interval_s": 0}, only=["stock_watermark"])
    engines = [AlertEngine(db, settings, clock) for _ in range(2)]
    errors = []

    def evaluate(engine):
        try:
            engine.evaluate(force=True)
        except Exception as e:  # noqa: BLE001 - collected and asserted below
            errors.append(repr(e))

    for round_ in range(4):
        clock.advance(minutes=1)
        threads = [threading.Thread(target=evaluate, args=(e,)) for e in engines for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == []
    counts = open_rows(db)
    assert len(counts) == 30 and set(counts.n) == {1}
    assert db.df("select count(*) as n from alerts").n[0] == 30


def test_the_migration_resolves_twins_already_in_a_database(tmp_path):
    path = tmp_path / "old.duckdb"
    d = Database(path)
    with d.cursor() as cur:                            # a database from before 007, with twins
        cur.execute("drop index alerts_one_open_per_entity")
        cur.execute("alter table alerts drop column open_key")
        cur.execute("delete from schema_migrations where version like '007%'")
    for alert_id in (1, 2):
        put(d, "alerts", dict(alert_id=alert_id, rule=KEY[0], entity_type=KEY[1], entity_id=KEY[2],
                              severity="yellow", state="open", title="t", opened_at=T0))
    put(d, "alert_state", dict(rule=KEY[0], entity_type=KEY[1], entity_id=KEY[2], hits=3, misses=0,
                               open_alert_id=2, suppressed=False))
    d.close()
    d = Database(path)                                 # migrates
    try:
        df = d.df("select alert_id, state, resolution_note, open_key from alerts order by alert_id")
        assert list(df.state) == ["open", "resolved"]
        assert df.resolution_note[1] == "duplicate of alert #1"
        assert df.open_key[0] == open_key(KEY) and df.open_key.isna()[1]
        assert d.df("select open_alert_id from alert_state").open_alert_id[0] == 1
        with pytest.raises(duckdb.ConstraintException):
            open_alert(d, 3)
    finally:
        d.close()


def test_one_lane_is_one_alert_whatever_the_spelling_of_its_carrier_and_country(db):
    """Lane ids are built from carrier slug and country as stored: 'DHL' / 'dhl ' / 'us' spellings
    of one lane must make one entity, not one alert each."""
    clock = ManualClock(T0)
    for i, (carrier, country) in enumerate([("dhl", "US"), ("DHL", "US"), ("dhl ", "us"), ("Dhl", " US")]):
        put(db, "shipments", dict(shipment_id=f"p{i}", tracking_number=f"T{i}", carrier=carrier,
                                  direction="outbound", destination_country=country, tag="Exception",
                                  created_at=T0 - hours(50), last_checkpoint_at=T0 - hours(2),
                                  updated_at=T0 - hours(2)))
    engine = AlertEngine(db, make_settings(engine={"hold_count": 1, "min_interval_s": 0},
                                           only=["parcel_lanes"]), clock)
    r = engine.evaluate()
    assert len(r.opened) == 1
    a = db.df("select entity_id, metric from alerts").iloc[0]
    assert (a.entity_id, a.metric) == ("dhl:US", 4)
