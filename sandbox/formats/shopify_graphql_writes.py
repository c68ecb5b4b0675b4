"""Shopify GraphQL Admin API, the storefront writes of plan B-03 (issue 13), over the world's shop
state (sandbox/world_storefront.py). Shapes follow Shopify's reference:

- `metafieldsSet(metafields: [MetafieldsSetInput!]!)` on a Product owner (`ownerId` a Product gid):
  `custom.promised_ship_time` (single_line_text_field, "5-7 days") and `custom.promotion_cap`
  (number_integer, units per order during a promotion, "0" removes it). All-or-nothing, as Shopify
  does: one invalid input and nothing is set. Setting the value it already has changes nothing.
- `discountCodeBasicCreate(basicCodeDiscount:)` a percentage code for `customerSelection.customers.add`
  (Customer gids, see `customers(query: "email:…")`) or `all: true`; a code the shop already has
  answers the user error `TAKEN` (a client's retry finds it with `codeDiscountNodeByCode`).
- `discountCodeDeactivate(id:)` expires it (idempotent).

Refusals are `userErrors {field message code}` with HTTP 200, like Shopify; a mutation costs 10
points of the shop's bucket (sandbox/formats/shopify_graphql_ops.py) and the server's fault
injection (5xx, 429, timeouts) applies to the endpoint as a whole."""
from __future__ import annotations

import re

from sandbox.formats import shopify_graphql as gql
from sandbox.formats.base import BadRequest, iso_z, parse_time
from sandbox.world_storefront import CAP_KEY, PROMISE_KEY, StorefrontError, customer_id

# (namespace, key) -> the metafield type Shopify's definition would enforce
DEFINITIONS = {PROMISE_KEY: "single_line_text_field", CAP_KEY: "number_integer"}
_EMAIL = re.compile(r"email:'?(?P<email>[^\s'()]+)'?", re.IGNORECASE)


_gid_number = gql.gid_number


def _discount_node(d, now) -> dict:
    percent = round(d.percent * 100, 2)
    who = "all customers" if d.emails is None else f"{len(d.emails)} customers"
    codes = [(d, lambda: {"id": gql.gid("DiscountRedeemCode", d.ident * 10 + 1), "code": d.code})]
    return {
        "id": gql.gid("DiscountCodeNode", d.ident),
        "codeDiscount": {
            "__typename": "DiscountCodeBasic", "title": d.title, "status": d.status(now),
            "summary": f"{percent:g}% off entire order • For {who}",
            "startsAt": iso_z(d.starts_at), "endsAt": iso_z(d.ends_at),
            "createdAt": iso_z(d.created_at), "updatedAt": iso_z(d.updated_at),
            "codes": lambda info, first=None, after=None: gql.connection(
                info, codes, lambda x: gql.sort_key(gql._EPOCH, x.ident), first, after),
        },
    }


def fields(ctx) -> dict:
    """Root fields (queries and mutations) for one request's context."""
    world, now, shop = ctx["world"], ctx["now"], ctx["merchant"].shop
    by_product = {s.product_id: s for s in world.skus}

    def product(info, id):
        s = by_product.get(_gid_number(id, "Product"))
        return gql.product_obj(ctx, s, iso_z(s.updated_at)) if s is not None else None

    def metafields_set(info, metafields):
        errors, planned = [], []
        if not 1 <= len(metafields) <= 25:
            errors.append(_error(["metafields"], "Exceeded the maximum metafields input limit of 25.",
                                 "LESS_THAN_OR_EQUAL_TO", None))
        for i, m in enumerate(metafields):
            s = by_product.get(_gid_number(m["ownerId"], "Product"))
            namespace, key = m.get("namespace") or "app", m["key"]
            wanted = DEFINITIONS.get((namespace, key))
            if s is None:
                errors.append(_error(["metafields", str(i), "ownerId"], "Owner does not exist.", "INVALID", i))
            elif wanted is None:
                errors.append(_error(["metafields", str(i), "key"],
                                     f"No metafield definition {namespace}.{key} on products in the sandbox.",
                                     "INCLUSION", i))
            elif m.get("type") not in (None, wanted):
                errors.append(_error(["metafields", str(i), "type"],
                                     f"Type must be {wanted} for {namespace}.{key}.", "INVALID_TYPE", i))
            else:
                planned.append((i, s.sku, namespace, key, wanted, m["value"]))
        if not errors:                                   # all or nothing: check every value first
            for i, sku, namespace, key, type_, value in planned:
                try:
                    world.check_metafield(namespace, key, value)
                except StorefrontError as e:
                    errors.append(_error(["metafields", str(i), *e.field], str(e), e.code, i))
        if errors:
            return {"metafields": None, "userErrors": errors}
        out = []
        for i, sku, namespace, key, type_, value in planned:
            m, _ = world.set_metafield(shop, sku, namespace, key, type_, value, now)
            if m is not None:
                out.append(gql.metafield_json(m))
            else:                                        # a cap of 0 removes it: Shopify answers the input
                out.append({"id": gql.gid("Metafield", 0), "namespace": namespace, "key": key, "type": type_,
                            "value": value, "compareDigest": "", "ownerType": "PRODUCT",
                            "createdAt": iso_z(now), "updatedAt": iso_z(now)})
        return {"metafields": out, "userErrors": []}

    def discount_create(info, basicCodeDiscount):
        b = basicCodeDiscount
        selection = b.get("customerSelection") or {}
        emails = None
        if not selection.get("all"):
            ids = ((selection.get("customers") or {}).get("add")) or []
            known = _customers(world, now, shop)
            emails = []
            for n, ident in enumerate(ids):
                email = known.get(_gid_number(ident, "Customer"))
                if email is None:
                    return _discount_refused(["basicCodeDiscount", "customerSelection", "customers", "add", str(n)],
                                             f"Customer {ident} does not exist.", "INVALID")
                emails.append(email)
            if not emails:
                return _discount_refused(["basicCodeDiscount", "customerSelection"],
                                         "Customer selection can't be blank.", "BLANK")
        percent = ((b.get("customerGets") or {}).get("value") or {}).get("percentage")
        if percent is None:
            return _discount_refused(["basicCodeDiscount", "customerGets", "value"],
                                     "Value can't be blank (the sandbox serves percentage discounts).", "BLANK")
        try:
            starts = parse_time(b["startsAt"], "startsAt") if b.get("startsAt") else None
            ends = parse_time(b["endsAt"], "endsAt") if b.get("endsAt") else None
            d = world.create_discount(shop, b.get("code") or "", b.get("title") or "", float(percent), emails,
                                      starts, ends, now)
        except BadRequest as e:
            return _discount_refused(["basicCodeDiscount"], e.message, "INVALID")
        except StorefrontError as e:
            return _discount_refused(e.field, str(e), e.code)
        return {"codeDiscountNode": _discount_node(d, now), "userErrors": []}

    def discount_deactivate(info, id):
        try:
            d = world.deactivate_discount(shop, _gid_number(id, "DiscountCodeNode") or -1, now)
        except StorefrontError as e:
            return _discount_refused(["id"], str(e), e.code)
        return {"codeDiscountNode": _discount_node(d, now), "userErrors": []}

    def by_id(info, id):
        d = world.discount(shop, _gid_number(id, "DiscountCodeNode") or -1)
        return _discount_node(d, now) if d is not None else None

    def by_code(info, code):
        d = world.discount_by_code(shop, code)
        return _discount_node(d, now) if d is not None else None

    def customers(info, first=None, after=None, query=None):
        wanted = {m["email"].lower() for m in _EMAIL.finditer(query or "")}
        rows = [(cid, email) for cid, email in sorted(_customers(world, now, shop).items())
                if not wanted or email in wanted]
        return gql.connection(info, [(r, (lambda r=r: {"id": gql.gid("Customer", r[0]), "email": r[1],
                                                        "displayName": r[1].split("@")[0]})) for r in rows],
                              lambda r: gql.sort_key(gql._EPOCH, r[0]), first, after)

    return {"product": product, "metafieldsSet": metafields_set, "discountCodeBasicCreate": discount_create,
            "discountCodeDeactivate": discount_deactivate, "codeDiscountNode": by_id,
            "codeDiscountNodeByCode": by_code, "customers": customers}


def _customers(world, now, shop: str) -> dict[int, str]:
    """Customer id -> email of everyone who ordered from the shop so far."""
    out = {}
    for o in world.orders(now, shop):
        email = o.email.lower()
        out[customer_id(email)] = email
    return out


def _error(field: list[str], message: str, code: str, index: int | None) -> dict:
    return {"field": field, "message": message, "code": code, "elementIndex": index}


def _discount_refused(field: list[str], message: str, code: str) -> dict:
    return {"codeDiscountNode": None, "userErrors": [{"field": field, "message": message, "code": code,
                                                      "extraInfo": None}]}
