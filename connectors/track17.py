"""17TRACK Tracking API v2.4: registered parcels → `shipments` (merge) + `tracking_events` (append),
the same rows the AfterShip connector writes (tags and subtags via connectors.track17_status), so
every KPI and alert works with either parcel source. Enable one of the two: each keys its shipments
by its own id (AfterShip's tracking id, here "17track:<number>").

Every call is a JSON POST with the `17token` header. A run:
1. registers the numbers listed in the `register` option that are not registered yet, at most 40
   per call (17TRACK's limit); "already registered" is not an error;
2. walks `gettracklist` (40 numbers a page) and picks the numbers whose `latest_event_time` is at or
   after the cursor `tracklist` (all of them on the first run), plus those without events yet;
3. fetches those through `gettrackinfo`, 40 per call, and maps them.

Mapping notes: 17TRACK has no custom fields, so the seller's labels carry what AfterShip's
custom_fields do: `order_no` is the Shopify order id (outbound when present), `tag` the shipping
warehouse. Event times: `time_utc` when 17TRACK gives one, else `time_iso` read by the rule in
connectors.timezones (offset if present, else the event address's zone). `eta` is
time_metrics.estimated_delivery_date.from; `created_at` the registration time.

Push notifications (webhooks): `verify_push(body, headers, secret)` checks the `sign` header, which
17TRACK computes as the hex SHA-256 of `<raw body>/<API key>` (the secret is the account's 17token);
`parse_push(body)` turns a verified TRACKING_UPDATED body into the same rows. The webhook receiver
(connectors/webhooks/) is to call them; this module does not listen itself.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

import requests
from pydantic import ConfigDict, Field

from connectors.base import Http, HttpError, Record, Run, Source, Table
from connectors.timezones import country_code, iso_z, parse_instant, zone_for
from connectors.track17_status import to_aftership

MAX_NUMBERS = 40
ALREADY_REGISTERED = -18019901
# 17TRACK carrier code → courier slug (AfterShip's names, which the rest of Tower uses)
CARRIER_SLUGS = {100002: "ups", 100003: "fedex", 21051: "usps", 100001: "dhl", 100007: "dpd",
                 11031: "royal-mail", 6051: "colissimo", 3041: "canada-post", 190008: "yunexpress"}


class Coordinates(Record):
    latitude: float | None = None
    longitude: float | None = None


class Address(Record):
    country: str | None = None
    state: str | None = None
    city: str | None = None
    coordinates: Coordinates | None = None


class TrackEvent(Record):
    time_iso: str | None = None
    time_utc: str | None = None
    description: str | None = None
    location: str | None = None
    stage: str | None = None
    sub_status: str | None = None
    address: Address | None = None


class Provider(Record):
    provider: dict | None = None
    latest_sync_time: str | None = None
    events: list[TrackEvent] = []


class Providers(Record):
    providers: list[Provider] = []


class ShippingInfo(Record):
    shipper_address: Address | None = None
    recipient_address: Address | None = None


class Estimate(Record):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    from_: str | None = Field(default=None, alias="from")
    to: str | None = None


class TimeMetrics(Record):
    estimated_delivery_date: Estimate | None = None


class TrackInfo(Record):
    shipping_info: ShippingInfo | None = None
    latest_status: dict
    time_metrics: TimeMetrics | None = None
    tracking: Providers | None = None


class TrackItem(Record):
    number: str
    carrier: int | None = None
    tag: str | None = None
    order_no: str | None = None
    track_info: TrackInfo | None = None


class _JsonPostSession(requests.Session):
    """17TRACK takes every call as a POST with a JSON body. connectors.http.Http (retries, pacing,
    redaction) issues `session.get(url, params=…, timeout=…)`: here that call posts `params` as the
    JSON body instead, so the whole retry machinery is reused unchanged."""

    def get(self, url, params=None, **kwargs):
        return self.post(url, json=params, **kwargs)


class Track17Error(HttpError):
    pass


def event_row(shipment_id: str, ev: TrackEvent) -> dict:
    """One tracking_events row; raises ValueError when the event has no usable time."""
    addr = ev.address or Address()
    zone = zone_for(addr.country, addr.state, addr.city)
    when = parse_instant(ev.time_utc) if ev.time_utc else (parse_instant(ev.time_iso, zone) if ev.time_iso else None)
    if when is None:
        raise ValueError("event without time")
    tag, subtag = to_aftership(ev.stage, ev.sub_status)
    coord = addr.coordinates or Coordinates()
    return {"shipment_id": shipment_id, "checkpoint_time": when, "tag": tag, "subtag": subtag,
            "message": ev.description or "", "location": ev.location, "city": addr.city,
            "country": country_code(addr.country), "lat": coord.latitude, "lon": coord.longitude,
            "raw_checkpoint_time": ev.time_iso, "created_at": None}


@dataclass
class Mapped:
    shipment: dict
    events: list[dict] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)


def map_item(item: TrackItem, registered_at: datetime | None, now: datetime) -> Mapped:
    """The shipment row and its event rows for one tracked number."""
    sid = f"17track:{item.number}"
    info = item.track_info or TrackInfo(latest_status={"status": "NotFound"})  # registered, no news yet
    status = info.latest_status or {}
    tag, subtag = to_aftership(status.get("status"), status.get("sub_status"))
    providers = (info.tracking or Providers()).providers
    out = Mapped({})
    rows: dict[tuple, dict] = {}
    for i, ev in enumerate(e for p in providers for e in p.events):
        try:
            row = event_row(sid, ev)
        except ValueError as exc:
            out.rejected.append(f"17TRACK {item.number} event {i}: {exc}")
            continue
        rows.setdefault((row["checkpoint_time"], row["tag"], row["message"]), row)
    out.events = sorted(rows.values(), key=lambda r: (r["checkpoint_time"], r["tag"], r["message"]))
    located = [r for r in out.events if r["lat"] is not None and r["lon"] is not None]
    picked = next((r["checkpoint_time"] for r in out.events if r["tag"] == "InTransit"), None)
    delivered = next((r["checkpoint_time"] for r in reversed(out.events) if r["tag"] == "Delivered"), None)
    edd = (info.time_metrics or TimeMetrics()).estimated_delivery_date or Estimate()
    eta = parse_instant(edd.from_ or edd.to) if (edd.from_ or edd.to) else None
    synced = [parse_instant(p.latest_sync_time) for p in providers if p.latest_sync_time]
    shipper = (info.shipping_info or ShippingInfo()).shipper_address or Address()
    recipient = (info.shipping_info or ShippingInfo()).recipient_address or Address()
    slug = CARRIER_SLUGS.get(item.carrier or 0) or next(
        ((p.provider or {}).get("alias") for p in providers if (p.provider or {}).get("alias")), None)
    out.shipment = {
        "shipment_id": sid, "tracking_number": item.number, "carrier": slug, "mode": "express",
        "direction": "outbound" if item.order_no else "inbound", "order_id": item.order_no, "po_id": None,
        "warehouse_id": item.tag, "origin_country": country_code(shipper.country),
        "destination_country": country_code(recipient.country), "destination_city": recipient.city,
        "tag": tag, "subtag": subtag, "eta": eta, "promised_delivery_at": None, "shipped_at": picked,
        "delivered_at": delivered if tag == "Delivered" else None,
        "last_checkpoint_at": out.events[-1]["checkpoint_time"] if out.events else None,
        "last_lat": located[-1]["lat"] if located else None, "last_lon": located[-1]["lon"] if located else None,
        "created_at": registered_at, "updated_at": max(synced) if synced else now,
    }
    return out


def verify_push(body: bytes, headers, secret: str) -> bool:
    """True when the push's `sign` header is sha256_hex(raw body + "/" + secret) (constant time)."""
    sign = (headers.get("sign") or headers.get("Sign") or "") if headers is not None else ""
    if not sign or not secret:
        return False
    expected = hashlib.sha256(body + b"/" + secret.encode()).hexdigest()
    return hmac.compare_digest(expected, sign.strip().lower())


def parse_push(body: bytes, now: datetime | None = None) -> tuple[str, Mapped | None]:
    """(event, rows) of a verified push: TRACKING_UPDATED carries the track info, TRACKING_STOPPED
    only says tracking ended (no rows). Raises ValueError on a body that is not a 17TRACK push."""
    try:
        payload = json.loads(body)
    except ValueError:
        raise ValueError("17TRACK push: body is not JSON") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("event"), str):
        raise ValueError("17TRACK push: no event")
    if payload["event"] != "TRACKING_UPDATED":
        return payload["event"], None
    item = TrackItem.model_validate(payload.get("data") or {})
    return payload["event"], map_item(item, None, now or datetime.now(UTC))


class Track17Source(Source):
    kind = "track17"
    tables = (
        Table("shipments", ("shipment_id",), "merge"),
        Table("tracking_events", ("shipment_id", "checkpoint_time", "tag", "message"), "append", None),
    )

    def http_headers(self, secret):
        return {"17token": secret or "", "Content-Type": "application/json"}

    def make_http(self, cancel=None) -> Http:
        http = super().make_http(cancel)
        session = _JsonPostSession()
        session.headers.update(http.session.headers)
        http.session.close()
        http.session = session
        return http

    def _call(self, http: Http, endpoint: str, body) -> dict:
        url = self.options["base_url"].rstrip("/") + "/" + endpoint
        try:
            answer, _ = http.get_json(url, body)
        except HttpError as e:
            if e.status == 401:
                raise Track17Error(f"17TRACK refused the 17token (HTTP 401) on {endpoint}: check the api_key "
                                   f"of [sources.{self.name}]", 401) from None
            raise
        if not isinstance(answer, dict) or not isinstance(answer.get("data"), dict):
            raise ValueError(f"17TRACK {endpoint}: unexpected answer (no data object)")
        if answer.get("code") != 0:
            errors = answer["data"].get("errors") or [{}]
            raise ValueError(f"17TRACK {endpoint}: code {answer.get('code')}: {errors[0].get('message', '?')}")
        return answer

    def register(self, http: Http, numbers: list[str]) -> tuple[list[str], list[tuple[str, int, str]]]:
        """Register `numbers`, 40 per call: (accepted, rejected (number, code, message)); numbers
        already registered count as accepted."""
        accepted, rejected = [], []
        for start in range(0, len(numbers), MAX_NUMBERS):
            chunk = numbers[start:start + MAX_NUMBERS]
            data = self._call(http, "register", [{"number": n} for n in chunk])["data"]
            accepted += [a.get("number") for a in data.get("accepted") or []]
            for r in data.get("rejected") or []:
                err = r.get("error") or {}
                if err.get("code") == ALREADY_REGISTERED:
                    accepted.append(r.get("number"))
                else:
                    rejected.append((r.get("number"), err.get("code"), err.get("message", "")))
        return accepted, rejected

    def extract(self, run: Run, http: Http) -> None:
        wanted = sorted({str(n).strip() for n in self.options.get("register") or [] if str(n).strip()})
        listed = hashlib.sha256("\n".join(wanted).encode()).hexdigest()[:16]  # register a changed list once
        if wanted and run.cursor("registered") != listed:
            _, rejected = self.register(http, wanted)
            for number, code, message in rejected:
                run.reject(f"17TRACK register {number}", f"{code} {message}")
            run.set_cursor("registered", listed)
        since = run.cursor_time("tracklist")
        due: dict[str, datetime | None] = {}
        newest = since
        page_no, pages = 1, 1
        while page_no <= pages:
            run.check_cancel()
            answer = self._call(http, "gettracklist", {"page_no": page_no})
            pages = int((answer.get("page") or {}).get("page_total") or 0)
            for row in answer["data"].get("accepted") or []:
                latest = parse_instant(row["latest_event_time"]) if row.get("latest_event_time") else None
                if since is None or latest is None or latest >= since:
                    registered = row.get("register_time")
                    due[row["number"]] = parse_instant(registered) if registered else None
                if latest is not None and (newest is None or latest > newest):
                    newest = latest
            page_no += 1
        numbers = list(due)
        for start in range(0, len(numbers), MAX_NUMBERS):
            run.check_cancel()
            chunk = numbers[start:start + MAX_NUMBERS]
            data = self._call(http, "gettrackinfo", [{"number": n} for n in chunk])["data"]
            for r in data.get("rejected") or []:
                run.reject(f"17TRACK {r.get('number')}", str((r.get("error") or {}).get("message", "rejected")))
            for raw in data.get("accepted") or []:
                item = run.validate(TrackItem, raw, f"17TRACK {str(raw.get('number', '?'))[:40]}")
                run.saw(1)
                if item is None:
                    continue
                mapped = map_item(item, due.get(item.number), run.now)
                for what in mapped.rejected:
                    run.reject(what, "no usable time")
                for row in mapped.events:
                    run.emit("tracking_events", row)
                run.emit("shipments", mapped.shipment)
                run.saw(0, mapped.shipment["updated_at"])
        if newest:
            run.set_cursor("tracklist", iso_z(newest))
