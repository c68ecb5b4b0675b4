"""Merchant scope on every page (AppTest on the synced sandbox world): a merchant user sees no other
merchant's orders, parcels, returns or survey answers anywhere in what a page renders (text, tables,
charts, maps, widget options), its KPIs are computed over its own rows only, `?merchant=other` is
ignored, platform-only pages refuse it in words, and what it can download holds only its rows."""
from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from tests.test_page_customers import nps
from tests.ui_fixtures import ROOT, tower_env  # noqa: F401
from tower import kpis, merchant_snapshot, retro
from tower.auth.policy import Identity
from tower.db import Database
from tower.ui import fmt, i18n, scope
from tower.ui import tiles as tiles_mod
from tower.ui.session import IDENTITY_KEY

ME, OTHERS = "nordic-nest", ("green-living", "casa-verde")
MERCHANT = Identity("oidc|nn", "Nordic Nest buyer", frozenset({"analyst"}), merchant=ME)
PAGES = ["overview", "map", "alerts", "stock", "suppliers", "customers", "retro", "glossary",
         "sql_console", "sources"]
REFUSED = {"stock", "suppliers", "sources"}
TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


def identifiers(path: Path, merchants) -> set[str]:
    """Order ids, parcel tracking numbers and ids, RMAs and survey response ids of `merchants`'
    orders, read straight from the full database (independent of the app), plus their shop ids."""
    with duckdb.connect(str(path), read_only=True) as con:
        con.execute("create temp table who as select unnest($m::text[]) as merchant_id", {"m": list(merchants)})
        rows = con.execute("""
            select order_id from orders where merchant_id in (from who)
            union select tracking_number from shipments where order_id in
                (select order_id from orders where merchant_id in (from who))
            union select shipment_id from shipments where order_id in
                (select order_id from orders where merchant_id in (from who))
            union select return_id from returns where order_id in
                (select order_id from orders where merchant_id in (from who))
            union select response_id from nps_responses where merchant_id in (from who)
            union select response_id from csat_responses where merchant_id in (from who)
        """).fetchall()
    return {str(r[0]) for r in rows if r[0]} | set(merchants)


def _walk(node):
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _walk(child)


def rendered_tokens(at: AppTest) -> set[str]:
    """Every word-like token in what the run rendered: element protos (text, charts, maps, widget
    options, download names) and dataframes' values."""
    text = []
    for root in (at.main, at.sidebar):
        for node in _walk(root):
            value = getattr(node, "value", None) if getattr(node, "type", "") in ("dataframe", "table") else None
            if isinstance(value, pd.DataFrame):
                text.append(value.to_csv())
            proto = getattr(node, "proto", None)
            if proto is not None:
                text.append(str(proto))
    return set(TOKEN.findall("\n".join(text)))


def as_merchant(page: str, **query) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    at.session_state[IDENTITY_KEY] = MERCHANT
    for k, v in query.items():
        at.query_params[k] = str(v)
    at.run()
    if page != "overview" and not at.exception:
        at.switch_page(f"pages/{page}.py")
        at.run()
    return at


@pytest.fixture
def world(tower_env, sandbox_db, tmp_path):  # noqa: F811
    """The synced world plus open red alerts about one parcel of each shop (the banner on every
    page and the Alerts page list them) and a platform-wide market alert."""
    path = sandbox_db.copy_to(tmp_path)
    alerted = {}
    with duckdb.connect(str(path)) as con:
        for i, m in enumerate([ME, *OTHERS]):
            ship, tracking = con.execute(
                "select s.shipment_id, s.tracking_number from shipments s join orders o using (order_id) "
                "where o.merchant_id = $m order by s.shipment_id limit 1", {"m": m}).fetchone()
            con.execute("insert into alerts (alert_id, rule, entity_type, entity_id, severity, state, title, "
                        "detail, opened_at, first_seen_at, last_seen_at, updated_at) values ($i, 'shipment_past_eta', "
                        "'shipment', $e, 'red', 'open', $t, $t, now(), now(), now(), now())",
                        {"i": 900 + i, "e": ship, "t": f"Parcel {tracking} is past its ETA"})
            alerted[m] = tracking
        con.execute("insert into alerts (alert_id, rule, entity_type, entity_id, severity, state, title, detail, "
                    "opened_at, first_seen_at, last_seen_at, updated_at) values (999, 'on_time_rate', 'market', "
                    "'DE', 'red', 'open', 'On-time delivery 12 % in DE', 'casa-verde and green-living late', "
                    "now(), now(), now(), now())")
    tower_env(path)
    start = (sandbox_db.anchor - timedelta(days=sandbox_db.history_days + 1)).date()
    whole = {"window": "custom", "from": start.isoformat(), "to": sandbox_db.now.date().isoformat()}
    return path, whole, alerted


def test_no_page_shows_another_merchants_rows(world):
    path, whole, alerted = world
    theirs, mine = identifiers(path, OTHERS), identifiers(path, [ME])
    assert len(theirs) > 1000 and len(mine) > 100  # the world has all three shops' data
    seen_mine = set()
    for page in PAGES:
        at = as_merchant(page, merchant=OTHERS[0], **whole)  # a hand-edited URL asks for another shop
        assert not at.exception, page
        tokens = rendered_tokens(at)
        leaked = tokens & theirs
        assert not leaked, f"{page} shows other merchants' data: {sorted(leaked)[:10]}"
        seen_mine |= tokens & mine
        if page in REFUSED:
            assert [i.value for i in at.info] == [i18n.t(f"scope.refused.{page}", "en", merchant=ME)]
            assert not at.dataframe and not at.metric
        assert at.query_params["merchant"] in (ME, [ME])
        if page == "alerts":  # the alert about its own parcel is there (the market alert names other shops)
            assert alerted[ME] in tokens
    assert ME in seen_mine and len(seen_mine) > 1  # its own parcels/orders are there to see


def test_sidebar_shows_the_merchant_fixed(world):
    _, whole, _ = world
    at = as_merchant("customers", merchant=OTHERS[1], **whole)
    box = next(s for s in at.sidebar.selectbox if s.key == "tower_merchant")
    assert box.value == ME and box.disabled and len(box.options) == 1


def test_kpis_are_the_merchants_own(world, sandbox_db):
    path, whole, _ = world
    with duckdb.connect(str(path), read_only=True) as con:
        answers = con.execute("select merchant_id, score from nps_responses where score between 0 and 10").df()
    own = answers[answers["merchant_id"] == ME]["score"]
    # the scope changes the number (exactly: rounded, a merchant's NPS can equal everyone's — CI
    # once drew 49 and 49; the tiles below are still compared one by one with the merchant filter)
    assert len(own) and nps(own) != nps(answers["score"])
    at = as_merchant("customers", **whole)
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[kpis.get("nps").title("en")] == fmt.number(nps(own), signed=True)

    # every tile equals the semantic layer over (a copy of) the full database filtered to the merchant
    db = Database(sandbox_db.copy_to(path.parent / "full"))
    try:
        tiles = kpis.tiles(db, kpis.CUSTOMERS, {
            "start": pd.Timestamp(whole["from"], tz="UTC").to_pydatetime(),
            "end": (pd.Timestamp(whole["to"], tz="UTC") + pd.Timedelta(days=1)).to_pydatetime(),
            "now": datetime.now(UTC).replace(microsecond=0), "merchant": ME, "channel": None, "market": None})
    finally:
        db.close()
    compared = 0
    for tile in tiles:  # a value the page shows is the value over the merchant's rows
        if tile.value is not None and tile.kpi.title("en") in metrics:
            assert metrics[tile.kpi.title("en")] == tiles_mod.tile_value(tile, "en"), tile.name
            compared += 1
    assert compared >= 3


def test_downloads_hold_only_the_merchants_rows(tower_env, sandbox_db, tmp_path):  # noqa: F811
    """The retro data pack, scorecard and report a merchant downloads are built from the database
    tower.ui.scope gives its session (the pages pass ctx.db): no other merchant's row in the bytes."""
    path = sandbox_db.copy_to(tmp_path)
    theirs = identifiers(path, OTHERS)
    live = Database(path, extra_dirs=[tmp_path / "snapshot"])
    try:
        db = scope.data_db(SimpleNamespace(db=live, config=None), MERCHANT)
        assert db is not live and Path(db.path).is_relative_to(tmp_path / "snapshot" / "merchant")
        start = sandbox_db.anchor - timedelta(days=sandbox_db.history_days + 1)
        window = retro.Window(start, sandbox_db.now, "everything")
        params = {"start": window.start, "end": window.end, "now": sandbox_db.now,
                  "merchant": None, "channel": None, "market": None}  # even with no merchant filter
        frames = unpack(retro.data_pack(db, window, params, sandbox_db.now))
        text = "\n".join(f.to_csv() for f in frames.values())
        assert not set(TOKEN.findall(text)) & theirs
        assert set(frames["orders"]["merchant_id"]) == {ME}
        assert all(frames[t].empty for t in ("suppliers", "purchase_orders", "stock_observations", "forecasts"))
        # the same request on the live database carries other shops' rows: the scope made the difference
        full = unpack(retro.data_pack(live, window, params, sandbox_db.now))
        assert set(TOKEN.findall("\n".join(f.to_csv() for f in full.values()))) & theirs
    finally:
        live.close()


def unpack(blob: bytes) -> dict[str, pd.DataFrame]:
    with zipfile.ZipFile(io.BytesIO(blob)) as zf:
        return {n.removesuffix(".parquet"): pd.read_parquet(io.BytesIO(zf.read(n)))
                for n in zf.namelist() if n.endswith(".parquet")}


def test_alerts_reach_a_merchant_only_about_its_parcels(sandbox_db, tmp_path):
    """Of the alerts table, a merchant's database holds alerts about its own parcels only: market,
    SKU, stock, supplier and node alerts are computed over everyone's data and stay platform-only."""
    path = sandbox_db.copy_to(tmp_path)
    with duckdb.connect(str(path)) as con:
        mine, theirs = (con.execute("select min(s.shipment_id) from shipments s join orders o using (order_id) "
                                    "where o.merchant_id = $m", {"m": m}).fetchone()[0] for m in (ME, OTHERS[0]))
        for i, (etype, eid) in enumerate([("shipment", mine), ("shipment", theirs), ("market", "DE"),
                                          ("sku_market", "GL-CUP-02@DE"), ("supplier", "PRINT3D-LA")]):
            con.execute("insert into alerts (alert_id, rule, entity_type, entity_id, severity, state, title) "
                        "values ($i, 'r', $t, $e, 'red', 'open', 'x')", {"i": i + 1, "t": etype, "e": eid})
            con.execute("insert into alert_log (log_id, alert_id, action) values ($i, $i, 'opened')", {"i": i + 1})
    snap = tmp_path / "snapshot" / "tower.duckdb"
    snap.parent.mkdir()
    snap.write_bytes(path.read_bytes())
    cut = merchant_snapshot.fresh(snap, ME)
    with duckdb.connect(str(cut), read_only=True) as con:
        assert con.execute("select entity_type, entity_id from alerts").fetchall() == [("shipment", mine)]
        assert con.execute("select alert_id from alert_log").fetchall() == [(1,)]
        assert con.execute("select count(*) from stock_observations").fetchone()[0] == 0
        assert con.execute("select count(*) from suppliers").fetchone()[0] == 0
        assert con.execute("select count(*) from purchase_orders").fetchone()[0] == 0
        assert con.execute("select count(*) from shipments where direction <> 'outbound'").fetchone()[0] == 0
        assert con.execute("select count(distinct merchant_id) from merchants").fetchone()[0] <= 1


def test_a_merchants_cut_is_built_within_the_memory_limit_and_a_failed_build_leaves_nothing(sandbox_db, tmp_path):
    """The cut is built by its own DuckDB instance inside the server (or console) process: it gets
    the process's limits, not DuckDB's default of 80 % of the machine. A build that cannot fit fails
    with DuckDB's own error and leaves no file; with room, the next build succeeds."""
    snap = tmp_path / "snapshot" / "tower.duckdb"
    snap.parent.mkdir()
    snap.write_bytes(sandbox_db.copy_to(tmp_path).read_bytes())
    folder = merchant_snapshot.folder(snap, ME)
    for too_small in ("1MB", "8MB"):  # out of memory opening the empty schema; copying the orders
        with pytest.raises(duckdb.Error, match="could not allocate|Out of Memory"):
            merchant_snapshot.fresh(snap, ME, {"memory_limit": too_small, "threads": 1})
        assert not list(folder.iterdir()), "no partial database, no temporary file"
    cut = merchant_snapshot.fresh(snap, ME, {"memory_limit": "256MB", "threads": 1})
    with duckdb.connect(str(cut), read_only=True) as con:
        assert con.execute("select count(distinct merchant_id) from orders").fetchone()[0] == 1
