"""Storefront writes of plan B-03 through Shopify's GraphQL Admin API (issue 13), with the shop
client of the sources (connectors/shopify_graphql_client.py: cost-based throttling) and the
[sources.shopify] endpoint and credentials; `params["shop"]` picks the shop.

- `set_promised_ship_time` {shop, sku, min_days, max_days, restore_to?}: the product metafield
  `custom.promised_ship_time` ("5-7 days") via `metafieldsSet`; new orders then carry the longer
  promise. Setting the value it already has changes nothing (a retry is harmless). Compensation
  sets `restore_to` (default: the storefront's usual "2-3 days").
- `create_discount` {shop, code, percent, customer_emails, ends_at, message_en, message_zh,
  all_customers?}: a percentage code for those buyers (an empty list is refused unless all_customers) via `discountCodeBasicCreate`; a retry whose code is already
  there (user error TAKEN) finds it with `codeDiscountNodeByCode`, so one key never makes two
  discounts. Each buyer then gets the message (English; the Chinese text goes along for zh buyers)
  through the messaging API, deduplicated per key and buyer. Compensation: `discountCodeDeactivate`.
- `cap_promotion` {shop, sku, max_units_per_order}: `custom.promotion_cap`; compensation removes it.

`preview` reads what it needs to show the exact request (the product's id: a query, never a write).
Shopify's `userErrors` → ActionRefused with Shopify's message; 429, 5xx, timeouts, throttling →
ActionUnavailable (the engine retries); one attempt per call."""
from __future__ import annotations

import dataclasses
import threading
from abc import ABC, abstractmethod

from gql import gql

from connectors.actions.base import ActionRefused, ActionUnavailable, Sent
from connectors.actions.notify import BuyerMessages
from connectors.http import HttpError, HttpPolicy
from connectors.shopify_graphql_client import GraphQLFailed, ShopifyGraphQL
from tower.config import Config

API_VERSION = "2026-10"
USUAL_PROMISE = "2-3 days"
PROMISE = ("custom", "promised_ship_time", "single_line_text_field")
CAP = ("custom", "promotion_cap", "number_integer")

VARIANTS = """query ProductsBySku($after: String) {
  productVariants(first: 100, after: $after) {
    nodes { sku product { id
      promise: metafield(namespace: "custom", key: "promised_ship_time") { value }
      cap: metafield(namespace: "custom", key: "promotion_cap") { value } } }
    pageInfo { hasNextPage endCursor }
  }
}"""
METAFIELDS_SET = """mutation MetafieldsSet($metafields: [MetafieldsSetInput!]!) {
  metafieldsSet(metafields: $metafields) {
    metafields { id namespace key value updatedAt }
    userErrors { field message code }
  }
}"""
CUSTOMERS = """query CustomersByEmail($query: String!) {
  customers(first: 250, query: $query) { nodes { id email } }
}"""
ORDER_BUYER = """query OrderBuyer($id: ID!) { order(id: $id) { id email } }"""
DISCOUNT_FIELDS = "id codeDiscount { ... on DiscountCodeBasic { title status startsAt endsAt } }"
DISCOUNT_CREATE = f"""mutation DiscountCodeBasicCreate($basicCodeDiscount: DiscountCodeBasicInput!) {{
  discountCodeBasicCreate(basicCodeDiscount: $basicCodeDiscount) {{
    codeDiscountNode {{ {DISCOUNT_FIELDS} }}
    userErrors {{ field message code }}
  }}
}}"""
DISCOUNT_BY_CODE = f"""query DiscountByCode($code: String!) {{
  codeDiscountNodeByCode(code: $code) {{ {DISCOUNT_FIELDS} }}
}}"""
DISCOUNT_DEACTIVATE = f"""mutation DiscountCodeDeactivate($id: ID!) {{
  discountCodeDeactivate(id: $id) {{
    codeDiscountNode {{ {DISCOUNT_FIELDS} }}
    userErrors {{ field message code }}
  }}
}}"""


def _required(params: dict, name: str):
    value = params.get(name)
    if value is None or value == "" or value == []:
        raise ActionRefused(f"missing parameter {name}")
    return value


def _whole(params: dict, name: str, lo: int, hi: int) -> int:
    value = _required(params, name)
    try:
        number = int(value)
        if number != float(value):
            raise ValueError
    except (TypeError, ValueError):
        raise ActionRefused(f"{name} must be a whole number, not {value!r}") from None
    if not lo <= number <= hi:
        raise ActionRefused(f"{name} must be between {lo} and {hi}, not {number}")
    return number


def _user_errors(what: str, errors: list) -> ActionRefused:
    words = "; ".join(f"{'.'.join(e.get('field') or [])}: {e.get('message')}".lstrip(": ") for e in errors)
    return ActionRefused(f"Shopify refused {what}: {words}", response={"userErrors": errors})


class _Shop:
    """The GraphQL endpoint of [sources.shopify] for one shop, one attempt per call."""

    def __init__(self, cfg: Config, source: str = "shopify"):
        src = cfg.sources.get(source)
        if src is None:
            raise ActionRefused(f"no [sources.{source}] in the configuration: the storefront is not connected")
        self.options = src.options
        # one attempt per call (the engine retries); a throttled answer is waited out briefly (a
        # few short waits for the bucket), then it is "unavailable" like any 429
        self.policy = dataclasses.replace(HttpPolicy.from_options(src.options), retries=0, backoff_s=0.05,
                                          max_backoff_s=0.5)
        self.token = cfg.secret(source, "access_token") or cfg.secret(source, "api_key")

    def endpoint(self, shop: str) -> str:
        version = str(self.options.get("api_version", API_VERSION))
        base = str(self.options["base_url"]).replace("{shop}", shop).replace("{version}", version).rstrip("/")
        return base if base.endswith("graphql.json") else base + "/graphql.json"

    def run(self, shop: str, name: str, document: str, variables: dict) -> dict:
        client = ShopifyGraphQL(self.endpoint(shop), self.token, self.policy, threading.Event())
        try:
            return client.execute(name, gql(document), variables)
        except HttpError as e:
            if e.status is None or e.status == 429 or e.status >= 500:
                raise ActionUnavailable(str(e), status=e.status) from None
            raise ActionRefused(str(e), status=e.status) from None
        except GraphQLFailed as e:
            if "throttled" in str(e).lower():
                raise ActionUnavailable(str(e)) from None
            raise ActionRefused(str(e)) from None
        finally:
            client.close()

    def product(self, shop: str, sku: str) -> dict:
        """{"id", "promise", "cap"} of the product holding `sku`; ActionRefused if the shop has none."""
        after = None
        while True:
            page = self.run(shop, "ProductsBySku", VARIANTS, {"after": after})["productVariants"]
            for v in page["nodes"]:
                if v["sku"] == sku:
                    p = v["product"]
                    return {"id": p["id"], "promise": (p.get("promise") or {}).get("value"),
                            "cap": (p.get("cap") or {}).get("value")}
            if not page["pageInfo"]["hasNextPage"]:
                raise ActionRefused(f"shop {shop} has no product with SKU {sku!r}")
            after = page["pageInfo"]["endCursor"]

    def request(self, shop: str, document: str, variables: dict) -> dict:
        return {"method": "POST", "url": self.endpoint(shop), "body": {"query": document, "variables": variables}}


class _MetafieldClient(ABC):
    """A product metafield write (promise or cap): a kind says its field and the value to write."""
    field: tuple[str, str, str]

    def __init__(self, cfg: Config):
        self.shop = _Shop(cfg)

    @abstractmethod
    def value(self, params: dict) -> str:
        """The metafield's new value from the action's parameters (ActionRefused when impossible)."""

    def send(self, params: dict, key: str) -> Sent:
        return self._set(params, self.value(params))

    def _variables(self, owner: str, value: str) -> dict:
        namespace, key, type_ = self.field
        return {"metafields": [{"ownerId": owner, "namespace": namespace, "key": key, "type": type_,
                                "value": value}]}

    def preview(self, params: dict, key: str) -> dict:
        shop, sku, value = str(_required(params, "shop")), str(_required(params, "sku")), self.value(params)
        try:
            owner = self.shop.product(shop, sku)["id"]
        except ActionUnavailable:
            owner = f"(the product of SKU {sku}, looked up when sent)"
        return self.shop.request(shop, METAFIELDS_SET, self._variables(owner, value))

    def _set(self, params: dict, value: str) -> Sent:
        shop, sku = str(_required(params, "shop")), str(_required(params, "sku"))
        product = self.shop.product(shop, sku)
        previous = product["promise" if self.field == PROMISE else "cap"]
        request = self.shop.request(shop, METAFIELDS_SET, self._variables(product["id"], value))
        data = self.shop.run(shop, "MetafieldsSet", METAFIELDS_SET, request["body"]["variables"])["metafieldsSet"]
        if data["userErrors"]:
            raise _user_errors(f"{self.field[0]}.{self.field[1]} = {value!r} for {sku}", data["userErrors"])
        metafield = (data["metafields"] or [{}])[0]
        return Sent(metafield.get("id"), request, data, acknowledged=True,
                    detail={"sku": sku, "product_id": product["id"], "value": value, "previous": previous,
                            "changed": previous != value})


class SetPromisedShipTime(_MetafieldClient):
    kind = "set_promised_ship_time"
    field = PROMISE

    def value(self, params: dict) -> str:
        lo, hi = _whole(params, "min_days", 1, 60), _whole(params, "max_days", 1, 60)
        if lo > hi:
            raise ActionRefused(f"min_days ({lo}) is more than max_days ({hi})")
        return f"{lo}-{hi} days" if lo != hi else f"{lo} days"

    def compensate(self, params: dict, external_id: str, key: str) -> Sent | None:
        return self._set(params, str(params.get("restore_to") or USUAL_PROMISE))


class CapPromotion(_MetafieldClient):
    kind = "cap_promotion"
    field = CAP

    def value(self, params: dict) -> str:
        return str(_whole(params, "max_units_per_order", 0, 9999))

    def compensate(self, params: dict, external_id: str, key: str) -> Sent | None:
        return self._set(params, "0")                   # 0 removes the cap


class CreateDiscount:
    kind = "create_discount"

    def __init__(self, cfg: Config):
        self.shop = _Shop(cfg)
        self.messages = BuyerMessages(cfg)

    @staticmethod
    def _fraction(params: dict) -> float:
        raw = _required(params, "percent")
        try:
            percent = float(raw)
        except (TypeError, ValueError):
            raise ActionRefused(f"percent must be a number, not {raw!r}") from None
        if not 0 < percent <= 100:
            raise ActionRefused(f"percent must be more than 0 and at most 100, not {percent:g}")
        return round(percent / 100, 4)

    def _emails(self, params: dict, *, resolve: bool = True) -> list[str]:
        """The buyers who get the code: the listed emails plus the buyers of the listed orders (read
        from the shop when sending, so Tower never stores a buyer's address); [] only with
        all_customers (never a coupon for everyone by accident because a plan found no buyer)."""
        emails = params.get("customer_emails") or []
        if isinstance(emails, str) or not all(isinstance(e, str) and "@" in e for e in emails):
            raise ActionRefused("customer_emails must be a list of email addresses")
        order_ids = [str(o) for o in params.get("order_ids") or []]
        if order_ids and resolve:
            emails = [*emails, *self._order_buyers(str(_required(params, "shop")), order_ids)]
        elif order_ids:
            emails = [*emails, *(f"buyer-of-order-{o}@shop" for o in order_ids)]
        if not emails and not params.get("all_customers"):
            raise ActionRefused("customer_emails is empty: no buyer to give the code to "
                                "(all_customers = true gives it to everyone)")
        return sorted({e.strip().lower() for e in emails})

    def _input(self, params: dict, customers: list[str] | None) -> dict:
        code = str(_required(params, "code")).strip()
        fraction = self._fraction(params)
        selection = {"all": True} if customers is None else {"customers": {"add": customers}}
        body = {"title": str(params.get("title") or f"{code}: {fraction * 100:g}% off"), "code": code,
                "customerSelection": selection,
                "customerGets": {"value": {"percentage": fraction}, "items": {"all": True}},
                "appliesOncePerCustomer": True}
        if params.get("ends_at"):
            body["endsAt"] = str(params["ends_at"])
        return {"basicCodeDiscount": body}

    def _order_buyers(self, shop: str, order_ids: list[str]) -> list[str]:
        found = []
        for order_id in order_ids:
            order = self.shop.run(shop, "OrderBuyer", ORDER_BUYER, {"id": f"gid://shopify/Order/{order_id}"})["order"]
            if order is None:
                raise ActionRefused(f"shop {shop} has no order {order_id}")
            if order.get("email"):
                found.append(order["email"])
        return found

    def _customer_ids(self, shop: str, emails: list[str]) -> list[str]:
        if not emails:
            return []
        query = " OR ".join(f"email:{e}" for e in emails)
        found = self.shop.run(shop, "CustomersByEmail", CUSTOMERS, {"query": query})["customers"]["nodes"]
        by_email = {c["email"].lower(): c["id"] for c in found if c.get("email")}
        missing = [e for e in emails if e not in by_email]
        if missing:
            raise ActionRefused(f"shop {shop} has no customer {', '.join(missing[:5])}")
        return [by_email[e] for e in emails]

    def preview(self, params: dict, key: str) -> dict:
        shop, emails = str(_required(params, "shop")), self._emails(params, resolve=False)
        placeholders = [f"(customer {e})" for e in emails] if emails else None
        return self.shop.request(shop, DISCOUNT_CREATE, self._input(params, placeholders))

    def send(self, params: dict, key: str) -> Sent:
        shop, emails = str(_required(params, "shop")), self._emails(params)
        variables = self._input(params, self._customer_ids(shop, emails) if emails else None)
        request = self.shop.request(shop, DISCOUNT_CREATE, variables)
        data = self.shop.run(shop, "DiscountCodeBasicCreate", DISCOUNT_CREATE, variables)["discountCodeBasicCreate"]
        errors = data["userErrors"]
        node = data["codeDiscountNode"]
        if errors and all(e.get("code") == "TAKEN" for e in errors):    # a retry: the code is there already
            node = self.shop.run(shop, "DiscountByCode", DISCOUNT_BY_CODE,
                                 {"code": variables["basicCodeDiscount"]["code"]})["codeDiscountNodeByCode"]
        elif errors:
            raise _user_errors(f"discount {variables['basicCodeDiscount']['code']}", errors)
        if node is None:
            raise ActionUnavailable("Shopify answered without the discount; try again")
        messaged = self._tell_buyers(params, emails, key)
        return Sent(node["id"], request, data, acknowledged=True,
                    detail={"code": variables["basicCodeDiscount"]["code"], "customers": len(emails),
                            "messages": messaged, "status": node["codeDiscount"].get("status")})

    def _tell_buyers(self, params: dict, emails: list[str], key: str) -> list[str]:
        text_en = str(params.get("message_en") or "").strip()
        if not text_en or not emails:
            return []
        text_zh = str(params.get("message_zh") or "").strip()
        code = str(params["code"]).strip()
        body = text_en.replace("{code}", code) + (f"\n\n{text_zh.replace('{code}', code)}" if text_zh else "")
        sent = []
        for email in emails:
            reply = self.messages.send(self.messages.request(email, "en", f"Your code {code}", body, code),
                                       f"{key}:{email}")
            sent.append(reply.get("message_id", ""))
        return sent

    def compensate(self, params: dict, external_id: str, key: str) -> Sent | None:
        shop = str(_required(params, "shop"))
        variables = {"id": external_id}
        data = self.shop.run(shop, "DiscountCodeDeactivate", DISCOUNT_DEACTIVATE, variables)["discountCodeDeactivate"]
        if data["userErrors"]:
            raise _user_errors(f"deactivating {external_id}", data["userErrors"])
        return Sent(external_id, self.shop.request(shop, DISCOUNT_DEACTIVATE, variables), data, acknowledged=True,
                    detail={"status": data["codeDiscountNode"]["codeDiscount"].get("status")})
