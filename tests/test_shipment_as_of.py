"""The shipment KPIs of a past moment (the overview's previous window: shipments past ETA and in
exception as of now - 24 h) read the maintained tracking tables (tracking_latest, tracking_superseded,
shipment_latest: migrations 020, 021, 023) instead of replaying every parcel's history. What a user relies on: the previous
value on the tile is what the checkpoints known then said — for parcels scanned since, scanned
several times since, or silent for days before the moment — whatever order, duplication or replay
the checkpoints and the shipments' own rows arrived in. Checked against a replay of the stored
shipments and checkpoints in pandas."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import queries
from connectors.records import Table
from tower import kpis
from tests.test_state_tables import write
from tower.db import Database

T0 = datetime(2026, 11, 11, 8, 0, tzinfo=timezone.utc)
SHIPMENTS = Table("shipments", ("shipment_id",), "merge")
CHECKPOINTS = Table("tracking_events", ("shipment_id", "checkpoint_time", "tag", "message"), "append", None)
IDS = ["S1", "S2", "S3", "S4"]
# checkpoint hours: long before the moments asked about (-200 h: a parcel silent for days), the day
# before them, around and after them — and few of them, so keys collide (duplicates, late arrivals)
HOURS = [-200, -120, -30, -23, -2, -1, 0, 1, 2, 24, 25]
MOMENTS = [T0 + timedelta(hours=h, minutes=m) for h in (-200, -119, -24, -1, 0, 1, 3, 24, 30) for m in (0, 30)]
LATER = T0 + timedelta(days=5)   # "now": every moment above is a past one


def hour(h: int | None) -> datetime | None:
    return None if h is None else T0 + timedelta(hours=h)


shipment_rows = st.builds(
    lambda created, delivered, eta, tag, updated: {
        "direction": "outbound", "carrier": "dhl", "created_at": hour(created), "shipped_at": hour(-250),
        "delivered_at": hour(delivered), "eta": hour(eta), "tag": tag, "updated_at": hour(updated)},
    st.none() | st.sampled_from([-300, -60, -1, 2]), st.none() | st.sampled_from([-20, 1, 26]),
    st.none() | st.sampled_from([-100, -1, 0, 12, 48]), st.sampled_from(["InTransit", "Exception", "Delivered"]),
    st.sampled_from([-300, 0, 30]))
checkpoint_rows = st.builds(
    lambda s, h, c, tag, m: {"shipment_id": s, "checkpoint_time": hour(h), "created_at": hour(c),
                             "tag": tag, "message": m},
    st.sampled_from(IDS), st.sampled_from(HOURS), st.none() | st.sampled_from([-200, 0, 3]),
    st.sampled_from(["InTransit", "Exception", "Delivered", "OutForDelivery", "Expired"]),
    st.sampled_from(["scan", "arrived"]))


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    database = Database(tmp_path_factory.mktemp("shipment_as_of") / "tower.duckdb")
    yield database
    database.close()


def replayed(shipments: dict[str, dict], events: pd.DataFrame, at: datetime) -> dict[str, tuple[int, int]]:
    """(value, n) of exceptions and shipments_past_eta as of `at`, by replaying the checkpoints."""
    known = events[events.checkpoint_time < at].sort_values(
        ["shipment_id", "checkpoint_time", "created_at", "tag", "message"],
        ascending=[True, False, False, True, True], na_position="last")
    newest = known.drop_duplicates("shipment_id").set_index("shipment_id")["tag"]
    exceptions = past_eta = in_transit = 0
    for sid, s in shipments.items():
        created = s["created_at"] or s["shipped_at"]
        if not (created < at and (s["delivered_at"] is None or s["delivered_at"] >= at)):
            continue
        if sid in newest.index:
            tag = newest[sid]
        else:
            tag = s["tag"] if s["updated_at"] < at else "Pending"
        if tag in ("Delivered", "Expired"):
            continue
        in_transit += 1
        exceptions += tag == "Exception"
        past_eta += s["eta"] is not None and s["eta"] < at
    return {"exceptions": (exceptions, in_transit), "shipments_past_eta": (past_eta, in_transit)}


def shown(db: Database, name: str, at: datetime) -> tuple[int, int]:
    """The KPI's value as the overview's previous window asks for it: the window ending at `at`,
    read later (now = LATER)."""
    value, n = kpis.value(db, name, {"start": at - timedelta(hours=24), "end": at, "now": LATER})
    return (int(value or 0), n)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ships=st.lists(shipment_rows, min_size=len(IDS), max_size=len(IDS)),
       changes=st.lists(st.tuples(st.sampled_from(IDS), shipment_rows), max_size=4),
       batches=st.lists(st.lists(checkpoint_rows, min_size=1, max_size=8), min_size=1, max_size=5),
       replay_seed=st.randoms(use_true_random=False))
def test_past_moments_show_what_the_checkpoints_known_then_said(db, ships, changes, batches, replay_seed):
    with db.cursor() as cur:
        cur.execute(queries.load("state_tables/check/shipments_clear"))
    # the shipments' rows and their later versions (delivered, re-tagged, re-estimated) come in any
    # order with the checkpoints: a parcel may be scanned before its shipment row is stored
    sequence = ([(SHIPMENTS, [{**row, "shipment_id": sid}]) for sid, row in zip(IDS, ships)]
              + [(SHIPMENTS, [{**row, "shipment_id": sid}]) for sid, row in changes]
              + [(CHECKPOINTS, list(b)) for b in batches])
    replay = list(sequence)
    replay_seed.shuffle(sequence)
    replay_seed.shuffle(replay)
    for table, rows in sequence + replay:  # every batch, then all of them again in another order
        write(db, table, rows)
    with db.cursor() as cur:
        # what the shipments table holds after the merges is the truth the replay starts from
        stored = cur.execute(queries.load("state_tables/check/shipments_rows")).df()
        events = cur.execute(queries.load("state_tables/check/tracking_events_rows")).df()
    shipments = {r["shipment_id"]: {k: (None if pd.isna(v) else v) for k, v in r.items()}
                 for r in stored.to_dict("records")}
    for column in ("checkpoint_time", "created_at"):
        events[column] = pd.to_datetime(events[column], utc=True)
    for at in MOMENTS:
        expected = replayed(shipments, events, at)
        for name in ("exceptions", "shipments_past_eta"):
            assert shown(db, name, at) == expected[name], (name, at)


def test_a_parcel_scanned_twice_since_shows_its_tag_of_then(db):
    """An exception yesterday, since then back in transit and delivered: yesterday's tile counts it."""
    with db.cursor() as cur:
        cur.execute(queries.load("state_tables/check/shipments_clear"))
    write(db, SHIPMENTS, [{"shipment_id": "S1", "direction": "outbound", "created_at": hour(-300),
                           "tag": "Delivered", "updated_at": hour(30), "eta": hour(-10)}])
    write(db, CHECKPOINTS, [
        {"shipment_id": "S1", "checkpoint_time": hour(h), "created_at": hour(h), "tag": tag, "message": "scan"}
        for h, tag in ((-200, "InTransit"), (-5, "Exception"), (10, "InTransit"), (20, "Delivered"))])
    assert shown(db, "exceptions", hour(0)) == (1, 1)
    assert shown(db, "shipments_past_eta", hour(0)) == (1, 1)
    assert shown(db, "exceptions", hour(-6)) == (0, 1)     # still in transit since -200 h
    assert shown(db, "exceptions", hour(15)) == (0, 1)     # back in transit
    assert shown(db, "exceptions", hour(21)) == (0, 0)     # delivered: no longer counted
