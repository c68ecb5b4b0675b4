"""No flapping: an alert opens only after hold_count consecutive sightings, resolves only after
clear_count consecutive clear evaluations, and there is never more than one open per (rule, entity)
— for any on/off sequence (property test), and for supplier silence on a real reporting rhythm."""
from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tower.alerts.engine import AlertEngine
from tower.clock import ManualClock
from tower.db import Database
from test_alerts_helpers import T0, hours, make_settings, policy, put, stock


def expected_events(sequence, hold, clear):
    """The documented contract, step by step: 'opened' / 'resolved' / None per evaluation."""
    events, hits, misses, is_open = [], 0, 0, False
    for on in sequence:
        event = None
        if on:
            hits, misses = hits + 1, 0
            if not is_open and hits >= hold:
                is_open, event = True, "opened"
        else:
            hits = 0
            if is_open:
                misses += 1
                if misses >= clear:
                    is_open, misses, event = False, 0, "resolved"
        events.append(event)
    return events


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hold=st.integers(1, 3), clear=st.integers(1, 4),
       sequence=st.lists(st.booleans(), min_size=1, max_size=24))
def test_alerts_open_and_resolve_only_after_consecutive_counts(hold, clear, sequence):
    db = Database(":memory:")
    try:
        clock = ManualClock(T0)
        policy(db, "SKU-A", "WH-1", warning=100, limit=20)
        engine = AlertEngine(db, make_settings(
            engine={"hold_count": hold, "clear_count": clear, "min_interval_s": 0},
            only=["stock_watermark"]), clock)
        seen = []
        for on in sequence:
            clock.advance(minutes=5)
            stock(db, "SKU-A", "WH-1", clock.now(), 50 if on else 150)
            r = engine.evaluate()
            seen.append("opened" if r.opened else "resolved" if r.resolved else None)
            assert len(r.opened) + len(r.resolved) <= 1
            unresolved = db.df("select count(*) as n from alerts where state <> 'resolved'").n[0]
            assert unresolved <= 1
        assert seen == expected_events(sequence, hold, clear)
    finally:
        db.close()


def supplier_world(db, posts_until):
    """A backup supplier posting progress every 6 h, each post 0–25 min late (as the sandbox's
    suppliers do), from 3 days before T0 until `posts_until`."""
    put(db, "suppliers", dict(supplier_id="CN-B", name="Backup Bamboo", tier="backup"))
    put(db, "purchase_orders", dict(po_id="P1", supplier_id="CN-B", sku="A", quantity_ordered=900,
                                    status="in_production", ordered_at=T0 - hours(80),
                                    promised_ship_date=T0 + hours(200)))
    at, k, posts = T0 - hours(72), 0, []
    while at <= posts_until:
        late = timedelta(minutes=(k * 7919) % 26)
        posts.append(dict(po_id="P1", observed_at=at + late, quantity_produced=10 * k))
        at, k = at + hours(6), k + 1
    put(db, "po_progress", *posts)


def test_a_supplier_posting_on_its_usual_rhythm_never_alerts_and_a_real_silence_alerts_once():
    db = Database(":memory:")
    try:
        supplier_world(db, posts_until=T0 + hours(12))      # then it goes quiet
        clock = ManualClock(T0 - hours(24))
        engine = AlertEngine(db, make_settings(engine={"min_interval_s": 0}, only=["supplier_silent"]),
                             clock)
        opened, resolved = [], []
        while clock.now() < T0 + hours(12):                 # 36 h of evaluations every 10 min
            clock.advance(minutes=10)
            r = engine.evaluate()
            opened += r.opened
            resolved += r.resolved
        assert opened == [] and resolved == [], "the supplier's normal rhythm must not flap an alert"
        while clock.now() < T0 + hours(32):                 # now it really is silent
            clock.advance(minutes=10)
            r = engine.evaluate()
            opened += r.opened
            resolved += r.resolved
        assert len(opened) == 1 and resolved == []
        a = db.df("select severity, metric, threshold from alerts").iloc[0]
        assert a.severity == "red" and a.threshold == pytest.approx(18, abs=0.6)   # 3 × its ~6 h
    finally:
        db.close()
