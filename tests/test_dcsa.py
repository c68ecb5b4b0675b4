"""DCSA Track & Trace 2.2 ocean events: real HTTP to the sandbox on loopback, real DuckDB files.

Next-Page is followed to the last page, a second run fetches only what is new, every announced
vessel ETA is kept (a port-congestion scenario re-announces later arrivals), eta_known_at(t) answers
with the ETA known at t, and a malformed event fails the run without writing anything."""
from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from connectors import build
from connectors.base import sync
from connectors.testing import write_config
from sandbox.server import start as start_sandbox
from tower.clock import ManualClock
from tower.config import SandboxConfig
from tower.db import Database

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
AUTH = {"Authorization": "Bearer sandbox"}


@pytest.fixture
def world():
    """A fresh sandbox per test: several tests move its clock or switch its scenarios."""
    clock = ManualClock(T0)
    server = start_sandbox(SandboxConfig(port=0, speed=1, seed=7, history_days=1), clock)
    yield server, clock
    server.stop()


def _db(tmp_path, url, **options):
    cfg = write_config(tmp_path, url, sources={"dcsa": {"kind": "dcsa", "base_url": "{sandbox}/dcsa/v2", **options}})
    return cfg, Database(cfg.db_path)


def _run(cfg, db, clock):
    return sync(build(cfg.sources["dcsa"], cfg), db, clock)


def _congest(server, clock, hours=72):
    r = requests.post(server.url + "/_sandbox/scenarios", timeout=5, json={"scenarios": [
        {"name": "port_congestion", "starts_at": clock.now().isoformat(),
         "ends_at": (clock.now() + timedelta(hours=hours)).isoformat()}]})
    assert r.status_code == 200, r.text


def test_next_page_is_followed_to_the_last_page(tmp_path, world):
    server, clock = world
    def walk(limit):
        pages, url, seen = 0, f"{server.url}/dcsa/v2/events?limit={limit}&eventType=TRANSPORT,EQUIPMENT,SHIPMENT", []
        while url:
            r = requests.get(url, headers=AUTH, timeout=10)
            assert r.status_code == 200
            seen += [e["eventID"] for e in r.json()]
            url, pages = r.headers.get("Next-Page"), pages + 1
        return pages, seen

    big_pages, everything = walk(1000)
    total = len(everything)
    pages, seen = walk(40)
    assert big_pages == -(-total // 1000) and pages == -(-total // 40)
    assert sorted(seen) == sorted(set(seen)) == sorted(everything) and total > 500

    cfg, db = _db(tmp_path, server.url, page_size=40)
    try:
        result = _run(cfg, db, clock)
        assert (result.status, result.rows_fetched, result.written["ocean_events"]) == ("ok", total, total)
        kinds = set(db.df("select distinct event_type || ' ' || event_classifier || ' ' || event_code as k "
                          "from ocean_events").k)
        assert {"TRANSPORT PLN ARRI", "TRANSPORT ACT DEPA", "TRANSPORT ACT ARRI", "EQUIPMENT ACT LOAD",
                "EQUIPMENT ACT DISC", "EQUIPMENT ACT GTIN", "SHIPMENT ACT CONF"} <= kinds
        located = db.df("select count(*) n from ocean_events where event_type = 'TRANSPORT' and lat is null").n[0]
        assert located == 0
    finally:
        db.close()


def test_a_second_run_fetches_only_new_events_and_ends_where_a_fresh_sync_would(tmp_path, world):
    server, clock = world
    cfg, db = _db(tmp_path / "a", server.url, page_size=100)
    try:
        first = _run(cfg, db, clock)
        clock.advance(hours=6)
        second = _run(cfg, db, clock)
        assert first.status == second.status == "ok"
        new = second.written["ocean_events"]
        assert 0 < new and second.rows_fetched <= new + 5      # the inclusive cursor re-reads the boundary only
        fresh_cfg, fresh = _db(tmp_path / "b", server.url)
        try:
            _run(fresh_cfg, fresh, clock)
            ids = "select event_id from ocean_events order by event_id"
            assert list(db.df(ids).event_id) == list(fresh.df(ids).event_id)
        finally:
            fresh.close()
    finally:
        db.close()


def test_every_announced_eta_is_kept_and_eta_known_at_answers_as_of_then(tmp_path, world):
    server, clock = world
    cfg, db = _db(tmp_path, server.url)
    try:
        _run(cfg, db, clock)
        before = db.df("select * from eta_known_at(?) where un_location_code like 'US%' and not arrived",
                       [clock.now()])
        _congest(server, clock)
        clock.advance(hours=3)
        _run(cfg, db, clock)
        slipped_at = clock.now()
        after = db.df("select * from eta_known_at(?)", [slipped_at]).set_index("equipment_reference")
        moved = before[before.equipment_reference.map(lambda c: after.eta[c] > before.set_index(
            "equipment_reference").eta[c] + timedelta(hours=12))]
        assert len(moved) >= 3                                 # congestion at Yantian re-announced later arrivals
        box = moved.equipment_reference.iloc[0]
        history = db.df("select classifier, announced_at, eta from vessel_eta_history "
                        "where equipment_reference = ? order by announced_at", [box])
        assert len(history) >= 2 and history.classifier.iloc[0] == "PLN" and history.eta.is_unique
        old_eta = before.set_index("equipment_reference").eta[box]
        assert history.eta.iloc[0] <= old_eta < history.eta.iloc[-1]   # the old estimates are still there
        # the ETA known at a moment is the latest announced by then
        announced = history.announced_at.iloc[-1]
        known = lambda t: db.df("select eta, first_eta, slip_hours from eta_known_at(?) "
                                "where equipment_reference = ?", [t, box]).iloc[0]
        assert known(announced - timedelta(seconds=1)).eta == old_eta
        now = known(announced)
        assert now.eta == history.eta.iloc[-1] and now.first_eta == history.eta.iloc[0]
        assert now.slip_hours == pytest.approx((now.eta - now.first_eta).total_seconds() / 3600)
        # a later sync changes none of the rows already stored
        clock.advance(hours=6)
        _run(cfg, db, clock)
        assert db.df("select classifier, announced_at, eta from vessel_eta_history where equipment_reference = ? "
                     "order by announced_at", [box]).head(len(history)).equals(history)
    finally:
        db.close()


class _Canned(BaseHTTPRequestHandler):
    pages: list = []

    def do_GET(self):
        index = int(self.path.split("page=")[1]) if "page=" in self.path else 0
        body = json.dumps(self.pages[index]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if index + 1 < len(self.pages):
            self.send_header("Next-Page", f"/dcsa/v2/events?page={index + 1}")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def canned():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Canned)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def _event(event_id="e1", lat="51.9500"):
    out = {"eventType": "TRANSPORT", "eventClassifierCode": "EST", "eventCreatedDateTime": "2026-11-20T10:00:00Z",
           "eventDateTime": "2026-12-01T08:00:00Z", "transportEventTypeCode": "ARRI",
           "transportCall": {"UNLocationCode": "NLRTM", "location": {"latitude": lat, "longitude": "4.1400"}},
           "references": [{"referenceType": "EQ", "referenceValue": "MSKU1234565"}], "documentReferences": []}
    if event_id is not None:
        out["eventID"] = event_id
    return out


@pytest.mark.parametrize("bad, message", [
    (_event("e3", lat=51.95), "transportCall.location.latitude"),
    (_event(None), "eventID"),
])
def test_a_malformed_event_fails_the_run_in_words_and_writes_nothing(tmp_path, canned, bad, message):
    _Canned.pages = [[_event("e1"), _event("e2")], [bad]]
    url = f"http://127.0.0.1:{canned.server_address[1]}"
    cfg, db = _db(tmp_path, url)
    try:
        result = _run(cfg, db, ManualClock(T0))
        assert result.status == "failed" and message in result.error and "DCSA event" in result.error
        assert db.df("select (select count(*) from ocean_events) + (select count(*) from vessel_eta_history) n").n[0] == 0
        # once the carrier fixes it, the next run loads everything (the cursor did not move past it)
        _Canned.pages = [[_event("e1"), _event("e2")], [_event("e3")]]
        assert _run(cfg, db, ManualClock(T0)).status == "ok"
        assert db.df("select count(*) n from vessel_eta_history").n[0] == 3
    finally:
        db.close()


def test_a_wrong_token_is_a_failed_run(tmp_path, world, monkeypatch):
    server, clock = world
    monkeypatch.setenv("TOWER_DCSA_API_KEY", "nope")
    cfg, db = _db(tmp_path, server.url)
    try:
        result = _run(cfg, db, clock)
        assert result.status == "failed" and "HTTP 401" in result.error
    finally:
        db.close()
