"""AfterShip Tracking API 2026-07: `GET /tracking/2026-07/trackings[/{id}]`.

Shapes follow the official SDK's models (aftership-tracking-sdk 10.0.1, `tracking.models.Tracking`
and `Checkpoint`) and AfterShip's docs: `{meta: {code, message, type}, data: …}`, countries as ISO
alpha-3, timestamps `YYYY-MM-DDTHH:MM:SS+00:00`, checkpoint_time in the carrier's local time
(sometimes without an offset), custom_fields values are strings."""

from __future__ import annotations

from datetime import datetime

from sandbox.formats import countries
from sandbox.formats.base import (
    BadRequest,
    Query,
    Reply,
    day,
    decode_token,
    iso_utc,
    keyset_page,
    memo_by_record,
    parsed_times,
    sort_key,
    within,
)
from sandbox.model import Checkpoint, Tracking

OK_MESSAGE = "The request was successfully processed by AfterShip."
MAX_LIMIT = 200
TAGS = {
    "Pending",
    "InfoReceived",
    "InTransit",
    "OutForDelivery",
    "AttemptFail",
    "Delivered",
    "AvailableForPickup",
    "Exception",
    "Expired",
}
_FILTERS = (
    "updated_at_min",
    "updated_at_max",
    "created_at_min",
    "created_at_max",
    "tag",
    "slug",
    "tracking_numbers",
    "order_id",
)


def envelope(data, code: int = 200, type_: str = "OK", message: str = OK_MESSAGE) -> dict:
    return {"meta": {"code": code, "message": message, "type": type_}, "data": data}


def error(status: int, message: str, meta_code: int | None = None) -> Reply:
    """AfterShip's error body: meta.type names the HTTP status (the SDK maps it to an exception)."""
    types = {
        400: "BadRequest",
        401: "Unauthorized",
        403: "Forbidden",
        404: "NotFound",
        429: "TooManyRequests",
        500: "InternalError",
    }
    return Reply(status, envelope({}, meta_code or status, types.get(status, "InternalError"), message))


def unauthorized() -> Reply:
    return error(401, "Invalid API key.")


def rate_limited() -> Reply:
    return error(
        429,
        "You have exceeded the API call rate limit. The default limit is 10 requests "
        "per second for most endpoints.",
    )


def bad_request(exc: BadRequest) -> Reply:
    return error(400, f"The value of `{exc.param}` is invalid: {exc.message}", 4008)


def checkpoint_time(cp: Checkpoint) -> str:
    local = cp.checkpoint_time_local.replace(microsecond=0).isoformat()
    if cp.utc_offset_minutes is None:
        return local  # the carrier sent no offset: AfterShip passes the bare local time on
    sign = "+" if cp.utc_offset_minutes >= 0 else "-"
    hours, minutes = divmod(abs(cp.utc_offset_minutes), 60)
    return f"{local}{sign}{hours:02d}:{minutes:02d}"


def checkpoint_json(cp: Checkpoint, slug: str) -> dict:
    out = {
        "created_at": iso_utc(cp.created_at),
        "slug": slug,
        "checkpoint_time": checkpoint_time(cp),
        "location": cp.location,
        "city": cp.city,
        "state": cp.state,
        "postal_code": None,
        "country_region": countries.alpha3(cp.country),
        "country_region_name": countries.name(cp.country),
        "message": cp.message,
        "tag": cp.tag,
        "subtag": cp.subtag,
        "subtag_message": cp.message,
        "raw_tag": cp.subtag.replace("_", "").upper(),
    }
    if cp.lat is not None and cp.lon is not None:
        out["coordinate"] = {"latitude": cp.lat, "longitude": cp.lon}
    return out


def _edd(t: Tracking) -> dict | None:
    if t.courier_estimated_delivery is None:
        return None
    return {
        "estimated_delivery_date": iso_utc(t.courier_estimated_delivery),
        "estimated_delivery_date_min": None,
        "estimated_delivery_date_max": None,
    }


def _estimate(t: Tracking) -> dict | None:
    if t.courier_estimated_delivery is None:
        return None
    return {
        "type": "specific",
        "source": "Carrier EDD",
        "datetime": iso_utc(t.courier_estimated_delivery),
        "datetime_min": None,
        "datetime_max": None,
    }


def _on_time(t: Tracking) -> tuple[str | None, float | None]:
    if t.shipment_delivery_date is None or t.order_promised_delivery is None:
        return None, None
    late_days = (t.shipment_delivery_date - t.order_promised_delivery).total_seconds() / 86400
    return ("late", round(late_days, 1)) if late_days > 0 else ("on-time", 0.0)


def tracking_json(t: Tracking, now: datetime) -> dict:
    """The tracking as AfterShip renders it at `now` (only `transit_time` of a parcel still moving
    depends on `now`; the rest is cached per record version, since connectors re-read pages often)."""
    out = dict(_tracking_json(t))
    if t.shipment_pickup_date is not None and t.shipment_delivery_date is None:
        out["transit_time"] = max(0, (now - t.shipment_pickup_date).days)
    return out


@memo_by_record  # per record version: connectors re-read the same pages often
def _tracking_json(t: Tracking) -> dict:
    custom = {"mode": t.mode, "direction": t.direction, "warehouse_id": t.warehouse_id}
    if t.po_number:
        custom["po_number"] = t.po_number
    if t.shop:
        custom["shop"] = t.shop
    transit = None
    if t.shipment_pickup_date is not None and t.shipment_delivery_date is not None:
        transit = max(0, (t.shipment_delivery_date - t.shipment_pickup_date).days)
    on_time_status, on_time_difference = _on_time(t)
    promised = None
    if t.order_promised_delivery is not None:
        promised = {
            "promised_delivery_date": day(t.order_promised_delivery),
            "promised_delivery_date_min": None,
            "promised_delivery_date_max": None,
        }
    return {
        "id": t.id,
        "legacy_id": t.id[:24],
        "created_at": iso_utc(t.created_at),
        "updated_at": iso_utc(t.updated_at),
        "tracking_number": t.tracking_number,
        "slug": t.slug,
        "active": t.tag not in ("Delivered", "Expired"),
        "custom_fields": custom,
        "transit_time": transit,
        "origin_country_region": countries.alpha3(t.origin_country),
        "origin_city": t.origin_city,
        "origin_state": None,
        "destination_country_region": countries.alpha3(t.destination_country),
        "destination_city": t.destination_city,
        "destination_state": None,
        "courier_destination_country_region": countries.alpha3(t.destination_country),
        "courier_estimated_delivery_date": _edd(t),
        "order_id": None if t.order_id is None else str(t.order_id),
        "order_number": t.order_number,
        "order_promised_delivery_date": promised,
        "shipment_pickup_date": iso_utc(t.shipment_pickup_date),
        "shipment_delivery_date": iso_utc(t.shipment_delivery_date),
        "shipment_type": t.mode,
        "source": "api",
        "tag": t.tag,
        "subtag": t.subtag,
        "subtag_message": t.subtag_message,
        "title": t.order_number or t.po_number or t.tracking_number,
        "language": "en",
        "return_to_sender": t.subtag in ("Exception_010", "Exception_011"),
        "on_time_status": on_time_status,
        "on_time_difference": on_time_difference,
        "aftership_estimated_delivery_date": None,
        "first_estimated_delivery": _estimate(t),
        "latest_estimated_delivery": _estimate(t),
        "shipment_tags": [t.direction, t.mode],
        "shipment_direction": "forward",
        "checkpoints": [checkpoint_json(cp, t.slug) for cp in t.checkpoints],
    }


def _matches(t: Tracking, f: dict) -> bool:
    """`f`: the walk's filters after `parsed_times`."""
    if not within(t.updated_at, f.get("updated_at_min"), f.get("updated_at_max")):
        return False
    if not within(t.created_at, f.get("created_at_min"), f.get("created_at_max")):
        return False
    for name, value in (
        ("tag", t.tag),
        ("slug", t.slug),
        ("tracking_numbers", t.tracking_number),
        ("order_id", None if t.order_id is None else str(t.order_id)),
    ):
        if f.get(name) is not None and value not in f[name]:
            return False
    return True


def _filters(q: Query, now: datetime) -> dict:
    f = {}
    for name in ("updated_at_min", "updated_at_max", "created_at_min", "created_at_max"):
        value = q.time(name)
        f[name] = None if value is None else value.isoformat()
    for name in ("tag", "slug", "tracking_numbers", "order_id"):
        values = q.csv_set(name)
        f[name] = None if values is None else sorted(values)
    if f["tag"] and not set(f["tag"]) <= TAGS:
        raise BadRequest("tag", f"must be one of {sorted(TAGS)}")
    # Nothing newer than the walk's first page: later pages stay consistent while time moves.
    asof = min(now, datetime.fromisoformat(f["updated_at_max"])) if f["updated_at_max"] else now
    f["updated_at_max"] = asof.isoformat()
    return f


def list_trackings(world, now: datetime, q: Query) -> Reply:
    limit = q.int("limit", 100, hi=MAX_LIMIT, clamp=True)
    cursor = q.get("cursor")
    state = (
        decode_token(cursor, "cursor")
        if cursor
        else {"asof": now.isoformat(), "after": None, "f": _filters(q, now)}
    )
    f = parsed_times(state["f"])
    rows = [t for t in world.trackings(now) if _matches(t, f)]
    page = keyset_page(rows, lambda t: sort_key(t.updated_at, t.id), limit, state)
    data = {
        "pagination": {
            "total": page.total,
            "next_cursor": page.next_token,
            "has_next_page": page.next_token is not None,
        },
        "trackings": [tracking_json(t, now) for t in page.items],
    }
    return Reply(200, envelope(data), records_path=("data", "trackings"))


def get_tracking(world, now: datetime, tracking_id: str) -> Reply:
    for t in world.trackings(now):
        if t.id == tracking_id or t.id[:24] == tracking_id:
            return Reply(200, envelope(tracking_json(t, now)))
    return error(404, "Tracking does not exist.", 4004)
