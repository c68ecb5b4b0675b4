"""17TRACK Tracking API v2.4: `POST /track/v2.4/{register,gettracklist,gettrackinfo}`, header `17token`.

Shapes follow 17TRACK's v2.4 docs: every answer is `{code, data: {accepted[], rejected[]}}` (code 0 =
processed; per-number problems go to `rejected[] {number, error {code, message}}`); `gettracklist`
adds `page {data_total, page_total, page_no, page_size}`. In `gettrackinfo`, `track_info` holds
`latest_status {status, sub_status}`, `latest_event`, `time_metrics.estimated_delivery_date`,
`shipping_info` and `tracking.providers[].events[]` (newest first, `time_iso` / `time_utc`, `stage`,
`sub_status`, `address.coordinates`). Numbers are registered in batches of at most 40; the rest of a
longer batch is rejected. The error codes for "already registered" (-18019901) and "not registered"
(-18019902) are 17TRACK's; the one for "over 40 numbers" is the sandbox's choice (*unconfirmed*).

The sandbox account imports every outbound parcel on its own (as 17TRACK's Shopify app does), with
the order id in `order_no` and the shipping warehouse in `tag`; numbers registered through the API
are added to it. Statuses are the sim's AfterShip subtags translated into 17TRACK's vocabulary."""

from __future__ import annotations

import json
import threading
import weakref
from datetime import datetime, timedelta

from sandbox.formats.base import Reply, iso_utc, iso_z
from sandbox.model import Checkpoint, Tracking

MAX_NUMBERS = 40
PAGE_SIZE = 40
ALREADY_REGISTERED = -18019901
NOT_REGISTERED = -18019902
OVER_LIMIT = -18010013
INVALID_TOKEN = -18010002
INVALID_BODY = -18010001
# courier slug → 17TRACK carrier code
CARRIER_CODES = {"ups": 100002, "fedex": 100003, "usps": 21051, "dhl": 100001, "dpd": 100007,
                 "royal-mail": 11031, "colissimo": 6051, "canada-post": 3041, "yunexpress": 190008}
# AfterShip subtag (the sim's vocabulary) → 17TRACK sub-status
SUB_STATUS = {
    "Pending_001": "NotFound_Other", "InfoReceived_001": "InfoReceived",
    "InTransit_001": "InTransit_Other", "InTransit_002": "InTransit_PickedUp",
    "InTransit_003": "InTransit_Arrival", "InTransit_004": "InTransit_Arrival",
    "InTransit_005": "InTransit_CustomsReleased", "InTransit_006": "InTransit_CustomsProcessing",
    "InTransit_007": "InTransit_Departure", "InTransit_008": "InTransit_Other",
    "OutForDelivery_001": "OutForDelivery_Other", "Delivered_001": "Delivered_Other",
    "Delivered_003": "Delivered_Other", "Exception_004": "InTransit_CustomsRequiringInformation",
    "Exception_005": "Exception_Delayed", "Exception_007": "DeliveryFailure_InvalidAddress",
    "Exception_010": "Exception_Returning",
}


def status_of(subtag: str) -> tuple[str, str]:
    """(status, sub_status) for a sim subtag."""
    sub = SUB_STATUS.get(subtag, "InTransit_Other")
    return sub.split("_")[0], sub


class Account:
    """The numbers registered on the sandbox's 17TRACK account beyond the auto-imported parcels."""

    def __init__(self):
        self.lock = threading.Lock()
        self.extra: dict[str, dict] = {}      # number → registration


_ACCOUNTS: weakref.WeakKeyDictionary[object, Account] = weakref.WeakKeyDictionary()


def account(world) -> Account:
    return _ACCOUNTS.setdefault(world, Account())


def envelope(accepted: list, rejected: list | None = None, code: int = 0, **extra) -> dict:
    return {"code": code, "data": {"accepted": accepted, "rejected": rejected or []}, **extra}


def failure(status: int, code: int, message: str) -> Reply:
    return Reply(status, {"code": code, "data": {"errors": [{"code": code, "message": message}]}})


def unauthorized() -> Reply:
    return failure(401, INVALID_TOKEN, "Access denied: invalid 17token.")


def rate_limited() -> Reply:
    return failure(429, -18010018, "Request frequency exceeds the limit.")


def server_error() -> Reply:
    return failure(500, -18010099, "Internal server error.")


def bad_request(exc) -> Reply:
    return Reply(200, {"code": INVALID_BODY, "data": {"errors": [{"code": INVALID_BODY, "message": str(exc)}]}})


def _outbound(world, now: datetime) -> dict[str, Tracking]:
    return {t.tracking_number: t for t in world.trackings(now) if t.direction == "outbound"}


def _items(body: bytes) -> list[dict] | None:
    try:
        items = json.loads(body or b"null")
    except ValueError:
        return None
    if not isinstance(items, list) or not all(isinstance(i, dict) and isinstance(i.get("number"), str)
                                              for i in items):
        return None
    return items


def _invalid_body() -> Reply:
    return Reply(200, {"code": INVALID_BODY, "data": {"errors": [
        {"code": INVALID_BODY, "message": "The request body must be a JSON array of {number} objects."}]}})


def register(world, now: datetime, body: bytes) -> Reply:
    items = _items(body)
    if items is None:
        return _invalid_body()
    known = _outbound(world, now)
    acc = account(world)
    accepted, rejected = [], []
    with acc.lock:
        for i, item in enumerate(items):
            number = item["number"].strip()
            if i >= MAX_NUMBERS:
                rejected.append({"number": number, "error": {
                    "code": OVER_LIMIT, "message": f"At most {MAX_NUMBERS} numbers can be registered per request."}})
            elif number in known or number in acc.extra:
                rejected.append({"number": number, "error": {
                    "code": ALREADY_REGISTERED, "message": f"The tracking number '{number}' is already registered."}})
            else:
                acc.extra[number] = {"number": number, "carrier": item.get("carrier") or 0,
                                     "tag": item.get("tag"), "order_no": item.get("order_no"),
                                     "register_time": iso_z(now)}
                accepted.append({"origin": 1, "number": number, "carrier": item.get("carrier") or 0,
                                 "tag": item.get("tag")})
    return Reply(200, envelope(accepted, rejected))


def _list_row(t: Tracking) -> dict:
    status, _ = status_of(t.subtag)
    latest = t.checkpoints[-1].created_at if t.checkpoints else None
    return {"number": t.tracking_number, "carrier": CARRIER_CODES.get(t.slug, 0), "param": None,
            "tag": t.warehouse_id, "order_no": None if t.order_id is None else str(t.order_id),
            "register_time": iso_z(t.created_at),
            "tracking_status": "Stopped" if status in ("Delivered", "Expired") else "Tracking",
            "package_status": status, "latest_event_time": iso_z(latest), "sync_status": "Success"}


def _extra_row(reg: dict) -> dict:
    return {**reg, "param": None, "tracking_status": "Tracking", "package_status": "NotFound",
            "latest_event_time": None, "sync_status": "Success"}


def track_list(world, now: datetime, body: bytes) -> Reply:
    try:
        query = json.loads(body or b"{}")
    except ValueError:
        query = None
    if not isinstance(query, dict) or not isinstance(query.get("page_no", 1), int) or query.get("page_no", 1) < 1:
        return _invalid_body()
    page_no = query.get("page_no", 1)
    rows = [_list_row(t) for t in _outbound(world, now).values()]
    with account(world).lock:
        rows += [_extra_row(r) for r in account(world).extra.values()]
    rows.sort(key=lambda r: (r["register_time"], r["number"]))
    start = (page_no - 1) * PAGE_SIZE
    total = len(rows)
    page = {"data_total": total, "page_total": (total + PAGE_SIZE - 1) // PAGE_SIZE, "page_no": page_no,
            "page_size": PAGE_SIZE}
    return Reply(200, envelope(rows[start:start + PAGE_SIZE], page=page), records_path=("data", "accepted"))


def _address(country: str | None, state: str | None, city: str | None, lat=None, lon=None) -> dict:
    return {"country": country, "state": state, "city": city, "street": None, "postal_code": None,
            "coordinates": {"longitude": lon, "latitude": lat}}


def _event(cp: Checkpoint) -> dict:
    status, sub = status_of(cp.subtag)
    local = cp.checkpoint_time_local.replace(microsecond=0)
    if cp.utc_offset_minutes is None:  # the carrier sent no offset: 17TRACK passes the local time on
        time_iso, zone, time_utc = local.isoformat(), None, None
    else:
        sign = "+" if cp.utc_offset_minutes >= 0 else "-"
        h, m = divmod(abs(cp.utc_offset_minutes), 60)
        zone = f"{sign}{h:02d}:{m:02d}"
        time_iso = local.isoformat() + zone
        time_utc = (local - timedelta(minutes=cp.utc_offset_minutes)).isoformat() + "Z"
    return {"time_iso": time_iso, "time_utc": time_utc,
            "time_raw": {"date": local.date().isoformat(), "time": local.time().isoformat(), "timezone": zone},
            "description": cp.message, "description_translation": None, "location": cp.location,
            "stage": status, "sub_status": sub,
            "address": _address(cp.country, cp.state, cp.city, cp.lat, cp.lon)}


def track_info(t: Tracking) -> dict:
    status, sub = status_of(t.subtag)
    events = [_event(cp) for cp in reversed(t.checkpoints)]  # 17TRACK lists the newest first
    eta = t.courier_estimated_delivery
    return {
        "shipping_info": {"shipper_address": _address(t.origin_country, None, t.origin_city),
                          "recipient_address": _address(t.destination_country, None, t.destination_city)},
        "latest_status": {"status": status, "sub_status": sub, "sub_status_descr": None},
        "latest_event": events[0] if events else None,
        "time_metrics": {"days_after_order": None, "days_of_transit": None,
                         "estimated_delivery_date": {"source": "Official" if eta else None,
                                                     "from": iso_utc(eta), "to": iso_utc(eta)}},
        "milestone": [],
        "misc_info": {"risk_factor": 0, "service_type": None},
        "tracking": {"providers_hash": 0, "providers": [{
            "provider": {"key": CARRIER_CODES.get(t.slug, 0), "name": t.slug, "alias": t.slug},
            "latest_sync_status": "Success", "latest_sync_time": iso_z(t.updated_at), "events": events}]},
    }


def track_info_reply(world, now: datetime, body: bytes) -> Reply:
    items = _items(body)
    if items is None:
        return _invalid_body()
    known = _outbound(world, now)
    acc = account(world)
    accepted, rejected = [], []
    for i, item in enumerate(items):
        number = item["number"].strip()
        t = known.get(number)
        if i >= MAX_NUMBERS:
            rejected.append({"number": number, "error": {
                "code": OVER_LIMIT, "message": f"At most {MAX_NUMBERS} numbers per request."}})
        elif t is not None:
            accepted.append({"number": number, "carrier": CARRIER_CODES.get(t.slug, 0), "param": None,
                             "tag": t.warehouse_id, "order_no": None if t.order_id is None else str(t.order_id),
                             "track_info": track_info(t)})
        elif number in acc.extra:
            reg = acc.extra[number]
            accepted.append({"number": number, "carrier": reg["carrier"], "param": None, "tag": reg["tag"],
                             "order_no": reg["order_no"], "track_info": None})
        else:
            rejected.append({"number": number, "error": {
                "code": NOT_REGISTERED, "message": f"The tracking number '{number}' does not register, "
                                                   "please register first."}})
    return Reply(200, envelope(accepted, rejected), records_path=("data", "accepted"))
