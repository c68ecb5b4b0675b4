"""Storefront actions of plan B-03 end to end (issue 13): Tower's action clients write to the sandbox's
Shopify GraphQL endpoint, team channel and buyer messaging over real HTTP on loopback, and the world
reacts: a longer promise moves new orders' promised dates, one discount per code however often the
action is retried, deactivation expires it, Shopify's userErrors come back as a refusal in words,
faults come back as "unavailable", and the official ShopifyAPI SDK can run metafieldsSet."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import requests
import shopify

from connectors.actions.base import ActionRefused, ActionUnavailable
from connectors.actions.registry import client_for
from connectors.testing import write_config
from sandbox.server import start as start_sandbox
from tower.clock import ManualClock
from tower.config import SANDBOX_TOKEN, SandboxConfig

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
SHOP, SKU = "green-living", "GL-BOWL-01"


@pytest.fixture(scope="module")
def sandbox():
    server = start_sandbox(SandboxConfig(port=0, speed=1, seed=7, history_days=1.0), ManualClock(T0))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def cfg(sandbox, tmp_path_factory):
    shopify_source = {"kind": "shopify_graphql", "base_url": "{sandbox}/shopify/{shop}/admin/api/{version}",
                      "api_version": "2026-10", "shops": [SHOP], "inventory_shop": SHOP}
    return write_config(tmp_path_factory.mktemp("actions"), sandbox.url, sources={"shopify": shopify_source},
                        http={"connect_timeout_s": 2, "read_timeout_s": 2})


@pytest.fixture(autouse=True)
def _no_faults(sandbox):
    yield
    requests.delete(f"{sandbox.url}/_sandbox/faults", timeout=5)


def _buyers(sandbox, n: int) -> list[str]:
    emails = []
    for o in sandbox.world.orders(sandbox.clock.now(), SHOP):
        if o.email not in emails:
            emails.append(o.email)
    return emails[:n]


def test_a_longer_promise_moves_new_orders_promised_dates_and_is_restored(sandbox, cfg):
    client = client_for("set_promised_ship_time", cfg)
    params = {"shop": SHOP, "sku": SKU, "min_days": 5, "max_days": 7, "restore_to": "2-3 days"}
    preview = client.preview(params, "k-promise")
    assert preview["body"]["variables"]["metafields"][0]["value"] == "5-7 days"
    assert SANDBOX_TOKEN not in json.dumps(preview)
    sent = client.send(params, "k-promise")
    assert sent.external_id.startswith("gid://shopify/Metafield/") and sent.detail["changed"]
    again = client.send(params, "k-promise")                   # a retry: same metafield, nothing changes
    assert again.external_id == sent.external_id and not again.detail["changed"]
    assert again.detail["previous"] == "5-7 days"

    set_at = sandbox.clock.now()
    sandbox.clock.advance(hours=18)
    new = [o for o in sandbox.world.orders(sandbox.clock.now(), SHOP) if o.created_at > set_at]
    with_bowl = [o for o in new if any(line.sku == SKU for line in o.lines)]
    without = [o for o in new if all(line.sku != SKU for line in o.lines)]
    assert with_bowl and without
    assert all(o.promised_delivery_at >= o.created_at + timedelta(days=7) for o in with_bowl)
    assert all(o.promised_delivery_at < o.created_at + timedelta(days=7) for o in without)

    client.compensate(params, sent.external_id, "k-promise")
    assert sandbox.world.metafield(SHOP, SKU, "custom", "promised_ship_time").value == "2-3 days"


def test_one_discount_per_code_however_often_the_action_is_sent_and_deactivation_expires_it(sandbox, cfg):
    client = client_for("create_discount", cfg)
    buyers = _buyers(sandbox, 3)
    params = {"shop": SHOP, "code": "SORRY10-B03", "percent": 10, "customer_emails": buyers,
              "message_en": "Sorry for the wait: {code} takes 10 % off your next order.",
              "message_zh": "抱歉让您久等：使用 {code} 下次购物立减 10%。"}
    first = client.send(params, "k-coupon")
    second = client.send(params, "k-coupon")                   # a retry after a lost answer
    assert first.external_id == second.external_id
    discounts = [d for d in sandbox.world._discounts.values() if d.code == "SORRY10-B03"]
    assert len(discounts) == 1 and discounts[0].emails == frozenset(b.lower() for b in buyers)
    assert discounts[0].percent == pytest.approx(0.10)
    # each buyer got the message once, in both languages
    told = [m for m in sandbox.world.buyer_messages(sandbox.clock.now()) if m.reference == "SORRY10-B03"]
    assert sorted(m.to for m in told) == sorted(b.lower() for b in buyers)
    assert "SORRY10-B03" in told[0].body and "抱歉" in told[0].body

    undone = client.compensate(params, first.external_id, "k-coupon")
    assert undone.detail["status"] == "EXPIRED"
    assert discounts[0].status(sandbox.clock.now()) == "EXPIRED"


def test_shopify_user_errors_are_a_refusal_in_words(sandbox, cfg):
    client = client_for("create_discount", cfg)
    params = {"shop": SHOP, "code": "BAD-DATES", "percent": 10, "customer_emails": _buyers(sandbox, 1),
              "ends_at": "2020-01-01T00:00:00Z"}
    with pytest.raises(ActionRefused, match="Ends at needs to be after starts_at"):
        client.send(params, "k-bad")
    with pytest.raises(ActionRefused, match="no customer nobody@nowhere.example"):
        client.send({**params, "code": "X", "ends_at": None, "customer_emails": ["nobody@nowhere.example"]}, "k-x")
    with pytest.raises(ActionRefused, match="no product with SKU 'NOPE'"):
        client_for("cap_promotion", cfg).send({"shop": SHOP, "sku": "NOPE", "max_units_per_order": 2}, "k-c")
    with pytest.raises(ActionRefused, match="max_units_per_order must be between 0 and 9999"):
        client_for("cap_promotion", cfg).send({"shop": SHOP, "sku": SKU, "max_units_per_order": -3}, "k-c")
    with pytest.raises(ActionRefused, match="customer_emails is empty"):
        client.send({**params, "code": "EVERYONE", "ends_at": None, "customer_emails": []}, "k-e")
    assert sandbox.world.discount_by_code(SHOP, "BAD-DATES") is None
    assert sandbox.world.discount_by_code(SHOP, "EVERYONE") is None


def test_promotion_cap_is_set_and_removed(sandbox, cfg):
    client = client_for("cap_promotion", cfg)
    params = {"shop": SHOP, "sku": SKU, "max_units_per_order": 2}
    sent = client.send(params, "k-cap")
    assert sandbox.world.metafield(SHOP, SKU, "custom", "promotion_cap").value == "2"
    client.compensate(params, sent.external_id, "k-cap")
    assert sandbox.world.metafield(SHOP, SKU, "custom", "promotion_cap") is None


def test_server_errors_and_rate_limits_are_unavailable_not_refused(sandbox, cfg):
    client = client_for("cap_promotion", cfg)
    params = {"shop": SHOP, "sku": SKU, "max_units_per_order": 3}
    for kind, count in (("500", 1), ("429", 10)):       # a throttled answer is waited out a few times
        requests.post(f"{sandbox.url}/_sandbox/faults", json={"kind": kind, "path_prefix": "/shopify/",
                                                                "count": count}, timeout=5)
        with pytest.raises(ActionUnavailable):
            client.send(params, "k-fault")
    requests.post(f"{sandbox.url}/_sandbox/faults", json={"kind": "500", "path_prefix": "/chat/"}, timeout=5)
    with pytest.raises(ActionUnavailable):
        client_for("notify", cfg).send({"channel": "war-room", "text": "x"}, "k-n")


def test_notify_lands_in_the_team_channel(sandbox, cfg):
    text = "B-03 running: GL-BOWL-01 US sells out in ~4 h; QR PO to CN-ANJI-02, promise 5-7 days, coupon."
    sent = client_for("notify", cfg).send({"channel": "war-room", "text": text}, "k-notify")
    assert sent.acknowledged
    got = requests.get(f"{sandbox.url}/chat/hooks/war-room/messages", timeout=5).json()["messages"]
    assert [m["text"] for m in got][-1] == text
    with pytest.raises(ActionRefused, match="missing parameter text"):
        client_for("notify", cfg).send({"channel": "war-room", "text": " "}, "k-empty")


def test_buyer_messages_are_sent_once_per_key(sandbox):
    body = {"to": "a.b@example.com", "locale": "zh", "subject": "延迟", "body": "您的订单会晚到两天。", "reference": "#1001"}
    headers = {"Authorization": f"Bearer {SANDBOX_TOKEN}", "Idempotency-Key": "m-1"}
    first = requests.post(f"{sandbox.url}/messaging/v1/messages", json=body, headers=headers, timeout=5)
    again = requests.post(f"{sandbox.url}/messaging/v1/messages", json=body, headers=headers, timeout=5)
    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["message_id"] == again.json()["message_id"]
    other = requests.post(f"{sandbox.url}/messaging/v1/messages", json={**body, "body": "x"}, headers=headers,
                          timeout=5)
    assert other.status_code == 422
    assert len([m for m in sandbox.world.buyer_messages(sandbox.clock.now()) if m.to == "a.b@example.com"]) == 1


def test_official_shopify_sdk_runs_metafields_set_against_the_sandbox(sandbox):
    product = next(s.product_id for s in sandbox.world.skus if s.sku == "GL-PLATE-01")
    session = shopify.Session(f"{SHOP}.myshopify.com", "2026-10", SANDBOX_TOKEN)
    shopify.ShopifyResource.activate_session(session)
    shopify.ShopifyResource.site = f"{sandbox.url}/shopify/{SHOP}/admin/api/{session.api_version.name}"
    try:
        answer = json.loads(shopify.GraphQL().execute(
            """mutation Set($metafields: [MetafieldsSetInput!]!) {
                 metafieldsSet(metafields: $metafields) {
                   metafields { id key namespace value type } userErrors { field message code } } }""",
            variables={"metafields": [{"ownerId": f"gid://shopify/Product/{product}", "namespace": "custom",
                                       "key": "promised_ship_time", "type": "single_line_text_field",
                                       "value": "4-6 days"}]}))
    finally:
        shopify.ShopifyResource.clear_session()
    assert "errors" not in answer, answer
    assert answer["data"]["metafieldsSet"]["userErrors"] == []
    assert answer["data"]["metafieldsSet"]["metafields"][0]["value"] == "4-6 days"
    assert answer["extensions"]["cost"]["requestedQueryCost"] == 10
    assert sandbox.world.metafield(SHOP, "GL-PLATE-01", "custom", "promised_ship_time").value == "4-6 days"
