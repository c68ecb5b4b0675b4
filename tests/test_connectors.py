"""Connectors end to end: real HTTP to the sandbox on loopback, real DuckDB files in tmp_path.

Fresh sync fills every table; a repeated sync adds nothing; a later sync adds only what is new and
ends where a fresh sync at that moment would; every fault kind is retried or recorded without losing
committed rows; plus the pure parts (timestamps, batch dedup, validation) with literal payloads."""
from __future__ import annotations

import json
import random
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from zoneinfo import ZoneInfo

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors import build
from connectors.aftership import Tracking, map_tracking
from connectors.base import Run, Table, retry_after_s, sync, upsert
from connectors.scheduler import Scheduler
from connectors.supplier_csv import SupplierCsvSource
from connectors.testing import TABLE_KEYS, duplicate_keys, sources_for, table_counts, table_rows, write_config
from connectors.timezones import parse_instant, zone_for
from sandbox.server import start as start_sandbox
from tower.clock import ManualClock
from tower.config import SandboxConfig
from tower.db import Database

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
UTC = timezone.utc
MERGE_TABLES = [t for t in TABLE_KEYS if t not in ("po_progress", "stock_observations")]


# A week of history is what it takes for the world to have returns and NPS answers; the fault
# tests use one day (faster), on sources that have records by then.
FULL_HISTORY_DAYS, SMALL_HISTORY_DAYS = 7.0, 1.0


def _serve(clock, history_days):
    """The real sandbox (real simulated world, seeded) on an ephemeral loopback port."""
    return start_sandbox(SandboxConfig(port=0, speed=1, seed=7, history_days=history_days), clock)


def _shops(server) -> list[str]:
    return [m.shop for m in server.world.merchants]


def _csv_supplier(server) -> str:
    return next(s.code for s in server.world.suppliers if s.tier == "emergency")


def _config(folder, server, **kw):
    return write_config(folder, server.url,
                        sources=sources_for(_shops(server), _csv_supplier(server)), **kw)


def _fault(server, **body):
    r = requests.post(f"{server.url}/_sandbox/faults", json=body, timeout=5)
    assert r.status_code in (200, 201), r.text


@pytest.fixture(scope="module")
def sandbox():
    """The full world; its clock is advanced only by the last test of this file."""
    server = _serve(ManualClock(T0), FULL_HISTORY_DAYS)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def small():
    server = _serve(ManualClock(T0), SMALL_HISTORY_DAYS)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def small_reference(small, tmp_path_factory):
    cfg = _config(tmp_path_factory.mktemp("small_reference"), small)
    db = Database(cfg.db_path)
    Scheduler(db, cfg, small.clock).run_all()
    yield db
    db.close()


@pytest.fixture(scope="module")
def reference(sandbox, tmp_path_factory):
    """A clean full sync at T0: what every other run must end up equal to."""
    cfg = _config(tmp_path_factory.mktemp("reference"), sandbox)
    db = Database(cfg.db_path)
    results = Scheduler(db, cfg, sandbox.clock).run_all()
    yield db, cfg, results
    db.close()


@pytest.fixture(autouse=True)
def _no_faults_left(request):
    yield
    for name in ("sandbox", "small"):
        if name in request.fixturenames:
            requests.delete(f"{request.getfixturevalue(name).url}/_sandbox/faults", timeout=5)


# ── full, repeated and incremental syncs ────────────────────────────────────────────────────────
def test_fresh_sync_fills_every_table_and_records_runs(reference):
    db, cfg, results = reference
    assert {n: r.status for n, r in results.items()} == {n: "ok" for n in cfg.sources}
    counts = table_counts(db)
    assert all(n > 0 for n in counts.values()), counts
    assert duplicate_keys(db) == {}
    runs = db.df("select source, status, rows_fetched, rows_written, newest_record_at, finished_at "
                 "from sync_runs")
    assert set(runs.source) == set(cfg.sources) and set(runs.status) == {"ok"}
    assert (runs.rows_fetched > 0).all()
    # the emergency supplier's CSV repeats what the portal already said about its POs: nothing new
    assert (runs[runs.source != "supplier_csv"].rows_written > 0).all()
    assert runs.newest_record_at.notna().all() and runs.finished_at.notna().all()
    # nothing newer than the clock's now came in
    assert runs.newest_record_at.max() <= T0
    # stock observations are mapped to planning's SKUs and warehouses
    unmapped = db.df("select count(*) n from stock_observations o left join skus s using (sku) "
                     "left join warehouses w using (warehouse_id) "
                     "where s.sku is null or w.warehouse_id is null")
    assert unmapped.n[0] == 0


def test_sync_twice_adds_nothing(reference, sandbox):
    db, cfg, _ = reference
    before = table_counts(db)
    state_before = db.df("select * from sync_state order by source, resource")
    results = Scheduler(db, cfg, sandbox.clock).run_all()
    assert {r.status for r in results.values()} == {"ok"}
    assert table_counts(db) == before
    assert {n: r.rows_written for n, r in results.items()} == {n: 0 for n in results}
    assert db.df("select * from sync_state order by source, resource")[["source", "resource", "cursor"]] \
        .equals(state_before[["source", "resource", "cursor"]])


# ── faults ──────────────────────────────────────────────────────────────────────────────────────
TRANSIENT = [
    ("timeout", "aftership", "/tracking", ("shipments", "tracking_events")),
    ("429", "shopify", "/shopify", ("orders", "order_lines", "stock_observations")),
    ("500", "supplier_portal", "/supplier-portal", ("purchase_orders", "po_progress")),
    ("malformed", "aftership", "/tracking", ("shipments", "tracking_events")),
    ("malformed", "supplier_csv", "/supplier-files", ("purchase_orders", "po_progress")),
    ("duplicate", "aftership", "/tracking", ("shipments", "tracking_events")),
    ("out_of_order", "aftership", "/tracking", ("shipments", "tracking_events")),
    ("duplicate", "supplier_csv", "/supplier-files", ("purchase_orders", "po_progress")),
]


@pytest.mark.parametrize("kind,source,prefix,tables", TRANSIENT, ids=[f"{k}-{s}" for k, s, _, _ in TRANSIENT])
def test_transient_fault_is_retried_and_gives_the_clean_result(kind, source, prefix, tables, small,
                                                               small_reference, tmp_path):
    ref_db, sandbox = small_reference, small
    cfg = _config(tmp_path, sandbox, http={"read_timeout_s": 0.5, "retries": 3, "backoff_s": 0.02,
                                           "max_backoff_s": 1.1, "max_total_wait_s": 5})
    db = Database(cfg.db_path)
    sched = Scheduler(db, cfg, sandbox.clock)
    if source == "shopify":
        sched.run_once("planning")  # SKU and warehouse mappings for the stock levels
    if source == "supplier_csv":
        sched.run_once("supplier_portal")  # the CSV completes POs the portal created
    # retried kinds bite twice in a row; record-level kinds hit the first page
    count = 1 if kind in ("duplicate", "out_of_order") else 2
    _fault(sandbox, path_prefix=prefix, kind=kind, count=count, delay_s=1.5)
    result = sched.run_once(source)
    assert result.status == "ok", result.error
    assert requests.get(f"{sandbox.url}/_sandbox/faults", timeout=5).json()["faults"] == []  # it did bite
    for table in tables:
        assert table_rows(db, table) == table_rows(ref_db, table), table


def test_aftership_paces_itself_under_the_rate_limit_without_a_429(small, small_reference, tmp_path):
    """Small pages mean many requests a second; the connector waits out a used-up window
    (X-RateLimit-Remaining: 0) instead of running into the sandbox's 6 requests/s wall."""
    sources = sources_for(_shops(small), _csv_supplier(small))
    sources["aftership"] = {**sources["aftership"], "page_size": 5}
    cfg = write_config(tmp_path, small.url, sources=sources,
                       http={"retries": 0, "max_backoff_s": 1.1, "max_total_wait_s": 5})
    db = Database(cfg.db_path)
    result = Scheduler(db, cfg, small.clock).run_once("aftership")
    assert result.status == "ok", result.error
    for table in ("shipments", "tracking_events"):
        assert table_rows(db, table) == table_rows(small_reference, table), table


@pytest.mark.parametrize("kind", ["timeout", "429", "500", "malformed"])
def test_persistent_fault_fails_the_run_without_losing_rows(kind, small, small_reference, tmp_path):
    ref_db, sandbox = small_reference, small
    cfg = _config(tmp_path, sandbox, http={"read_timeout_s": 0.3, "retries": 1, "backoff_s": 0.01,
                                           "max_backoff_s": 0.05, "max_total_wait_s": 1})
    db = Database(cfg.db_path)
    sched = Scheduler(db, cfg, sandbox.clock)
    sched.run_once("planning")
    sched.run_once("supplier_portal")
    committed = table_counts(db)
    state = db.df("select * from sync_state")

    _fault(sandbox, path_prefix="/supplier-portal", kind=kind, count=50, delay_s=1)
    failed = sched.run_once("supplier_portal")
    assert failed.status == "failed" and failed.error
    assert "sandbox" not in (failed.error or "").replace("/_sandbox", "")  # no credential in the text
    assert table_counts(db) == committed
    assert db.df("select * from sync_state").equals(state)
    run = db.df("select status, error from sync_runs where run_id = $id", {"id": failed.run_id})
    assert run.status[0] == "failed" and run.error[0] == failed.error

    requests.delete(f"{sandbox.url}/_sandbox/faults", timeout=5)
    again = sched.run_once("supplier_portal")
    assert again.status == "ok"
    for table in ("suppliers", "purchase_orders", "po_progress"):
        assert table_rows(db, table) == table_rows(ref_db, table), table


def test_rejected_credentials_fail_without_leaking_them(small, tmp_path, monkeypatch):
    sandbox = small
    secret = "wrong-key-5f2c9e"
    monkeypatch.setenv("TOWER_RETURNS_API_KEY", secret)
    cfg = _config(tmp_path, sandbox)
    db = Database(cfg.db_path)
    result = Scheduler(db, cfg, sandbox.clock).run_once("returns")
    assert result.status == "failed" and "401" in result.error
    stored = db.df("select error from sync_runs").error[0]
    assert secret not in stored and secret not in result.error


def test_shopify_before_planning_loses_nothing(small, small_reference, tmp_path):
    """Stock levels and order warehouses need planning's mapping; synced first, Shopify holds its
    cursors, and once planning has run the same rows as a planning-first sync arrive."""
    cfg = _config(tmp_path, small)
    db = Database(cfg.db_path)
    sched = Scheduler(db, cfg, small.clock)
    early = sched.run_once("shopify")
    assert early.status == "partial" and "planning" in early.error
    assert table_counts(db)["stock_observations"] == 0
    assert db.df("select count(*) n from orders where warehouse_id is not null").n[0] == 0
    sched.run_once("planning")
    later = sched.run_once("shopify")
    assert later.status == "ok", later.error
    for table in ("stock_observations", "orders", "order_lines", "skus", "warehouses", "merchants"):
        assert table_rows(db, table) == table_rows(small_reference, table), table


# ── validation: a bad record is counted, the rest kept (literal vendor payloads) ───────────────
class _Canned(BaseHTTPRequestHandler):
    bodies: dict = {}

    def do_GET(self):  # noqa: N802 - http.server's naming
        path = self.path.split("?")[0]
        body = self.bodies.get(path)
        payload = (body if isinstance(body, str) else json.dumps(body)).encode() if body else b"{}"
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def canned():
    """A tiny real HTTP server on loopback answering fixed vendor payloads."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Canned)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, _Canned.bodies
    _Canned.bodies.clear()
    server.shutdown()
    server.server_close()


def _tracking(id_, updated, checkpoints=(), **extra):
    return {"id": id_, "tracking_number": f"T{id_}", "slug": "ups", "tag": "InTransit",
            "created_at": "2026-11-19T00:00:00+00:00", "updated_at": updated,
            "custom_fields": {"mode": "express", "direction": "outbound"}, "order_id": "1001",
            "destination_country_region": "USA", "destination_city": "Los Angeles",
            "checkpoints": list(checkpoints), **extra}


def _cp(time_text, country="USA", state="CA", message="Departed", tag="InTransit", coord=True):
    cp = {"checkpoint_time": time_text, "created_at": "2026-11-19T12:00:00+00:00", "city": "Los Angeles",
          "state": state, "country_region": country, "message": message, "tag": tag,
          "subtag": f"{tag}_001", "location": "LA hub"}
    if coord:
        cp["coordinate"] = {"latitude": 34.0, "longitude": -118.2}
    return cp


def test_bad_records_are_rejected_and_the_rest_kept(canned, tmp_path, monkeypatch):
    server, bodies = canned
    monkeypatch.setenv("TOWER_AFTERSHIP_API_KEY", "k-123456789")
    good = _tracking("a" * 32, "2026-11-19T10:00:00+00:00", [_cp("2026-11-19T01:00:00")])
    bad_time = _tracking("b" * 32, "not a time")
    bad_cp = _tracking("c" * 32, "2026-11-19T11:00:00+00:00",
                       [_cp("garbage"), _cp("2026-11-19T02:00:00-08:00", message="Arrived")])
    bodies["/tracking/2026-07/trackings"] = {
        "meta": {"code": 200},
        "data": {"pagination": {"total": 4, "next_cursor": None, "has_next_page": False},
                 "trackings": [good, bad_time, "not an object", bad_cp]}}
    url = f"http://127.0.0.1:{server.server_port}"
    cfg = write_config(tmp_path, url, sources={"aftership": {"kind": "aftership",
                                                             "base_url": f"{url}/tracking/2026-07"}})
    db = Database(cfg.db_path)
    result = sync(build(cfg.sources["aftership"], cfg), db, ManualClock(T0))
    assert result.status == "partial"
    assert result.rows_fetched == 4 and result.rows_rejected == 3  # 2 trackings + 1 checkpoint
    assert sorted(db.df("select shipment_id from shipments").shipment_id) == ["a" * 32, "c" * 32]
    events = db.df("select shipment_id, checkpoint_time, raw_checkpoint_time from tracking_events "
                   "order by shipment_id")
    assert list(events.raw_checkpoint_time) == ["2026-11-19T01:00:00", "2026-11-19T02:00:00-08:00"]
    # no offset: Los Angeles wall time (PST, UTC-8) → 09:00 UTC
    assert events.checkpoint_time[0].to_pydatetime() == datetime(2026, 11, 19, 9, tzinfo=UTC)
    assert len(result.errors) == 3 and all("k-123456789" not in e for e in result.errors)
    run = db.df("select status, rows_rejected, error from sync_runs").iloc[0]
    assert run.status == "partial" and run.rows_rejected == 3 and "updated_at" in run.error
    # the cursor moved to the newest good record
    assert db.df("select cursor from sync_state").cursor[0] == "2026-11-19T11:00:00Z"


def test_supplier_csv_applies_its_timezone_and_keeps_good_rows(tmp_path):
    csv_path = tmp_path / "progress.csv"
    csv_path.write_text(
        "# timezone: Asia/Shanghai\n"
        "po_number,sku,quantity_ordered,quantity_produced,quantity_qc_passed,quantity_shipped,"
        "promised_ship_date,status,updated_at\n"
        "PO-1,GL-BOWL-01,100,40,30,0,2026-11-24,in_production,2026-11-20 08:30\n"
        "PO-2,GL-CUP-01,lots,1,1,0,2026-11-24,in_production,2026-11-20 09:00\n"
        "PO-3,GL-CUP-02,50,50,50,50,2026-11-21,shipped,2026-11-20 10:15\n"
        "PO-4,GL-CUP-03,50,50,50,50,2026-11-21,shipped,yesterday\n", encoding="utf-8")
    cfg = write_config(tmp_path, "http://127.0.0.1:9", sources={
        "csv": {"kind": "supplier_csv", "path": str(csv_path), "supplier_id": "ZJ-01"}})
    db = Database(cfg.db_path)
    source = build(cfg.sources["csv"], cfg)
    assert isinstance(source, SupplierCsvSource)
    result = sync(source, db, ManualClock(T0))
    assert result.status == "partial" and result.rows_rejected == 2 and result.rows_fetched == 4
    assert any("line 4" in e for e in result.errors) and any("line 6" in e for e in result.errors)
    pos = db.df("select po_id, supplier_id, quantity_ordered, updated_at from purchase_orders order by po_id")
    assert list(pos.po_id) == ["PO-1", "PO-3"] and set(pos.supplier_id) == {"ZJ-01"}
    # 08:30 in Shanghai (UTC+8) is 00:30 UTC
    assert pos.updated_at[0].to_pydatetime() == datetime(2026, 11, 20, 0, 30, tzinfo=UTC)
    progress = db.df("select po_id, quantity_produced, source from po_progress order by po_id")
    assert list(progress.quantity_produced) == [40, 50] and set(progress.source) == {"supplier_csv"}
    # a second read of the same file writes nothing
    assert sync(source, db, ManualClock(T0)).rows_written == 0


# ── timestamps ──────────────────────────────────────────────────────────────────────────────────
@pytest.mark.parametrize("text,country,state,expected", [
    ("2026-11-19T10:00:00+08:00", "CHN", None, datetime(2026, 11, 19, 2, tzinfo=UTC)),  # offset wins
    ("2026-11-19T10:00:00Z", "USA", "CA", datetime(2026, 11, 19, 10, tzinfo=UTC)),
    ("2026-11-19T10:00:00", "CHN", None, datetime(2026, 11, 19, 2, tzinfo=UTC)),       # Asia/Shanghai
    ("2026-11-19T10:00:00", "VN", None, datetime(2026, 11, 19, 3, tzinfo=UTC)),        # alpha-2 works too
    ("2026-07-01T10:00:00", "USA", "California", datetime(2026, 7, 1, 17, tzinfo=UTC)),  # PDT
    ("2026-07-01T10:00:00", "USA", "NY", datetime(2026, 7, 1, 14, tzinfo=UTC)),          # EDT
    ("2026-07-01T10:00:00", "USA", None, datetime(2026, 7, 1, 14, tzinfo=UTC)),          # no state: NY
    ("2026-07-01T10:00:00", "DEU", None, datetime(2026, 7, 1, 8, tzinfo=UTC)),           # CEST
    ("2026-07-01T10:00:00", None, None, datetime(2026, 7, 1, 10, tzinfo=UTC)),           # unknown: UTC
    # spring forward in Los Angeles: 02:30 does not exist, read with the pre-gap offset (-8)
    ("2026-03-08T02:30:00", "USA", "CA", datetime(2026, 3, 8, 10, 30, tzinfo=UTC)),
    # fall back: 01:30 happens twice, the first (PDT, -7) is taken
    ("2026-11-01T01:30:00", "USA", "CA", datetime(2026, 11, 1, 8, 30, tzinfo=UTC)),
    ("2026-11-01T01:30:00-08:00", "USA", "CA", datetime(2026, 11, 1, 9, 30, tzinfo=UTC)),
])
def test_checkpoint_time_rule(text, country, state, expected):
    assert parse_instant(text, zone_for(country, state)) == expected


def test_city_picks_the_zone_when_the_state_is_missing():
    assert zone_for("USA", None, "Chicago") == ZoneInfo("America/Chicago")
    assert zone_for("USA", "TX", "Los Angeles") == ZoneInfo("America/Chicago")  # state wins


ZONES = ["America/Los_Angeles", "America/New_York", "Europe/Berlin", "Asia/Shanghai", "Australia/Sydney",
         "Asia/Kolkata", "America/St_Johns"]


@settings(max_examples=200, deadline=None)
@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2037, 12, 31),
                    timezones=st.just(UTC)),
       st.sampled_from(ZONES))
def test_with_or_without_offset_the_instant_is_the_same(instant, zone_name):
    zone = ZoneInfo(zone_name)
    local = instant.astimezone(zone).replace(microsecond=0)
    with_offset = local.isoformat()
    naive = local.replace(tzinfo=None).isoformat()
    expected = instant.replace(microsecond=0)
    assert parse_instant(with_offset) == expected
    assert parse_instant(with_offset, ZoneInfo("Asia/Tokyo")) == expected  # an offset beats the zone
    # without an offset the zone decides; only the repeated fall-back hour may map to its first occurrence
    got = parse_instant(naive, zone)
    if local.fold == 0:
        assert got == expected
    else:
        assert got < expected and got.astimezone(zone).replace(tzinfo=None) == local.replace(tzinfo=None)


@settings(max_examples=100, deadline=None)
@given(st.one_of(st.text(max_size=30), st.integers(min_value=-10**12, max_value=10**12), st.none()))
def test_parse_instant_never_crashes_with_anything_but_value_error(value):
    try:
        result = parse_instant(value)
    except (ValueError, OverflowError, OSError):
        return
    assert result is None or result.tzinfo is not None


# ── batch dedup: any permutation / duplication of a batch gives the same tables ────────────────
def _events_batch(rng: random.Random, n: int) -> list[dict]:
    base = datetime(2026, 11, 19, tzinfo=UTC)
    rows = []
    for i in range(n):
        rows.append({"shipment_id": f"s{rng.randint(0, 3)}",
                     "checkpoint_time": base + timedelta(hours=rng.randint(0, 5)),
                     "tag": rng.choice(["InTransit", "Delivered"]), "message": rng.choice(["a", "b"]),
                     "lat": rng.choice([None, 1.5, 2.5]), "raw_checkpoint_time": f"raw{i % 3}"})
    return rows


def _shipments_batch(rng: random.Random, n: int) -> list[dict]:
    base = datetime(2026, 11, 19, tzinfo=UTC)
    return [{"shipment_id": f"s{rng.randint(0, 3)}", "tag": rng.choice(["InTransit", "Delivered", None]),
             "updated_at": rng.choice([None, base, base + timedelta(hours=rng.randint(1, 3))])}
            for _ in range(n)]


def _memory_db() -> Database:
    db = Database(":memory:")
    db.migrate()  # an in-memory database is not migrated on open
    return db


_SCRATCH: list[Database] = []


def _apply(batches: list[tuple[Table, list[dict]]]):
    """Load the batches in order into empty tables (one scratch database, emptied per call: fast
    enough for many hypothesis examples) and return the resulting rows."""
    if not _SCRATCH:
        _SCRATCH.append(_memory_db())
    db = _SCRATCH[0]
    cur = db.cursor()
    for name in {t.name for t, _ in batches}:
        cur.execute(f'delete from "{name}"')  # test-local table names, not input
    for table, rows in batches:
        upsert(cur, table, rows)
    return {t.name: table_rows(db, t.name) for t, _ in batches}


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10**6), st.integers(1, 25), st.randoms(use_true_random=False))
def test_any_permutation_or_duplication_of_a_batch_gives_the_same_tables(seed, n, shuffler):
    rng = random.Random(seed)
    events, ships = _events_batch(rng, n), _shipments_batch(rng, n)
    events_table = Table("tracking_events", TABLE_KEYS["tracking_events"], "append", None)
    ships_table = Table("shipments", ("shipment_id",), "merge")
    expected = _apply([(events_table, events), (ships_table, ships)])

    def mess(rows):
        rows = rows + [dict(r) for r in shuffler.sample(rows, k=shuffler.randint(0, len(rows)))]
        shuffler.shuffle(rows)
        return rows
    assert _apply([(events_table, mess(events)), (ships_table, mess(ships))]) == expected
    # replaying the batch on top of itself changes nothing either
    assert _apply([(events_table, events), (events_table, mess(events)),
                   (ships_table, ships), (ships_table, mess(ships))]) == expected


def test_merge_keeps_the_newest_version_and_skips_identical_rows():
    db = _memory_db()
    cur = db.cursor()
    t = Table("shipments", ("shipment_id",), "merge")
    new = {"shipment_id": "s", "tag": "Delivered", "updated_at": datetime(2026, 11, 20, tzinfo=UTC)}
    old = {"shipment_id": "s", "tag": "InTransit", "updated_at": datetime(2026, 11, 19, tzinfo=UTC)}
    assert upsert(cur, t, [old, new]) == 1
    assert upsert(cur, t, [old]) == 0          # an older version never overwrites a newer one
    assert upsert(cur, t, [new]) == 0          # identical: nothing written
    assert db.df("select tag from shipments").tag[0] == "Delivered"


@settings(max_examples=30, deadline=None)
@given(st.randoms(use_true_random=False))
def test_checkpoints_out_of_order_or_repeated_map_to_the_same_rows(shuffler):
    cps = [_cp(f"2026-11-19T0{h}:00:00", message=f"m{h}", coord=h % 2 == 0) for h in range(6)]
    base = Tracking.model_validate(_tracking("d" * 32, "2026-11-19T10:00:00+00:00", cps))

    def mapped(checkpoints):
        run = Run("t", {}, T0)
        map_tracking(base.model_copy(update={"checkpoints": checkpoints}), run)
        return run.rows
    expected = mapped(cps)
    messy = cps + shuffler.sample(cps, k=3)
    shuffler.shuffle(messy)
    assert mapped(messy) == expected
    ship = expected["shipments"][0]
    assert ship["last_checkpoint_at"] == datetime(2026, 11, 19, 13, tzinfo=UTC)  # 05:00 PST
    assert (ship["last_lat"], ship["last_lon"]) == (34.0, -118.2)  # newest checkpoint *with* a position


# ── retry timing facts ──────────────────────────────────────────────────────────────────────────
def _response(headers: dict) -> requests.Response:
    r = requests.Response()
    r.status_code = 429
    r.headers.update(headers)
    return r


def test_retry_after_in_seconds_http_date_and_rate_limit_reset():
    now = 1_800_000_000.0
    assert retry_after_s(_response({"Retry-After": "2.5"}), now) == 2.5
    date = "Fri, 15 Jan 2027 08:00:10 GMT"
    at = datetime(2027, 1, 15, 8, 0, 10, tzinfo=UTC).timestamp()
    assert retry_after_s(_response({"Retry-After": date}), at - 4) == pytest.approx(4)
    assert retry_after_s(_response({"X-RateLimit-Reset": str(int(now) + 3)}), now) == 3
    assert retry_after_s(_response({}), now) is None
    assert retry_after_s(_response({"Retry-After": "soon"}), now) is None


# ── incremental (moves the clock: keep last) ─────────────────────────────────────────────────────
def test_later_sync_adds_only_new_records_and_matches_a_fresh_sync(sandbox, reference, tmp_path):
    """Last in the file: it moves the shared clock forward."""
    inc, inc_cfg, _ = reference
    clock = sandbox.clock
    first = table_counts(inc)
    clock.advance(hours=3)
    results = Scheduler(inc, inc_cfg, clock).run_all()
    assert {r.status for r in results.values()} == {"ok"}
    second = table_counts(inc)
    assert all(second[t] >= first[t] for t in first)
    assert second["orders"] > first["orders"] and second["tracking_events"] > first["tracking_events"]
    # incremental requests asked only for what changed since the cursors
    assert 0 < results["aftership"].rows_fetched < second["shipments"] / 2
    assert 0 < results["shopify"].rows_fetched < second["orders"] / 2

    fresh_cfg = _config(tmp_path / "fresh", sandbox)
    fresh = Database(fresh_cfg.db_path)
    Scheduler(fresh, fresh_cfg, clock).run_all()
    for table in MERGE_TABLES:
        assert table_rows(inc, table) == table_rows(fresh, table), table
    # history tables keep what was observed along the way: a superset of the fresh view
    for table in ("po_progress", "stock_observations"):
        inc_keys = set(r[:3] for r in table_rows(inc, table))
        assert set(r[:3] for r in table_rows(fresh, table)) <= inc_keys, table
    assert duplicate_keys(inc) == {}
    fresh.close()
