"""17TRACK v2.4 as the parcel source: real HTTP to the sandbox on loopback, real DuckDB files.

Registration honours the 40-number limit, a sync fills shipments/tracking_events with the same
parcels and AfterShip tags as the AfterShip connector, every 17TRACK status maps onto an AfterShip
tag, a wrong token fails the run in words, 429s are waited out, and push signatures verify."""
from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from connectors import build
from connectors.base import sync
from connectors.testing import write_config
from connectors.track17 import parse_push, verify_push
from connectors.track17_status import STATUSES, SUB_STATUS_TO_AFTERSHIP, to_aftership
from sandbox.server import start as start_sandbox
from tower.clock import ManualClock
from tower.config import SandboxConfig
from tower.db import Database
from tower.ui import i18n

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
AFTERSHIP_TAGS = {"Pending", "InfoReceived", "InTransit", "OutForDelivery", "AttemptFail", "Delivered",
                  "AvailableForPickup", "Exception", "Expired"}
# 17TRACK's sub-statuses as its v2.4 docs list them (written out here, not read from the mapping)
DOC_SUB_STATUSES = [
    "NotFound_Other", "NotFound_InvalidCode", "InfoReceived", "InTransit_PickedUp", "InTransit_Other",
    "InTransit_Departure", "InTransit_Arrival", "InTransit_CustomsProcessing", "InTransit_CustomsReleased",
    "InTransit_CustomsRequiringInformation", "Expired_Other", "AvailableForPickup_Other", "OutForDelivery_Other",
    "DeliveryFailure_Other", "DeliveryFailure_NoBody", "DeliveryFailure_Security", "DeliveryFailure_Rejected",
    "DeliveryFailure_InvalidAddress", "Delivered_Other", "Exception_Other", "Exception_Returning",
    "Exception_Returned", "Exception_NoBody", "Exception_Security", "Exception_Damage", "Exception_Rejected",
    "Exception_Delayed", "Exception_Lost", "Exception_Destroyed", "Exception_Cancel",
]
SOURCES = {"track17": {"kind": "track17", "base_url": "{sandbox}/track/v2.4"},
           "aftership": {"kind": "aftership", "base_url": "{sandbox}/tracking/2026-07"}}


@pytest.fixture(scope="module")
def server():
    s = start_sandbox(SandboxConfig(port=0, speed=1, seed=7, history_days=1), ManualClock(T0))
    yield s
    s.stop()


def _source(tmp_path, server, name="track17", **options):
    cfg = write_config(tmp_path, server.url, sources={name: {**SOURCES[name], **options}})
    return cfg, build(cfg.sources[name], cfg)


def test_register_takes_40_numbers_per_call_and_the_connector_splits_longer_lists(tmp_path, server):
    numbers = [f"TEST{i:06d}" for i in range(41)]
    r = requests.post(server.url + "/track/v2.4/register", headers={"17token": "sandbox"},
                      json=[{"number": n} for n in numbers], timeout=5)
    data = r.json()["data"]
    assert len(data["accepted"]) == 40
    assert [(x["number"], x["error"]["code"]) for x in data["rejected"]] == [("TEST000040", -18010013)]

    _, src = _source(tmp_path, server)
    http = src.make_http()
    more = [f"SPLIT{i:06d}" for i in range(41)]
    accepted, rejected = src.register(http, more)
    assert (sorted(accepted), rejected, http.requests_made) == (sorted(more), [], 2)
    # registering again is not an error: already registered counts as registered
    again, rejected = src.register(http, more[:3])
    assert (sorted(again), rejected) == (sorted(more[:3]), [])


def test_sync_writes_the_same_parcels_with_the_same_tags_as_aftership(tmp_path, server):
    cfg = write_config(tmp_path, server.url, sources=SOURCES)
    db = Database(cfg.db_path)
    try:
        results = {name: sync(build(cfg.sources[name], cfg), db, ManualClock(T0)) for name in SOURCES}
        assert {n: r.status for n, r in results.items()} == {"track17": "ok", "aftership": "ok"}
        pairs = db.df("""
            select a.tracking_number, a.tag as aftership_tag, t.tag as track17_tag, a.order_id = t.order_id as same_order,
                   a.warehouse_id = t.warehouse_id as same_wh, t.direction
            from shipments a join shipments t on t.tracking_number = a.tracking_number
            where t.shipment_id like '17track:%' and a.shipment_id not like '17track:%'""")
        outbound = db.df("select count(*) n from shipments where direction = 'outbound' "
                         "and shipment_id not like '17track:%'").n[0]
        assert len(pairs) == outbound > 100
        assert (pairs.aftership_tag == pairs.track17_tag).all()
        assert pairs.same_order.all() and pairs.same_wh.all() and (pairs.direction == "outbound").all()
        events = db.df("select count(*) n, count(distinct shipment_id) s from tracking_events "
                       "where shipment_id like '17track:%'")
        assert events.n[0] > len(pairs) and events.s[0] > 0
        # a second run at the same moment adds nothing
        again = sync(build(cfg.sources["track17"], cfg), db, ManualClock(T0))
        assert again.status == "ok" and sum(again.written.values()) == 0
    finally:
        db.close()


@given(st.sampled_from(DOC_SUB_STATUSES))
def test_every_documented_sub_status_maps_to_an_aftership_tag_and_a_subtag_people_can_read(sub):
    assert sub in SUB_STATUS_TO_AFTERSHIP
    tag, subtag = to_aftership(sub.split("_")[0], sub)
    assert tag in AFTERSHIP_TAGS and subtag.startswith(tag + "_")
    assert i18n.t(f"carrier.subtag.{subtag}", "zh") != f"carrier.subtag.{subtag}"


@given(st.sampled_from(STATUSES), st.text(max_size=30))
def test_a_status_with_an_unknown_sub_status_keeps_to_its_status(status, sub):
    tag, subtag = to_aftership(status, sub)
    assert subtag.startswith(tag + "_")
    if sub not in SUB_STATUS_TO_AFTERSHIP:
        assert tag == {"NotFound": "Pending", "DeliveryFailure": "AttemptFail"}.get(status, status)


def test_numbers_listed_in_the_register_option_are_registered_and_tracked(tmp_path, server):
    numbers = [f"OPT{i:06d}" for i in range(41)]
    cfg, src = _source(tmp_path, server, register=numbers)
    db = Database(cfg.db_path)
    try:
        assert sync(src, db, ManualClock(T0)).status == "ok"
        rows = db.df("select tracking_number, tag from shipments where tracking_number like 'OPT%'")
        assert sorted(rows.tracking_number) == numbers and set(rows.tag) == {"Pending"}
        assert sync(src, db, ManualClock(T0)).status == "ok"     # already registered: no rejects
    finally:
        db.close()


def test_a_wrong_token_fails_the_run_in_words_and_writes_nothing(tmp_path, server, monkeypatch):
    monkeypatch.setenv("TOWER_TRACK17_API_KEY", "not-the-key")
    cfg, src = _source(tmp_path, server)
    db = Database(cfg.db_path)
    try:
        result = sync(src, db, ManualClock(T0))
        assert result.status == "failed"
        assert "17TRACK refused the 17token (HTTP 401)" in result.error and "not-the-key" not in result.error
        assert db.df("select count(*) n from shipments").n[0] == 0
    finally:
        db.close()


def test_429_is_waited_out(tmp_path, server):
    requests.post(server.url + "/_sandbox/faults", json={"path_prefix": "/track/v2.4/", "kind": "429", "count": 2},
                  timeout=5)
    cfg, src = _source(tmp_path, server)
    db = Database(cfg.db_path)
    try:
        result = sync(src, db, ManualClock(T0))
        assert result.status == "ok" and result.written["shipments"] > 100
        assert requests.get(server.url + "/_sandbox/faults", timeout=5).json()["faults"] == []
    finally:
        db.close()


def test_push_signature_and_body():
    body = json.dumps({"event": "TRACKING_UPDATED", "data": {
        "number": "1Z999", "carrier": 100002, "tag": "US-WEST-LA", "order_no": "42",
        "track_info": {"latest_status": {"status": "Delivered", "sub_status": "Delivered_Other"},
                       "tracking": {"providers": [{"latest_sync_time": "2026-11-20T10:00:00Z", "events": [
                           {"time_iso": "2026-11-20T01:00:00-08:00", "time_utc": "2026-11-20T09:00:00Z",
                            "description": "Delivered", "stage": "Delivered", "sub_status": "Delivered_Other",
                            "address": {"country": "US", "city": "Ontario"}}]}]}}}}).encode()
    secret = "s3cret"
    sign = hashlib.sha256(body + b"/" + secret.encode()).hexdigest()  # 17TRACK: sha256(body + "/" + key)
    assert verify_push(body, {"sign": sign}, secret)
    assert not verify_push(body, {"sign": sign}, "other")
    assert not verify_push(body + b" ", {"sign": sign}, secret)
    assert not verify_push(body, {}, secret)
    event, mapped = parse_push(body)
    assert event == "TRACKING_UPDATED"
    assert (mapped.shipment["tag"], mapped.shipment["carrier"], mapped.shipment["order_id"]) == ("Delivered", "ups", "42")
    assert mapped.shipment["delivered_at"] == datetime(2026, 11, 20, 9, tzinfo=UTC)
    assert parse_push(b'{"event": "TRACKING_STOPPED", "data": {"number": "1Z999"}}') == ("TRACKING_STOPPED", None)
    with pytest.raises(ValueError, match="not JSON"):
        parse_push(b"<html>")
