"""The sandbox server over real HTTP on loopback: credentials, pagination, incremental filters,
rate limits, fault injection and "nothing from the future", against a small hand-made world."""

from __future__ import annotations

import csv
import io
import json
import time
from datetime import datetime, timedelta, timezone

import pytest
import requests

from sandbox.server import SandboxServer
from sandbox_fixture_world import FixtureWorld
from tower.clock import ManualClock
from tower.config import SandboxConfig

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
AS = {"as-api-key": "sandbox"}
SHOP = {"X-Shopify-Access-Token": "sandbox"}
BEARER = {"Authorization": "Bearer sandbox"}
SHOP_BASE = "/shopify/green-living/admin/api/2025-07"


class FakeWall:
    """Wall clock for the rate limiters, moved by hand so limits are tested without sleeping."""

    def __init__(self, t: float = 1_800_000_000.0):
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def wall():
    return FakeWall()


@pytest.fixture
def clock():
    return ManualClock(T0)


@pytest.fixture
def world():
    return FixtureWorld(T0)


@pytest.fixture
def server(clock, world, wall):
    srv = SandboxServer(SandboxConfig(port=0, seed=7), clock, world, wall=wall)
    yield srv
    srv.stop()


@pytest.fixture
def http():
    with requests.Session() as s:
        yield s


def get(http, server, path, wall=None, **kw):
    """GET like a well-behaved client: on 429 wait as told (here: move the fake wall) and retry."""
    kw.setdefault("timeout", 10)
    for _ in range(20):
        r = http.get(server.url + path if path.startswith("/") else path, **kw)
        if r.status_code != 429 or wall is None:
            return r
        wall.t += 1.0
    return r


def ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# ── credentials ───────────────────────────────────────────────────────────────────────────────
def test_every_family_refuses_a_wrong_credential_in_its_vendors_shape(server, http):
    r = http.get(server.url + "/tracking/2026-07/trackings", headers={"as-api-key": "nope"})
    assert r.status_code == 401
    assert r.json()["meta"] == {"code": 401, "message": "Invalid API key.", "type": "Unauthorized"}

    r = http.get(server.url + "/returns/2025-07/returns")
    assert r.status_code == 401 and r.json()["meta"]["type"] == "Unauthorized"

    r = http.get(server.url + SHOP_BASE + "/orders.json", headers={"X-Shopify-Access-Token": "x"})
    assert r.status_code == 401
    assert r.json()["errors"].startswith("[API] Invalid API key or access token")

    r = http.get(server.url + "/supplier-portal/v1/purchase_orders", headers={"Authorization": "Bearer x"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"

    r = http.get(server.url + "/delighted/v1/survey_responses.json", auth=("wrong", ""))
    assert r.status_code == 401 and "Basic" in r.headers["WWW-Authenticate"]

    r = http.get(server.url + "/planning/skus.csv")
    assert r.status_code == 401

    # the shared CSV link needs no credential
    assert http.get(server.url + "/supplier-files/PRINT3D-LA/progress.csv").status_code == 200


def test_unknown_shop_and_unknown_paths_are_404(server, http):
    r = http.get(server.url + "/shopify/no-such-shop/admin/api/2025-07/orders.json", headers=SHOP)
    assert r.status_code == 404 and r.json() == {"errors": "Not Found"}
    assert http.get(server.url + "/tracking/2026-07/nothing", headers=AS).status_code == 404
    assert http.get(server.url + "/supplier-files/NOPE/progress.csv").status_code == 404


def test_bad_query_values_get_a_4xx_and_the_server_keeps_serving(server, http):
    r = http.get(server.url + "/tracking/2026-07/trackings?updated_at_min=yesterday", headers=AS)
    assert r.status_code == 400 and r.json()["meta"]["type"] == "BadRequest"
    r = http.get(server.url + "/tracking/2026-07/trackings?cursor=garbage", headers=AS)
    assert r.status_code == 400
    r = http.get(server.url + SHOP_BASE + "/orders.json?limit=abc", headers=SHOP)
    assert r.status_code == 400 and "limit" in r.json()["errors"]
    r = http.get(server.url + SHOP_BASE + "/inventory_levels.json", headers=SHOP)
    assert r.status_code == 400  # Shopify needs location_ids or inventory_item_ids
    assert http.get(server.url + "/tracking/2026-07/trackings", headers=AS).status_code == 200


# ── pagination walks every record exactly once ────────────────────────────────────────────────
def test_aftership_cursor_walk_serves_every_tracking_once(server, http, world, wall):
    seen, cursor, pages = [], None, 0
    while True:
        q = "?limit=7" + (f"&cursor={cursor}" if cursor else "")
        body = get(http, server, "/tracking/2026-07/trackings" + q, wall, headers=AS).json()
        pagination = body["data"]["pagination"]
        seen += [t["id"] for t in body["data"]["trackings"]]
        pages += 1
        if not pagination["has_next_page"]:
            assert pagination["next_cursor"] is None
            break
        cursor = pagination["next_cursor"]
    expected = {t.id for t in world.trackings(T0)}
    assert len(seen) == len(set(seen)) == len(expected) == pagination["total"]
    assert set(seen) == expected
    assert pages == -(-len(expected) // 7)


def test_aftership_walk_stays_consistent_while_time_moves(server, http, world, clock, wall):
    """Records changing mid-walk are left for the next incremental pull, never served twice."""
    first = get(http, server, "/tracking/2026-07/trackings?limit=10", wall, headers=AS).json()["data"]
    clock.advance(hours=48)  # every tracking that exists is now visible and some are newer
    seen = [t["id"] for t in first["trackings"]]
    cursor = first["pagination"]["next_cursor"]
    while cursor:
        data = get(
            http, server, f"/tracking/2026-07/trackings?limit=10&cursor={cursor}", wall, headers=AS
        ).json()["data"]
        seen += [t["id"] for t in data["trackings"]]
        cursor = data["pagination"]["next_cursor"]
    assert len(seen) == len(set(seen))
    assert set(seen) == {t.id for t in world.trackings(T0)}


def test_shopify_link_page_info_walk_serves_every_order_once(server, http, world):
    url, seen = server.url + SHOP_BASE + "/orders.json?status=any&limit=10", []
    while url:
        r = http.get(url, headers=SHOP)
        assert r.status_code == 200
        seen += [o["id"] for o in r.json()["orders"]]
        link = r.headers.get("Link")
        url = link.split(";")[0].strip("<>") if link else None
        if url:
            assert "page_info=" in url and "status=" not in url
    expected = {o.order_id for o in world.orders(T0, "green-living")}
    assert len(seen) == len(set(seen)) == len(expected)
    assert set(seen) == expected


def test_shopify_page_info_refuses_other_filters_and_default_status_is_open(server, http, world):
    r = http.get(server.url + SHOP_BASE + "/orders.json?status=any&limit=5", headers=SHOP)
    next_url = r.headers["Link"].split(";")[0].strip("<>")
    bad = http.get(next_url + "&status=any", headers=SHOP)
    assert bad.status_code == 400 and "page_info" in bad.json()["errors"]

    open_orders = http.get(server.url + SHOP_BASE + "/orders.json?limit=250", headers=SHOP).json()["orders"]
    assert open_orders and all(o["closed_at"] is None and o["cancelled_at"] is None for o in open_orders)
    assert len(open_orders) < len(world.orders(T0, "green-living"))


def test_supplier_portal_page_token_walk_serves_every_po_once(server, http, world):
    seen, token = [], None
    while True:
        q = "?page_size=4" + (f"&page_token={token}" if token else "")
        body = http.get(server.url + "/supplier-portal/v1/purchase_orders" + q, headers=BEARER).json()
        rows = body["purchase_orders"]
        seen += [p["po_number"] for p in rows]
        keys = [(p["updated_at"], p["po_number"]) for p in rows]
        assert keys == sorted(keys)
        token = body["next_page_token"]
        if token is None:
            break
    expected = {p.po_number for p in world.purchase_orders(T0)}
    assert len(seen) == len(set(seen)) == len(expected) and set(seen) == expected


def test_delighted_pages_serve_every_response_once(server, http, world):
    seen, page = [], 1
    while True:
        r = http.get(
            server.url + f"/delighted/v1/survey_responses.json?per_page=6&page={page}", auth=("sandbox", "")
        )
        rows = r.json()
        assert isinstance(rows, list)
        if not rows:
            break
        seen += [row["id"] for row in rows]
        page += 1
    expected = {str(n.id) for n in world.nps_responses(T0)}
    assert len(seen) == len(set(seen)) == len(expected) and set(seen) == expected


def test_returns_cursor_walk_serves_every_return_once(server, http, world, wall):
    seen, cursor = [], None
    while True:
        q = "?limit=3" + (f"&cursor={cursor}" if cursor else "")
        data = get(http, server, "/returns/2025-07/returns" + q, wall, headers=AS).json()["data"]
        seen += [r["rma_number"] for r in data["returns"]]
        cursor = data["pagination"]["next_cursor"]
        if not data["pagination"]["has_next_page"]:
            break
    expected = {r.rma_number for r in world.returns(T0)}
    assert len(seen) == len(set(seen)) == len(expected) and set(seen) == expected


# ── incremental filters ───────────────────────────────────────────────────────────────────────
def test_updated_at_min_returns_exactly_the_records_changed_since(server, http, world, wall):
    since = T0 - timedelta(hours=20)
    iso = since.isoformat().replace("+00:00", "Z")

    rows = get(
        http, server, f"/tracking/2026-07/trackings?limit=200&updated_at_min={iso}", wall, headers=AS
    ).json()["data"]["trackings"]
    assert {t["id"] for t in rows} == {t.id for t in world.trackings(T0) if t.updated_at >= since}
    assert 0 < len(rows) < len(world.trackings(T0))

    orders = http.get(
        server.url + SHOP_BASE + f"/orders.json?status=any&limit=250&updated_at_min={iso}", headers=SHOP
    ).json()["orders"]
    assert {o["id"] for o in orders} == {
        o.order_id for o in world.orders(T0, "green-living") if o.updated_at >= since
    }
    assert all(ts(o["updated_at"]) >= since for o in orders)

    levels = http.get(
        server.url + SHOP_BASE + f"/inventory_levels.json?location_ids=501,502&updated_at_min={iso}",
        headers=SHOP,
    ).json()["inventory_levels"]
    assert {(lv["location_id"], lv["inventory_item_id"]) for lv in levels} == {
        (lv.location_id, lv.inventory_item_id) for lv in world.inventory_levels(T0) if lv.updated_at >= since
    }

    pos = http.get(
        server.url + f"/supplier-portal/v1/purchase_orders?page_size=500&updated_since={iso}", headers=BEARER
    ).json()["purchase_orders"]
    assert {p["po_number"] for p in pos} == {
        p.po_number for p in world.purchase_orders(T0) if p.updated_at >= since
    }

    unix = int(since.timestamp())
    nps = http.get(
        server.url + f"/delighted/v1/survey_responses.json?per_page=100&updated_since={unix}",
        auth=("sandbox", ""),
    ).json()
    assert {r["id"] for r in nps} == {str(n.id) for n in world.nps_responses(T0) if n.updated_at >= since}


class LeakyWorld(FixtureWorld):
    """A world that (wrongly) also returns records from the simulated future."""

    def _seen(self, records, now, created="created_at"):
        return list(records)


def test_nothing_served_is_newer_than_the_clock(clock, wall, http):
    now = T0 - timedelta(hours=12)
    clock.set(now)
    leaky = LeakyWorld(T0)
    srv = SandboxServer(SandboxConfig(port=0), clock, leaky, wall=wall)
    try:
        stamps = []
        data = get(http, srv, "/tracking/2026-07/trackings?limit=200", wall, headers=AS).json()["data"]
        stamps += [t["updated_at"] for t in data["trackings"]]
        for resource, key in (
            ("orders.json?status=any&limit=250", "orders"),
            ("products.json", "products"),
            ("inventory_levels.json?location_ids=501,502&limit=250", "inventory_levels"),
        ):
            stamps += [
                row["updated_at"]
                for row in http.get(srv.url + SHOP_BASE + "/" + resource, headers=SHOP).json()[key]
            ]
        stamps += [
            p["updated_at"]
            for p in http.get(
                srv.url + "/supplier-portal/v1/purchase_orders?page_size=500", headers=BEARER
            ).json()["purchase_orders"]
        ]
        stamps += [
            r["updated_at"]
            for r in get(http, srv, "/returns/2025-07/returns?limit=100", wall, headers=AS).json()["data"][
                "returns"
            ]
        ]
        nps = http.get(
            srv.url + "/delighted/v1/survey_responses.json?per_page=100", auth=("sandbox", "")
        ).json()
        assert stamps and nps
        assert max(ts(s) for s in stamps) <= now
        assert max(r["updated_at"] for r in nps) <= now.timestamp()
        # and the leaky world really had newer records to hide
        assert any(t.updated_at > now for t in leaky.trackings(now))
    finally:
        srv.stop()


# ── rate limits ───────────────────────────────────────────────────────────────────────────────
def test_aftership_allows_six_requests_per_second_then_429_with_headers(server, http, wall):
    answers = [http.get(server.url + "/tracking/2026-07/trackings?limit=1", headers=AS) for _ in range(7)]
    assert [r.status_code for r in answers] == [200] * 6 + [429]
    assert [r.headers["X-RateLimit-Remaining"] for r in answers[:6]] == ["5", "4", "3", "2", "1", "0"]
    refused = answers[-1]
    assert refused.json()["meta"]["type"] == "TooManyRequests"
    assert refused.headers["X-RateLimit-Limit"] == "6"
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert int(refused.headers["X-RateLimit-Reset"]) == int(wall.t) + 1
    wall.t += 1.0
    assert http.get(server.url + "/tracking/2026-07/trackings?limit=1", headers=AS).status_code == 200


def test_shopify_leaky_bucket_40_drains_2_per_second(server, http, wall):
    url = server.url + SHOP_BASE + "/locations.json"
    answers = [http.get(url, headers=SHOP) for _ in range(41)]
    assert all(r.status_code == 200 for r in answers[:40])
    assert answers[0].headers["X-Shopify-Shop-Api-Call-Limit"] == "1/40"
    assert answers[39].headers["X-Shopify-Shop-Api-Call-Limit"] == "40/40"
    refused = answers[40]
    assert refused.status_code == 429 and float(refused.headers["Retry-After"]) > 0
    assert "Exceeded 2 calls per second" in refused.json()["errors"]
    wall.t += 1.0  # two calls leak out
    assert [http.get(url, headers=SHOP).status_code for _ in range(3)] == [200, 200, 429]
    # another shop has its own bucket
    other = server.url + "/shopify/nordic-nest/admin/api/2025-07/locations.json"
    assert http.get(other, headers=SHOP).status_code == 200


# ── faults ────────────────────────────────────────────────────────────────────────────────────
def add_fault(http, server, **fault):
    r = http.post(server.url + "/_sandbox/faults", json=fault)
    assert r.status_code == 201, r.text
    return r.json()


TRACKINGS = "/tracking/2026-07/trackings?limit=12"


def test_fault_500_and_429_hit_count_requests_then_stop(server, http):
    add_fault(http, server, path_prefix="/tracking", kind="500", count=2)
    codes = [http.get(server.url + TRACKINGS, headers=AS).status_code for _ in range(3)]
    assert codes == [500, 500, 200]

    add_fault(http, server, path_prefix="/shopify", kind="429", count=1)
    r = http.get(server.url + SHOP_BASE + "/locations.json", headers=SHOP)
    assert r.status_code == 429 and "Retry-After" in r.headers
    assert http.get(server.url + SHOP_BASE + "/locations.json", headers=SHOP).status_code == 200


def test_fault_on_another_prefix_is_not_consumed(server, http):
    add_fault(http, server, path_prefix="/supplier-portal", kind="500", count=1)
    assert http.get(server.url + TRACKINGS, headers=AS).status_code == 200
    assert http.get(server.url + "/_sandbox/faults").json()["faults"][0]["count"] == 1
    assert http.delete(server.url + "/_sandbox/faults").status_code == 200
    assert http.get(server.url + "/_sandbox/faults").json()["faults"] == []
    assert http.get(server.url + "/supplier-portal/v1/suppliers", headers=BEARER).status_code == 200


def test_fault_malformed_is_a_200_with_truncated_json(server, http):
    add_fault(http, server, path_prefix="/tracking", kind="malformed", count=1)
    r = http.get(server.url + TRACKINGS, headers=AS)
    assert r.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(r.text)
    assert http.get(server.url + TRACKINGS, headers=AS).json()["data"]["trackings"]


def test_fault_timeout_delays_the_answer_once(server, http):
    add_fault(http, server, path_prefix="/tracking", kind="timeout", count=1, delay_s=2)
    with pytest.raises(requests.Timeout):
        http.get(server.url + TRACKINGS, headers=AS, timeout=0.3)
    assert http.get(server.url + TRACKINGS, headers=AS, timeout=1.5).status_code == 200


def test_fault_duplicate_repeats_records_and_checkpoints_within_the_page(server, http):
    clean = http.get(server.url + TRACKINGS, headers=AS).json()["data"]["trackings"]
    add_fault(http, server, path_prefix="/tracking", kind="duplicate", count=1)
    dup = http.get(server.url + TRACKINGS, headers=AS).json()["data"]["trackings"]
    ids = [t["id"] for t in dup]
    assert len(ids) > len(set(ids)) and set(ids) == {t["id"] for t in clean}
    multi = [t for t in dup if len({json.dumps(c, sort_keys=True) for c in t["checkpoints"]}) > 1]
    assert any(
        len(t["checkpoints"]) > len({json.dumps(c, sort_keys=True) for c in t["checkpoints"]}) for t in multi
    )
    assert http.get(server.url + TRACKINGS, headers=AS).json()["data"]["trackings"] == clean


def test_fault_out_of_order_shuffles_records_and_checkpoints(server, http):
    clean = http.get(server.url + TRACKINGS, headers=AS).json()["data"]["trackings"]
    add_fault(http, server, path_prefix="/tracking", kind="out_of_order", count=1)
    shuffled = http.get(server.url + TRACKINGS, headers=AS).json()["data"]["trackings"]
    assert [t["id"] for t in shuffled] != [t["id"] for t in clean]
    assert sorted(t["id"] for t in shuffled) == sorted(t["id"] for t in clean)
    by_id = {t["id"]: t for t in clean}
    assert any(
        t["checkpoints"] != by_id[t["id"]]["checkpoints"] for t in shuffled if len(t["checkpoints"]) > 1
    )
    assert http.get(server.url + TRACKINGS, headers=AS).json()["data"]["trackings"] == clean


def test_fault_duplicate_in_a_csv_repeats_rows(server, http):
    path = "/supplier-files/VN-BAMBOO-01/progress.csv"
    clean = http.get(server.url + path).text
    add_fault(http, server, path_prefix="/supplier-files", kind="duplicate", count=1)
    rows = list(csv.reader(io.StringIO(http.get(server.url + path).text.split("\n", 1)[1])))
    clean_rows = list(csv.reader(io.StringIO(clean.split("\n", 1)[1])))
    assert rows[0] == clean_rows[0] and len(rows) > len(clean_rows)
    assert {tuple(r) for r in rows} == {tuple(r) for r in clean_rows}


def test_bad_fault_requests_are_refused(server, http):
    assert http.post(server.url + "/_sandbox/faults", json={"kind": "explode"}).status_code == 400
    assert http.post(server.url + "/_sandbox/faults", data=b"{not json").status_code == 400
    assert http.post(server.url + "/_sandbox/faults", json={"kind": "500", "count": 0}).status_code == 400


# ── control endpoints ─────────────────────────────────────────────────────────────────────────
def test_clock_health_and_scenarios(server, http, clock, world):
    assert http.get(server.url + "/_sandbox/health").json() == {"ok": True}
    clock.advance(minutes=90)
    body = http.get(server.url + "/_sandbox/clock").json()
    assert ts(body["now"]) == T0 + timedelta(minutes=90)
    r = http.post(
        server.url + "/_sandbox/scenarios",
        json={"scenarios": [{"name": "port_congestion", "ends_at": "2026-11-22T00:00:00Z"}]},
    )
    assert r.status_code == 200
    (window,) = world.scenarios
    assert window.name == "port_congestion" and window.starts_at == clock.now()
    assert window.ends_at == datetime(2026, 11, 22, tzinfo=timezone.utc)
    bad = http.post(
        server.url + "/_sandbox/scenarios", json={"scenarios": [{"name": "x", "starts_at": "soon"}]}
    )
    assert bad.status_code == 400


# ── formats the connectors rely on ────────────────────────────────────────────────────────────
def test_checkpoints_carry_local_time_with_or_without_offset_and_optional_coordinates(server, http, wall):
    rows = get(http, server, "/tracking/2026-07/trackings?limit=200", wall, headers=AS).json()["data"][
        "trackings"
    ]
    cps = [c for t in rows for c in t["checkpoints"]]
    naive = [c for c in cps if datetime.fromisoformat(c["checkpoint_time"]).tzinfo is None]
    aware = [c for c in cps if datetime.fromisoformat(c["checkpoint_time"]).tzinfo is not None]
    assert naive and aware
    assert all(c["checkpoint_time"].endswith("+08:00") for c in aware)
    assert any("coordinate" not in c for c in cps)
    assert all(isinstance(c["coordinate"]["latitude"], float) for c in cps if "coordinate" in c)
    outbound = [t for t in rows if t["custom_fields"]["direction"] == "outbound"]
    inbound = [t for t in rows if t["custom_fields"]["direction"] == "inbound"]
    assert all(t["custom_fields"]["po_number"].startswith("PO-") for t in inbound)
    assert all(
        t["order_id"] and t["custom_fields"]["mode"] in ("sea", "air", "express", "truck") for t in outbound
    )


def test_supplier_csv_names_its_timezone_and_uses_local_wall_time(server, http, world):
    text = http.get(server.url + "/supplier-files/VN-BAMBOO-01/progress.csv").text
    first, rest = text.split("\n", 1)
    assert first == "# timezone: Asia/Ho_Chi_Minh"
    rows = list(csv.DictReader(io.StringIO(rest)))
    po = next(p for p in world.purchase_orders(T0) if p.po_number == rows[0]["po_number"])
    assert rows[0]["updated_at"] == (po.updated_at + timedelta(hours=7)).strftime("%Y-%m-%d %H:%M")


def test_planning_forecasts_honour_from_and_to(server, http):
    r = http.get(
        server.url + "/planning/forecasts.csv?from=2026-11-19T00:00:00Z&to=2026-11-19T06:00:00Z",
        headers=BEARER,
    )
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == 2 * 6
    assert all("2026-11-19T00:00:00Z" <= row["period_start"] < "2026-11-19T06:00:00Z" for row in rows)


def test_a_page_of_250_is_served_fast(clock, wall, http):
    big = FixtureWorld(T0, trackings=1500, orders_per_shop=1500)
    srv = SandboxServer(SandboxConfig(port=0), clock, big, wall=wall)
    try:
        timings = {}
        for name, path, headers in (
            ("orders", SHOP_BASE + "/orders.json?status=any&limit=250", SHOP),
            ("trackings", "/tracking/2026-07/trackings?limit=200", AS),
        ):
            best = None
            for _ in range(3):
                wall.t += 1
                started = time.perf_counter()
                r = http.get(srv.url + path, headers=headers)
                elapsed = time.perf_counter() - started
                assert r.status_code == 200
                best = elapsed if best is None else min(best, elapsed)
            timings[name] = best
        assert max(timings.values()) < 0.25, timings  # typically ~30-60 ms on a shared 2-core box
    finally:
        srv.stop()


# ── against the real simulation ───────────────────────────────────────────────────────────────
def test_real_world_walks_are_complete_and_never_from_the_future(http, wall):
    from sandbox.world import World, scenario_windows

    clock = ManualClock(T0)
    world = World(seed=7, clock=clock, history_days=1, scenarios=scenario_windows(["member_day"], T0))
    srv = SandboxServer(SandboxConfig(port=0), clock, world, wall=wall)
    try:
        clock.advance(hours=3)  # the world moves on after it was built
        now = clock.now()
        shop = world.merchants[0].shop
        url, orders = f"{srv.url}/shopify/{shop}/admin/api/2025-07/orders.json?status=any&limit=250", []
        while url:
            r = http.get(url, headers=SHOP)
            orders += r.json()["orders"]
            url = r.headers["Link"].split(";")[0].strip("<>") if "Link" in r.headers else None
        assert sorted(o["id"] for o in orders) == sorted(o.order_id for o in world.orders(now, shop))
        assert all(ts(o["updated_at"]) <= now for o in orders)

        seen, cursor = [], None
        while True:
            q = "?limit=200" + (f"&cursor={cursor}" if cursor else "")
            data = get(http, srv, "/tracking/2026-07/trackings" + q, wall, headers=AS).json()["data"]
            seen += data["trackings"]
            cursor = data["pagination"]["next_cursor"]
            if cursor is None:
                break
        assert sorted(t["id"] for t in seen) == sorted(t.id for t in world.trackings(now))
        assert all(ts(t["updated_at"]) <= now for t in seen)
        assert all(ts(c["created_at"]) <= now for t in seen for c in t["checkpoints"])
    finally:
        srv.stop()


@pytest.mark.parametrize("started", ["in the foreground", "as a shell's background job"])
def test_python_m_sandbox_runs_standalone_and_stops_on_ctrl_c(started):
    """Ctrl-C (SIGINT) stops it cleanly, also when a script started it with `… &`: a shell starts
    background jobs with SIGINT ignored, which Python's own Ctrl-C handling then never sees (the
    suite, itself run in the background, once waited 20 s for a sandbox that never stopped)."""
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    proc = subprocess.Popen(
        [
            sys.executable,
            "-X",
            "faulthandler",
            "-m",
            "sandbox",
            "--port",
            "0",
            "--seed",
            "7",
            "--speed",
            "60",
            "--history-days",
            "0.5",
            "--scenario",
            "member_day",
        ],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(root)},
        preexec_fn=(lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)) if "background" in started else None,
    )
    try:
        line = proc.stdout.readline()
        assert "sandbox serving at http://127.0.0.1:" in line, line + proc.stderr.read()
        url = line.split("serving at ")[1].split()[0]
        assert requests.get(url + "/_sandbox/health", timeout=10).json() == {"ok": True}
        clock = requests.get(url + "/_sandbox/clock", timeout=10).json()
        assert clock["speed"] == 60.0
        r = requests.get(url + "/tracking/2026-07/trackings?limit=1", headers=AS, timeout=10)
        assert r.status_code == 200 and r.json()["data"]["pagination"]["total"] > 0
        proc.send_signal(signal.SIGINT)
        try:
            out, _ = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:  # seen once under a loaded suite: say where it hung
            proc.send_signal(signal.SIGABRT)  # faulthandler prints every thread's stack
            _, err = proc.communicate(timeout=10)
            pytest.fail(f"the sandbox did not stop within 20 s of Ctrl-C; its threads:\n{err[-6000:]}")
        assert proc.returncode == 0 and "sandbox stopped" in out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
