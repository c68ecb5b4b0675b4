"""How each vendor signs a webhook, and where its delivery id is.

Shopify and AfterShip sign with base64(HMAC-SHA256(secret, raw body)), compared in constant time;
only the header differs (vendor docs):
- Shopify: `X-Shopify-Hmac-Sha256`, keyed with the app's client secret; the delivery id is the
  `X-Shopify-Webhook-Id` header (the same on every retry of one delivery).
- AfterShip Tracking: `aftership-hmac-sha256`; the delivery id is the body's `event_id`.
- AfterShip Returns: `as-signature-hmac-sha256` (not the Tracking header); the id is the body's `id`.
17TRACK signs differently: header `sign` = hex SHA-256 of `<raw body>/<17token>` (checked by
connectors.track17.verify_push). Its pushes carry no delivery id, so the id is the SHA-256 of the
raw body: a redelivery (the same bytes) is stored once, while a new status is a new body.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass

from connectors.track17 import verify_push


@dataclass(frozen=True)
class Scheme:
    kind: str                  # the source kind it serves
    signature_header: str
    id_header: str | None      # delivery id in a header (Shopify) …
    id_field: str | None       # … or in the JSON body (AfterShip)
    topic_header: str | None
    topic_field: str | None
    id_is_body_hash: bool = False  # no id in the delivery: the raw body's SHA-256 is its id


SCHEMES = {
    "shopify": Scheme("shopify", "X-Shopify-Hmac-Sha256", "X-Shopify-Webhook-Id", None,
                      "X-Shopify-Topic", None),
    "aftership": Scheme("aftership", "aftership-hmac-sha256", None, "event_id", None, "event"),
    "returns": Scheme("returns", "as-signature-hmac-sha256", None, "id", None, "event"),
    "track17": Scheme("track17", "sign", None, None, None, "event", id_is_body_hash=True),
}


# Source kinds that read the same vendor through another API: Shopify sends the same webhooks to a
# store read over GraphQL or (legacy) REST.
SAME_VENDOR = {"shopify_graphql": "shopify", "shopify_rest": "shopify"}


def vendor(kind: str) -> str:
    """The webhook scheme name of a source kind."""
    return SAME_VENDOR.get(kind, kind)


def signature(secret: str, body: bytes) -> str:
    """base64 of HMAC-SHA256 over the raw body."""
    return base64.b64encode(hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()).decode("ascii")


def verify(secret: str | None, body: bytes, header_value: str | None) -> str | None:
    """None when the signature is right; else why not (missing secret, header or a mismatch)."""
    if not secret:
        return "no webhook secret configured"
    if not header_value:
        return "missing signature"
    expected = signature(secret, body).encode("ascii")
    if not hmac.compare_digest(expected, header_value.strip().encode("ascii", "replace")):
        return "wrong signature"
    return None


def check(scheme: Scheme, secret: str | None, body: bytes, headers) -> str | None:
    """None when the delivery is signed as `scheme`'s vendor signs; else why not."""
    if scheme.kind != "track17":
        return verify(secret, body, headers.get(scheme.signature_header))
    if not secret:
        return "no webhook secret configured"
    if not headers.get(scheme.signature_header):
        return "missing signature"
    return None if verify_push(body, headers, secret) else "wrong signature"


class BadPayload(ValueError):
    """A correctly signed body Tower cannot use (not JSON, no delivery id)."""


def identify(scheme: Scheme, headers, body: bytes) -> tuple[str, str | None]:
    """(delivery id, topic) of a verified delivery; raises BadPayload."""
    parsed = None
    if scheme.id_field or scheme.topic_field:
        try:
            parsed = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise BadPayload("body is not JSON") from None
        if not isinstance(parsed, dict):
            raise BadPayload("body is not a JSON object")
    if scheme.id_is_body_hash:
        delivery = hashlib.sha256(body).hexdigest()
    elif scheme.id_header:
        delivery = headers.get(scheme.id_header)
    else:
        delivery = parsed.get(scheme.id_field)
    topic = headers.get(scheme.topic_header) if scheme.topic_header else parsed.get(scheme.topic_field)
    if not isinstance(delivery, str) or not delivery.strip() or len(delivery) > 200:
        raise BadPayload("no delivery id")
    return delivery.strip(), (str(topic)[:100] if topic is not None else None)
